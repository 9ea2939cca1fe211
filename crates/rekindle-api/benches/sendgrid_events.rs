//! Benchmark of the SendGrid Event Webhook against PostgreSQL. Signed batches
//! of 1,000 events are posted to `POST /webhooks/sendgrid/events` on a
//! loopback server (signature check, parsing, storing the batch and its job).
//! The job worker then applies them (receipts, status changes, event history,
//! counters, audit entry). A plain batched insert of the same event rows into
//! `message_events`, measured in the same run, is the ceiling.
//!
//! Run: `REKINDLE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
//! cargo bench -p rekindle-api --bench sendgrid_events`. `REKINDLE_BENCH_BATCHES`
//! sets the number of batches (default 20) and `REKINDLE_BENCH_MESSAGES` the
//! number of sent messages the events are about (default 5,000). The benchmark
//! creates a throwaway database and drops it at the end. It prints a table and
//! asserts nothing about time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use rekindle_api::{ApiSettings, ApiState, WebhookSettings};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::*;
use rekindle_ratelimit::{Limiters, Quota};
use rekindle_services::worker::{Worker, WorkerStats};
use rekindle_services::{App, AppSettings};
use rekindle_store::{Actor, MessageUpdate, NewAccount, NewLead, NewMessage, Store};
use rekindle_store_postgres::testing::{TEST_DATABASE_ENV, TestDatabase};
use serde_json::{Value, json};
use sqlx::Connection;

const KEY: &[u8] = b"benchmark-master-key-0123456789abcdef-0123";
const BATCH_EVENTS: usize = 1_000;
/// Event kinds of a batch, in the proportions a campaign produces: every
/// message is processed and delivered, fewer are opened and clicked.
const KINDS: [&str; 8] = [
    "processed",
    "delivered",
    "open",
    "delivered",
    "open",
    "click",
    "processed",
    "open",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var(TEST_DATABASE_ENV).is_err() {
        eprintln!("skipped: set {TEST_DATABASE_ENV} to a loopback PostgreSQL server's owner URL");
        return Ok(());
    }
    let batches = env_number("REKINDLE_BENCH_BATCHES", 20) as usize;
    let message_count = env_number("REKINDLE_BENCH_MESSAGES", 5_000) as usize;
    let database = TestDatabase::create("bench_sendgrid_events")
        .await?
        .context("no PostgreSQL configured")?;
    let store: Arc<dyn Store> = Arc::new(
        rekindle_store_postgres::PostgresStore::connect(&app_url(&database.app_url), 8).await?,
    );
    let (account, messages) = seed(store.as_ref(), message_count).await?;

    let signing_key = SigningKey::from_slice(&[7u8; 32])?;
    let dir = tempfile::tempdir()?;
    let app = App::with_outbox(
        store.clone(),
        dir.path().join("outbox"),
        KEY,
        AppSettings {
            batch_size: 1,
            ..AppSettings::default()
        },
    )?;
    let settings = ApiSettings {
        upload_dir: dir.path().join("uploads"),
        webhooks: WebhookSettings {
            sendgrid_key: Some(public_key(&signing_key)?),
            per_provider: Quota::new(1_000_000, Duration::from_secs(60))?,
            ..WebhookSettings::default()
        },
        ..ApiSettings::default()
    };
    let state = ApiState::new(app.clone(), settings, KEY, Limiters::in_memory(1_000))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = rekindle_api::router(state);
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let bodies: Vec<Vec<u8>> = (0..batches)
        .map(|batch| batch_body(&messages, batch))
        .collect::<anyhow::Result<_>>()?;
    let url = format!("http://{address}/webhooks/sendgrid/events");
    let client = reqwest::Client::new();
    let worker = Worker::new(app.clone(), "bench", Duration::from_millis(5));

    let mut post_time = Duration::ZERO;
    let mut apply_time = Duration::ZERO;
    let started = Instant::now();
    for body in &bodies {
        let posted = Instant::now();
        post_batch(&client, &url, &signing_key, body).await?;
        post_time += posted.elapsed();

        let applying = Instant::now();
        let mut stats = WorkerStats::default();
        while worker.run_once(Utc::now(), &mut stats).await? > 0 {}
        if stats.succeeded != 1 {
            bail!("the batch job did not succeed: {stats:?}");
        }
        apply_time += applying.elapsed();
    }
    let pipeline = started.elapsed();
    let applied = count(&database, "SELECT count(*) FROM message_events").await?;

    let plain = plain_insert(&database, account, &messages, &bodies).await?;
    server.abort();
    database.drop_database().await?;

    let events = (batches * BATCH_EVENTS) as f64;
    let rate = |time: Duration| events / time.as_secs_f64();
    println!(
        "SendGrid Event Webhook, PostgreSQL with RLS, {batches} batches of {BATCH_EVENTS} events about {message_count} messages; {applied} event rows stored"
    );
    println!("| run | seconds | events/s | ratio to plain insert |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| plain batched INSERT of the event rows (ceiling) | {:.3} | {:.0} | 1.000 |",
        plain.as_secs_f64(),
        rate(plain)
    );
    println!(
        "| POST: verify, parse, store the batch and its job | {:.3} | {:.0} | {:.3} |",
        post_time.as_secs_f64(),
        rate(post_time),
        plain.as_secs_f64() / post_time.as_secs_f64()
    );
    println!(
        "| job: apply the stored batch | {:.3} | {:.0} | {:.3} |",
        apply_time.as_secs_f64(),
        rate(apply_time),
        plain.as_secs_f64() / apply_time.as_secs_f64()
    );
    println!(
        "| verified events applied, end to end | {:.3} | {:.0} | {:.3} |",
        pipeline.as_secs_f64(),
        rate(pipeline),
        plain.as_secs_f64() / pipeline.as_secs_f64()
    );
    println!(
        "goal: at least 20,000 events/s end to end and at least 0.30 of the plain insert rate"
    );
    Ok(())
}

