//! The generic cell rate algorithm (GCRA), as a pure function of time.
//!
//! GCRA stores one timestamp per key, the theoretical arrival time (TAT): the
//! time at which the key's budget would be full again. An event at `now` is
//! allowed when `max(tat, now) + interval - period <= now`, and then moves the
//! TAT forward by one emission interval. The Redis script (`lua/gcra.lua`)
//! applies the same rule in microseconds.

use std::time::Duration;

use crate::{Decision, Quota};

/// The outcome of one GCRA step: the decision and, when the event was counted,
/// the TAT to store.
pub(crate) struct Step {
    pub decision: Decision,
    pub new_tat: Option<Duration>,
}

/// Applies one event at `now` to a key whose stored TAT is `stored_tat`
/// (`None` for a key with no state). Times are offsets from any fixed epoch.
pub(crate) fn step(stored_tat: Option<Duration>, now: Duration, quota: Quota) -> Step {
    let interval = quota.emission_interval();
    let period = quota.period();

    // A TAT in the past means a full budget, the same as no state at all.
    let tat = stored_tat.map_or(now, |stored| stored.max(now));
    let new_tat = tat + interval;

    let allow_at = new_tat.saturating_sub(period);
    if allow_at > now {
        return Step {
            decision: Decision::Limited {
                retry_after: allow_at - now,
            },
            new_tat: None,
        };
    }

    // The budget still unused after this event, in whole emission intervals.
    let backlog = new_tat - now;
    let unused = period.saturating_sub(backlog);
    let remaining = unused.as_nanos() / interval.as_nanos();
    let remaining = u32::try_from(remaining)
        .unwrap_or(u32::MAX)
        .min(quota.limit() - 1);

    Step {
        decision: Decision::Allowed { remaining },
        new_tat: Some(new_tat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(value: u64) -> Duration {
        Duration::from_secs(value)
    }

    /// Runs `count` events at the same instant, returning the decisions and the final TAT.
    fn burst(
        mut tat: Option<Duration>,
        now: Duration,
        quota: Quota,
        count: usize,
    ) -> (Vec<Decision>, Option<Duration>) {
        let mut decisions = Vec::new();
        for _ in 0..count {
            let result = step(tat, now, quota);
            decisions.push(result.decision);
            tat = result.new_tat.or(tat);
        }
        (decisions, tat)
    }

    #[test]
    fn burst_up_to_limit() {
        let quota = Quota::per_minute(3).unwrap();
        let (decisions, _) = burst(None, secs(100), quota, 4);

        assert_eq!(decisions[0], Decision::Allowed { remaining: 2 });
        assert_eq!(decisions[1], Decision::Allowed { remaining: 1 });
        assert_eq!(decisions[2], Decision::Allowed { remaining: 0 });
        assert_eq!(
            decisions[3],
            Decision::Limited {
                retry_after: secs(20)
            }
        );
    }

    #[test]
    fn limited_event_not_counted() {
        let quota = Quota::per_minute(1).unwrap();
        let (_, tat) = burst(None, secs(100), quota, 1);

        let limited = step(tat, secs(100), quota);
        assert!(limited.new_tat.is_none());

        let later = step(tat, secs(130), quota);
        assert_eq!(
            later.decision,
            Decision::Limited {
                retry_after: secs(30)
            }
        );
    }

    #[test]
    fn refills_one_interval_at_a_time() {
        let quota = Quota::per_minute(3).unwrap();
        let (_, tat) = burst(None, secs(100), quota, 3);

        let after_one_interval = step(tat, secs(120), quota);
        assert_eq!(
            after_one_interval.decision,
            Decision::Allowed { remaining: 0 }
        );

        let just_before = step(tat, secs(119), quota);
        assert_eq!(
            just_before.decision,
            Decision::Limited {
                retry_after: secs(1)
            }
        );
    }

    #[test]
    fn full_budget_after_period() {
        let quota = Quota::per_minute(3).unwrap();
        let (_, tat) = burst(None, secs(100), quota, 3);

        let (decisions, _) = burst(tat, secs(160), quota, 4);
        assert_eq!(decisions[0], Decision::Allowed { remaining: 2 });
        assert!(!decisions[3].is_allowed());
    }

    #[test]
    fn uneven_interval_allows_full_burst() {
        // 60 s / 7 is not a whole number of nanoseconds.
        let quota = Quota::per_minute(7).unwrap();
        let (decisions, _) = burst(None, secs(100), quota, 8);

        assert_eq!(decisions[6], Decision::Allowed { remaining: 0 });
        assert!(!decisions[7].is_allowed());
    }
}
