//! Meeting times to propose to a lead: free slots inside the user's working
//! hours, after a minimum notice, shown in the lead's local time.
//!
//! Candidate starts lie on a grid (every 30 minutes by default) of the
//! user's local clock. A local time that a daylight-saving change skips is
//! not proposed, and a repeated one takes its first occurrence.
//!
//! The first pass takes the earliest free slot of each day in the lead's
//! calendar, so the lead gets a choice of days. When there are too few days,
//! later slots of the same days follow, at least two hours apart.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use rekindle_domain::scheduling::effective_zone;
use serde::{Deserialize, Serialize};

use super::RevenueError;

/// Most slots one proposal may contain.
pub const MAX_SLOTS: usize = 5;
/// Most days ahead a proposal may look.
pub const MAX_HORIZON_DAYS: u32 = 60;
/// Minimum meeting length, in minutes, as the meetings table allows.
pub const MIN_MEETING_MINUTES: i64 = 5;
/// Maximum meeting length, in minutes, as the meetings table allows.
pub const MAX_MEETING_MINUTES: i64 = 480;
/// Minimum time between two proposed slots on the same day, so the second
/// is a real alternative to the first.
const SAME_DAY_GAP: TimeDelta = TimeDelta::hours(2);

/// The user's working week, on the user's local clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub time_zone: Tz,
    pub weekdays: Vec<Weekday>,
    pub start: NaiveTime,
    /// End of the working day, after `start` on the same day.
    pub end: NaiveTime,
}

/// A time the user is already busy, end excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusyInterval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Settings of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotSettings {
    pub duration: TimeDelta,
    /// No slot starts sooner than this after `now`.
    pub min_notice: TimeDelta,
    /// Slots to propose, 1 to [`MAX_SLOTS`].
    pub count: usize,
    /// Distance between candidate starts on the user's clock.
    pub grid: TimeDelta,
    /// Days ahead to search, 1 to [`MAX_HORIZON_DAYS`].
    pub horizon_days: u32,
    /// Earliest start on the lead's clock.
    pub lead_day_start: NaiveTime,
    /// Latest end on the lead's clock, on the same day as the start.
    pub lead_day_end: NaiveTime,
}

impl Default for SlotSettings {
    /// Three 30-minute slots on a 30-minute grid within 14 days, 24 hours'
    /// notice, between 08:00 and 19:00 for the lead. The notice keeps the
    /// slots ahead while the reply waits for review and for the lead to
    /// read it.
    fn default() -> Self {
        Self {
            duration: TimeDelta::minutes(30),
            min_notice: TimeDelta::hours(24),
            count: 3,
            grid: TimeDelta::minutes(30),
            horizon_days: 14,
            lead_day_start: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a valid time"),
            lead_day_end: NaiveTime::from_hms_opt(19, 0, 0).expect("19:00 is a valid time"),
        }
    }
}

/// Everything a proposal needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRequest {
    pub working_hours: WorkingHours,
    pub busy: Vec<BusyInterval>,
    /// The lead's IANA time zone. A missing or invalid one falls back to the
    /// user's zone.
    pub lead_time_zone: Option<String>,
    pub now: DateTime<Utc>,
    pub settings: SlotSettings,
}

impl SlotRequest {
    /// Returns the zone the slots are shown in.
    pub fn lead_zone(&self) -> Tz {
        effective_zone(self.lead_time_zone.as_deref(), self.working_hours.time_zone).0
    }
}

/// One proposed meeting time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedSlot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The start on the lead's clock, with its offset from UTC.
    pub lead_local_start: DateTime<FixedOffset>,
    /// IANA name of the lead's zone used.
    pub lead_time_zone: String,
}

/// Proposes up to `settings.count` free slots, earliest first. Fewer come
/// back when the horizon has fewer, and none is an error.
pub fn propose_slots(request: &SlotRequest) -> Result<Vec<ProposedSlot>, RevenueError> {
    validate(request)?;
    let lead_zone = request.lead_zone();
    let candidates = free_candidates(request, lead_zone);
    if candidates.is_empty() {
        return Err(RevenueError::NoFreeSlot {
            horizon_days: request.settings.horizon_days,
        });
    }

    let mut chosen = spread_over_days(&candidates, lead_zone, request.settings.count);
    fill_same_days(&mut chosen, &candidates, request.settings.count);
    chosen.sort_by_key(|slot| slot.starts_at);
    Ok(chosen)
}

fn validate(request: &SlotRequest) -> Result<(), RevenueError> {
    validate_hours(&request.working_hours, &request.settings)?;
    validate_search(&request.settings)?;

    if let Some(index) = request.busy.iter().position(|busy| busy.end < busy.start) {
        return Err(RevenueError::BusyInterval { index });
    }
    Ok(())
}

/// Checks the working week and that a meeting fits in a working day.
fn validate_hours(hours: &WorkingHours, settings: &SlotSettings) -> Result<(), RevenueError> {
    if hours.weekdays.is_empty() {
        return Err(RevenueError::NoWorkingDays);
    }
    if hours.start >= hours.end {
        return Err(RevenueError::WorkingHours {
            start: hours.start,
            end: hours.end,
        });
    }

    let minutes = settings.duration.num_minutes();
    let fits_table = (MIN_MEETING_MINUTES..=MAX_MEETING_MINUTES).contains(&minutes)
        && settings.duration == TimeDelta::minutes(minutes);
    if !fits_table || settings.duration > hours.end - hours.start {
        return Err(RevenueError::Duration { minutes });
    }
    Ok(())
}

