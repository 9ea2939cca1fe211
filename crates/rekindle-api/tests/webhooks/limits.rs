//! Webhook rate limits and body caps: one budget per provider, shared by all
//! of its addresses, and a size cap per provider.

use std::time::Duration;

use rekindle_api::middleware::client_ip::{IpNet, TrustedProxies};
use rekindle_ratelimit::{Limiters, Quota};
use rekindle_store_conformance::Harness;
use serde_json::json;

use crate::common::{TestServer, expect_problem};
use crate::support::{api_settings, app_settings, configured, sign_sendgrid};

async fn post_from(server: &TestServer, forwarded_for: &str, body: &[u8]) -> reqwest::Response {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    server
        .client
        .post(server.url("/webhooks/sendgrid/events"))
        .header("x-forwarded-for", forwarded_for)
        .header("X-Twilio-Email-Event-Webhook-Timestamp", &timestamp)
        .header(
            "X-Twilio-Email-Event-Webhook-Signature",
            sign_sendgrid(&timestamp, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_budget_spans_addresses() {
    let harness = Harness::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let mut webhooks = configured();
    webhooks.per_provider = Quota::new(3, Duration::from_secs(60)).unwrap();
    let mut settings = api_settings(dir.path(), webhooks);
    settings.trusted_proxies = TrustedProxies(vec![IpNet::parse("127.0.0.1/32").unwrap()]);
    let server = TestServer::start_with_app(
        &harness,
        dir,
        settings,
        app_settings(10),
        Limiters::in_memory(100),
    )
    .await;

    // A burst from three addresses uses the provider's budget of three.
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(
            post_from(&server, client, b"[]").await.status(),
            202,
            "{client}"
        );
    }
    let response = post_from(&server, "198.51.100.4", b"[]").await;
    assert!(response.headers().contains_key("retry-after"));
    expect_problem(response, 429, "rate_limited").await;

    // Other providers keep their own budgets.
    let response = server
        .client
        .post(server.url("/webhooks/stripe"))
        .header("Stripe-Signature", "t=1,v1=00")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_body_cap_applies() {
    let harness = Harness::sqlite().await;
    let mut webhooks = configured();
    webhooks.sendgrid_body_limit = 2048;
    let server = crate::support::start_with(&harness, webhooks, app_settings(10)).await;
    let padding = "x".repeat(4096);
    let body = serde_json::to_vec(&json!([{ "padding": padding }])).unwrap();
    let response = post_from(&server, "198.51.100.1", &body).await;
    expect_problem(response, 413, "payload_too_large").await;
    harness.finish().await;
}
