//! Stripe events: stored once with their receipt, recorded by a job, and a
//! redelivery of the same event id is acknowledged without a second copy.

use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

use crate::common::{TestServer, expect_problem};
use crate::on_both_backends;
use crate::support::{STRIPE_SECRET, scalar, start, stripe_header};

on_both_backends!(stripe_event_stored_once => stripe_event_stored_once);

async fn post_stripe(server: &TestServer, body: &[u8], header: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("Stripe-Signature", header)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn stripe_event_stored_once(harness: &Harness) {
    let server = start(harness).await;
    let event = json!({
        "id": "evt_1PaidInvoice",
        "object": "event",
        "type": "invoice.paid",
        "created": 1_750_000_000,
        "livemode": false,
        "data": { "object": { "id": "in_1", "object": "invoice" } }
    });
    let body = serde_json::to_vec_pretty(&event).unwrap();
    let now = chrono::Utc::now().timestamp();
    let header = stripe_header(STRIPE_SECRET, now, &body);
    // Stripe may send signatures of an old and a new secret side by side.
    let rolled = format!("{header},v1={}", "ab".repeat(32));

    let first: Value = post_stripe(&server, &body, &rolled)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "stored", "{first}");
    let again: Value = post_stripe(&server, &body, &header)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "duplicate", "{again}");

    let stale = stripe_header(STRIPE_SECRET, now - 301, &body);
    let response = post_stripe(&server, &body, &stale).await;
    expect_problem(response, 401, "timestamp_out_of_tolerance").await;

    assert_eq!(
        scalar(harness, "SELECT count(*) FROM webhook_receipts WHERE provider = 'stripe' AND dedup_key = 'evt_1PaidInvoice'").await,
        1
    );
    assert_eq!(
        scalar(harness, "SELECT count(*) FROM webhook_payloads WHERE provider = 'stripe' AND processed_at IS NULL").await,
        1
    );
    server.run_jobs().await;
    assert_eq!(
        scalar(harness, "SELECT count(*) FROM webhook_payloads WHERE provider = 'stripe' AND event_type = 'invoice.paid' AND processed_at IS NOT NULL").await,
        1
    );
}
