//! SendGrid event batches through the endpoint: stored at once, applied by
//! the job, each event once whatever the order and however often it comes.

use chrono::Utc;
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

use crate::common::expect_problem;
use crate::on_both_backends;
use crate::support::{
    app_settings, configured, id, message_status, post_sendgrid, scalar, sendgrid_event,
    sent_messages, sent_messages_with_follow_up, start, start_with, text,
};

on_both_backends!(
    events_applied_once_in_any_order => events_applied_once_in_any_order,
    opt_outs_suppress_the_lead => opt_outs_suppress_the_lead,
    thousand_event_batch => thousand_event_batch,
);

fn message_id(message: &Value) -> String {
    message["id"].as_str().unwrap().to_owned()
}

async fn post_and_apply(server: &crate::common::TestServer, events: Value) {
    let count = events.as_array().unwrap().len();
    let response = post_sendgrid(server, &events).await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "accepted");
    assert_eq!(body["events"], count);
    server.run_jobs().await;
}

async fn engagement(harness: &Harness, message: &str, column: &str) -> i64 {
    let sql = format!(
        "SELECT CAST({column} AS BIGINT) FROM message_engagement WHERE message_id = {}",
        id(harness, message)
    );
    scalar(harness, &sql).await
}

async fn history(harness: &Harness, message: &str) -> i64 {
    let sql = format!(
        "SELECT count(*) FROM message_events WHERE message_id = {}",
        id(harness, message)
    );
    scalar(harness, &sql).await
}

async fn events_applied_once_in_any_order(harness: &Harness) {
    let server = start(harness).await;
    let owner = server.signup("Eventful").await;
    let messages = sent_messages_with_follow_up(&server, &owner, 2).await;
    let (first, second) = (message_id(&messages[0]), message_id(&messages[1]));
    let t0 = Utc::now().timestamp();

    // Out of order: the open comes before the delivery and the processing.
    let batch = json!([
        sendgrid_event("open", &first, t0 + 600, "ev-open"),
        sendgrid_event("delivered", &first, t0 + 5, "ev-delivered"),
        sendgrid_event("processed", &first, t0 + 1, "ev-processed"),
    ]);
    let response = post_sendgrid(&server, &batch).await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        message_status(harness, &first).await,
        "sent",
        "the endpoint stores the batch; the job applies it"
    );
    server.run_jobs().await;
    assert_eq!(message_status(harness, &first).await, "opened");
    assert_eq!(history(harness, &first).await, 3);
    assert_eq!(engagement(harness, &first, "opens").await, 1);

    // Redelivered: the same delivery, the same open under a new id, and a click.
    post_and_apply(
        &server,
        json!([
            sendgrid_event("delivered", &first, t0 + 5, "ev-delivered"),
            sendgrid_event("open", &first, t0 + 600, "ev-open-renamed"),
            sendgrid_event("click", &first, t0 + 700, "ev-click"),
            sendgrid_event("click", &first, t0 + 700, "ev-click"),
        ]),
    )
    .await;
    assert_eq!(message_status(harness, &first).await, "clicked");
    assert_eq!(history(harness, &first).await, 4);
    assert_eq!(engagement(harness, &first, "opens").await, 1);
    assert_eq!(engagement(harness, &first, "clicks").await, 1);

    // A late delivery report never moves the status back.
    post_and_apply(
        &server,
        json!([sendgrid_event("delivered", &first, t0 + 3, "ev-late")]),
    )
    .await;
    assert_eq!(message_status(harness, &first).await, "clicked");

    // A hard bounce, then a delivery report that arrives after it.
    let mut bounce = sendgrid_event("bounce", &second, t0 + 10, "ev-bounce");
    bounce["type"] = json!("bounce");
    bounce["reason"] = json!("550 5.1.1 The email account that you tried to reach does not exist");
    post_and_apply(&server, json!([bounce])).await;
    post_and_apply(
        &server,
        json!([sendgrid_event(
            "delivered",
            &second,
            t0 + 20,
            "ev-delivered-2"
        )]),
    )
    .await;
    assert_eq!(message_status(harness, &second).await, "bounced");
    let error_sql = format!(
        "SELECT error FROM messages WHERE id = {}",
        id(harness, &second)
    );
    let error = text(harness, &error_sql).await.unwrap();
    assert!(error.contains("5.1.1"), "{error}");
    let to = messages[1]["to_address"].as_str().unwrap();
    let suppressed = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM suppressions WHERE value = '{to}' AND reason = 'hard_bounce'"
        ),
    )
    .await;
    assert_eq!(suppressed, 1);
    let stopped = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM enrollments e JOIN messages m ON m.enrollment_id = e.id \
             WHERE m.id = {} AND e.status = 'stopped'",
            id(harness, &second)
        ),
    )
    .await;
    assert_eq!(
        stopped, 1,
        "the bounce stops the sequence before its second step"
    );
    let active = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM enrollments e JOIN messages m ON m.enrollment_id = e.id \
             WHERE m.id = {} AND e.status = 'active'",
            id(harness, &first)
        ),
    )
    .await;
    assert_eq!(active, 1, "engagement events leave the sequence running");

    let receipts = scalar(
        harness,
        "SELECT count(*) FROM webhook_receipts WHERE provider = 'sendgrid'",
    )
    .await;
    assert_eq!(
        receipts, 7,
        "one receipt per distinct event; the renamed open matches the first by its composite key"
    );
    let audited = scalar(
        harness,
        "SELECT count(*) FROM audit_log WHERE action = 'message_events.apply'",
    )
    .await;
    assert!(audited >= 4, "{audited}");
}

