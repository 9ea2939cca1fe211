//! Every vector of the providers' signature test suites, sent through the real
//! endpoints. A vector that should verify gets past the signature check: its
//! body is then rejected by the parser with 422, because the vectors sign
//! sample bodies that are not events of that endpoint. A vector that should
//! fail gets 401.

use chrono::DateTime;
use rekindle_api::WebhookClock;
use rekindle_store_conformance::Harness;
use serde_json::Value;

use crate::common::{TestServer, expect_problem};
use crate::support::{app_settings, configured, fixture, start_with};

fn vectors() -> Value {
    fixture("signature_vectors.json")
}

/// Checks the outcome of one vector: verified (and then rejected by the
/// parser with `parsed_code`) or rejected with 401.
async fn expect_outcome(
    response: reqwest::Response,
    expected: bool,
    parsed_code: &str,
    case: &str,
) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    if expected {
        assert_eq!(status, 422, "{case}: a valid signature must pass: {body}");
        assert_eq!(body["code"], parsed_code, "{case}: {body}");
    } else {
        assert_eq!(
            status, 401,
            "{case}: an invalid signature must fail: {body}"
        );
    }
}

async fn post_sendgrid_vector(
    server: &TestServer,
    signature: &str,
    timestamp: &str,
    payload: &str,
) -> reqwest::Response {
    server
        .client
        .post(server.url("/webhooks/sendgrid/events"))
        .header("content-type", "application/json")
        .header("X-Twilio-Email-Event-Webhook-Signature", signature)
        .header("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
        .body(payload.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendgrid_vectors_through_endpoint() {
    let harness = Harness::sqlite().await;
    let vector = &vectors()["sendgrid_event_webhook"];
    let text = |key: &str| vector[key].as_str().unwrap().to_owned();
    let signed_at: i64 = text("timestamp").parse().unwrap();
    let server_with_key = |key: String| {
        let mut webhooks = configured();
        webhooks.sendgrid_key = Some(key);
        webhooks.clock = WebhookClock::fixed(DateTime::from_timestamp(signed_at, 0).unwrap());
        start_with(&harness, webhooks, app_settings(10))
    };

    let server = server_with_key(text("public_key")).await;
    let response = post_sendgrid_vector(
        &server,
        &text("signature"),
        &text("timestamp"),
        &text("payload"),
    )
    .await;
    expect_outcome(
        response,
        vector["expected"].as_bool().unwrap(),
        "invalid_json",
        "sendgrid valid",
    )
    .await;

    for case in vector["negative_cases"].as_array().unwrap() {
        let change = case["change"].as_str().unwrap();
        let value = case["value"].as_str().unwrap().to_owned();
        let expected = case["expected"].as_bool().unwrap();
        let (server, signature, timestamp, payload) = match change {
            "public_key" => (
                server_with_key(value).await,
                text("signature"),
                text("timestamp"),
                text("payload"),
            ),
            "signature" => (
                server_with_key(text("public_key")).await,
                value,
                text("timestamp"),
                text("payload"),
            ),
            "timestamp" => (
                server_with_key(text("public_key")).await,
                text("signature"),
                value,
                text("payload"),
            ),
            "payload" => (
                server_with_key(text("public_key")).await,
                text("signature"),
                text("timestamp"),
                value,
            ),
            other => panic!("unknown change {other}"),
        };
        let response = post_sendgrid_vector(&server, &signature, &timestamp, &payload).await;
        expect_outcome(
            response,
            expected,
            "invalid_json",
            &format!("sendgrid {change}"),
        )
        .await;
    }
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendgrid_old_timestamp_rejected() {
    let harness = Harness::sqlite().await;
    let vector = &vectors()["sendgrid_event_webhook"];
    // The vector's signature is valid, but with the real clock its 2020
    // timestamp is far outside the tolerance, so a replay is refused.
    let mut webhooks = configured();
    webhooks.sendgrid_key = Some(vector["public_key"].as_str().unwrap().to_owned());
    let server = start_with(&harness, webhooks, app_settings(10)).await;
    let response = post_sendgrid_vector(
        &server,
        vector["signature"].as_str().unwrap(),
        vector["timestamp"].as_str().unwrap(),
        vector["payload"].as_str().unwrap(),
    )
    .await;
    expect_problem(response, 401, "timestamp_out_of_tolerance").await;
    harness.finish().await;
}

/// Splits a vector URL into the configured endpoint URL and its query.
fn split_url(url: &str) -> (String, String) {
    match url.split_once('?') {
        Some((base, query)) => (base.to_owned(), query.to_owned()),
        None => (url.to_owned(), String::new()),
    }
}

fn form_body(params: &Value) -> String {
    let mut body = form_urlencoded::Serializer::new(String::new());
    match params {
        Value::Object(map) => {
            for (name, value) in map {
                body.append_pair(name, value.as_str().unwrap());
            }
        }
        Value::Array(pairs) => {
            for pair in pairs {
                body.append_pair(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
            }
        }
        other => panic!("unexpected params {other}"),
    }
    body.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_vectors_through_endpoints() {
    let harness = Harness::sqlite().await;
    let vectors = vectors();
    let vector = &vectors["twilio_request_validation"];
    let token = vector["auth_token"].as_str().unwrap();

    for (index, case) in vector["cases"].as_array().unwrap().iter().enumerate() {
        let (base, query) = split_url(case["url"].as_str().unwrap());
        let mut webhooks = configured();
        webhooks.twilio_tokens = vec![("ACvectors".into(), token.into())];
        webhooks.twilio_status_url = base.clone();
        webhooks.twilio_inbound_url = base;
        let server = start_with(&harness, webhooks, app_settings(10)).await;
        let expected = case["expected"].as_bool().unwrap();

        for path in ["/webhooks/twilio/status", "/webhooks/twilio/inbound"] {
            let response = server
                .client
                .post(server.url(&format!("{path}?{query}")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("X-Twilio-Signature", case["signature"].as_str().unwrap())
                .body(form_body(&case["params"]))
                .send()
                .await
                .unwrap();
            // The vectors are voice requests, which lack the MessageSid of a message webhook.
            expect_outcome(
                response,
                expected,
                "missing_field",
                &format!("twilio case {index} {path}"),
            )
            .await;
        }
    }
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_json_body_vector_through_endpoint() {
    let harness = Harness::sqlite().await;
    let vector = fixture("twilio_body_vector.json");
    let (base, query) = split_url(vector["url"].as_str().unwrap());
    let mut webhooks = configured();
    webhooks.twilio_tokens = vec![(
        "ACvectors".into(),
        vector["auth_token"].as_str().unwrap().into(),
    )];
    webhooks.twilio_status_url = base;
    let server = start_with(&harness, webhooks, app_settings(10)).await;

    let post = |body: String| {
        server
            .client
            .post(server.url(&format!("/webhooks/twilio/status?{query}")))
            .header("content-type", "application/json")
            .header("X-Twilio-Signature", vector["signature"].as_str().unwrap())
            .body(body)
            .send()
    };
    let body = vector["body"].as_str().unwrap().to_owned();
    expect_outcome(
        post(body.clone()).await.unwrap(),
        true,
        "invalid_payload",
        "twilio json",
    )
    .await;
    let changed = body.replace("value", "valuf");
    let response = post(changed).await.unwrap();
    expect_problem(response, 401, "body_hash_mismatch").await;
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_vectors_through_endpoint() {
    let harness = Harness::sqlite().await;
    let vectors = vectors();
    let vector = &vectors["stripe_signature"];
    let payload = vector["payload"].as_str().unwrap().to_owned();

    for (index, case) in vector["cases"].as_array().unwrap().iter().enumerate() {
        let mut webhooks = configured();
        webhooks.stripe_secret = Some(vector["secret"].as_str().unwrap().into());
        webhooks.stripe_tolerance =
            std::time::Duration::from_secs(case["tolerance_s"].as_u64().unwrap());
        let now = DateTime::from_timestamp(case["now"].as_i64().unwrap(), 0).unwrap();
        webhooks.clock = WebhookClock::fixed(now);
        let server = start_with(&harness, webhooks, app_settings(10)).await;

        let response = server
            .client
            .post(server.url("/webhooks/stripe"))
            .header("content-type", "application/json")
            .header("Stripe-Signature", case["header"].as_str().unwrap())
            .body(payload.clone())
            .send()
            .await
            .unwrap();
        // The sample event has no `type`, which a real Stripe event always has.
        expect_outcome(
            response,
            case["expected"].as_bool().unwrap(),
            "invalid_json",
            &format!("stripe case {index}"),
        )
        .await;
    }
    harness.finish().await;
}
