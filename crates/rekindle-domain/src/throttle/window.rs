//! Calendar UTC hours and days as bucket indexes counted from the Unix epoch.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

const SECONDS_PER_HOUR: i64 = 3_600;
const SECONDS_PER_DAY: i64 = 86_400;

/// Index of the UTC hour that contains `at`.
pub(super) fn hour_index(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(SECONDS_PER_HOUR)
}

/// Index of the UTC day that contains `at`.
pub(super) fn day_index(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(SECONDS_PER_DAY)
}

/// Index of the UTC day `date`.
pub(super) fn date_index(date: NaiveDate) -> i64 {
    day_index(date.and_time(NaiveTime::MIN).and_utc())
}

/// First instant of hour `index`, or `None` outside chrono's range.
pub(super) fn hour_start(index: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(index.checked_mul(SECONDS_PER_HOUR)?, 0)
}

/// First instant (00:00 UTC) of day `index`, or `None` outside chrono's range.
pub(super) fn day_start(index: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(index.checked_mul(SECONDS_PER_DAY)?, 0)
}
