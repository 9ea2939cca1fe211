//! Parsing of SendGrid Event Webhook batches.

use rekindle_domain::MessageId;
use rekindle_webhooks::ParseError;
use rekindle_webhooks::sendgrid::{BounceType, SendgridEventKind, parse_events};
use serde_json::{Value, json};

fn event(kind: &str, index: usize) -> Value {
    json!({
        "email": format!("lead{index}@example.com"),
        "timestamp": 1_700_000_000 + index as i64,
        "smtp-id": format!("<{index}.abc@ismtpd0001p1lon1.sendgrid.net>"),
        "event": kind,
        "category": ["reactivation"],
        "sg_event_id": format!("ZXZlbnQ{index}"),
        "sg_message_id": format!("msg{index}.filter0001.16648.5515E0B88.0"),
    })
}

fn to_body(events: &[Value]) -> Vec<u8> {
    serde_json::to_vec(events).expect("serialise events")
}

#[test]
fn every_modelled_kind_parses() {
    let message_id = MessageId::new();
    let mut events = vec![
        event("processed", 0),
        event("delivered", 1),
        event("deferred", 2),
        event("open", 3),
        event("click", 4),
        event("bounce", 5),
        event("dropped", 6),
        event("spamreport", 7),
        event("unsubscribe", 8),
        event("group_unsubscribe", 9),
    ];
    events[1]["response"] = json!("250 2.0.0 OK 1700000001");
    events[1]["rekindle_message_id"] = json!(message_id.to_string());
    events[4]["url"] = json!("https://example.com/pricing?utm_source=rekindle");
    events[5]["type"] = json!("blocked");
    events[5]["bounce_classification"] = json!("Reputation");
    events[5]["reason"] = json!("550 5.7.1 Message rejected due to local policy");
    events[5]["status"] = json!("5.7.1");
    events[6]["reason"] = json!("Bounced Address");
    events[9]["asm_group_id"] = json!(42);

    let batch = parse_events(&to_body(&events), 1000).expect("valid batch");

    assert!(batch.malformed.is_empty(), "{:?}", batch.malformed);
    let kinds: Vec<_> = batch
        .events
        .iter()
        .map(|event| event.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            SendgridEventKind::Processed,
            SendgridEventKind::Delivered,
            SendgridEventKind::Deferred,
            SendgridEventKind::Open,
            SendgridEventKind::Click,
            SendgridEventKind::Bounce {
                bounce_type: Some(BounceType::Blocked),
                classification: Some("Reputation".to_owned()),
            },
            SendgridEventKind::Dropped,
            SendgridEventKind::SpamReport,
            SendgridEventKind::Unsubscribe,
            SendgridEventKind::GroupUnsubscribe,
        ]
    );

    let delivered = &batch.events[1];
    assert_eq!(delivered.email, "lead1@example.com");
    assert_eq!(delivered.timestamp, 1_700_000_001);
    assert_eq!(delivered.sg_event_id, "ZXZlbnQ1");
    assert_eq!(
        delivered.sg_message_id.as_deref(),
        Some("msg1.filter0001.16648.5515E0B88.0")
    );
    assert_eq!(delivered.rekindle_message_id, Some(message_id));
    assert_eq!(
        delivered.response.as_deref(),
        Some("250 2.0.0 OK 1700000001")
    );

    assert_eq!(
        batch.events[4].url.as_deref(),
        Some("https://example.com/pricing?utm_source=rekindle")
    );
    assert_eq!(batch.events[5].status.as_deref(), Some("5.7.1"));
    assert_eq!(
        batch.events[5].reason.as_deref(),
        Some("550 5.7.1 Message rejected due to local policy")
    );
    assert_eq!(batch.events[6].reason.as_deref(), Some("Bounced Address"));
    assert_eq!(batch.events[9].asm_group_id, Some(42));
    assert_eq!(batch.events[0].rekindle_message_id, None);
}

