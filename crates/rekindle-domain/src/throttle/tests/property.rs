//! Randomised campaigns (seeded, so every run is the same), checked from the
//! placements alone and against a slow allocator that tries every hour in turn.

use std::collections::HashMap;

use chrono::{NaiveDate, TimeDelta};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::throttle::{MAX_SEARCH_DAYS, NoSlot};

const SECONDS_PER_HOUR: i64 = 3_600;
const SECONDS_PER_DAY: i64 = 86_400;

/// Daily cap under the default ramp, written out week by week so that it does
/// not reuse the allocator's own arithmetic.
fn expected_daily_cap(identity: &SendingIdentity, day: NaiveDate, default_cap: u32) -> u32 {
    let configured = identity.daily_cap.unwrap_or(default_cap);
    let ramp = match (day - identity.warm_up_start).num_days() {
        ..=6 => Some(20),
        7..=13 => Some(50),
        14..=20 => Some(100),
        21..=27 => Some(200),
        28..=34 => Some(500),
        _ => None,
    };
    ramp.map_or(configured, |ramp| ramp.min(configured))
}

fn hour_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(SECONDS_PER_HOUR)
}

fn day_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(SECONDS_PER_DAY)
}

fn is_whole_hour(at: DateTime<Utc>) -> bool {
    at.timestamp() % SECONDS_PER_HOUR == 0 && at.timestamp_subsec_nanos() == 0
}

/// Builds `count` requests: 85 % email, half of it to one large domain so that
/// the domain caps bind, and 30 % with a latest time. Like a campaign launch,
/// 70 % may start in the half hour after 09:00 on `base`'s day and the rest at
/// any time in the three days from `base`.
fn random_requests(rng: &mut StdRng, base: DateTime<Utc>, count: usize) -> Vec<SendRequest> {
    (0..count)
        .map(|_| {
            let offset = if rng.random_bool(0.7) {
                9 * SECONDS_PER_HOUR + rng.random_range(0..1_800)
            } else {
                rng.random_range(0..3 * SECONDS_PER_DAY)
            };
            let earliest = base + TimeDelta::seconds(offset);
            let latest = rng
                .random_bool(0.3)
                .then(|| earliest + TimeDelta::hours(rng.random_range(1..=24)));
            let domain = if rng.random_bool(0.5) {
                "big.example".to_owned()
            } else {
                format!("d{}.example", rng.random_range(0..10))
            };
            let channel = if rng.random_bool(0.85) {
                Channel::Email
            } else {
                Channel::Sms
            };
            SendRequest {
                channel,
                recipient_domain: Some(domain),
                earliest,
                latest,
            }
        })
        .collect()
}

/// Identities whose warm-up weeks change during the three days, with one paused.
fn campaign_identities(base_day: NaiveDate) -> Vec<SendingIdentity> {
    let started = |days_ago: i64| base_day - TimeDelta::days(days_ago);
    let make = |number, channel, days_ago, hourly_cap, daily_cap| SendingIdentity {
        id: id(number),
        channel,
        warm_up_start: started(days_ago),
        hourly_cap,
        daily_cap,
        paused: false,
    };
    let mut paused = make(5, Channel::Email, 400, None, None);
    paused.paused = true;
    vec![
        make(1, Channel::Email, 5, None, None),
        make(2, Channel::Email, 12, Some(15), None),
        make(3, Channel::Email, 33, Some(60), Some(800)),
        make(4, Channel::Email, 400, None, Some(3_000)),
        paused,
        make(6, Channel::Sms, 400, Some(30), Some(200)),
        make(7, Channel::Sms, 0, None, None),
    ]
}

/// Send counts per (key, hour) and per (key, day), taken from placements.
#[derive(Default)]
struct Tally {
    hours: HashMap<(String, i64), u32>,
    days: HashMap<(String, i64), u32>,
}

impl Tally {
    fn add(&mut self, key: &str, at: DateTime<Utc>) {
        *self.hours.entry((key.to_owned(), hour_of(at))).or_insert(0) += 1;
        *self.days.entry((key.to_owned(), day_of(at))).or_insert(0) += 1;
    }
}

