//! Benchmark of the reactivation crew from launch to scheduled messages:
//! leads per second with the offline writer, on SQLite and (when
//! `REKINDLE_TEST_DATABASE_URL` is set) PostgreSQL, and with the LLM
//! researcher and writer, whose mock server on loopback answers every
//! request after 200 ms with 32 requests in flight. Each lead sends two
//! requests one after the other, so the ideal printed in the same run is
//! 32 / (2 x 0.2 s) = 80 leads/s.
//!
//! Run: `cargo bench -p rekindle-services --bench crew`.
//! `REKINDLE_BENCH_LEADS` sets the leads of an offline run (default 2,000),
//! `REKINDLE_BENCH_LLM_LEADS` those of an LLM run (default 960),
//! `REKINDLE_BENCH_LOOPS` the worker loops of an offline run (default 2) and
//! `REKINDLE_BENCH_LLM_LOOPS` those of an LLM run (default 4). The clock
//! starts before the launch, which enqueues a crew job per 50 leads, and
//! stops when every lead has its scheduled message. The step's first send
//! is a day away, so no send job runs meanwhile. Each LLM request goes
//! through the budget ledger in the database, as in production, unless
//! `REKINDLE_BENCH_LEDGER=memory` selects the in-memory ledger to show the
//! database ledger's share. It prints a table and asserts nothing about time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Utc, Weekday};
use rekindle_config::{LlmConfig, LlmModelPrice, LlmProviderKind};
use rekindle_crews::{CrewConfig, ReactivationCrew};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::throttle::ThrottleSettings;
use rekindle_domain::{AccountId, CampaignId, Channel, Email, LeadId, Plan, Tone};
use rekindle_llm::LlmClient;
use rekindle_llm::budget::{BudgetLedger, InMemoryLedger};
use rekindle_llm::testing::{MockLlmServer, MockReply};
use rekindle_services::ai::AiAgents;
use rekindle_services::ai_ledger::StoreLedger;
use rekindle_services::worker::Worker;
use rekindle_services::{App, AppSettings, campaigns};
use rekindle_store::{Actor, NewAccount, NewLead, Store};
use rekindle_store_postgres::testing::{TEST_DATABASE_ENV, TestDatabase};
use rekindle_store_sqlite::SqliteStore;
use serde_json::json;

const KEY: &[u8] = b"crew-benchmark-master-key-0123456789abcdef";
/// The mock LLM's answer time.
const LLM_LATENCY: Duration = Duration::from_millis(200);
/// LLM requests in flight at once, per account and in the process.
const LLM_CONCURRENCY: usize = 32;
/// LLM requests of one lead, one after the other: the research, then the draft.
const REQUESTS_PER_LEAD: f64 = 2.0;
const MODEL: &str = "bench-model";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let offline = Shape {
        leads: env_number("REKINDLE_BENCH_LEADS", 2_000),
        loops: env_number("REKINDLE_BENCH_LOOPS", 2),
    };
    let llm = Shape {
        leads: env_number("REKINDLE_BENCH_LLM_LEADS", 960),
        loops: env_number("REKINDLE_BENCH_LLM_LOOPS", 4),
    };
    let mock = MockLlmServer::start().await;
    mock.set_reply_for(
        "lead_research",
        MockReply::openai_json(&research()).with_delay(LLM_LATENCY),
    );
    mock.set_fallback(MockReply::openai_json(&draft()).with_delay(LLM_LATENCY));
    let ideal = LLM_CONCURRENCY as f64 / (REQUESTS_PER_LEAD * LLM_LATENCY.as_secs_f64());

    println!(
        "offline: {} leads, {} worker loops; LLM: {} leads, {} worker loops, {LLM_CONCURRENCY} requests in flight, \
         the mock answers after {} ms (ideal {ideal:.0} leads/s)",
        offline.leads,
        offline.loops,
        llm.leads,
        llm.loops,
        LLM_LATENCY.as_millis()
    );
    println!("| backend | writer | leads | seconds | leads/s | goal | share |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");

    let dir = tempfile::tempdir()?;
    let sqlite = || async {
        let path = dir
            .path()
            .join(format!("bench-{}.sqlite", uuid::Uuid::new_v4()));
        anyhow::Ok(Arc::new(SqliteStore::open(&path).await?) as Arc<dyn Store>)
    };
    let rate = run(sqlite().await?, dir.path(), offline, None).await?;
    print_row("SQLite", "offline", offline.leads, rate, 1_000.0);
    let rate = run(sqlite().await?, dir.path(), llm, Some(&mock)).await?;
    print_row("SQLite", "LLM mock", llm.leads, rate, ideal);

    if std::env::var(TEST_DATABASE_ENV).is_ok() {
        for (writer, shape, mock) in [("offline", offline, None), ("LLM mock", llm, Some(&mock))] {
            let database = TestDatabase::create("bench_crew")
                .await?
                .context("no PostgreSQL")?;
            let postgres: Arc<dyn Store> = Arc::new(
                rekindle_store_postgres::PostgresStore::connect(
                    &database.app_url,
                    (shape.loops * 2 + LLM_CONCURRENCY + 4) as u32,
                )
                .await?,
            );
            let rate = run(postgres, dir.path(), shape, mock).await?;
            let goal = if mock.is_some() { ideal } else { 1_000.0 };
            print_row("PostgreSQL", writer, shape.leads, rate, goal);
            database.drop_database().await?;
        }
    } else {
        println!("PostgreSQL skipped: set {TEST_DATABASE_ENV} to run it");
    }
    println!(
        "most LLM requests in flight at once: {} (cap {LLM_CONCURRENCY})",
        mock.max_in_flight()
    );
    println!("goals: offline at least 1,000 leads/s; LLM at least 0.90 of the ideal");
    Ok(())
}

