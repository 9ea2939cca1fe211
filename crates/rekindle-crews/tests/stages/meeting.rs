//! The revenue crew's meeting times and the reply that proposes them.

use chrono::{DateTime, Datelike, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use rekindle_crews::SenderIdentity;
use rekindle_crews::revenue::{
    BusyInterval, MeetingReplyInput, RevenueError, SlotRequest, SlotSettings, WorkingHours,
    draft_meeting_reply, is_positive, propose_slots,
};
use rekindle_crews::text::char_count;
use rekindle_crews::writer::TEXT_BODY_MAX_CHARS;
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Channel, LeadId, MeetingStatus, ReplyId, ReplyLabel, Tone};
use uuid::Uuid;

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant is RFC 3339")
        .with_timezone(&Utc)
}

fn time(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).expect("valid time")
}

fn zone(name: &str) -> Tz {
    name.parse().expect("valid zone")
}

/// Builds a request for a user working 09:00 to 17:00, Monday to Friday,
/// in `user_zone`.
fn slot_request(user_zone: &str, lead_zone: Option<&str>, now: &str) -> SlotRequest {
    SlotRequest {
        working_hours: WorkingHours {
            time_zone: zone(user_zone),
            weekdays: WEEKDAYS.to_vec(),
            start: time(9, 0),
            end: time(17, 0),
        },
        busy: Vec::new(),
        lead_time_zone: lead_zone.map(str::to_owned),
        now: at(now),
        settings: SlotSettings::default(),
    }
}

fn starts(request: &SlotRequest) -> Vec<DateTime<Utc>> {
    propose_slots(request)
        .expect("slots are found")
        .iter()
        .map(|slot| slot.starts_at)
        .collect()
}

#[test]
fn slots_across_us_dst_change() {
    // London user, New York lead. The US moves to EDT on Sunday 8 March 2026
    // and the UK stays on GMT until 29 March, so the gap between the two
    // shrinks from 5 to 4 hours over the weekend. 08:00 for the lead is
    // 13:00 UTC on Friday and 12:00 UTC from Monday.
    let request = slot_request(
        "Europe/London",
        Some("America/New_York"),
        "2026-03-05T12:00:00Z",
    );
    let slots = propose_slots(&request).unwrap();

    let starts: Vec<DateTime<Utc>> = slots.iter().map(|slot| slot.starts_at).collect();
    assert_eq!(
        starts,
        [
            at("2026-03-06T13:00:00Z"),
            at("2026-03-09T12:00:00Z"),
            at("2026-03-10T12:00:00Z"),
        ]
    );
    let local: Vec<String> = slots
        .iter()
        .map(|slot| slot.lead_local_start.to_rfc3339())
        .collect();
    assert_eq!(
        local,
        [
            "2026-03-06T08:00:00-05:00",
            "2026-03-09T08:00:00-04:00",
            "2026-03-10T08:00:00-04:00",
        ]
    );
    assert!(
        slots
            .iter()
            .all(|slot| slot.lead_time_zone == "America/New_York")
    );
    assert!(
        slots
            .iter()
            .all(|slot| slot.ends_at - slot.starts_at == TimeDelta::minutes(30))
    );
}

#[test]
fn slots_across_user_dst_change() {
    // The UK moves to BST on Sunday 29 March 2026: 09:00 in London is 09:00
    // UTC on Friday and 08:00 UTC on Monday.
    let mut request = slot_request("Europe/London", None, "2026-03-27T10:00:00Z");
    request.settings.min_notice = TimeDelta::hours(2);
    let slots = propose_slots(&request).unwrap();

    let starts: Vec<DateTime<Utc>> = slots.iter().map(|slot| slot.starts_at).collect();
    assert_eq!(
        starts,
        [
            at("2026-03-27T12:00:00Z"),
            at("2026-03-30T08:00:00Z"),
            at("2026-03-31T08:00:00Z"),
        ]
    );
    assert_eq!(
        slots[1].lead_local_start.to_rfc3339(),
        "2026-03-30T09:00:00+01:00"
    );
    assert_eq!(slots[1].lead_time_zone, "Europe/London");
}

#[test]
fn slots_skip_weekend() {
    // Friday 13 March 2026 at 16:00 in Berlin with 4 hours' notice: nothing
    // is left on Friday, and the weekend is not worked.
    let mut request = slot_request(
        "Europe/Berlin",
        Some("Europe/Berlin"),
        "2026-03-13T15:00:00Z",
    );
    request.settings.min_notice = TimeDelta::hours(4);
    let slots = propose_slots(&request).unwrap();

    let weekdays: Vec<Weekday> = slots
        .iter()
        .map(|slot| slot.lead_local_start.weekday())
        .collect();
    assert_eq!(weekdays, [Weekday::Mon, Weekday::Tue, Weekday::Wed]);
    assert_eq!(
        slots[0].lead_local_start.to_rfc3339(),
        "2026-03-16T09:00:00+01:00"
    );
}

