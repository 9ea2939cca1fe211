//! Benchmark of delivery throughput: worker loops sending prepared emails to a
//! SendGrid mock on loopback that answers after 20 ms, next to the ideal for
//! the same number of loops (loops / 20 ms), in the same run, on SQLite and
//! (when `REKINDLE_TEST_DATABASE_URL` is set) PostgreSQL.
//!
//! Run: `cargo bench -p rekindle-services --bench delivery`.
//! `REKINDLE_BENCH_MESSAGES` sets the number of emails (default 1,000),
//! `REKINDLE_BENCH_CONCURRENCY` the provider calls in flight (default 8),
//! `REKINDLE_BENCH_LOOPS` the worker loops (default twice the concurrency, as
//! `rekindle worker` runs) and `REKINDLE_BENCH_BATCH` the jobs each loop
//! claims per poll (default 1). The crew writes the messages before the clock
//! starts; only sending is timed. It prints a table and asserts nothing about
//! time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Utc, Weekday};
use rekindle_channels::{SecretString, SendgridConfig, SendgridTransport};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::throttle::ThrottleSettings;
use rekindle_domain::{AccountId, Channel, Email, LeadId, Plan, Tone};
use rekindle_services::worker::Worker;
use rekindle_services::{App, AppSettings, campaigns};
use rekindle_store::{Actor, NewAccount, NewLead, Store};
use rekindle_store_postgres::testing::{TEST_DATABASE_ENV, TestDatabase};
use rekindle_store_sqlite::SqliteStore;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &[u8] = b"delivery-benchmark-master-key-0123456789";
/// The mock provider's answer time.
const PROVIDER_LATENCY: Duration = Duration::from_millis(20);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let messages = env_number("REKINDLE_BENCH_MESSAGES", 1_000);
    let concurrency = env_number("REKINDLE_BENCH_CONCURRENCY", 8);
    let loops = env_number("REKINDLE_BENCH_LOOPS", concurrency * 2);
    let batch = env_number("REKINDLE_BENCH_BATCH", 1);
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("X-Message-Id", "sg-id")
                .set_delay(PROVIDER_LATENCY),
        )
        .mount(&provider)
        .await;

    let ideal = concurrency as f64 / PROVIDER_LATENCY.as_secs_f64();
    println!(
        "{messages} emails, {loops} worker loops claiming {batch} job(s) each, {concurrency} provider calls in flight, provider answers after {} ms; ideal {ideal:.0} messages/s",
        PROVIDER_LATENCY.as_millis()
    );
    println!("| backend | messages/s | share of ideal |");
    println!("| --- | ---: | ---: |");

    let dir = tempfile::tempdir()?;
    let sqlite: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("bench.sqlite")).await?);
    let shape = Shape {
        messages,
        concurrency,
        loops,
        batch,
    };
    let rate = run(sqlite, &provider, dir.path(), &shape).await?;
    println!("| SQLite | {rate:.0} | {:.2} |", rate / ideal);

    if std::env::var(TEST_DATABASE_ENV).is_ok() {
        let database = TestDatabase::create("bench_delivery")
            .await?
            .context("no PostgreSQL")?;
        let postgres: Arc<dyn Store> = Arc::new(
            rekindle_store_postgres::PostgresStore::connect(&database.app_url, (loops + 4) as u32)
                .await?,
        );
        let rate = run(postgres, &provider, dir.path(), &shape).await?;
        println!("| PostgreSQL | {rate:.0} | {:.2} |", rate / ideal);
        database.drop_database().await?;
    } else {
        println!("PostgreSQL skipped: set {TEST_DATABASE_ENV} to run it");
    }
    println!("goal: at least 0.90 of the ideal on both backends");
    Ok(())
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The run's size: emails, provider calls in flight, worker loops, jobs per claim.
#[derive(Clone, Copy)]
struct Shape {
    messages: usize,
    concurrency: usize,
    loops: usize,
    batch: usize,
}

