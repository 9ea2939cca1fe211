//! How many events a key may have per period.

use std::time::Duration;

use crate::RateLimitError;

/// The maximum period of a quota: 366 days.
///
/// The Redis script computes in microseconds since the Unix epoch with Lua
/// doubles, which are exact up to 2^53 (about 285 years of microseconds), so a
/// period of a year keeps every sum exact with a wide margin.
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// A budget of `limit` events per `period`, with bursts of up to `limit`.
///
/// The budget refills continuously, one event every `period / limit` (the
/// emission interval of GCRA). A value of this type is always valid: the limit
/// is at least 1, the period is between 1 µs and [`MAX_PERIOD`], and the
/// emission interval is at least 1 µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    limit: u32,
    period: Duration,
}

impl Quota {
    /// Builds a quota of `limit` events per `period`, checking the bounds above.
    pub fn new(limit: u32, period: Duration) -> Result<Self, RateLimitError> {
        if limit == 0 {
            return Err(RateLimitError::ZeroLimit);
        }

        if period.is_zero() {
            return Err(RateLimitError::ZeroPeriod);
        }

        if period > MAX_PERIOD {
            return Err(RateLimitError::PeriodTooLong {
                period,
                max: MAX_PERIOD,
            });
        }

        // The Redis script counts whole microseconds, so each event needs at least one.
        if period.as_micros() < u128::from(limit) {
            return Err(RateLimitError::IntervalTooShort { limit, period });
        }

        Ok(Self { limit, period })
    }

    /// Builds a quota of `limit` events per second.
    pub fn per_second(limit: u32) -> Result<Self, RateLimitError> {
        Self::new(limit, Duration::from_secs(1))
    }

    /// Builds a quota of `limit` events per minute.
    pub fn per_minute(limit: u32) -> Result<Self, RateLimitError> {
        Self::new(limit, Duration::from_secs(60))
    }

    /// Builds a quota of `limit` events per hour.
    pub fn per_hour(limit: u32) -> Result<Self, RateLimitError> {
        Self::new(limit, Duration::from_secs(60 * 60))
    }

    /// The number of events allowed per period, which is also the largest burst.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The period over which `limit` events are allowed.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The time in which one event's worth of budget refills: `period / limit`,
    /// rounded down to the nanosecond.
    pub fn emission_interval(&self) -> Duration {
        self.period / self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_period() {
        assert_eq!(
            Quota::per_second(5).unwrap().period(),
            Duration::from_secs(1)
        );
        assert_eq!(
            Quota::per_minute(5).unwrap().period(),
            Duration::from_secs(60)
        );
        assert_eq!(
            Quota::per_hour(5).unwrap().period(),
            Duration::from_secs(3600)
        );
        assert_eq!(Quota::per_hour(5).unwrap().limit(), 5);
    }

    #[test]
    fn zero_limit_rejected() {
        assert!(matches!(
            Quota::per_minute(0),
            Err(RateLimitError::ZeroLimit)
        ));
    }

    #[test]
    fn zero_period_rejected() {
        assert!(matches!(
            Quota::new(1, Duration::ZERO),
            Err(RateLimitError::ZeroPeriod)
        ));
    }

    #[test]
    fn period_over_maximum_rejected() {
        let too_long = MAX_PERIOD + Duration::from_secs(1);
        assert!(matches!(
            Quota::new(1, too_long),
            Err(RateLimitError::PeriodTooLong { .. })
        ));
        assert!(Quota::new(1, MAX_PERIOD).is_ok());
    }

    #[test]
    fn sub_microsecond_interval_rejected() {
        assert!(matches!(
            Quota::per_second(1_000_001),
            Err(RateLimitError::IntervalTooShort { .. })
        ));
        assert!(Quota::per_second(1_000_000).is_ok());
    }

    #[test]
    fn emission_interval_divides_period() {
        let quota = Quota::per_minute(3).unwrap();
        assert_eq!(quota.emission_interval(), Duration::from_secs(20));

        // 60 s / 7 does not divide evenly; the interval rounds down so that
        // `limit` intervals still fit in one period.
        let uneven = Quota::per_minute(7).unwrap();
        assert!(uneven.emission_interval() * 7 <= uneven.period());
    }
}
