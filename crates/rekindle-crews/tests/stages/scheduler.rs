//! Scheduler stage: step delays and windows across DST changes, staggering,
//! quiet hours for text messages and the time-zone fallback.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rekindle_crews::{ScheduleInput, Scheduler, plan_send, run_stage};
use rekindle_domain::campaign::SendingWindow;
use rekindle_domain::scheduling::ZoneSource;
use rekindle_domain::{Channel, ErrorClass};

use crate::common::{every_day_window, lead_id};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

fn input(zone: &str, not_before: &str, delay_days: u32) -> ScheduleInput {
    ScheduleInput {
        lead_id: lead_id(1),
        channel: Channel::Email,
        lead_time_zone: Some(zone.into()),
        account_zone: chrono_tz::Europe::London,
        window: SendingWindow::default(),
        delay_from: utc(not_before),
        not_before: utc(not_before),
        delay_days,
        send_index: 0,
        spacing: Duration::from_secs(120),
    }
}

fn send_at(input: &ScheduleInput) -> DateTime<Utc> {
    plan_send(input).expect("a slot exists").send_at
}

#[test]
fn london_delay_over_spring_change() {
    // Friday 10:00 GMT plus 3 days is Monday 10:00 BST (09:00 UTC).
    let planned = plan_send(&input("Europe/London", "2024-03-29T10:00:00Z", 3)).unwrap();
    assert_eq!(planned.send_at, utc("2024-04-01T09:00:00Z"));
    assert_eq!(planned.local_time, "2024-04-01T10:00:00+01:00");
    assert_eq!(planned.time_zone, "Europe/London");
    assert_eq!(planned.zone_source, ZoneSource::Lead);
}

#[test]
fn london_delay_over_autumn_change() {
    // Friday 10:00 BST plus 3 days is Monday 10:00 GMT.
    assert_eq!(
        send_at(&input("Europe/London", "2024-10-25T09:00:00Z", 3)),
        utc("2024-10-28T10:00:00Z")
    );
}

#[test]
fn new_york_delay_over_spring_change() {
    // Friday 09:30 EST plus 3 days is Monday 09:30 EDT.
    assert_eq!(
        send_at(&input("America/New_York", "2024-03-08T14:30:00Z", 3)),
        utc("2024-03-11T13:30:00Z")
    );
}

#[test]
fn new_york_delay_over_autumn_change() {
    // Friday 10:00 EDT plus 3 days is Monday 10:00 EST.
    assert_eq!(
        send_at(&input("America/New_York", "2024-11-01T14:00:00Z", 3)),
        utc("2024-11-04T15:00:00Z")
    );
}

#[test]
fn new_york_spring_day_window_fills() {
    // On 2024-03-10 a 01:00 to 04:00 window lasts 2 hours (02:00 to 03:00 does
    // not exist), so the third hourly send rolls into Monday 01:00 EDT.
    let mut base = input("America/New_York", "2024-03-10T05:00:00Z", 0);
    base.window = every_day_window(1, 4);
    base.spacing = Duration::from_secs(3_600);
    let at = |index| {
        let mut input = base.clone();
        input.send_index = index;
        send_at(&input)
    };
    assert_eq!(at(0), utc("2024-03-10T06:00:00Z"));
    assert_eq!(at(1), utc("2024-03-10T07:00:00Z"));
    assert_eq!(at(2), utc("2024-03-11T05:00:00Z"));
}

#[test]
fn london_autumn_day_window_grows() {
    // On 2024-10-27 a 01:00 to 03:00 window opens at the first 01:00 (BST) and
    // closes at 03:00 GMT: three hours, so three hourly sends fit.
    let mut base = input("Europe/London", "2024-10-26T23:30:00Z", 0);
    base.window = every_day_window(1, 3);
    base.spacing = Duration::from_secs(3_600);
    let at = |index| {
        let mut input = base.clone();
        input.send_index = index;
        send_at(&input)
    };
    assert_eq!(at(0), utc("2024-10-27T00:00:00Z"));
    assert_eq!(at(2), utc("2024-10-27T02:00:00Z"));
    assert_eq!(at(3), utc("2024-10-28T01:00:00Z"));
}

#[test]
fn overdue_step_waits_for_now() {
    // The previous send was 10 days ago and the delay is 3 days, so the step is
    // due already: it goes at the next slot after now, not in the past.
    let mut input = input("Europe/London", "2024-06-02T10:00:00Z", 3);
    input.not_before = utc("2024-06-12T10:00:00Z");
    assert_eq!(send_at(&input), utc("2024-06-12T10:00:00Z"));

    input.delay_days = 14;
    assert_eq!(
        send_at(&input),
        utc("2024-06-17T08:00:00Z"),
        "due Sunday 11:00, sent Monday 09:00"
    );
}

#[test]
fn sends_are_staggered() {
    let mut input = input("Europe/London", "2024-06-12T08:00:00Z", 0);
    input.send_index = 3;
    assert_eq!(send_at(&input), utc("2024-06-12T08:06:00Z"));
}

#[test]
fn text_window_avoids_quiet_hours() {
    let mut input = input("Europe/London", "2024-06-12T05:00:00Z", 0);
    input.window = every_day_window(6, 23);
    assert_eq!(
        send_at(&input),
        utc("2024-06-12T05:00:00Z"),
        "email may go at 06:00 local"
    );

    input.channel = Channel::Sms;
    assert_eq!(
        send_at(&input),
        utc("2024-06-12T07:00:00Z"),
        "SMS waits for 08:00 local"
    );

    input.delay_from = utc("2024-06-12T19:59:00Z");
    input.not_before = utc("2024-06-12T19:59:00Z");
    input.send_index = 1;
    assert_eq!(
        send_at(&input),
        utc("2024-06-13T07:01:00Z"),
        "the 21:00 end rolls to the next morning"
    );
}

#[test]
fn text_window_entirely_quiet() {
    let mut input = input("Europe/London", "2024-06-12T05:00:00Z", 0);
    input.window = every_day_window(21, 24);
    input.channel = Channel::Whatsapp;
    let error = plan_send(&input).unwrap_err();
    assert_eq!(error.class, ErrorClass::InvalidInput);
    assert!(error.message.contains("quiet hours"), "{error}");
}

#[test]
fn invalid_zone_falls_back_to_account() {
    for zone in ["Mars/Olympus", ""] {
        let mut input = input(zone, "2024-06-12T05:00:00Z", 0);
        input.account_zone = Tz::America__New_York;
        let planned = plan_send(&input).unwrap();
        assert_eq!(planned.zone_source, ZoneSource::Account);
        assert_eq!(planned.time_zone, "America/New_York");
        assert_eq!(planned.send_at, utc("2024-06-12T13:00:00Z"));
    }
}

#[test]
fn invalid_window_is_invalid_input() {
    let mut input = input("Europe/London", "2024-06-12T05:00:00Z", 0);
    input.window.weekdays.clear();
    assert_eq!(
        plan_send(&input).unwrap_err().class,
        ErrorClass::InvalidInput
    );
}

#[tokio::test]
async fn stage_records_plan() {
    let (result, record) = run_stage(
        &Scheduler,
        input("Asia/Tokyo", "2024-06-12T05:00:00Z", 1),
        Duration::from_secs(1),
    )
    .await;
    let planned = result.expect("planned");
    assert_eq!(planned.local_time, "2024-06-13T14:00:00+09:00");
    assert_eq!(record.stage, "scheduler");
    assert_eq!(record.output["time_zone"], "Asia/Tokyo");
}