/// Builds one batch: events about messages taken in turn, with ids and
/// timestamps unique across batches.
fn batch_body(messages: &[MessageId], batch: usize) -> anyhow::Result<Vec<u8>> {
    let base = Utc::now().timestamp();
    let events: Vec<Value> = (0..BATCH_EVENTS)
        .map(|index| {
            let global = batch * BATCH_EVENTS + index;
            let message = messages[global % messages.len()];
            json!({
                "email": format!("lead{}@bench.example.com", global % messages.len()),
                "timestamp": base + 60 + global as i64,
                "event": KINDS[global % KINDS.len()],
                "sg_event_id": format!("bench-{batch}-{index}"),
                "sg_message_id": format!("{message}.filterdrecv-1"),
                "rekindle_message_id": message.to_string(),
                "url": "https://bench.example.com/pricing",
            })
        })
        .collect();
    Ok(serde_json::to_vec(&events)?)
}

async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    key: &SigningKey,
    body: &[u8],
) -> anyhow::Result<()> {
    let timestamp = Utc::now().timestamp().to_string();
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(body);
    let signature: Signature = key.sign(&signed);
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("X-Twilio-Email-Event-Webhook-Timestamp", &timestamp)
        .header(
            "X-Twilio-Email-Event-Webhook-Signature",
            STANDARD.encode(signature.to_der().as_bytes()),
        )
        .body(body.to_vec())
        .send()
        .await?;
    if response.status() != 202 {
        bail!(
            "the endpoint rejected the batch: {} {}",
            response.status(),
            response.text().await?
        );
    }
    Ok(())
}