/// Checks the grid, count, horizon, notice and the lead's day.
fn validate_search(settings: &SlotSettings) -> Result<(), RevenueError> {
    if settings.grid <= TimeDelta::zero() {
        return Err(RevenueError::Grid {
            minutes: settings.grid.num_minutes(),
        });
    }
    if !(1..=MAX_SLOTS).contains(&settings.count) {
        return Err(RevenueError::SlotCount(settings.count));
    }
    if !(1..=MAX_HORIZON_DAYS).contains(&settings.horizon_days) {
        return Err(RevenueError::Horizon(settings.horizon_days));
    }
    if settings.min_notice < TimeDelta::zero() {
        return Err(RevenueError::NegativeNotice);
    }
    if settings.lead_day_start >= settings.lead_day_end {
        return Err(RevenueError::LeadDay {
            start: settings.lead_day_start,
            end: settings.lead_day_end,
        });
    }
    Ok(())
}

/// Lists every free slot in the horizon, earliest first.
fn free_candidates(request: &SlotRequest, lead_zone: Tz) -> Vec<ProposedSlot> {
    let hours = &request.working_hours;
    let settings = &request.settings;
    let earliest = request.now + settings.min_notice;
    let first_day = request.now.with_timezone(&hours.time_zone).date_naive();

    let mut slots = Vec::new();
    for date in first_day
        .iter_days()
        .take(settings.horizon_days as usize + 1)
    {
        if !hours.weekdays.contains(&date.weekday()) {
            continue;
        }
        for local_start in grid_starts(hours, settings, date) {
            let Some(starts_at) = first_instant(hours.time_zone, local_start) else {
                continue;
            };
            let slot = make_slot(starts_at, settings.duration, lead_zone);
            let fits = slot.starts_at >= earliest
                && ends_within_day(hours, date, slot.ends_at)
                && is_free(&request.busy, &slot)
                && suits_lead(settings, &slot, lead_zone);
            if fits {
                slots.push(slot);
            }
        }
    }
    slots
}

/// Lists the grid's local start times on `date` whose end, on the local
/// clock, is within the working day.
fn grid_starts(
    hours: &WorkingHours,
    settings: &SlotSettings,
    date: NaiveDate,
) -> Vec<NaiveDateTime> {
    let day_end = date.and_time(hours.end);
    let mut starts = Vec::new();
    let mut start = date.and_time(hours.start);
    while start + settings.duration <= day_end {
        starts.push(start);
        start += settings.grid;
    }
    starts
}

/// Converts a local time to an instant: `None` when a daylight-saving change
/// skips it, the first occurrence when it repeats.
fn first_instant(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(&local)
        .earliest()
        .map(|instant| instant.with_timezone(&Utc))
}

fn make_slot(starts_at: DateTime<Utc>, duration: TimeDelta, lead_zone: Tz) -> ProposedSlot {
    ProposedSlot {
        starts_at,
        ends_at: starts_at + duration,
        lead_local_start: starts_at.with_timezone(&lead_zone).fixed_offset(),
        lead_time_zone: lead_zone.name().to_owned(),
    }
}

/// Checks the end on the user's clock, which differs from the grid's end
/// when a daylight-saving change falls inside the slot.
fn ends_within_day(hours: &WorkingHours, date: NaiveDate, ends_at: DateTime<Utc>) -> bool {
    ends_at.with_timezone(&hours.time_zone).naive_local() <= date.and_time(hours.end)
}

fn is_free(busy: &[BusyInterval], slot: &ProposedSlot) -> bool {
    busy.iter()
        .all(|busy| busy.end <= slot.starts_at || slot.ends_at <= busy.start)
}

fn suits_lead(settings: &SlotSettings, slot: &ProposedSlot, lead_zone: Tz) -> bool {
    let start = slot.starts_at.with_timezone(&lead_zone).naive_local();
    let end = slot.ends_at.with_timezone(&lead_zone).naive_local();
    start.date() == end.date()
        && start.time() >= settings.lead_day_start
        && end.time() <= settings.lead_day_end
}

/// Takes the first candidate of each day on the lead's calendar.
fn spread_over_days(candidates: &[ProposedSlot], lead_zone: Tz, count: usize) -> Vec<ProposedSlot> {
    let mut chosen: Vec<ProposedSlot> = Vec::new();
    let mut days: Vec<NaiveDate> = Vec::new();
    for slot in candidates {
        if chosen.len() == count {
            break;
        }
        let day = slot.starts_at.with_timezone(&lead_zone).date_naive();
        if !days.contains(&day) {
            days.push(day);
            chosen.push(slot.clone());
        }
    }
    chosen
}

/// Adds later candidates, each at least [`SAME_DAY_GAP`] from every chosen
/// slot, until `count` slots are chosen.
fn fill_same_days(chosen: &mut Vec<ProposedSlot>, candidates: &[ProposedSlot], count: usize) {
    for slot in candidates {
        if chosen.len() >= count {
            return;
        }
        let far_enough = chosen
            .iter()
            .all(|other| (slot.starts_at - other.starts_at).abs() >= SAME_DAY_GAP);
        if far_enough {
            chosen.push(slot.clone());
        }
    }
}
