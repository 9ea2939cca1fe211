//! The time check at send time. A send job can run late (a queue backlog, a
//! retry, a paused campaign resumed at night). So the message is checked again
//! against the campaign's window in the lead's time zone and, for text
//! messages, the quiet hours. A message outside them waits for the next
//! allowed instant instead of going out.

use chrono::{DateTime, Days, Timelike, Utc};
use chrono_tz::Tz;
use rekindle_crews::compliance::{QUIET_HOURS_END_HOUR, QUIET_HOURS_START_HOUR};
use rekindle_domain::Channel;
use rekindle_domain::campaign::SendingWindow;
use rekindle_domain::scheduling::{next_slot, resolve_local};

/// Returns the next instant the message may go out, or `None` when `now` is
/// allowed. `Err` when the window never opens (an invalid window).
pub fn next_allowed(
    window: &SendingWindow,
    zone: Tz,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, String> {
    let mut at = now;
    // Two rounds settle it: a window slot in quiet hours moves to 08:00, which
    // a valid window either contains or passes to its next day's opening.
    for _ in 0..4 {
        let slot = next_slot(window, zone, at).map_err(|error| error.to_string())?;
        let allowed = match channel {
            Channel::Email => slot,
            Channel::Sms | Channel::Whatsapp => after_quiet_hours(zone, slot),
        };
        if allowed == slot {
            return Ok((slot > now).then_some(slot));
        }
        at = allowed;
    }
    Err("no instant satisfies both the sending window and the quiet hours".into())
}

/// Returns `at`, or the end of the quiet hours when `at` falls inside them.
fn after_quiet_hours(zone: Tz, at: DateTime<Utc>) -> DateTime<Utc> {
    let local = at.with_timezone(&zone);
    let hour = local.hour();
    if (QUIET_HOURS_END_HOUR..QUIET_HOURS_START_HOUR).contains(&hour) {
        return at;
    }
    let date = if hour >= QUIET_HOURS_START_HOUR {
        local
            .date_naive()
            .checked_add_days(Days::new(1))
            .unwrap_or(local.date_naive())
    } else {
        local.date_naive()
    };
    let morning = date
        .and_hms_opt(QUIET_HOURS_END_HOUR, 0, 0)
        .unwrap_or_else(|| local.naive_local());
    resolve_local(zone, morning).with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Weekday};

    use super::*;

    fn weekdays_nine_to_five() -> SendingWindow {
        SendingWindow::default()
    }

    fn all_day() -> SendingWindow {
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
            start_hour: 0,
            end_hour: 24,
        }
    }

    #[test]
    fn inside_the_window_sends_now() {
        // Wednesday 2026-12-02 10:00 in London.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
        let wait = next_allowed(
            &weekdays_nine_to_five(),
            chrono_tz::Europe::London,
            Channel::Email,
            now,
        );
        assert_eq!(wait, Ok(None));
    }

    #[test]
    fn friday_evening_waits_for_monday_morning() {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 18, 30, 0).unwrap();
        let wait = next_allowed(
            &weekdays_nine_to_five(),
            chrono_tz::Europe::London,
            Channel::Email,
            now,
        );
        assert_eq!(
            wait,
            Ok(Some(Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap()))
        );
    }

    #[test]
    fn text_at_night_waits_for_eight_local() {
        // 03:00 UTC is 22:00 the evening before in New York (EST, UTC-5).
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 3, 0, 0).unwrap();
        let zone = chrono_tz::America::New_York;
        let wait = next_allowed(&all_day(), zone, Channel::Sms, now).unwrap();
        assert_eq!(
            wait,
            Some(Utc.with_ymd_and_hms(2026, 12, 3, 13, 0, 0).unwrap())
        );
        // The same instant is fine for an email, whose window is all day.
        assert_eq!(
            next_allowed(&all_day(), zone, Channel::Email, now),
            Ok(None)
        );
    }
}