fn print_row(backend: &str, writer: &str, leads: usize, rate: f64, goal: f64) {
    println!(
        "| {backend} | {writer} | {leads} | {:.2} | {rate:.0} | {goal:.0} | {:.2} |",
        leads as f64 / rate,
        rate / goal
    );
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The run's size: leads and worker loops.
#[derive(Clone, Copy)]
struct Shape {
    leads: usize,
    loops: usize,
}

/// Seeds the leads and an enrolled campaign, then times the launch and the
/// worker loops until every lead has a scheduled message.
async fn run(
    store: Arc<dyn Store>,
    dir: &std::path::Path,
    shape: Shape,
    mock: Option<&MockLlmServer>,
) -> anyhow::Result<f64> {
    let app = app(store.clone(), dir, mock)?;
    let actor = Actor::system("bench");
    let (account, campaign) = seed(&app, shape.leads).await?;

    let started = Instant::now();
    campaigns::launch_campaign(&app, account, &actor, campaign).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..shape.loops {
        let worker = Worker::new(
            app.clone(),
            format!("crew-{index}"),
            Duration::from_millis(5),
        );
        let stopped = stopped.clone();
        tasks.spawn(async move { worker.run(stopped).await });
    }
    while scheduled(&store, account, campaign).await? < shape.leads {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if started.elapsed() > Duration::from_secs(900) {
            anyhow::bail!("the crew took longer than 15 minutes");
        }
    }
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(shape.leads as f64 / elapsed.as_secs_f64())
}

fn app(
    store: Arc<dyn Store>,
    dir: &std::path::Path,
    mock: Option<&MockLlmServer>,
) -> anyhow::Result<App> {
    // Caps high enough that every message finds a slot at once: the
    // throttle is not what this measures.
    let throttle = ThrottleSettings {
        identity_hourly_cap: 1_000_000,
        domain_hourly_cap: 1_000_000,
        identity_daily_cap: 1_000_000,
        domain_daily_cap: 1_000_000,
        ..ThrottleSettings::default()
    };
    let settings = AppSettings {
        send_spacing: Duration::ZERO,
        batch_size: 1,
        throttle,
        ..AppSettings::default()
    };
    let mut app = App::with_outbox(store, dir.join("outbox"), KEY, settings)?;
    let Some(mock) = mock else {
        return Ok(app);
    };

    let ledger: Arc<dyn BudgetLedger> =
        if std::env::var("REKINDLE_BENCH_LEDGER").as_deref() == Ok("memory") {
            Arc::new(InMemoryLedger::new())
        } else {
            Arc::new(StoreLedger::new(app.store.clone()))
        };
    let client = LlmClient::from_config(&llm_config(mock), ledger)?
        .context("the benchmark configures an LLM provider")?;
    app.ai = AiAgents::with_client(Arc::new(client));
    app.crew = Arc::new(ReactivationCrew::offline(CrewConfig {
        lead_concurrency: LLM_CONCURRENCY,
        ..CrewConfig::default()
    }));
    Ok(app)
}

fn llm_config(mock: &MockLlmServer) -> LlmConfig {
    let mut config = LlmConfig {
        provider: LlmProviderKind::Openai,
        base_url: Some(format!("{}/v1", mock.base_url())),
        model: Some(MODEL.into()),
        timeout_seconds: 10,
        max_retries: 0,
        account_concurrency: LLM_CONCURRENCY as u32,
        global_concurrency: LLM_CONCURRENCY as u32,
        ..LlmConfig::default()
    };
    config.daily_budget_usd.enterprise = 1_000.0;
    config.prices.insert(
        MODEL.into(),
        LlmModelPrice {
            input_usd_per_million: 0.15,
            output_usd_per_million: 0.60,
        },
    );
    config
}

/// Returns research grounded in the one note every lead has.
fn research() -> serde_json::Value {
    json!({
        "hook": {"source": "note", "number": 1, "cue": "asked_for_pricing", "period": null, "summary": null},
        "signals": [],
        "opt_out_noted": false
    })
}

/// Returns a draft that passes the writer's checks for every lead.
fn draft() -> serde_json::Value {
    json!({
        "subject": "Updated pricing options since we last spoke",
        "body": "Hi there,\n\nIt has been a while since we last spoke, and I wanted to pick up \
                 the thread. You asked about pricing in the spring, and our options have become \
                 a lot more flexible since then, with smaller starting plans and no long \
                 commitment.\n\nSeveral teams similar to yours have started small this year and \
                 grown from there, which might suit the way you described your priorities back \
                 then.\n\nWould a short call next week be useful to see whether the new options \
                 fit? Even a quick reply helps me know whether to check back later.\n\n\
                 Best regards,\nSam Carter",
    })
}

async fn scheduled(
    store: &Arc<dyn Store>,
    account: AccountId,
    campaign: CampaignId,
) -> anyhow::Result<usize> {
    let mut tx = store.begin(account).await?;
    let counts = tx.count_messages_by_step(campaign).await?;
    tx.commit().await?;
    Ok(counts.iter().map(|count| count.count as usize).sum())
}

/// Creates an account with `leads` leads enrolled in a one-step email
/// campaign whose first send is a day after launch.
async fn seed(app: &App, leads: usize) -> anyhow::Result<(AccountId, CampaignId)> {
    let now = Utc::now();
    let actor = Actor::system("bench");
    let mut system = app.store.begin_system("bench").await?;
    let account = system
        .create_account(
            &NewAccount {
                name: "Crew Ltd".into(),
                sender_name: "Sam Carter".into(),
                sender_email: "sam@crew.example.com".into(),
                postal_address: "1 Crew Street, London EC1A 1AA".into(),
                time_zone: "Europe/London".into(),
                acv_minor: 500_000,
                currency: "GBP".into(),
                plan: Plan::Enterprise,
            },
            &actor,
            now,
        )
        .await?;
    system.commit().await?;

    let new_leads: Vec<NewLead> = (0..leads)
        .map(|index| NewLead {
            id: LeadId::new(),
            fields: LeadFields {
                email: Email::parse(&format!("lead{index}@customer{}.example.com", index % 500))
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
    tx.insert_leads(&new_leads, now).await?;
    tx.commit().await?;

    let spec = CampaignSpec {
        name: "Crew run".into(),
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
            delay_days: 1,
        }],
    };
    let (campaign, _) = campaigns::create_campaign(app, account.id, &actor, &spec).await?;
    for chunk in new_leads.chunks(1_000) {
        let ids: Vec<LeadId> = chunk.iter().map(|lead| lead.id).collect();
        campaigns::enroll_leads(app, account.id, &actor, campaign.id, &ids).await?;
    }
    Ok((account.id, campaign.id))
}