#[test]
fn random_campaign_keeps_every_cap() {
    let mut rng = StdRng::seed_from_u64(20_240_612);
    let base = utc("2024-06-12T00:00:00Z");
    let identities = campaign_identities(base.date_naive());
    let requests = random_requests(&mut rng, base, 4_000);
    let mut allocator = allocator(identities.clone());

    let results: Vec<_> = requests
        .iter()
        .map(|request| allocator.place(request))
        .collect();

    let by_id: HashMap<_, _> = identities
        .iter()
        .map(|identity| (identity.id, identity))
        .collect();
    let mut per_identity = Tally::default();
    let mut per_domain = Tally::default();
    let mut moved = 0;
    for (request, result) in requests.iter().zip(&results) {
        let Ok(placement) = result else {
            assert!(
                matches!(result, Err(NoSlot::CapsFull { .. })),
                "unexpected {result:?}"
            );
            assert!(
                request.latest.is_some(),
                "no slot within a year for {request:?}"
            );
            continue;
        };
        let identity = by_id[&placement.identity];
        assert_eq!(identity.channel, request.channel, "{placement:?}");
        assert!(!identity.paused, "paused identity used: {placement:?}");
        assert!(
            placement.at >= request.earliest,
            "{placement:?} before {request:?}"
        );
        if let Some(latest) = request.latest {
            assert!(placement.at < latest, "{placement:?} after {request:?}");
        }
        // A cap frees up only when a UTC hour starts, so a delayed send starts one.
        if placement.at != request.earliest {
            assert!(is_whole_hour(placement.at), "{placement:?} for {request:?}");
            moved += 1;
        }

        per_identity.add(&identity.id.to_string(), placement.at);
        if request.channel == Channel::Email {
            per_domain.add(
                request.recipient_domain.as_deref().unwrap_or_default(),
                placement.at,
            );
        }
    }

    for identity in &identities {
        let key = identity.id.to_string();
        let hourly_cap = identity.hourly_cap.unwrap_or(1_000);
        for ((owner, hour), &count) in &per_identity.hours {
            if *owner == key {
                assert!(
                    count <= hourly_cap,
                    "identity {key} sent {count} in hour {hour}"
                );
            }
        }
        for ((owner, day), &count) in &per_identity.days {
            let date = DateTime::from_timestamp(day * SECONDS_PER_DAY, 0).expect("day in range");
            let cap = expected_daily_cap(identity, date.date_naive(), 10_000);
            if *owner == key {
                assert!(
                    count <= cap,
                    "identity {key} sent {count} on {date}, cap {cap}"
                );
            }
        }
    }
    let max_domain_hour = per_domain.hours.values().copied().max().unwrap_or(0);
    let max_domain_day = per_domain.days.values().copied().max().unwrap_or(0);
    assert_eq!(
        max_domain_hour, 100,
        "the large domain should fill some hour exactly"
    );
    assert_eq!(
        max_domain_day, 1_000,
        "the large domain should fill some day exactly"
    );

    // The campaign must push sends past the caps, or the checks above prove nothing.
    let first_day_of_newest = per_identity.days[&(id(7).to_string(), day_of(base))];
    assert_eq!(
        first_day_of_newest, 20,
        "week-one phone number on its first day"
    );
    assert!(moved > 1_000, "only {moved} sends were delayed");
    let placed = results.iter().filter(|result| result.is_ok()).count();
    assert!(placed > 3_500, "only {placed} of 4000 placed");
}

/// Slow allocator used as a reference: tries the earliest time, then every later
/// whole UTC hour, counting from a table of every send placed so far.
struct Reference {
    settings: ThrottleSettings,
    identities: Vec<SendingIdentity>,
    identity_hours: HashMap<(SendingIdentityId, i64), u32>,
    identity_days: HashMap<(SendingIdentityId, i64), u32>,
    domain_hours: HashMap<(String, i64), u32>,
    domain_days: HashMap<(String, i64), u32>,
}

impl Reference {
    fn new(settings: ThrottleSettings, mut identities: Vec<SendingIdentity>) -> Self {
        identities.sort_by_key(|identity| identity.id);
        Self {
            settings,
            identities,
            identity_hours: HashMap::new(),
            identity_days: HashMap::new(),
            domain_hours: HashMap::new(),
            domain_days: HashMap::new(),
        }
    }

