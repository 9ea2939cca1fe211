//! Sending-window arithmetic: the next instant inside a campaign's sending window
//! in a lead's local time, staggering of a campaign's sends, and day offsets that
//! keep the local clock time across daylight-saving changes.
//!
//! Local times are resolved the way most calendar software does it: a local time
//! that does not exist (skipped in spring) moves forward by the length of the gap,
//! and an ambiguous one (repeated in autumn) takes the earlier instant.

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono::{Offset, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::campaign::{CampaignError, SendingWindow, parse_time_zone};

/// Maximum number of local days searched for a window slot. A valid window opens
/// within 7 days; the extra days cover a window that a DST change empties.
const MAX_SEARCH_DAYS: u32 = 14;

/// Maximum number of window days a staggered schedule may roll over, about ten
/// years of daily windows. Past it the campaign is too large for its spacing.
const MAX_STAGGER_DAYS: u32 = 3_660;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulingError {
    #[error(transparent)]
    InvalidWindow(#[from] CampaignError),
    #[error("no sending slot found within {MAX_SEARCH_DAYS} days of {after}")]
    NoSlot { after: DateTime<Utc> },
    #[error(
        "send index {index} with spacing {spacing_seconds} s needs more than {MAX_STAGGER_DAYS} window days: use a shorter spacing or a wider window"
    )]
    BeyondHorizon { index: u32, spacing_seconds: i64 },
    #[error("spacing must not be negative, got {0} s")]
    NegativeSpacing(i64),
    #[error("date out of range when adding {days} days to {at}")]
    OutOfRange { at: DateTime<Utc>, days: u32 },
}

/// Source of the time zone used for a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneSource {
    Lead,
    Account,
}

/// Picks the lead's IANA time zone when it has a valid one, else the account's.
pub fn effective_zone(lead_zone: Option<&str>, account_zone: Tz) -> (Tz, ZoneSource) {
    match lead_zone.map(parse_time_zone) {
        Some(Ok(zone)) => (zone, ZoneSource::Lead),
        _ => (account_zone, ZoneSource::Account),
    }
}

/// Converts a local wall-clock time to an instant. A skipped local time moves
/// forward by the length of the gap, so 02:30 on a New York spring-forward day
/// is 03:30 EDT. A repeated local time takes the earlier instant.
pub fn resolve_local(zone: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => instant,
        LocalResult::Ambiguous(earlier, _later) => earlier,
        LocalResult::None => {
            // The offset in force just before the gap maps the skipped wall time
            // to the instant it would have had, which reads as a later wall time
            // once the new offset applies. DST gaps never sit within a day of
            // another transition in the tz database, so a day earlier is safe.
            let before = local.and_utc() - TimeDelta::days(1);
            let offset = zone.offset_from_utc_datetime(&before.naive_utc()).fix();
            let instant = local.and_utc() - TimeDelta::seconds(i64::from(offset.local_minus_utc()));
            instant.with_timezone(&zone)
        }
    }
}

/// Returns the instants at which the window opens and closes on a local date,
/// or `None` when the window is closed that day (weekday not included, or a DST change
/// leaves no time between opening and closing).
pub fn window_on_date(
    window: &SendingWindow,
    zone: Tz,
    date: NaiveDate,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if !window.weekdays.contains(&date.weekday()) {
        return None;
    }

    let open = local_hour(zone, date, window.start_hour)?;
    let close = local_hour(zone, date, window.end_hour)?;
    (open < close).then_some((open, close))
}

/// Returns the instant of `hour`:00 local time on `date`. Hour 24 is the
/// midnight that ends `date`.
fn local_hour(zone: Tz, date: NaiveDate, hour: u8) -> Option<DateTime<Utc>> {
    let (day, hour) = if hour >= 24 {
        (date.succ_opt()?, 0)
    } else {
        (date, hour)
    };
    let local = day.and_hms_opt(u32::from(hour), 0, 0)?;
    Some(resolve_local(zone, local).with_timezone(&Utc))
}

