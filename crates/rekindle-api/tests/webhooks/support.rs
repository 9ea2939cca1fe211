//! A server with every webhook configured, campaigns with sent messages, and
//! signing and database helpers.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use rekindle_api::{ApiSettings, WebhookSettings};
use rekindle_ratelimit::Limiters;
use rekindle_services::AppSettings;
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

use crate::common::{Session, TestServer, settings};

pub const TWILIO_SID: &str = "AC00000000000000000000000000000001";
pub const TWILIO_TOKEN: &str = "12345";
pub const STRIPE_SECRET: &str = "whsec_test_secret";
pub const INBOUND_SECRET: &str = "inbound-url-secret-0123456789";
pub const INBOUND_USER: &str = "sendgrid";
pub const INBOUND_PASSWORD: &str = "inbound basic auth password";
pub const REPLY_DOMAIN: &str = "reply.rekindle.example";
/// The sender number of text messages in the local outbox, configured as a
/// shared Twilio number so inbound texts to it are routed.
pub const SHARED_NUMBER: &str = "+15005550006";
pub const TWILIO_STATUS_URL: &str = "https://hooks.rekindle.example/webhooks/twilio/status";
pub const TWILIO_INBOUND_URL: &str = "https://hooks.rekindle.example/webhooks/twilio/inbound";

/// Returns the key that signs SendGrid batches in these tests.
pub fn sendgrid_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).expect("a valid P-256 scalar")
}

pub fn sendgrid_public_key() -> String {
    let der = p256::PublicKey::from(sendgrid_key().verifying_key())
        .to_public_key_der()
        .expect("DER encoding");
    STANDARD.encode(der.as_bytes())
}

/// Webhook settings with every provider configured.
pub fn configured() -> WebhookSettings {
    WebhookSettings {
        sendgrid_key: Some(sendgrid_public_key()),
        twilio_status_url: TWILIO_STATUS_URL.into(),
        twilio_inbound_url: TWILIO_INBOUND_URL.into(),
        twilio_tokens: vec![(TWILIO_SID.into(), TWILIO_TOKEN.into())],
        twilio_shared_numbers: vec![SHARED_NUMBER.into()],
        stripe_secret: Some(STRIPE_SECRET.into()),
        inbound_url_secret: Some(INBOUND_SECRET.into()),
        inbound_user: Some(INBOUND_USER.into()),
        inbound_password: Some(INBOUND_PASSWORD.into()),
        ..WebhookSettings::default()
    }
}

/// API settings with generous limits and `webhooks`.
pub fn api_settings(dir: &std::path::Path, webhooks: WebhookSettings) -> ApiSettings {
    ApiSettings {
        webhooks,
        ..settings(dir)
    }
}

/// App settings with signed Reply-To addresses and `machine_open_seconds`.
pub fn app_settings(machine_open_seconds: u64) -> AppSettings {
    AppSettings {
        reply_domain: Some(REPLY_DOMAIN.into()),
        machine_open_seconds,
        send_spacing: Duration::ZERO,
        ..AppSettings::default()
    }
}

/// Starts a server with every webhook configured.
pub async fn start(harness: &Harness) -> TestServer {
    start_with(harness, configured(), app_settings(10)).await
}

pub async fn start_with(
    harness: &Harness,
    webhooks: WebhookSettings,
    app: AppSettings,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let settings = api_settings(dir.path(), webhooks);
    TestServer::start_with_app(harness, dir, settings, app, Limiters::in_memory(10_000)).await
}

/// Creates leads, a one-step campaign on `channel` whose window is always
/// open, launches it and runs the jobs, and returns the sent messages.
pub async fn sent_messages(
    server: &TestServer,
    session: &Session,
    channel: &str,
    count: usize,
    tracking: bool,
) -> Vec<Value> {
    let steps = json!([{ "channel": channel, "delay_days": 0 }]);
    launch(server, session, channel, count, tracking, steps).await
}

/// Like `sent_messages`, with a second email step 60 days later, so the
/// enrollments stay active after the first send.
pub async fn sent_messages_with_follow_up(
    server: &TestServer,
    session: &Session,
    count: usize,
) -> Vec<Value> {
    let steps = json!([
        { "channel": "email", "delay_days": 0 },
        { "channel": "email", "delay_days": 60 },
    ]);
    launch(server, session, "email", count, true, steps).await
}