    fn place(&mut self, request: &SendRequest) -> Option<Placement> {
        let domain = (request.channel == Channel::Email).then(|| {
            request
                .recipient_domain
                .clone()
                .unwrap_or_default()
                .to_lowercase()
        });
        let limit = request
            .latest
            .unwrap_or(request.earliest + TimeDelta::days(MAX_SEARCH_DAYS));

        let mut at = request.earliest;
        while at < limit {
            if let Some(identity) = self.best_at(request.channel, domain.as_deref(), at) {
                self.count(identity, domain.as_deref(), at);
                return Some(Placement { identity, at });
            }
            at = DateTime::from_timestamp((hour_of(at) + 1) * SECONDS_PER_HOUR, 0)
                .expect("in range");
        }
        None
    }

    fn best_at(
        &self,
        channel: Channel,
        domain: Option<&str>,
        at: DateTime<Utc>,
    ) -> Option<SendingIdentityId> {
        if let Some(domain) = domain {
            let key = domain.to_owned();
            let in_hour = self
                .domain_hours
                .get(&(key.clone(), hour_of(at)))
                .copied()
                .unwrap_or(0);
            let in_day = self
                .domain_days
                .get(&(key, day_of(at)))
                .copied()
                .unwrap_or(0);
            if in_hour >= self.settings.domain_hourly_cap
                || in_day >= self.settings.domain_daily_cap
            {
                return None;
            }
        }
        self.identities
            .iter()
            .filter(|identity| identity.channel == channel && !identity.paused)
            .filter(|identity| self.identity_fits(identity, at))
            .min_by_key(|identity| (self.day_count(identity.id, at), identity.id))
            .map(|identity| identity.id)
    }

    fn identity_fits(&self, identity: &SendingIdentity, at: DateTime<Utc>) -> bool {
        let in_hour = self
            .identity_hours
            .get(&(identity.id, hour_of(at)))
            .copied()
            .unwrap_or(0);
        let hourly_cap = identity
            .hourly_cap
            .unwrap_or(self.settings.identity_hourly_cap);
        let daily_cap =
            expected_daily_cap(identity, at.date_naive(), self.settings.identity_daily_cap);
        in_hour < hourly_cap && self.day_count(identity.id, at) < daily_cap
    }

    fn day_count(&self, identity: SendingIdentityId, at: DateTime<Utc>) -> u32 {
        self.identity_days
            .get(&(identity, day_of(at)))
            .copied()
            .unwrap_or(0)
    }

    fn count(&mut self, identity: SendingIdentityId, domain: Option<&str>, at: DateTime<Utc>) {
        *self
            .identity_hours
            .entry((identity, hour_of(at)))
            .or_insert(0) += 1;
        *self
            .identity_days
            .entry((identity, day_of(at)))
            .or_insert(0) += 1;
        if let Some(domain) = domain {
            *self
                .domain_hours
                .entry((domain.to_owned(), hour_of(at)))
                .or_insert(0) += 1;
            *self
                .domain_days
                .entry((domain.to_owned(), day_of(at)))
                .or_insert(0) += 1;
        }
    }
}

#[test]
fn matches_hour_by_hour_reference() {
    // Small caps make most messages wait, which exercises the skipping of full
    // hours and days. The warm-up weeks of identities 1 and 3 change mid-run.
    let settings = ThrottleSettings {
        domain_hourly_cap: 6,
        domain_daily_cap: 30,
        ..ThrottleSettings::default()
    };
    let base = utc("2024-06-12T00:00:00Z");
    let identities = campaign_identities(base.date_naive())
        .into_iter()
        .map(|identity| SendingIdentity {
            hourly_cap: Some(identity.hourly_cap.unwrap_or(4).min(5)),
            ..identity
        })
        .collect::<Vec<_>>();
    let mut rng = StdRng::seed_from_u64(7);
    let requests = random_requests(&mut rng, base, 1_500);
    let mut allocator =
        Allocator::new(settings.clone(), identities.clone(), &[]).expect("distinct ids");
    let mut reference = Reference::new(settings, identities);

    let mut delayed = 0;
    for (index, request) in requests.iter().enumerate() {
        let expected = reference.place(request);
        let actual = allocator.place(request).ok();
        assert_eq!(actual, expected, "message {index}: {request:?}");
        if expected.is_some_and(|placement| placement.at > request.earliest) {
            delayed += 1;
        }
    }
    assert!(
        delayed > 500,
        "only {delayed} messages waited for a free hour"
    );
}