/// Finds the first instant at or after `at` inside the window, and the instant
/// at which that window day closes.
pub fn next_open_interval(
    window: &SendingWindow,
    zone: Tz,
    at: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), SchedulingError> {
    window.validate()?;

    // A window day closes at the latest at the next local midnight, so no day
    // before the local date of `at` can still be open.
    let mut date = at.with_timezone(&zone).date_naive();
    for _ in 0..=MAX_SEARCH_DAYS {
        if let Some((open, close)) = window_on_date(window, zone, date)
            && at < close
        {
            return Ok((open.max(at), close));
        }
        date = match date.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    Err(SchedulingError::NoSlot { after: at })
}

/// Finds the first instant at or after `at` inside the window, in the given zone.
pub fn next_slot(
    window: &SendingWindow,
    zone: Tz,
    at: DateTime<Utc>,
) -> Result<DateTime<Utc>, SchedulingError> {
    next_open_interval(window, zone, at).map(|(slot, _close)| slot)
}

/// Computes the send time of the `index`-th send of a campaign (0-based). Sends
/// are `spacing` apart from the first slot at or after `at`, and when a window day
/// fills, the remaining sends continue where the next window day opens.
pub fn staggered_slot(
    window: &SendingWindow,
    zone: Tz,
    at: DateTime<Utc>,
    index: u32,
    spacing: TimeDelta,
) -> Result<DateTime<Utc>, SchedulingError> {
    if spacing < TimeDelta::zero() {
        return Err(SchedulingError::NegativeSpacing(spacing.num_seconds()));
    }
    let beyond = || SchedulingError::BeyondHorizon {
        index,
        spacing_seconds: spacing.num_seconds(),
    };
    let factor = i32::try_from(index).map_err(|_| beyond())?;
    let mut remaining = spacing.checked_mul(factor).ok_or_else(beyond)?;

    let (mut slot, mut close) = next_open_interval(window, zone, at)?;
    for _ in 0..MAX_STAGGER_DAYS {
        let capacity = close - slot;
        if remaining < capacity {
            return Ok(slot + remaining);
        }
        remaining -= capacity;
        (slot, close) = next_open_interval(window, zone, close)?;
    }
    Err(beyond())
}

/// Adds whole days in local time, so that 10:00 stays 10:00 across a DST change.
pub fn add_local_days(
    zone: Tz,
    at: DateTime<Utc>,
    days: u32,
) -> Result<DateTime<Utc>, SchedulingError> {
    let local = at.with_timezone(&zone).naive_local();
    let shifted = local
        .checked_add_days(Days::new(u64::from(days)))
        .ok_or(SchedulingError::OutOfRange { at, days })?;
    Ok(resolve_local(zone, shifted).with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, Timelike, Weekday};
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::London;

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instant is RFC 3339")
            .with_timezone(&Utc)
    }

    fn local(date: &str, time: &str) -> NaiveDateTime {
        NaiveDateTime::new(
            date.parse::<NaiveDate>().expect("test date"),
            time.parse::<NaiveTime>().expect("test time"),
        )
    }

    fn every_day(start_hour: u8, end_hour: u8) -> SendingWindow {
        SendingWindow {
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            start_hour,
            end_hour,
        }
    }

    #[test]
    fn london_spring_gap_moves_forward() {
        // 2024-03-31: London clocks go from 01:00 GMT to 02:00 BST.
        let resolved = resolve_local(London, local("2024-03-31", "01:30:00"));
        assert_eq!(resolved.with_timezone(&Utc), utc("2024-03-31T01:30:00Z"));
        assert_eq!(resolved.hour(), 2);
        assert_eq!(resolved.minute(), 30);
    }

    #[test]
    fn london_autumn_overlap_takes_earlier() {
        // 2024-10-27: London clocks go from 02:00 BST back to 01:00 GMT, so
        // 01:30 happens twice: first at 00:30 UTC, then at 01:30 UTC.
        let resolved = resolve_local(London, local("2024-10-27", "01:30:00"));
        assert_eq!(resolved.with_timezone(&Utc), utc("2024-10-27T00:30:00Z"));
    }

    #[test]
    fn new_york_spring_gap_moves_forward() {
        // 2024-03-10: New York clocks go from 02:00 EST to 03:00 EDT.
        let resolved = resolve_local(New_York, local("2024-03-10", "02:30:00"));
        assert_eq!(resolved.with_timezone(&Utc), utc("2024-03-10T07:30:00Z"));
        assert_eq!(resolved.hour(), 3);
        assert_eq!(resolved.minute(), 30);
    }

    #[test]
    fn new_york_autumn_overlap_takes_earlier() {
        // 2024-11-03: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
        let resolved = resolve_local(New_York, local("2024-11-03", "01:30:00"));
        assert_eq!(resolved.with_timezone(&Utc), utc("2024-11-03T05:30:00Z"));
    }

    #[test]
    fn window_opening_in_spring_gap() {
        // A window opening at 02:00 on the New York spring day opens at 03:00 EDT.
        let window = every_day(2, 5);
        let slot = next_slot(&window, New_York, utc("2024-03-10T05:00:00Z")).unwrap();
        assert_eq!(slot, utc("2024-03-10T07:00:00Z"));
        assert_eq!(slot.with_timezone(&New_York).hour(), 3);
    }

    #[test]
    fn window_opening_in_autumn_overlap() {
        // A window opening at 01:00 on the New York autumn day opens at the first
        // 01:00 (EDT, 05:00 UTC) and closes at 04:00 EST (09:00 UTC): 4 hours.
        let window = every_day(1, 4);
        let (open, close) =
            window_on_date(&window, New_York, "2024-11-03".parse().unwrap()).unwrap();
        assert_eq!(open, utc("2024-11-03T05:00:00Z"));
        assert_eq!(close, utc("2024-11-03T09:00:00Z"));
    }

    #[test]
    fn window_emptied_by_london_gap() {
        // 01:00 to 02:00 does not exist on the London spring day, so that day has
        // no window and the next slot is the following day at 01:00 BST.
        let window = every_day(1, 2);
        let date: NaiveDate = "2024-03-31".parse().unwrap();
        assert_eq!(window_on_date(&window, London, date), None);
        let slot = next_slot(&window, London, utc("2024-03-30T23:00:00Z")).unwrap();
        assert_eq!(slot, utc("2024-04-01T00:00:00Z"));
    }

    #[test]
    fn london_window_uses_local_offset() {
        // 09:00 local is 09:00 UTC before the change and 08:00 UTC after it.
        let window = SendingWindow::default();
        let friday = next_slot(&window, London, utc("2024-03-29T06:00:00Z")).unwrap();
        assert_eq!(friday, utc("2024-03-29T09:00:00Z"));
        let monday = next_slot(&window, London, utc("2024-03-30T06:00:00Z")).unwrap();
        assert_eq!(monday, utc("2024-04-01T08:00:00Z"));
    }

    #[test]
    fn next_slot_inside_window_is_unchanged() {
        let window = SendingWindow::default();
        let at = utc("2024-06-12T10:17:00Z");
        assert_eq!(next_slot(&window, London, at).unwrap(), at);
    }

    #[test]
    fn next_slot_at_close_moves_to_next_day() {
        // 17:00 BST on Wednesday is the exclusive end; Thursday 09:00 BST is next.
        let window = SendingWindow::default();
        let slot = next_slot(&window, London, utc("2024-06-12T16:00:00Z")).unwrap();
        assert_eq!(slot, utc("2024-06-13T08:00:00Z"));
    }

    #[test]
    fn next_slot_skips_weekend() {
        let window = SendingWindow::default();
        let saturday = utc("2024-06-15T12:00:00Z");
        let slot = next_slot(&window, New_York, saturday).unwrap();
        assert_eq!(slot, utc("2024-06-17T13:00:00Z"));
        assert_eq!(slot.with_timezone(&New_York).weekday(), Weekday::Mon);
    }

    #[test]
    fn window_until_midnight_west_of_utc() {
        // 03:30 UTC on Thursday is 23:30 EDT on Wednesday, inside a 20 to 24 window.
        let window = every_day(20, 24);
        let at = utc("2024-06-13T03:30:00Z");
        assert_eq!(next_slot(&window, New_York, at).unwrap(), at);
    }

    #[test]
    fn invalid_window_is_rejected() {
        let window = every_day(17, 9);
        let result = next_slot(&window, London, utc("2024-06-12T10:00:00Z"));
        assert!(matches!(result, Err(SchedulingError::InvalidWindow(_))));
    }

    #[test]
    fn stagger_spreads_within_window() {
        let window = SendingWindow::default();
        let start = utc("2024-06-12T08:00:00Z");
        let spacing = TimeDelta::seconds(90);
        let third = staggered_slot(&window, London, start, 2, spacing).unwrap();
        assert_eq!(third, utc("2024-06-12T08:03:00Z"));
    }

    #[test]
    fn stagger_rolls_into_next_window_day() {
        // An 8-hour window fits 8 sends an hour apart; the ninth opens Thursday
        // and the tenth follows it by the spacing.
        let window = SendingWindow::default();
        let start = utc("2024-06-12T08:00:00Z");
        let hour = TimeDelta::hours(1);
        let last_today = staggered_slot(&window, London, start, 7, hour).unwrap();
        assert_eq!(last_today, utc("2024-06-12T15:00:00Z"));
        let ninth = staggered_slot(&window, London, start, 8, hour).unwrap();
        assert_eq!(ninth, utc("2024-06-13T08:00:00Z"));
        let tenth = staggered_slot(&window, London, start, 9, hour).unwrap();
        assert_eq!(tenth, utc("2024-06-13T09:00:00Z"));
    }

    #[test]
    fn stagger_rolls_over_weekend() {
        // From Friday 16:00 BST, one hour is left; the second send opens Monday.
        let window = SendingWindow::default();
        let friday = utc("2024-06-14T15:00:00Z");
        let hour = TimeDelta::hours(1);
        let second = staggered_slot(&window, London, friday, 1, hour).unwrap();
        assert_eq!(second, utc("2024-06-17T08:00:00Z"));
    }

    #[test]
    fn stagger_across_autumn_change() {
        // Sunday 2024-10-27 in London has a 25-hour day; a 00:00 to 04:00 window
        // then lasts 5 hours, so five hourly sends fit on that day.
        let window = every_day(0, 4);
        let hour = TimeDelta::hours(1);
        let day_start = utc("2024-10-26T23:00:00Z");
        let fifth = staggered_slot(&window, London, day_start, 4, hour).unwrap();
        assert_eq!(fifth, utc("2024-10-27T03:00:00Z"));
        let sixth = staggered_slot(&window, London, day_start, 5, hour).unwrap();
        assert_eq!(sixth, utc("2024-10-28T00:00:00Z"));
    }

    #[test]
    fn stagger_rejects_negative_spacing() {
        let window = SendingWindow::default();
        let start = utc("2024-06-12T08:00:00Z");
        let result = staggered_slot(&window, London, start, 1, TimeDelta::seconds(-5));
        assert_eq!(result, Err(SchedulingError::NegativeSpacing(-5)));
    }

    #[test]
    fn stagger_rejects_huge_campaign() {
        let window = every_day(9, 10);
        let start = utc("2024-06-12T08:00:00Z");
        let result = staggered_slot(&window, London, start, 1_000_000, TimeDelta::hours(1));
        assert!(matches!(result, Err(SchedulingError::BeyondHorizon { .. })));
    }

    #[test]
    fn add_days_keeps_local_time_over_change() {
        // Friday 10:00 GMT plus 3 days is Monday 10:00 BST, 71 hours later.
        let friday = utc("2024-03-29T10:00:00Z");
        let monday = add_local_days(London, friday, 3).unwrap();
        assert_eq!(monday, utc("2024-04-01T09:00:00Z"));
        assert_eq!(monday.with_timezone(&London).hour(), 10);
    }

    #[test]
    fn add_days_into_new_york_gap() {
        // Saturday 02:30 EST plus one day lands in the gap and moves to 03:30 EDT.
        let saturday = utc("2024-03-09T07:30:00Z");
        let sunday = add_local_days(New_York, saturday, 1).unwrap();
        assert_eq!(sunday, utc("2024-03-10T07:30:00Z"));
        assert_eq!(sunday.with_timezone(&New_York).hour(), 3);
    }

    #[test]
    fn zone_falls_back_to_account() {
        assert_eq!(
            effective_zone(Some("America/New_York"), London),
            (New_York, ZoneSource::Lead)
        );
        assert_eq!(
            effective_zone(Some("Mars/Olympus"), London),
            (London, ZoneSource::Account)
        );
        assert_eq!(effective_zone(None, London), (London, ZoneSource::Account));
    }
}
