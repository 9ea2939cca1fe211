//! Account-wide send caps and the warm-up ramp of new identities.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::identity::SendingIdentity;

/// Send caps of an account. The identity caps are defaults for an identity that
/// sets none of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottleSettings {
    /// Sends per identity per UTC hour.
    pub identity_hourly_cap: u32,
    /// Sends per identity per UTC day once its warm-up is over.
    pub identity_daily_cap: u32,
    /// Email sends per recipient domain per UTC hour, across all identities.
    pub domain_hourly_cap: u32,
    /// Email sends per recipient domain per UTC day, across all identities.
    pub domain_daily_cap: u32,
    /// Daily cap of a new identity by week of age: the first entry covers days 1
    /// to 7, the second days 8 to 14, and so on. After the last entry the
    /// identity's daily cap applies, and no entry raises the cap above it.
    pub warm_up_daily_caps: Vec<u32>,
}

impl Default for ThrottleSettings {
    /// Returns the product's default caps: 1,000 an hour and 10,000 a day per sending
    /// mailbox, 100 an hour and 1,000 a day per recipient domain, and a five-week
    /// ramp of 20, 50, 100, 200 and 500 a day.
    fn default() -> Self {
        Self {
            identity_hourly_cap: 1_000,
            identity_daily_cap: 10_000,
            domain_hourly_cap: 100,
            domain_daily_cap: 1_000,
            warm_up_daily_caps: vec![20, 50, 100, 200, 500],
        }
    }
}

impl ThrottleSettings {
    /// Returns the hourly cap of `identity`: its own, else the default.
    pub fn hourly_cap(&self, identity: &SendingIdentity) -> u32 {
        identity.hourly_cap.unwrap_or(self.identity_hourly_cap)
    }

    /// Returns the daily cap of `identity` on the UTC date `date`, warm-up applied.
    pub fn daily_cap(&self, identity: &SendingIdentity, date: NaiveDate) -> u32 {
        let age_days = (date - identity.warm_up_start).num_days();
        self.daily_cap_at_age(identity, age_days)
    }

    /// Returns the daily cap of `identity` on the day `age_days` after its warm-up
    /// start, where age 0 is day 1.
    pub(super) fn daily_cap_at_age(&self, identity: &SendingIdentity, age_days: i64) -> u32 {
        let configured = identity.daily_cap.unwrap_or(self.identity_daily_cap);

        // A day before the warm-up start counts as day 1, the most careful cap.
        let week = usize::try_from(age_days.max(0) / 7).unwrap_or(usize::MAX);
        match self.warm_up_daily_caps.get(week) {
            Some(&ramp) => ramp.min(configured),
            None => configured,
        }
    }
}
