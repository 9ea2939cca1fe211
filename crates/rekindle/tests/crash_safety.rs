//! Crash safety with real worker processes on PostgreSQL: a campaign of 1,000
//! emails goes to a SendGrid mock on loopback, the worker is killed with
//! SIGKILL midway, and two workers finish the campaign. Every message reaches
//! the provider at least once. A message is sent twice only if it was in flight
//! when the worker died (the at-least-once window in docs/architecture.md), and
//! the two workers never send one message twice between them.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Utc, Weekday};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Channel, Email, LeadId, MessageStatus, Plan, Tone};
use rekindle_services::{App, AppSettings, campaigns};
use rekindle_store::{Actor, NewAccount, NewLead, PageRequest, Store};
use rekindle_store_postgres::testing::TestDatabase;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LEADS: usize = 1_000;
const KEY: &str = "crash-safety-master-key-0123456789abcdef";

fn worker(data_dir: &Path, database_url: &str, provider: &str, name: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rekindle"))
        .args(["worker", "--name", name])
        .env("REKINDLE_DATA_DIR", data_dir)
        .env("REKINDLE_DATABASE_URL", database_url)
        .env("REKINDLE_MASTER_KEY", KEY)
        .env("REKINDLE_EMAIL_PROVIDER", "sendgrid")
        .env("REKINDLE_SENDGRID_API_KEY", "SG.test-key.value")
        .env("REKINDLE_SENDGRID_BASE_URL", provider)
        .env("REKINDLE_WORKER_SEND_SPACING_SECONDS", "0")
        .env("REKINDLE_WORKER_LEASE_SECONDS", "10")
        .env("REKINDLE_WORKER_POLL_INTERVAL_MS", "50")
        .env("REKINDLE_WORKER_CONCURRENCY", "4")
        .env("REKINDLE_LOG_LEVEL", "warn")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_kill_loses_and_doubles_nothing() {
    let Some(database) = TestDatabase::create("crash_safety").await.unwrap() else {
        return;
    };
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(database.store().await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    seed(&store, dir.path()).await;

    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("X-Message-Id", "sg-id")
                .set_delay(Duration::from_millis(5)),
        )
        .mount(&provider)
        .await;

    // The first worker runs until a third of the campaign has gone out, then dies.
    let mut first = worker(dir.path(), &database.app_url, &provider.uri(), "first");
    wait_until(Duration::from_secs(180), || async {
        provider.received_requests().await.unwrap_or_default().len() >= LEADS / 3
    })
    .await;
    first.kill().unwrap();
    first.wait().unwrap();
    let sent_before_kill = provider.received_requests().await.unwrap().len();

    // Two workers pick up the rest, including the dead worker's leased jobs
    // once their 10-second lease runs out.
    let mut second = worker(dir.path(), &database.app_url, &provider.uri(), "second");
    let mut third = worker(dir.path(), &database.app_url, &provider.uri(), "third");
    let finished = wait_until(Duration::from_secs(240), || async {
        count_sent(&store).await >= LEADS
    })
    .await;
    for child in [&mut second, &mut third] {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        child.wait().unwrap();
    }
    assert!(
        finished,
        "only {} of {LEADS} messages were sent",
        count_sent(&store).await
    );

    // Count the provider's requests per message, before and after the kill.
    let mut before: HashMap<String, usize> = HashMap::new();
    let mut after: HashMap<String, usize> = HashMap::new();
    let requests = provider.received_requests().await.unwrap();
    for (index, request) in requests.iter().enumerate() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let id = body["custom_args"]["rekindle_message_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let counts = if index < sent_before_kill {
            &mut before
        } else {
            &mut after
        };
        *counts.entry(id).or_default() += 1;
    }
    let reached: std::collections::HashSet<&String> = before.keys().chain(after.keys()).collect();
    assert_eq!(reached.len(), LEADS, "every message reached the provider");
    assert!(
        before.values().all(|count| *count == 1),
        "the first worker sent a message twice"
    );
    assert!(
        after.values().all(|count| *count == 1),
        "the two surviving workers sent a message twice"
    );
    // A message sent on both sides of the kill was in flight when the worker
    // died: at most one batch (20 jobs) for each of its four loops.
    let repeated = before.keys().filter(|id| after.contains_key(*id)).count();
    assert!(repeated <= 4 * 20, "{repeated} messages were sent twice");
    eprintln!(
        "crash safety: {sent_before_kill} requests before the kill, {} after, {repeated} messages sent twice",
        requests.len() - sent_before_kill
    );
    database.drop_database().await.unwrap();
}

async fn count_sent(store: &std::sync::Arc<dyn Store>) -> usize {
    let mut system = store.begin_system("test").await.unwrap();
    let accounts = system.list_account_ids().await.unwrap();
    system.commit().await.unwrap();
    let mut tx = store.begin(accounts[0]).await.unwrap();
    let mut sent = 0;
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let messages = tx.list_messages(None, page).await.unwrap();
        sent += messages
            .items
            .iter()
            .filter(|m| m.status == MessageStatus::Sent)
            .count();
        match messages.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    tx.commit().await.unwrap();
    sent
}

/// Polls `done` every 200 ms until it is true or `limit` passes.
async fn wait_until<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

async fn seed(store: &std::sync::Arc<dyn Store>, dir: &Path) {
    let app = App::with_outbox(
        store.clone(),
        dir.join("outbox"),
        KEY.as_bytes(),
        AppSettings::default(),
    )
    .unwrap();
    let now = Utc::now();
    let actor = Actor::system("test");
    let mut system = store.begin_system("test").await.unwrap();
    let account = system
        .create_account(
            &NewAccount {
                name: "Crash Ltd".into(),
                sender_name: "Casey".into(),
                sender_email: "casey@crash.example.com".into(),
                postal_address: "1 Crash Street, London EC1A 1AA".into(),
                time_zone: "Europe/London".into(),
                acv_minor: 500_000,
                currency: "GBP".into(),
                plan: Plan::Pro,
            },
            &actor,
            now,
        )
        .await
        .unwrap();
    system.commit().await.unwrap();

    let leads: Vec<NewLead> = (0..LEADS)
        .map(|index| NewLead {
            id: LeadId::new(),
            fields: LeadFields {
                email: Some(
                    Email::parse(&format!("lead{index}@customer{}.example.com", index % 50))
                        .unwrap(),
                ),
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
    let mut tx = store.begin(account.id).await.unwrap();
    tx.insert_leads(&leads, now).await.unwrap();
    tx.commit().await.unwrap();

    let spec = CampaignSpec {
        name: "Crash run".into(),
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
    let (campaign, _) = campaigns::create_campaign(&app, account.id, &actor, &spec)
        .await
        .unwrap();
    let ids: Vec<LeadId> = leads.iter().map(|lead| lead.id).collect();
    campaigns::enroll_leads(&app, account.id, &actor, campaign.id, &ids)
        .await
        .unwrap();
    campaigns::launch_campaign(&app, account.id, &actor, campaign.id)
        .await
        .unwrap();
}
