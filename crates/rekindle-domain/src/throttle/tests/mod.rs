//! Tests of the send-slot allocator. Every expected time is worked out by hand in
//! the test, from the caps it sets.

mod caps;
mod property;
mod reasons;
mod rotation;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    Allocator, Placement, SendRequest, SendingIdentity, SendingIdentityId, ThrottleSettings,
};
use crate::Channel;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant is RFC 3339")
        .with_timezone(&Utc)
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("test date is YYYY-MM-DD")
}

fn id(number: u128) -> SendingIdentityId {
    SendingIdentityId(Uuid::from_u128(number))
}

/// Builds an identity whose warm-up ended long ago, with the default caps.
fn identity(number: u128, channel: Channel) -> SendingIdentity {
    SendingIdentity {
        id: id(number),
        channel,
        warm_up_start: date("2020-01-01"),
        hourly_cap: None,
        daily_cap: None,
        paused: false,
    }
}

fn email_to(domain: &str, earliest: DateTime<Utc>) -> SendRequest {
    SendRequest {
        channel: Channel::Email,
        recipient_domain: Some(domain.to_owned()),
        earliest,
        latest: None,
    }
}

fn sms_at(earliest: DateTime<Utc>) -> SendRequest {
    SendRequest {
        channel: Channel::Sms,
        recipient_domain: None,
        earliest,
        latest: None,
    }
}

fn allocator(identities: Vec<SendingIdentity>) -> Allocator {
    Allocator::new(ThrottleSettings::default(), identities, &[]).expect("identity ids are distinct")
}

/// Places `count` copies of `request` and returns the placements in order.
fn place_copies(allocator: &mut Allocator, request: &SendRequest, count: usize) -> Vec<Placement> {
    (0..count)
        .map(|index| {
            allocator
                .place(request)
                .unwrap_or_else(|error| panic!("message {index} found no slot: {error}"))
        })
        .collect()
}

fn count_at(placements: &[Placement], at: DateTime<Utc>) -> usize {
    placements
        .iter()
        .filter(|placement| placement.at == at)
        .count()
}

fn count_by(placements: &[Placement], identity: SendingIdentityId) -> usize {
    placements
        .iter()
        .filter(|placement| placement.identity == identity)
        .count()
}
