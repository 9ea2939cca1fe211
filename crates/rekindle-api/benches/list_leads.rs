//! Benchmark of `GET /api/v1/leads` (a page of 50, JWT, PostgreSQL with
//! row-level security) under `wrk`, next to a minimal handler of the same server
//! that returns a fixed JSON body through the same layers (request id, problem
//! rendering, client IP, security headers, CORS, authentication and rate limits),
//! measured in the same run.
//!
//! Run: `REKINDLE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
//! cargo bench -p rekindle-api --bench list_leads`. It needs `wrk` on the PATH
//! (Debian package `wrk`). `REKINDLE_BENCH_SECONDS` sets each run's length
//! (default 10) and `REKINDLE_BENCH_CONNECTIONS` the connections (default 64).
//! The benchmark creates a throwaway database and drops it at the end. It prints
//! a table and asserts nothing about time.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Json;
use axum::routing::get;
use chrono::Utc;
use rekindle_api::{ApiSettings, ApiState, RateLimits};
use rekindle_auth::{ACCESS_TOKEN_KEY_PURPOSE, AccessTokenIssuer, derive_key};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Email, LeadId, Plan, UserId, UserRole};
use rekindle_ratelimit::{Limiters, Quota};
use rekindle_services::{App, AppSettings};
use rekindle_store::{Actor, NewAccount, NewLead, NewUser, Store};
use rekindle_store_postgres::testing::{TEST_DATABASE_ENV, TestDatabase};

const KEY: &[u8] = b"benchmark-master-key-0123456789abcdef-0123";
const LEADS: usize = 2_000;
/// Database connections of the API process (the `database.max_connections`
/// default), unless `REKINDLE_BENCH_POOL` says otherwise.
const DEFAULT_POOL: u64 = 8;

struct Run {
    requests_per_second: f64,
    p99_ms: f64,
    non_2xx: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var(TEST_DATABASE_ENV).is_err() {
        eprintln!("skipped: set {TEST_DATABASE_ENV} to a loopback PostgreSQL server's owner URL");
        return Ok(());
    }
    let seconds: u64 = env_number("REKINDLE_BENCH_SECONDS", 10);
    let connections: u64 = env_number("REKINDLE_BENCH_CONNECTIONS", 64);
    let pool = env_number("REKINDLE_BENCH_POOL", DEFAULT_POOL) as u32;
    let database = TestDatabase::create("bench_list_leads")
        .await?
        .context("no PostgreSQL configured")?;
    // A pool of the size a deployment would configure, not the tests' small one.
    let store: Arc<dyn Store> = Arc::new(
        rekindle_store_postgres::PostgresStore::connect(&app_url(&database.app_url), pool).await?,
    );
    let (account, user) = seed(store.as_ref()).await?;

    let dir = tempfile::tempdir()?;
    let app = App::with_outbox(
        store.clone(),
        dir.path().join("outbox"),
        KEY,
        AppSettings::default(),
    )?;
    // Budgets far above what the run can reach, so every request is checked but none refused.
    let unlimited = Quota::new(30_000_000, Duration::from_secs(60))?;
    let settings = ApiSettings {
        upload_dir: dir.path().join("uploads"),
        limits: RateLimits {
            public_per_ip: unlimited,
            login_per_ip: unlimited,
            per_user: unlimited,
            per_account: unlimited,
            ai_per_user: unlimited,
            ai_per_account: unlimited,
            ai_concurrency: 64,
        },
        ..ApiSettings::default()
    };
    let state = ApiState::new(app, settings, KEY, Limiters::in_memory(100_000))?;
    let minimal = axum::Router::new().route(
        "/bench/fixed",
        get(|| async { Json(serde_json::json!({ "items": [], "next": null })) }),
    );
    let router = rekindle_api::router_with(state, minimal);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let token = AccessTokenIssuer::new(
        derive_key(KEY, ACCESS_TOKEN_KEY_PURPOSE),
        "rekindle".into(),
        "rekindle-api".into(),
        // The server's own lifetime: it rejects tokens that claim a longer one.
        ApiSettings::default().access_token_ttl,
    )?
    .issue(user, account, UserRole::Owner, Utc::now())?
    .token;

