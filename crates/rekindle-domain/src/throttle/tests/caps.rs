use chrono::TimeDelta;

use super::*;
use crate::throttle::RecordedSend;

#[test]
fn ramp_by_week_of_age() {
    let settings = ThrottleSettings::default();
    let mut mailbox = identity(1, Channel::Email);
    mailbox.warm_up_start = date("2024-06-01");
    mailbox.daily_cap = Some(700);

    // Pairs of date and expected cap. Day 1 is the start date itself.
    let cases = [
        ("2024-05-20", 20),
        ("2024-06-01", 20),
        ("2024-06-07", 20),
        ("2024-06-08", 50),
        ("2024-06-15", 100),
        ("2024-06-22", 200),
        ("2024-06-29", 500),
        ("2024-07-05", 500),
        ("2024-07-06", 700),
        ("2025-06-01", 700),
    ];
    for (day, expected) in cases {
        assert_eq!(
            settings.daily_cap(&mailbox, date(day)),
            expected,
            "cap on {day}"
        );
    }
}

#[test]
fn ramp_never_exceeds_own_cap() {
    let settings = ThrottleSettings::default();
    let mut mailbox = identity(1, Channel::Email);
    mailbox.warm_up_start = date("2024-06-01");
    mailbox.daily_cap = Some(30);

    assert_eq!(settings.daily_cap(&mailbox, date("2024-06-01")), 20);
    assert_eq!(settings.daily_cap(&mailbox, date("2024-06-08")), 30);
}

#[test]
fn warm_up_caps_first_day() {
    // Pairs of warm-up day and expected daily cap for an identity whose own
    // daily cap is 700. Day 1 is in week one, day 8 in week two, day 36 in week six.
    let earliest = utc("2024-06-12T09:00:00Z");
    let next_day = utc("2024-06-13T00:00:00Z");
    for (warm_up_day, expected) in [(1_i64, 20_usize), (8, 50), (35, 500), (36, 700)] {
        let mut phone = identity(1, Channel::Sms);
        phone.warm_up_start = date("2024-06-12") - TimeDelta::days(warm_up_day - 1);
        phone.daily_cap = Some(700);
        let mut allocator = allocator(vec![phone]);

        let placements = place_copies(&mut allocator, &sms_at(earliest), expected + 1);

        assert_eq!(
            count_at(&placements, earliest),
            expected,
            "sends on warm-up day {warm_up_day}"
        );
        assert_eq!(
            placements[expected].at, next_day,
            "first send past the cap on day {warm_up_day}"
        );
    }
}

#[test]
fn hourly_cap_moves_to_next_hour() {
    let mut phone = identity(1, Channel::Sms);
    phone.hourly_cap = Some(3);
    let mut allocator = allocator(vec![phone]);
    let earliest = utc("2024-06-12T10:15:30Z");

    let placements = place_copies(&mut allocator, &sms_at(earliest), 7);

    assert_eq!(count_at(&placements, earliest), 3);
    assert_eq!(count_at(&placements, utc("2024-06-12T11:00:00Z")), 3);
    assert_eq!(placements[6].at, utc("2024-06-12T12:00:00Z"));
}

#[test]
fn daily_cap_moves_to_next_day() {
    let mut phone = identity(1, Channel::Sms);
    phone.daily_cap = Some(5);
    let mut allocator = allocator(vec![phone]);
    let earliest = utc("2024-06-12T13:45:00Z");

    let placements = place_copies(&mut allocator, &sms_at(earliest), 11);

    assert_eq!(count_at(&placements, earliest), 5);
    assert_eq!(count_at(&placements, utc("2024-06-13T00:00:00Z")), 5);
    assert_eq!(placements[10].at, utc("2024-06-14T00:00:00Z"));
}

#[test]
fn hourly_and_daily_caps_combine() {
    // Two an hour and five a day from 22:30 give 22:30 twice and 23:00 twice.
    // The day still has room for one more, but the next hour is the next day.
    let mut phone = identity(1, Channel::Sms);
    phone.hourly_cap = Some(2);
    phone.daily_cap = Some(5);
    let mut allocator = allocator(vec![phone]);

    let placements = place_copies(&mut allocator, &sms_at(utc("2024-06-12T22:30:00Z")), 6);
    let times: Vec<_> = placements.iter().map(|placement| placement.at).collect();

    assert_eq!(
        times,
        [
            utc("2024-06-12T22:30:00Z"),
            utc("2024-06-12T22:30:00Z"),
            utc("2024-06-12T23:00:00Z"),
            utc("2024-06-12T23:00:00Z"),
            utc("2024-06-13T00:00:00Z"),
            utc("2024-06-13T00:00:00Z"),
        ]
    );
}