#[test]
fn slots_never_in_past() {
    let mut request = slot_request("Europe/London", None, "2026-03-11T10:10:00Z");
    request.settings.min_notice = TimeDelta::zero();

    let starts = starts(&request);

    assert_eq!(
        starts,
        [
            at("2026-03-11T10:30:00Z"),
            at("2026-03-12T09:00:00Z"),
            at("2026-03-13T09:00:00Z"),
        ]
    );
}

#[test]
fn slots_respect_minimum_notice() {
    let mut request = slot_request("Europe/London", None, "2026-03-11T10:10:00Z");
    request.settings.min_notice = TimeDelta::hours(3);

    let starts = starts(&request);

    assert_eq!(starts[0], at("2026-03-11T13:30:00Z"));
    assert!(
        starts
            .iter()
            .all(|start| *start >= request.now + TimeDelta::hours(3))
    );
}

#[test]
fn slots_avoid_busy_intervals() {
    let mut request = slot_request("Europe/London", None, "2026-03-11T10:10:00Z");
    request.settings.min_notice = TimeDelta::zero();
    request.busy = vec![
        BusyInterval {
            start: at("2026-03-11T10:00:00Z"),
            end: at("2026-03-11T12:00:00Z"),
        },
        BusyInterval {
            start: at("2026-03-12T09:00:00Z"),
            end: at("2026-03-12T09:45:00Z"),
        },
    ];

    let starts = starts(&request);

    assert_eq!(
        starts,
        [
            at("2026-03-11T12:00:00Z"),
            at("2026-03-12T10:00:00Z"),
            at("2026-03-13T09:00:00Z"),
        ]
    );
}

#[test]
fn one_working_day_gives_spaced_slots() {
    let mut request = slot_request("Europe/London", None, "2026-03-10T12:00:00Z");
    request.working_hours.weekdays = vec![Weekday::Wed];
    request.settings.min_notice = TimeDelta::zero();
    request.settings.horizon_days = 6;

    let starts = starts(&request);

    assert_eq!(
        starts,
        [
            at("2026-03-11T09:00:00Z"),
            at("2026-03-11T11:00:00Z"),
            at("2026-03-11T13:00:00Z"),
        ]
    );
}

#[test]
fn slots_stay_inside_working_hours() {
    let base = at("2026-03-02T06:00:00Z");
    for hours_later in (0..24 * 14).step_by(5) {
        let now = base + TimeDelta::hours(hours_later);
        let mut request = slot_request(
            "America/New_York",
            Some("America/Chicago"),
            "2026-03-02T06:00:00Z",
        );
        request.now = now;
        request.settings.min_notice = TimeDelta::hours(1);

        for slot in propose_slots(&request).unwrap() {
            let start = slot
                .starts_at
                .with_timezone(&request.working_hours.time_zone);
            let end = slot.ends_at.with_timezone(&request.working_hours.time_zone);
            assert!(WEEKDAYS.contains(&start.weekday()), "{slot:?}");
            assert!(start.time() >= time(9, 0), "{slot:?}");
            assert!(end.time() <= time(17, 0), "{slot:?}");
            assert_eq!(start.date_naive(), end.date_naive(), "{slot:?}");
            assert!(slot.starts_at >= now + TimeDelta::hours(1), "{slot:?}");
        }
    }
}

#[test]
fn lead_without_overlap_gets_no_slot() {
    // 09:00 to 17:00 in London is 20:00 to 04:00 in Sydney in March, all
    // outside the lead's default day of 08:00 to 19:00.
    let request = slot_request(
        "Europe/London",
        Some("Australia/Sydney"),
        "2026-03-05T12:00:00Z",
    );

    assert_eq!(
        propose_slots(&request),
        Err(RevenueError::NoFreeSlot { horizon_days: 14 })
    );
}

#[test]
fn invalid_slot_requests_are_rejected() {
    let valid = slot_request("Europe/London", None, "2026-03-05T12:00:00Z");
    let mut cases: Vec<(SlotRequest, RevenueError)> = Vec::new();

    let mut request = valid.clone();
    request.working_hours.weekdays.clear();
    cases.push((request, RevenueError::NoWorkingDays));

    let mut request = valid.clone();
    request.working_hours.end = time(9, 0);
    cases.push((
        request,
        RevenueError::WorkingHours {
            start: time(9, 0),
            end: time(9, 0),
        },
    ));

    let mut request = valid.clone();
    request.settings.duration = TimeDelta::minutes(0);
    cases.push((request, RevenueError::Duration { minutes: 0 }));

    let mut request = valid.clone();
    request.settings.count = 0;
    cases.push((request, RevenueError::SlotCount(0)));

    let mut request = valid.clone();
    request.settings.horizon_days = 61;
    cases.push((request, RevenueError::Horizon(61)));

    let mut request = valid.clone();
    request.busy = vec![BusyInterval {
        start: at("2026-03-06T12:00:00Z"),
        end: at("2026-03-06T11:00:00Z"),
    }];
    cases.push((request, RevenueError::BusyInterval { index: 0 }));

    for (request, expected) in cases {
        assert_eq!(propose_slots(&request), Err(expected.clone()), "{expected}");
    }
}