    let base = format!("http://{address}");
    for path in ["/bench/fixed", "/api/v1/leads?limit=50"] {
        let response = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "{path} answered {status} before the run: {}",
                response.text().await?
            );
        }
    }
    let minimal = wrk(&format!("{base}/bench/fixed"), &token, seconds, connections)?;
    let leads = wrk(
        &format!("{base}/api/v1/leads?limit=50"),
        &token,
        seconds,
        connections,
    )?;
    server.abort();
    database.drop_database().await?;

    println!(
        "GET /api/v1/leads, page of 50, JWT, PostgreSQL with RLS, {connections} connections, {seconds} s each, {LEADS} leads"
    );
    println!("| endpoint | requests/s | p99 ms | non-2xx |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| minimal handler, same layers | {:.0} | {:.2} | {} |",
        minimal.requests_per_second, minimal.p99_ms, minimal.non_2xx
    );
    println!(
        "| GET /api/v1/leads | {:.0} | {:.2} | {} |",
        leads.requests_per_second, leads.p99_ms, leads.non_2xx
    );
    println!(
        "ratio to the minimal handler: {:.2} (goal: at least 0.25); goal 5,000 requests/s with p99 under 20 ms",
        leads.requests_per_second / minimal.requests_per_second
    );
    Ok(())
}

/// The application role's URL, with TLS turned off unless
/// `REKINDLE_BENCH_DATABASE_TLS` is set: the server is on loopback, where
/// encryption only adds CPU work on both sides.
fn app_url(url: &str) -> String {
    if std::env::var_os("REKINDLE_BENCH_DATABASE_TLS").is_some() {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Creates an account, its owner and `LEADS` leads.
async fn seed(store: &dyn Store) -> anyhow::Result<(rekindle_domain::AccountId, UserId)> {
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
    let user = tx
        .insert_user(
            account.id,
            &NewUser {
                id: UserId::new(),
                email: "owner@bench.example.com".into(),
                password_hash: None,
                role: UserRole::Owner,
                external_subject: None,
            },
            now,
        )
        .await?;
    tx.commit().await?;

    let leads: Vec<NewLead> = (0..LEADS)
        .map(|index| NewLead {
            id: LeadId::new(),
            fields: LeadFields {
                email: Some(
                    Email::parse(&format!("lead{index}@bench.example.com")).expect("valid email"),
                ),
                first_name: Some(format!("Lead{index}")),
                company: Some("Bench Customer Ltd".into()),
                job_title: Some("Head of Operations".into()),
                notes: Some("Asked for a proposal last year; budget moved to Q3.".into()),
                ..LeadFields::default()
            },
            import_id: None,
            import_ref: None,
        })
        .collect();
    let mut tx = store.begin(account.id).await?;
    tx.insert_leads(&leads, now).await?;
    tx.commit().await?;
    Ok((account.id, user.id))
}

/// Runs wrk against `url` and reads its requests per second and 99th percentile.
fn wrk(url: &str, token: &str, seconds: u64, connections: u64) -> anyhow::Result<Run> {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-H",
            &format!("Authorization: Bearer {token}"),
            url,
        ])
        .output()
        .context("cannot run wrk; install it (Debian package `wrk`)")?;
    if !output.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let requests_per_second = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .context("wrk printed no Requests/sec")?;
    let p99_ms = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .map(|value| parse_latency(value.trim()))
        .context("wrk printed no 99% latency")?;
    let non_2xx = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    Ok(Run {
        requests_per_second,
        p99_ms,
        non_2xx,
    })
}

/// Converts wrk's latency (`1.23ms`, `850.00us`, `1.02s`) to milliseconds.
fn parse_latency(text: &str) -> f64 {
    let (number, factor) = if let Some(value) = text.strip_suffix("us") {
        (value, 0.001)
    } else if let Some(value) = text.strip_suffix("ms") {
        (value, 1.0)
    } else if let Some(value) = text.strip_suffix('s') {
        (value, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * factor
}