#[test]
fn domain_hourly_cap_spans_identities() {
    let mailboxes = (1..=3)
        .map(|number| identity(number, Channel::Email))
        .collect();
    let mut allocator = allocator(mailboxes);
    let nine = utc("2024-06-12T09:00:00Z");

    let placements = place_copies(&mut allocator, &email_to("acme.com", nine), 150);

    assert_eq!(count_at(&placements, nine), 100);
    assert_eq!(count_at(&placements, utc("2024-06-12T10:00:00Z")), 50);
    for number in 1..=3 {
        assert!(
            count_by(&placements[..100], id(number)) >= 33,
            "identity {number} sent in the first hour"
        );
    }
}

#[test]
fn domain_cap_ignores_case_and_dot() {
    let mut allocator = allocator(vec![identity(1, Channel::Email)]);
    let nine = utc("2024-06-12T09:00:00Z");

    place_copies(&mut allocator, &email_to("acme.com", nine), 60);
    let placements = place_copies(&mut allocator, &email_to(" Acme.COM. ", nine), 41);

    assert_eq!(count_at(&placements, nine), 40);
    assert_eq!(placements[40].at, utc("2024-06-12T10:00:00Z"));
}

#[test]
fn domain_daily_cap_moves_to_next_day() {
    let mailboxes = (1..=3)
        .map(|number| identity(number, Channel::Email))
        .collect();
    let mut allocator = allocator(mailboxes);
    let midnight = utc("2024-06-12T00:00:00Z");

    let placements = place_copies(&mut allocator, &email_to("acme.com", midnight), 1_001);

    // 100 an hour fills the 1,000 of the day by the end of 09:00.
    assert_eq!(count_at(&placements, midnight), 100);
    assert_eq!(placements[999].at, utc("2024-06-12T09:00:00Z"));
    assert_eq!(placements[1_000].at, utc("2024-06-13T00:00:00Z"));
}

#[test]
fn other_domain_unaffected() {
    let mut allocator = allocator(vec![identity(1, Channel::Email)]);
    let nine = utc("2024-06-12T09:00:00Z");
    place_copies(&mut allocator, &email_to("acme.com", nine), 100);

    let full = allocator
        .place(&email_to("acme.com", nine))
        .expect("slot next hour");
    let other = allocator
        .place(&email_to("globex.com", nine))
        .expect("slot now");

    assert_eq!(full.at, utc("2024-06-12T10:00:00Z"));
    assert_eq!(other.at, nine);
}

#[test]
fn recorded_sends_count() {
    let mut phone = identity(1, Channel::Sms);
    phone.hourly_cap = Some(3);
    let recorded: Vec<_> = ["10:05", "10:20", "10:59"]
        .iter()
        .map(|time| RecordedSend {
            identity: id(1),
            recipient_domain: None,
            at: utc(&format!("2024-06-12T{time}:00Z")),
        })
        .collect();
    let mut allocator =
        Allocator::new(ThrottleSettings::default(), vec![phone], &recorded).expect("one identity");

    let placement = allocator
        .place(&sms_at(utc("2024-06-12T10:30:00Z")))
        .expect("slot next hour");

    assert_eq!(placement.at, utc("2024-06-12T11:00:00Z"));
}

#[test]
fn unknown_identity_counts_for_domain() {
    // A mailbox removed since its sends still filled the domain's hour.
    let settings = ThrottleSettings {
        domain_hourly_cap: 2,
        ..ThrottleSettings::default()
    };
    let recorded: Vec<_> = (0..2)
        .map(|_| RecordedSend {
            identity: id(99),
            recipient_domain: Some("acme.com".into()),
            at: utc("2024-06-12T09:10:00Z"),
        })
        .collect();
    let mut allocator = Allocator::new(settings, vec![identity(1, Channel::Email)], &recorded)
        .expect("one identity");

    let placement = allocator
        .place(&email_to("acme.com", utc("2024-06-12T09:30:00Z")))
        .expect("slot next hour");

    assert_eq!(placement.at, utc("2024-06-12T10:00:00Z"));
}

#[test]
fn sms_ignores_domain_caps() {
    let settings = ThrottleSettings {
        domain_hourly_cap: 1,
        domain_daily_cap: 1,
        ..ThrottleSettings::default()
    };
    let identities = vec![identity(1, Channel::Email), identity(2, Channel::Sms)];
    let mut allocator = Allocator::new(settings, identities, &[]).expect("distinct ids");
    let nine = utc("2024-06-12T09:00:00Z");
    let mut text = sms_at(nine);
    text.recipient_domain = Some("acme.com".into());

    let texts = place_copies(&mut allocator, &text, 5);
    let mail = allocator
        .place(&email_to("acme.com", nine))
        .expect("domain still free");

    assert_eq!(count_at(&texts, nine), 5);
    assert_eq!(mail.at, nine);
    assert_eq!(mail.identity, id(1));
}

#[test]
fn placement_keeps_subsecond_earliest() {
    let mut allocator = allocator(vec![identity(1, Channel::Sms)]);
    let earliest = utc("2024-06-12T09:00:00.250Z");

    let placement = allocator.place(&sms_at(earliest)).expect("free identity");

    assert_eq!(placement.at, earliest);
}