fn reply_input(label: ReplyLabel, channel: Channel) -> MeetingReplyInput {
    MeetingReplyInput {
        lead_id: LeadId::from(Uuid::from_u128(1)),
        reply_id: ReplyId::from(Uuid::from_u128(2)),
        reply_label: label,
        channel,
        lead: LeadFields {
            first_name: Some("Anna".into()),
            company: Some("Acme Ltd".into()),
            ..LeadFields::default()
        },
        sender: SenderIdentity {
            name: "Sam Carter".into(),
            company: "Brightpath Analytics".into(),
            postal_address: "1 Market Street, London".into(),
        },
        tone: Tone::Friendly,
        reply_subject: Some("Re: Picking up our conversation where we left off".into()),
        slots: slot_request(
            "Europe/London",
            Some("America/New_York"),
            "2026-03-05T12:00:00Z",
        ),
    }
}

#[test]
fn email_reply_lists_lead_local_times() {
    let reply =
        draft_meeting_reply(&reply_input(ReplyLabel::MeetingRequest, Channel::Email)).unwrap();
    let body = &reply.draft.body;

    assert!(body.starts_with("Hi Anna,"), "{body}");
    for line in [
        "- Friday 6 March at 08:00 EST",
        "- Monday 9 March at 08:00 EDT",
        "- Tuesday 10 March at 08:00 EDT",
    ] {
        assert!(body.contains(line), "{line:?} missing from:\n{body}");
    }
    assert!(body.contains("30-minute call"), "{body}");
    assert!(body.contains("America/New_York"), "{body}");
    assert!(body.ends_with("Sam Carter\nBrightpath Analytics"), "{body}");
    assert_eq!(
        reply.draft.subject.as_deref(),
        Some("Re: Picking up our conversation where we left off")
    );
}

#[test]
fn meeting_record_is_proposed() {
    let input = reply_input(ReplyLabel::Interested, Channel::Email);
    let reply = draft_meeting_reply(&input).unwrap();
    let meeting = &reply.meeting;

    assert_eq!(meeting.status, MeetingStatus::Proposed);
    assert_eq!(meeting.lead_id, input.lead_id);
    assert_eq!(meeting.reply_id, input.reply_id);
    assert_eq!(meeting.duration_minutes, 30);
    assert_eq!(meeting.starts_at, None);
    assert_eq!(meeting.created_at, input.slots.now);
    assert_eq!(meeting.proposed_slots, propose_slots(&input.slots).unwrap());
}

#[test]
fn subject_gets_one_reply_prefix() {
    let mut input = reply_input(ReplyLabel::Interested, Channel::Email);
    input.reply_subject = Some("Your note about Acme".into());
    let reply = draft_meeting_reply(&input).unwrap();
    assert_eq!(
        reply.draft.subject.as_deref(),
        Some("Re: Your note about Acme")
    );

    input.reply_subject = None;
    let reply = draft_meeting_reply(&input).unwrap();
    assert_eq!(
        reply.draft.subject.as_deref(),
        Some("A few times for a short call")
    );
}

#[test]
fn text_reply_fits_and_lists_times() {
    let reply =
        draft_meeting_reply(&reply_input(ReplyLabel::MeetingRequest, Channel::Sms)).unwrap();
    let body = &reply.draft.body;

    assert_eq!(reply.draft.subject, None);
    assert!(char_count(body) <= TEXT_BODY_MAX_CHARS, "{body}");
    assert!(
        body.contains("Fri 6 Mar 08:00 EST, Mon 9 Mar 08:00 EDT or Tue 10 Mar 08:00 EDT"),
        "{body}"
    );
    assert!(body.ends_with("Sam Carter, Brightpath Analytics"), "{body}");
}

#[test]
fn only_positive_replies_get_times() {
    for label in ReplyLabel::ALL {
        let result = draft_meeting_reply(&reply_input(*label, Channel::Email));
        if is_positive(*label) {
            assert!(result.is_ok(), "{label}");
        } else {
            assert_eq!(result, Err(RevenueError::NotPositive(*label)));
        }
    }
}