#[test]
fn hard_bounce_and_missing_type() {
    let mut hard = event("bounce", 0);
    hard["type"] = json!("bounce");
    hard["bounce_classification"] = json!("Invalid Address");
    let untyped = event("bounce", 1);
    let mut unknown = event("bounce", 2);
    unknown["type"] = json!("soft");

    let batch = parse_events(&to_body(&[hard, untyped, unknown]), 10).expect("valid batch");

    assert_eq!(
        batch.events[0].kind,
        SendgridEventKind::Bounce {
            bounce_type: Some(BounceType::Bounce),
            classification: Some("Invalid Address".to_owned()),
        }
    );
    assert_eq!(
        batch.events[1].kind,
        SendgridEventKind::Bounce {
            bounce_type: None,
            classification: None,
        }
    );
    assert_eq!(
        batch.events[2].kind,
        SendgridEventKind::Bounce {
            bounce_type: Some(BounceType::Other("soft".to_owned())),
            classification: None,
        }
    );
}

#[test]
fn thousand_events_parse_in_order() {
    let kinds = ["processed", "delivered", "open", "click", "bounce"];
    let events: Vec<Value> = (0..1000)
        .map(|index| event(kinds[index % kinds.len()], index))
        .collect();

    let batch = parse_events(&to_body(&events), 1000).expect("valid batch");

    assert_eq!(batch.events.len(), 1000);
    assert!(batch.malformed.is_empty());
    for (index, parsed) in batch.events.iter().enumerate() {
        assert_eq!(parsed.email, format!("lead{index}@example.com"));
        assert_eq!(
            parsed.kind.name(),
            kinds[index % kinds.len()],
            "event {index}"
        );
    }
}

#[test]
fn batch_over_maximum_is_rejected() {
    let events: Vec<Value> = (0..1000).map(|index| event("delivered", index)).collect();

    let error = parse_events(&to_body(&events), 999).expect_err("too many");

    assert_eq!(
        error,
        ParseError::TooManyEvents {
            count: 1000,
            max: 999
        }
    );
    assert_eq!(error.code(), "too_many_events");
}

#[test]
fn empty_batch_is_empty() {
    let batch = parse_events(b"[]", 1000).expect("valid batch");

    assert!(batch.events.is_empty());
    assert!(batch.malformed.is_empty());
}

#[test]
fn unknown_kinds_are_kept() {
    let events = [
        event("delivered", 0),
        event("group_resubscribe", 1),
        event("machine_learning_open", 2),
    ];

    let batch = parse_events(&to_body(&events), 10).expect("valid batch");

    assert!(batch.malformed.is_empty());
    assert_eq!(
        batch.events[1].kind,
        SendgridEventKind::Other("group_resubscribe".to_owned())
    );
    assert_eq!(
        batch.events[2].kind,
        SendgridEventKind::Other("machine_learning_open".to_owned())
    );
}

#[test]
fn malformed_events_reported_by_index() {
    let mut missing_email = event("delivered", 1);
    missing_email
        .as_object_mut()
        .expect("object")
        .remove("email");
    let mut text_timestamp = event("open", 3);
    text_timestamp["timestamp"] = json!("yesterday");
    let mut bad_message_id = event("click", 4);
    bad_message_id["rekindle_message_id"] = json!("not-a-uuid");
    let events = [
        event("processed", 0),
        missing_email,
        json!("not an object"),
        text_timestamp,
        bad_message_id,
        event("delivered", 5),
    ];

    let batch = parse_events(&to_body(&events), 10).expect("the batch itself is valid");

    let indexes: Vec<usize> = batch.malformed.iter().map(|bad| bad.index).collect();
    assert_eq!(indexes, vec![1, 2, 3, 4]);
    assert!(
        batch.malformed[0].reason.contains("email"),
        "{}",
        batch.malformed[0].reason
    );
    assert!(
        batch.malformed[2].reason.contains("invalid type"),
        "{}",
        batch.malformed[2].reason
    );
    assert!(
        batch.malformed[3].reason.contains("rekindle_message_id"),
        "{}",
        batch.malformed[3].reason
    );

    let kept: Vec<&str> = batch
        .events
        .iter()
        .map(|event| event.email.as_str())
        .collect();
    assert_eq!(kept, vec!["lead0@example.com", "lead5@example.com"]);
}

#[test]
fn body_that_is_not_an_array_fails() {
    let object = parse_events(br#"{"event":"delivered"}"#, 10).expect_err("not an array");
    assert_eq!(object.code(), "invalid_json");

    let truncated = parse_events(br#"[{"event":"delivered"}"#, 10).expect_err("truncated");
    assert_eq!(truncated.code(), "invalid_json");

    let trailing = parse_events(b"[] []", 10).expect_err("trailing data");
    assert_eq!(trailing.code(), "invalid_json");
}
