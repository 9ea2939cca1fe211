//! Unconfigured providers get 503 and requests that fail verification get
//! 401; both are problem details, and both are counted per provider and
//! reason in `webhook_rejections`.

use rekindle_api::WebhookSettings;
use rekindle_store_conformance::Harness;
use serde_json::json;

use crate::common::{TestServer, expect_problem};
use crate::support::{
    INBOUND_PASSWORD, INBOUND_SECRET, INBOUND_USER, app_settings, configured, post_sendgrid,
    scalar, start_with,
};

/// Sends one request to each provider endpoint, with plausible headers but
/// no valid credential, and returns the responses by provider.
async fn one_request_each(server: &TestServer) -> Vec<(&'static str, reqwest::Response)> {
    let post = |path: &str| server.client.post(server.url(path));
    vec![
        (
            "sendgrid",
            post("/webhooks/sendgrid/events")
                .header("X-Twilio-Email-Event-Webhook-Signature", "MEUCIQ==")
                .header("X-Twilio-Email-Event-Webhook-Timestamp", "1700000000")
                .body("[]")
                .send()
                .await
                .unwrap(),
        ),
        (
            "twilio",
            post("/webhooks/twilio/status")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
                .body("MessageSid=SM1&MessageStatus=delivered")
                .send()
                .await
                .unwrap(),
        ),
        (
            "twilio",
            post("/webhooks/twilio/inbound")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
                .body("MessageSid=SM2&Body=hi")
                .send()
                .await
                .unwrap(),
        ),
        (
            "stripe",
            post("/webhooks/stripe")
                .header("Stripe-Signature", "t=1700000000,v1=00")
                .body("{}")
                .send()
                .await
                .unwrap(),
        ),
        (
            "inbound_email",
            post(&format!("/webhooks/inbound-email/{INBOUND_SECRET}"))
                .basic_auth(INBOUND_USER, Some("wrong password"))
                .body("")
                .send()
                .await
                .unwrap(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfigured_providers_answer_503() {
    let harness = Harness::sqlite().await;
    let server = start_with(&harness, WebhookSettings::default(), app_settings(10)).await;

    for (provider, response) in one_request_each(&server).await {
        let problem = expect_problem(response, 503, "webhook_not_configured").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(provider),
            "{provider}: {problem}"
        );
    }
    for provider in ["sendgrid", "twilio", "stripe", "inbound_email"] {
        let counted = scalar(
            &harness,
            &format!(
                "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM webhook_rejections \
                 WHERE provider = '{provider}' AND reason = 'not_configured'"
            ),
        )
        .await;
        let expected = if provider == "twilio" { 2 } else { 1 };
        assert_eq!(counted, expected, "{provider}");
    }
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_configured_inbound_answers_503() {
    let harness = Harness::sqlite().await;
    let mut webhooks = configured();
    webhooks.inbound_password = None;
    let server = start_with(&harness, webhooks, app_settings(10)).await;
    let response = server
        .client
        .post(server.url(&format!("/webhooks/inbound-email/{INBOUND_SECRET}")))
        .basic_auth(INBOUND_USER, Some(INBOUND_PASSWORD))
        .body("")
        .send()
        .await
        .unwrap();
    expect_problem(response, 503, "webhook_not_configured").await;
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_answer_401_and_are_counted() {
    let harness = Harness::sqlite().await;
    let server = start_with(&harness, configured(), app_settings(10)).await;

    for (provider, response) in one_request_each(&server).await {
        assert_eq!(response.status(), 401, "{provider}");
        if provider == "inbound_email" {
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            assert!(challenge.starts_with("Basic "), "{challenge}");
        }
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["code"].is_string(), "{provider}: {body}");
        assert!(body["request_id"].is_string(), "{provider}: {body}");
    }
    let total = scalar(
        &harness,
        "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM webhook_rejections",
    )
    .await;
    assert_eq!(total, 5);
    let bad_signatures = scalar(
        &harness,
        "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM webhook_rejections WHERE reason = 'bad_signature'",
    )
    .await;
    assert!(bad_signatures >= 2, "{bad_signatures}");

    // A wrong URL secret with the right password is refused as well.
    let response = server
        .client
        .post(server.url("/webhooks/inbound-email/not-the-secret"))
        .basic_auth(INBOUND_USER, Some(INBOUND_PASSWORD))
        .body("")
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, "bad_credentials").await;

    // A correctly signed batch passes, so the rejections above were about
    // their credentials and not the server's key.
    let response = post_sendgrid(&server, &json!([])).await;
    assert_eq!(
        response.status(),
        202,
        "the correctly signed empty batch is accepted"
    );
    harness.finish().await;
}
