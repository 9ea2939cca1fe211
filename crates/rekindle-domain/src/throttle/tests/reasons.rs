use super::*;
use crate::throttle::{NoSlot, ThrottleError};

#[test]
fn no_identity_for_channel() {
    let mut allocator = allocator(vec![identity(1, Channel::Email)]);
    let nine = utc("2024-06-12T09:00:00Z");
    let mut whatsapp = sms_at(nine);
    whatsapp.channel = Channel::Whatsapp;

    assert_eq!(
        allocator.place(&sms_at(nine)),
        Err(NoSlot::NoIdentityForChannel {
            channel: Channel::Sms
        })
    );
    assert_eq!(
        allocator.place(&whatsapp),
        Err(NoSlot::NoIdentityForChannel {
            channel: Channel::Whatsapp
        })
    );
}

#[test]
fn all_paused() {
    let mut first = identity(1, Channel::Sms);
    first.paused = true;
    let mut second = identity(2, Channel::Sms);
    second.paused = true;
    let mut allocator = allocator(vec![first, second, identity(3, Channel::Email)]);

    let result = allocator.place(&sms_at(utc("2024-06-12T09:00:00Z")));

    assert_eq!(
        result,
        Err(NoSlot::AllPaused {
            channel: Channel::Sms
        })
    );
}

#[test]
fn email_without_domain() {
    let mut allocator = allocator(vec![identity(1, Channel::Email)]);
    let nine = utc("2024-06-12T09:00:00Z");
    let mut missing = email_to("acme.com", nine);
    missing.recipient_domain = None;

    assert_eq!(
        allocator.place(&missing),
        Err(NoSlot::MissingRecipientDomain)
    );
    assert_eq!(
        allocator.place(&email_to(" . ", nine)),
        Err(NoSlot::MissingRecipientDomain)
    );
}

#[test]
fn latest_not_after_earliest() {
    let mut allocator = allocator(vec![identity(1, Channel::Sms)]);
    let nine = utc("2024-06-12T09:00:00Z");
    let mut request = sms_at(nine);
    request.latest = Some(nine);

    let result = allocator.place(&request);

    assert_eq!(
        result,
        Err(NoSlot::EmptyRange {
            earliest: nine,
            latest: nine
        })
    );
}

#[test]
fn caps_full_before_latest() {
    let mut phone = identity(1, Channel::Sms);
    phone.hourly_cap = Some(1);
    let mut allocator = allocator(vec![phone]);
    let nine = utc("2024-06-12T09:00:00Z");
    let ten = utc("2024-06-12T10:00:00Z");
    let mut request = sms_at(nine);
    request.latest = Some(ten);

    let first = allocator.place(&request);
    let second = allocator.place(&request);

    assert_eq!(first.map(|placement| placement.at), Ok(nine));
    assert_eq!(
        second,
        Err(NoSlot::CapsFull {
            earliest: nine,
            latest: ten
        })
    );
}

#[test]
fn latest_is_exclusive() {
    // The second send fits at 10:00 exactly, which a latest of 10:00 excludes
    // and a latest one second later admits.
    let mut phone = identity(1, Channel::Sms);
    phone.hourly_cap = Some(1);
    let mut allocator = allocator(vec![phone]);
    let mut request = sms_at(utc("2024-06-12T09:00:00Z"));
    request.latest = Some(utc("2024-06-12T10:00:01Z"));

    allocator.place(&request).expect("first send fits at 09:00");
    let second = allocator
        .place(&request)
        .expect("second send fits at 10:00");

    assert_eq!(second.at, utc("2024-06-12T10:00:00Z"));
}

#[test]
fn zero_cap_beyond_horizon() {
    let mut phone = identity(1, Channel::Sms);
    phone.daily_cap = Some(0);
    let mut allocator = allocator(vec![phone]);
    let nine = utc("2024-06-12T09:00:00Z");

    let result = allocator.place(&sms_at(nine));

    assert_eq!(result, Err(NoSlot::BeyondHorizon { earliest: nine }));
}

#[test]
fn duplicate_identity_rejected() {
    let identities = vec![
        identity(2, Channel::Sms),
        identity(1, Channel::Email),
        identity(2, Channel::Sms),
    ];

    let result = Allocator::new(ThrottleSettings::default(), identities, &[]);

    assert_eq!(result.err(), Some(ThrottleError::DuplicateIdentity(id(2))));
}