pub async fn launch(
    server: &TestServer,
    session: &Session,
    channel: &str,
    count: usize,
    tracking: bool,
    steps: Value,
) -> Vec<Value> {
    let mut leads = Vec::new();
    for index in 0..count {
        let lead = create_lead(server, session, index).await;
        if channel != "email" {
            let response = server
                .post(
                    session,
                    &format!("/api/v1/leads/{lead}/consent"),
                    json!({ "basis": "consent", "source": "web form" }),
                )
                .await;
            assert!(
                response.status().is_success(),
                "{}",
                response.text().await.unwrap()
            );
        }
        leads.push(lead);
    }

    let response = server
        .post(
            session,
            "/api/v1/campaigns",
            json!({
                "name": format!("Webhook test {channel}"),
                "steps": steps,
                "window": { "weekdays": ["mon","tue","wed","thu","fri","sat","sun"], "start_hour": 0, "end_hour": 24 },
                "tracking": tracking,
            }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let campaign: Value = response.json().await.unwrap();
    assert_eq!(campaign["tracking"], tracking);
    let id = campaign["id"].as_str().unwrap().to_owned();
    let enrolled = server
        .post(
            session,
            &format!("/api/v1/campaigns/{id}/enrollments"),
            json!({ "lead_ids": leads }),
        )
        .await;
    assert!(enrolled.status().is_success());
    let launched = server
        .post(
            session,
            &format!("/api/v1/campaigns/{id}/launch"),
            json!({}),
        )
        .await;
    assert_eq!(launched.status(), 202, "{}", launched.text().await.unwrap());
    server.run_jobs().await;

    let page: Value = server
        .get(
            session,
            &format!("/api/v1/messages?campaign_id={id}&limit=200"),
        )
        .await
        .json()
        .await
        .unwrap();
    // Later steps may already be written and scheduled; the first steps are sent.
    let mut messages = page["items"].as_array().unwrap().clone();
    messages.retain(|message| message["status"] != "scheduled");
    assert_eq!(messages.len(), count, "{page}");
    for message in &messages {
        assert_eq!(message["status"], "sent", "{message}");
    }
    messages
}

async fn create_lead(server: &TestServer, session: &Session, index: usize) -> String {
    let response = server
        .post(
            session,
            "/api/v1/leads",
            json!({
                "email": format!("lead{index}@acme-{}.example.com", &session.account_id[..8]),
                "phone": format!("+4477009001{index:02}"),
                "first_name": "Dana",
                "company": "Acme Ltd",
                "job_title": "Head of Sales",
                "notes": "Asked for pricing last spring.",
            }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// Signs a SendGrid body with the test key, as SendGrid does.
pub fn sign_sendgrid(timestamp: &str, body: &[u8]) -> String {
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    let signature: Signature = sendgrid_key().sign(&message);
    STANDARD.encode(signature.to_der().as_bytes())
}

/// Posts a signed SendGrid batch stamped with the current time.
pub async fn post_sendgrid(server: &TestServer, events: &Value) -> reqwest::Response {
    let body = serde_json::to_vec(events).unwrap();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    server
        .client
        .post(server.url("/webhooks/sendgrid/events"))
        .header("content-type", "application/json")
        .header("X-Twilio-Email-Event-Webhook-Timestamp", &timestamp)
        .header(
            "X-Twilio-Email-Event-Webhook-Signature",
            sign_sendgrid(&timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Builds one SendGrid event about `message`.
pub fn sendgrid_event(kind: &str, message: &str, timestamp: i64, event_id: &str) -> Value {
    json!({
        "email": "lead0@acme.example.com",
        "timestamp": timestamp,
        "event": kind,
        "sg_event_id": event_id,
        "sg_message_id": format!("{message}.filterdrecv-1"),
        "rekindle_message_id": message,
    })
}

/// Computes X-Twilio-Signature: HMAC-SHA1 over the URL and the sorted
/// parameters, base64.
pub fn twilio_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params.to_vec();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Posts a signed Twilio form to `path`, signed for `signed_url`.
pub async fn post_twilio(
    server: &TestServer,
    path: &str,
    signed_url: &str,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    server
        .client
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "X-Twilio-Signature",
            twilio_signature(TWILIO_TOKEN, signed_url, params),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Computes a `Stripe-Signature` header for `body` at `timestamp`.
pub fn stripe_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Runs a query that returns one integer, as the database owner.
pub async fn scalar(harness: &Harness, sql: &str) -> i64 {
    let statement = || sqlx::AssertSqlSafe(sql.to_owned());
    match harness {
        Harness::Sqlite { store, .. } => {
            sqlx::query_scalar::<_, i64>(statement())
                .fetch_one(store.pool())
                .await
        }
        Harness::Postgres { database, .. } => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&database.admin_url)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>(statement())
                .fetch_one(&mut conn)
                .await
        }
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Runs a query that returns one optional text value, as the database owner.
pub async fn text(harness: &Harness, sql: &str) -> Option<String> {
    let statement = || sqlx::AssertSqlSafe(sql.to_owned());
    match harness {
        Harness::Sqlite { store, .. } => {
            sqlx::query_scalar::<_, Option<String>>(statement())
                .fetch_optional(store.pool())
                .await
        }
        Harness::Postgres { database, .. } => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&database.admin_url)
                .await
                .unwrap();
            sqlx::query_scalar::<_, Option<String>>(statement())
                .fetch_optional(&mut conn)
                .await
        }
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
    .flatten()
}

/// SQL literal of an id taken from an API response.
pub fn id(harness: &Harness, text: &str) -> String {
    harness.uuid_literal(text.parse().unwrap())
}

/// Status of a message, read from the database.
pub async fn message_status(harness: &Harness, message: &str) -> String {
    let sql = format!(
        "SELECT status FROM messages WHERE id = {}",
        id(harness, message)
    );
    text(harness, &sql).await.expect("message exists")
}

/// Loads a JSON fixture from `tests/fixtures`.
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}