/// Inserts the same event rows with one multi-row INSERT per batch, as the
/// application role in a tenant transaction, and returns the time taken.
async fn plain_insert(
    database: &TestDatabase,
    account: AccountId,
    messages: &[MessageId],
    bodies: &[Vec<u8>],
) -> anyhow::Result<Duration> {
    let mut conn = sqlx::PgConnection::connect(&app_url(&database.app_url)).await?;
    let mut elapsed = Duration::ZERO;
    for (batch, body) in bodies.iter().enumerate() {
        let events: Vec<Value> = serde_json::from_slice(body)?;
        let started = Instant::now();
        let mut tx = conn.begin().await?;
        sqlx::query("SELECT set_config('rekindle.account_id', $1, true)")
            .bind(account.to_string())
            .execute(&mut *tx)
            .await?;
        let rows = (0..events.len())
            .map(|row| {
                let first = row * 6 + 2;
                format!(
                    "(${}, $1, ${}, ${}, 'bench', ${}, ${}, ${})",
                    first,
                    first + 1,
                    first + 2,
                    first + 3,
                    first + 4,
                    first + 5
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO message_events (id, account_id, message_id, kind, provider, \
             provider_event_id, occurred_at, payload) VALUES {rows}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account.0);
        for (index, event) in events.iter().enumerate() {
            let kind = match event["event"].as_str().unwrap_or("") {
                "open" => "opened",
                "click" => "clicked",
                "processed" => "sent",
                other => other,
            };
            let occurred =
                chrono::DateTime::from_timestamp(event["timestamp"].as_i64().unwrap_or(0), 0)
                    .context("event timestamp")?;
            query = query
                .bind(uuid::Uuid::now_v7())
                .bind(messages[(batch * BATCH_EVENTS + index) % messages.len()].0)
                .bind(kind.to_owned())
                .bind(format!("plain-{batch}-{index}"))
                .bind(occurred)
                .bind(sqlx::types::Json(json!({})));
        }
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        elapsed += started.elapsed();
    }
    Ok(elapsed)
}

async fn count(database: &TestDatabase, sql: &'static str) -> anyhow::Result<i64> {
    let mut conn = sqlx::PgConnection::connect(&database.admin_url).await?;
    Ok(sqlx::query_scalar(sql).fetch_one(&mut conn).await?)
}

/// Creates an account, `count` leads, a campaign and one sent email per lead.
async fn seed(store: &dyn Store, count: usize) -> anyhow::Result<(AccountId, Vec<MessageId>)> {
    let now = Utc::now();
    let mut tx = store.begin_system("bench").await?;
    let account = tx
        .create_account(
            &NewAccount {
                name: "Bench Ltd".into(),
                sender_name: "Bench".into(),
                sender_email: "sales@bench.example.com".into(),
                postal_address: "1 Bench Street, London".into(),
                time_zone: "Europe/London".into(),
                acv_minor: 1_000_000,
                currency: "GBP".into(),
                plan: Plan::Pro,
            },
            &Actor::system("bench"),
            now,
        )
        .await?;
    tx.commit().await?;

    let leads: Vec<NewLead> = (0..count)
        .map(|index| {
            Ok(NewLead {
                id: LeadId::new(),
                fields: LeadFields {
                    email: Some(Email::parse(&format!("lead{index}@bench.example.com"))?),
                    first_name: Some(format!("Lead{index}")),
                    ..LeadFields::default()
                },
                import_id: None,
                import_ref: None,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let mut tx = store.begin(account.id).await?;
    tx.insert_leads(&leads, now).await?;
    let spec = CampaignSpec {
        name: "Bench".into(),
        tone: Tone::Friendly,
        window: SendingWindow::default(),
        steps: vec![StepSpec {
            channel: Channel::Email,
            delay_days: 0,
        }],
    };
    let (campaign, steps) = tx.create_campaign(CampaignId::new(), &spec, now).await?;
    let lead_ids: Vec<LeadId> = leads.iter().map(|lead| lead.id).collect();
    tx.enroll_leads(campaign.id, &lead_ids, now).await?;
    let enrollments = tx
        .list_enrollments(
            campaign.id,
            rekindle_store::PageRequest::new(None, Some(200)),
        )
        .await?;
    let mut all_enrollments = enrollments.items;
    let mut next = enrollments.next;
    while let Some(cursor) = next {
        let page = tx
            .list_enrollments(
                campaign.id,
                rekindle_store::PageRequest::new(Some(cursor), Some(200)),
            )
            .await?;
        all_enrollments.extend(page.items);
        next = page.next;
    }

    let mut ids = Vec::with_capacity(count);
    for (index, enrollment) in all_enrollments.iter().enumerate() {
        let id = MessageId::new();
        tx.insert_message(
            &NewMessage {
                id,
                campaign_id: campaign.id,
                step_id: steps[0].id,
                enrollment_id: enrollment.id,
                lead_id: enrollment.lead_id,
                channel: Channel::Email,
                variant: "A".into(),
                subject: Some("A fresh idea".into()),
                alternate_subject: None,
                personalisation_elements: Vec::new(),
                body: "Hello".into(),
                to_address: format!("lead{index}@bench.example.com"),
                rfc_message_id: format!("{id}@bench.example.com"),
                scheduled_at: now,
                sending_identity_id: None,
            },
            now,
        )
        .await?;
        for status in [MessageStatus::Sending, MessageStatus::Sent] {
            let update = MessageUpdate {
                sent: status == MessageStatus::Sent,
                ..MessageUpdate::default()
            };
            tx.advance_message(id, status, &update, now).await?;
        }
        ids.push(id);
    }
    tx.commit().await?;
    Ok((account.id, ids))
}

fn public_key(key: &SigningKey) -> anyhow::Result<String> {
    let der = p256::PublicKey::from(key.verifying_key()).to_public_key_der()?;
    Ok(STANDARD.encode(der.as_bytes()))
}

/// Returns the application role's URL with TLS off, because the server is on loopback.
fn app_url(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