/// Prepares the emails, then times the worker loops sending them all.
async fn run(
    store: Arc<dyn Store>,
    provider: &MockServer,
    dir: &std::path::Path,
    shape: &Shape,
) -> anyhow::Result<f64> {
    let Shape {
        messages,
        concurrency,
        loops,
        batch,
    } = *shape;
    // Caps high enough that every send is due at once: the throttle is not
    // what this measures.
    let throttle = ThrottleSettings {
        identity_hourly_cap: 1_000_000,
        domain_hourly_cap: 1_000_000,
        identity_daily_cap: 1_000_000,
        domain_daily_cap: 1_000_000,
        ..ThrottleSettings::default()
    };
    let settings = AppSettings {
        send_spacing: Duration::ZERO,
        batch_size: batch as u32,
        send_concurrency: concurrency,
        throttle,
        ..AppSettings::default()
    };
    let mut app = App::with_outbox(store.clone(), dir.join("outbox"), KEY, settings)?;
    let mut sendgrid = SendgridConfig::new(SecretString::from("SG.bench-key.value".to_owned()));
    sendgrid.base_url = provider.uri().parse()?;
    app.email = Arc::new(SendgridTransport::new(sendgrid)?);

    let account = seed(&app, messages).await?;
    // The crew writes every message; sends are due at once (the window is always open).
    let writer = Worker::new(app.clone(), "writer", Duration::from_millis(5));
    let until = Utc::now();
    let mut stats = rekindle_services::worker::WorkerStats::default();
    while writer.run_once(until, &mut stats).await? > 0 {}

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..loops {
        let worker = Worker::new(
            app.clone(),
            format!("sender-{index}"),
            Duration::from_millis(5),
        );
        let stopped = stopped.clone();
        tasks.spawn(async move { worker.run(stopped).await });
    }
    while sent(&store, account).await? < messages {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("sending took longer than 10 minutes");
        }
    }
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(messages as f64 / elapsed.as_secs_f64())
}

async fn sent(store: &Arc<dyn Store>, account: AccountId) -> anyhow::Result<usize> {
    let mut tx = store.begin(account).await?;
    let funnel = tx.funnel(None).await?;
    tx.commit().await?;
    Ok(funnel.sent as usize)
}

async fn seed(app: &App, messages: usize) -> anyhow::Result<AccountId> {
    let now = Utc::now();
    let actor = Actor::system("bench");
    let mut system = app.store.begin_system("bench").await?;
    let account = system
        .create_account(
            &NewAccount {
                name: "Delivery Ltd".into(),
                sender_name: "Dee".into(),
                sender_email: "dee@delivery.example.com".into(),
                postal_address: "1 Delivery Street, London EC1A 1AA".into(),
                time_zone: "Europe/London".into(),
                acv_minor: 500_000,
                currency: "GBP".into(),
                plan: Plan::Pro,
            },
            &actor,
            now,
        )
        .await?;
    system.commit().await?;
    let leads: Vec<NewLead> = (0..messages)
        .map(|index| NewLead {
            id: LeadId::new(),
            fields: LeadFields {
                email: Email::parse(&format!("lead{index}@customer{}.example.com", index % 100))
                    .ok(),
                first_name: Some(format!("Lead{index}")),
                company: Some("Customer Ltd".into()),
                job_title: Some("Head of Operations".into()),
                notes: Some("Asked for a proposal last spring.".into()),
                ..LeadFields::default()
            },
            import_id: None,
            import_ref: None,
        })
        .collect();
    let mut tx = app.store.begin(account.id).await?;
    tx.insert_leads(&leads, now).await?;
    tx.commit().await?;

    let spec = CampaignSpec {
        name: "Delivery run".into(),
        tone: Tone::Professional,
        window: SendingWindow {
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            start_hour: 0,
            end_hour: 24,
        },
        steps: vec![StepSpec {
            channel: Channel::Email,
            delay_days: 0,
        }],
    };
    let (campaign, _) = campaigns::create_campaign(app, account.id, &actor, &spec).await?;
    for chunk in leads.chunks(1000) {
        let ids: Vec<LeadId> = chunk.iter().map(|lead| lead.id).collect();
        campaigns::enroll_leads(app, account.id, &actor, campaign.id, &ids).await?;
    }
    campaigns::launch_campaign(app, account.id, &actor, campaign.id).await?;
    Ok(account.id)
}