async fn opt_outs_suppress_the_lead(harness: &Harness) {
    let server = start(harness).await;
    let owner = server.signup("Unsubscribers").await;
    let messages = sent_messages(&server, &owner, "email", 3, true).await;
    let t0 = Utc::now().timestamp();
    let ids: Vec<String> = messages.iter().map(message_id).collect();

    post_and_apply(
        &server,
        json!([
            sendgrid_event("unsubscribe", &ids[0], t0 + 60, "ev-unsub"),
            sendgrid_event("spamreport", &ids[1], t0 + 60, "ev-spam"),
            sendgrid_event("group_unsubscribe", &ids[2], t0 + 60, "ev-group"),
            sendgrid_event("delivered", &ids[2], t0 + 2, "ev-delivered"),
            sendgrid_event("open", &ids[2], t0 + 4, "ev-machine-open"),
        ]),
    )
    .await;

    for (index, reason) in [
        (0, "unsubscribed"),
        (1, "spam_complaint"),
        (2, "unsubscribed"),
    ] {
        let to = messages[index]["to_address"].as_str().unwrap();
        let found = scalar(
            harness,
            &format!(
                "SELECT count(*) FROM suppressions WHERE value = '{to}' AND reason = '{reason}'"
            ),
        )
        .await;
        assert_eq!(found, 1, "message {index}");
        let lead = messages[index]["lead_id"].as_str().unwrap();
        let status = text(
            harness,
            &format!("SELECT status FROM leads WHERE id = {}", id(harness, lead)),
        )
        .await;
        assert_eq!(
            status.as_deref(),
            Some("suppressed"),
            "lead of message {index}"
        );
    }

    // The open two seconds after delivery is a likely machine open: counted
    // apart, and the message stays delivered.
    assert_eq!(message_status(harness, &ids[2]).await, "delivered");
    assert_eq!(engagement(harness, &ids[2], "machine_opens").await, 1);
    assert_eq!(engagement(harness, &ids[2], "opens").await, 0);
    let audited = scalar(
        harness,
        "SELECT count(*) FROM audit_log WHERE action = 'suppression.add'",
    )
    .await;
    assert_eq!(audited, 3);
}

async fn thousand_event_batch(harness: &Harness) {
    let server = start(harness).await;
    let owner = server.signup("Busy Sender").await;
    let messages = sent_messages(&server, &owner, "email", 3, true).await;
    let ids: Vec<String> = messages.iter().map(message_id).collect();
    let t0 = Utc::now().timestamp();

    let mut events = Vec::new();
    for (index, message) in ids.iter().enumerate() {
        events.push(sendgrid_event(
            "delivered",
            message,
            t0 + 1,
            &format!("ev-d{index}"),
        ));
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    for index in 0..5 {
        events.push(sendgrid_event(
            "open",
            &unknown,
            t0 + 50 + index,
            &format!("ev-u{index}"),
        ));
    }
    let mut opens = [0i64; 3];
    let mut clicks = [0i64; 3];
    while events.len() < 1000 {
        let index = events.len();
        let target = index % 3;
        let kind = if index % 4 == 0 { "click" } else { "open" };
        match kind {
            "click" => clicks[target] += 1,
            _ => opens[target] += 1,
        }
        events.push(sendgrid_event(
            kind,
            &ids[target],
            t0 + 100 + index as i64,
            &format!("ev-{index}"),
        ));
    }
    let batch = Value::Array(events);
    post_and_apply(&server, batch.clone()).await;

    for (index, message) in ids.iter().enumerate() {
        assert_eq!(
            message_status(harness, message).await,
            "clicked",
            "message {index}"
        );
        assert_eq!(
            engagement(harness, message, "opens").await,
            opens[index],
            "message {index}"
        );
        assert_eq!(
            engagement(harness, message, "clicks").await,
            clicks[index],
            "message {index}"
        );
    }
    let stored = scalar(harness, "SELECT count(*) FROM message_events").await;
    assert_eq!(stored, 995, "every event of a known message, once");
    let unmatched = scalar(
        harness,
        "SELECT count(*) FROM webhook_receipts WHERE provider = 'sendgrid' AND account_id IS NULL",
    )
    .await;
    assert_eq!(unmatched, 5);

    // The whole batch again changes nothing.
    post_and_apply(&server, batch).await;
    assert_eq!(
        scalar(harness, "SELECT count(*) FROM message_events").await,
        995
    );
    assert_eq!(engagement(harness, &ids[0], "opens").await, opens[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_over_cap_rejected() {
    let harness = Harness::sqlite().await;
    let mut webhooks = configured();
    webhooks.sendgrid_max_events = 10;
    let server = start_with(&harness, webhooks, app_settings(10)).await;
    let message = uuid::Uuid::now_v7().to_string();
    let events: Vec<Value> = (0..11)
        .map(|index| sendgrid_event("open", &message, 1_750_000_000, &format!("ev-{index}")))
        .collect();
    let response = post_sendgrid(&server, &Value::Array(events)).await;
    expect_problem(response, 413, "too_many_events").await;
    harness.finish().await;
}
