//! Twilio status callbacks through the endpoint: applied at once, once each,
//! and a later callback of another segment never erases a failure.

use rekindle_store_conformance::Harness;
use serde_json::Value;

use crate::on_both_backends;
use crate::support::{
    SHARED_NUMBER, TWILIO_SID, TWILIO_STATUS_URL, id, message_status, post_twilio, scalar,
    sent_messages, start, text,
};

on_both_backends!(status_callbacks_keep_failures => status_callbacks_keep_failures);

async fn callback(
    server: &crate::common::TestServer,
    message: &Value,
    status: &str,
    error_code: Option<&str>,
) -> Value {
    let sid = message["provider_message_id"].as_str().unwrap();
    let to = message["to_address"].as_str().unwrap();
    let mut params = vec![
        ("MessageSid", sid),
        ("AccountSid", TWILIO_SID),
        ("MessageStatus", status),
        ("From", SHARED_NUMBER),
        ("To", to),
        ("ApiVersion", "2010-04-01"),
    ];
    if let Some(code) = error_code {
        params.push(("ErrorCode", code));
    }
    let response = post_twilio(
        server,
        "/webhooks/twilio/status",
        TWILIO_STATUS_URL,
        &params,
    )
    .await;
    assert_eq!(response.status(), 200, "{status}");
    response.json().await.unwrap()
}

async fn status_callbacks_keep_failures(harness: &Harness) {
    let server = start(harness).await;
    let owner = server.signup("Texters").await;
    let messages = sent_messages(&server, &owner, "sms", 2, true).await;
    let (first, second) = (&messages[0], &messages[1]);
    let first_id = first["id"].as_str().unwrap();

    assert_eq!(
        callback(&server, first, "sent", None).await["status"],
        "applied"
    );
    let failed = callback(&server, first, "undelivered", Some("30003")).await;
    assert_eq!(failed["status"], "applied");
    assert_eq!(message_status(harness, first_id).await, "bounced");

    // Another segment of the same message reports delivered afterwards.
    callback(&server, first, "delivered", None).await;
    assert_eq!(message_status(harness, first_id).await, "bounced");
    let error = text(
        harness,
        &format!(
            "SELECT error FROM messages WHERE id = {}",
            id(harness, first_id)
        ),
    )
    .await
    .unwrap();
    assert!(error.contains("30003"), "{error}");

    let again = callback(&server, first, "undelivered", Some("30003")).await;
    assert_eq!(again["status"], "duplicate");
    let history = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM message_events WHERE message_id = {}",
            id(harness, first_id)
        ),
    )
    .await;
    assert_eq!(
        history, 3,
        "sent, failed, delivered: the repeated failure is not stored again"
    );

    // Error 21610: the recipient had replied STOP, so the number is suppressed.
    callback(&server, second, "failed", Some("21610")).await;
    let phone = second["to_address"].as_str().unwrap();
    let suppressed = scalar(
        harness,
        &format!("SELECT count(*) FROM suppressions WHERE kind = 'phone' AND value = '{phone}'"),
    )
    .await;
    assert_eq!(suppressed, 1);

    // A callback about a message no account has is acknowledged and counted once.
    let mut unknown = first.clone();
    unknown["provider_message_id"] = Value::from("SM00000000000000000000000000000000");
    assert_eq!(
        callback(&server, &unknown, "delivered", None).await["status"],
        "unmatched"
    );
}
