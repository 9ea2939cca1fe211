use super::*;
use crate::throttle::RecordedSend;

/// 1,000 emails to 50 domains, 20 each, all allowed from 08:00.
fn thousand_emails(allocator: &mut Allocator) -> Vec<Placement> {
    let eight = utc("2024-06-12T08:00:00Z");
    (0..1_000)
        .map(|index| {
            let request = email_to(&format!("company{}.example", index % 50), eight);
            allocator
                .place(&request)
                .expect("caps leave room for every message")
        })
        .collect()
}

fn three_mailboxes(hourly_cap: Option<u32>, daily_cap: Option<u32>) -> Vec<SendingIdentity> {
    (1..=3)
        .map(|number| SendingIdentity {
            hourly_cap,
            daily_cap,
            ..identity(number, Channel::Email)
        })
        .collect()
}

#[test]
fn thousand_spread_evenly() {
    let mut allocator = allocator(three_mailboxes(None, Some(400)));

    let placements = thousand_emails(&mut allocator);

    assert_eq!(count_at(&placements, utc("2024-06-12T08:00:00Z")), 1_000);
    assert_eq!(count_by(&placements, id(1)), 334);
    assert_eq!(count_by(&placements, id(2)), 333);
    assert_eq!(count_by(&placements, id(3)), 333);
}

#[test]
fn thousand_spread_under_hourly_caps() {
    let mut allocator = allocator(three_mailboxes(Some(100), None));

    let placements = thousand_emails(&mut allocator);

    // Three identities at 100 an hour take 300 an hour.
    for (hour, expected) in [("08", 300), ("09", 300), ("10", 300), ("11", 100)] {
        let at = utc(&format!("2024-06-12T{hour}:00:00Z"));
        assert_eq!(count_at(&placements, at), expected, "sends at {hour}:00");
        for number in 1..=3 {
            let in_hour = placements
                .iter()
                .filter(|placement| placement.at == at && placement.identity == id(number))
                .count();
            assert!(
                in_hour <= 100,
                "identity {number} sent {in_hour} at {hour}:00"
            );
        }
    }
    for number in 1..=3 {
        let sent = count_by(&placements, id(number));
        assert!((333..=334).contains(&sent), "identity {number} sent {sent}");
    }
}

#[test]
fn rotation_takes_turns() {
    let mut allocator = allocator(three_mailboxes(None, None));
    let nine = utc("2024-06-12T09:00:00Z");

    let order: Vec<_> = (0..6)
        .map(|_| {
            allocator
                .place(&email_to("acme.com", nine))
                .expect("free")
                .identity
        })
        .collect();

    assert_eq!(order, [id(1), id(2), id(3), id(1), id(2), id(3)]);
}

#[test]
fn rotation_prefers_least_loaded_today() {
    // Identity 1 sent twice today and identity 2 five times yesterday. Only
    // today's load counts, so identity 2 goes first.
    let recorded = [
        (1, "2024-06-12T01:00:00Z", 2),
        (2, "2024-06-11T12:00:00Z", 5),
    ]
    .iter()
    .flat_map(|&(number, at, count)| {
        (0..count).map(move |_| RecordedSend {
            identity: id(number),
            recipient_domain: None,
            at: utc(at),
        })
    })
    .collect::<Vec<_>>();
    let phones = vec![identity(1, Channel::Sms), identity(2, Channel::Sms)];
    let mut allocator =
        Allocator::new(ThrottleSettings::default(), phones, &recorded).expect("distinct ids");
    let nine = utc("2024-06-12T09:00:00Z");

    let order: Vec<_> = (0..4)
        .map(|_| allocator.place(&sms_at(nine)).expect("free").identity)
        .collect();

    assert_eq!(order, [id(2), id(2), id(1), id(2)]);
}

#[test]
fn earlier_fit_beats_lower_load() {
    // Identity 1 is full this hour, so identity 2 wins although it is busier today.
    let mut busy = identity(2, Channel::Sms);
    busy.hourly_cap = Some(10);
    let mut full = identity(1, Channel::Sms);
    full.hourly_cap = Some(1);
    let recorded: Vec<_> = std::iter::once(RecordedSend {
        identity: id(1),
        recipient_domain: None,
        at: utc("2024-06-12T09:05:00Z"),
    })
    .chain((0..5).map(|_| RecordedSend {
        identity: id(2),
        recipient_domain: None,
        at: utc("2024-06-12T03:00:00Z"),
    }))
    .collect();
    let mut allocator = Allocator::new(ThrottleSettings::default(), vec![full, busy], &recorded)
        .expect("distinct ids");

    let placement = allocator
        .place(&sms_at(utc("2024-06-12T09:30:00Z")))
        .expect("free");

    assert_eq!(placement.identity, id(2));
    assert_eq!(placement.at, utc("2024-06-12T09:30:00Z"));
}

#[test]
fn paused_identity_skipped() {
    let mut paused = identity(1, Channel::Email);
    paused.paused = true;
    let mut allocator = allocator(vec![paused, identity(2, Channel::Email)]);
    let nine = utc("2024-06-12T09:00:00Z");

    let placements = place_copies(&mut allocator, &email_to("acme.com", nine), 20);

    assert_eq!(count_by(&placements, id(2)), 20);
}

#[test]
fn placements_are_deterministic() {
    let first = thousand_emails(&mut allocator(three_mailboxes(Some(70), Some(200))));
    let second = thousand_emails(&mut allocator(three_mailboxes(Some(70), Some(200))));

    assert_eq!(first, second);
}
