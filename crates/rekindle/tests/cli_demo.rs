//! `rekindle demo` and `rekindle import`, run as a user runs them, with the
//! outcome checked in the SQLite file they wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

use rekindle_domain::AccountId;
use rekindle_store::{LeadFilter, PageRequest, Store};
use rekindle_store_sqlite::SqliteStore;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rekindle-import/tests/fixtures")
}

fn rekindle(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rekindle"));
    command
        .env("REKINDLE_DATA_DIR", data_dir)
        .env_remove("REKINDLE_DATABASE_URL")
        .env_remove("RUST_LOG");
    command
}

async fn only_account(store: &SqliteStore) -> AccountId {
    let mut tx = store.begin_system("test").await.unwrap();
    let ids = tx.list_account_ids().await.unwrap();
    assert_eq!(ids.len(), 1);
    ids[0]
}

/// Runs the demo and returns the number of emails it sent, checked against the
/// database and the outbox.
async fn run_demo(csv: Option<&Path>, extra: &[&str]) -> (usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let mut command = rekindle(dir.path());
    command.arg("demo").arg("--dir").arg(&demo_dir).args(extra);
    if let Some(csv) = csv {
        command.arg("--csv").arg(csv);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Funnel:"), "{stdout}");

    let store = SqliteStore::open(&demo_dir.join("rekindle.sqlite"))
        .await
        .unwrap();
    let account = only_account(&store).await;
    let mut tx = store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(None, PageRequest::new(None, Some(200)))
        .await
        .unwrap()
        .items;
    let sent = messages.iter().filter(|m| m.sent_at.is_some()).count();
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert!(
        leads.iter().all(|lead| lead.score.is_some()),
        "every lead is scored"
    );
    drop(tx);

    let eml = std::fs::read_dir(demo_dir.join("outbox/email"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(eml, sent, "one .eml file per sent email");
    (sent, stdout)
}

#[tokio::test]
async fn demo_runs_on_the_built_in_sample() {
    let (sent, stdout) = run_demo(None, &[]).await;
    // 21 first emails (22 leads, one of them without an email), and a
    // follow-up for each lead but the 4 that replied: one a day after its
    // click, the others when the step falls due.
    assert_eq!(sent, 21 + 17, "{stdout}");
    assert!(
        stdout.contains("16 leads: follow up by email. No reply 3 days"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 lead: follow up by email. The lead clicked a link"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-> opt-out: contact suppressed"),
        "{stdout}"
    );
    assert!(stdout.contains("-> asks for a meeting"), "{stdout}");
    assert!(stdout.contains("hot (80 to 100)"), "{stdout}");
    assert!(stdout.contains("duplicate"), "{stdout}");
}

#[tokio::test]
async fn demo_runs_on_each_fixture() {
    // First emails per file; the demo's 4 replies go to the first 4 leads,
    // and every other lead gets a follow-up.
    let cases = [
        ("hubspot_contacts_bom_crlf.csv", vec![], 7_usize),
        ("excel_de_semicolon.csv", vec!["--default-region", "DE"], 3),
        ("minimal_seven_columns.csv", vec![], 4),
    ];
    for (file, extra, first_emails) in cases {
        let (sent, stdout) = run_demo(Some(&fixtures().join(file)), &extra).await;
        let follow_ups = first_emails.saturating_sub(4);
        assert_eq!(sent, first_emails + follow_ups, "{file}\n{stdout}");
    }
}

#[test]
fn demo_stops_when_the_import_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("no-contact.csv");
    std::fs::write(
        &csv,
        "Full Name,Work Mail,Company\nAda Lovelace,ada@engine.example,Engines\n",
    )
    .unwrap();
    let output = rekindle(dir.path())
        .args(["demo", "--dir"])
        .arg(dir.path().join("demo"))
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("--map"), "{stdout}");
    assert!(!stdout.contains("launched"), "{stdout}");

    let missing = rekindle(dir.path())
        .args(["demo", "--dir"])
        .arg(dir.path().join("other"))
        .args(["--csv", "/nonexistent/leads.csv"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/leads.csv"));
    assert!(
        !dir.path().join("other/rekindle.sqlite").exists(),
        "no database is created for a missing file"
    );
}

#[tokio::test]
async fn import_command_reports_rows_and_rejects_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let output = rekindle(dir.path())
        .args(["import", "--json"])
        .arg(fixtures().join("hubspot_contacts_bom_crlf.csv"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["counts"]["imported"], 8);
    assert_eq!(report["counts"]["duplicates"], 1);
    assert_eq!(report["counts"]["rejected"], 1);
    assert_eq!(report["encoding"], "UTF-8");

    let store = SqliteStore::open(&dir.path().join("rekindle.sqlite"))
        .await
        .unwrap();
    let account = only_account(&store).await;
    let mut tx = store.begin(account).await.unwrap();
    assert_eq!(
        tx.list_leads(&LeadFilter::default(), PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        8
    );
    drop(tx);

    let bad = rekindle(dir.path())
        .args(["import", "--delimiter", "::"])
        .arg(fixtures().join("minimal_seven_columns.csv"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let message = String::from_utf8_lossy(&bad.stderr);
    assert!(
        message.contains("--delimiter") && message.contains("::"),
        "{message}"
    );
}

#[test]
fn production_refuses_a_missing_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = rekindle(dir.path())
        .env("REKINDLE_ENV", "production")
        .env_remove("REKINDLE_MASTER_KEY")
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("REKINDLE_MASTER_KEY"));
}

#[tokio::test]
async fn audit_verify_detects_a_modified_entry() {
    let dir = tempfile::tempdir().unwrap();
    let imported = rekindle(dir.path())
        .arg("import")
        .arg(fixtures().join("minimal_seven_columns.csv"))
        .output()
        .unwrap();
    assert!(imported.status.success());
    let clean = rekindle(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );

    let store = SqliteStore::open(&dir.path().join("rekindle.sqlite"))
        .await
        .unwrap();
    sqlx_tamper(&store).await;
    let broken = rekindle(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stdout).contains("was modified"));
}

async fn sqlx_tamper(store: &SqliteStore) {
    use rekindle_store_sqlite::raw_execute;
    raw_execute(store, "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET action = 'lead.delete' WHERE seq = 2;")
        .await
        .unwrap();
}

#[tokio::test]
async fn serve_runs_scheduler_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let child = rekindle(dir.path())
        .arg("serve")
        .env("REKINDLE_WORKER_POLL_INTERVAL_MS", "50")
        .env("REKINDLE_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // Wait, boundedly (30 s, for a loaded machine), until the scheduler's
    // first job has run.
    let database = dir.path().join("rekindle.sqlite");
    let mut store = None;
    let mut resumed_job_ran = false;
    for _ in 0..300 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if store.is_none() && database.exists() {
            store = SqliteStore::open(&database).await.ok();
        }
        let Some(store) = &store else { continue };
        let mut tx = store.begin_system("test").await.unwrap();
        let jobs = tx
            .list_jobs(
                Some(rekindle_domain::JobStatus::Succeeded),
                PageRequest::default(),
            )
            .await
            .unwrap();
        drop(tx);
        if jobs.items.iter().any(|job| job.kind == "resume_paused") {
            resumed_job_ran = true;
            break;
        }
    }

    let terminated = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(terminated.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        resumed_job_ran,
        "the scheduler's job did not run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "serve did not stop cleanly: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("worker stopped"));
}

#[tokio::test]
async fn import_command_on_postgres() {
    use rekindle_store_postgres::testing::TestDatabase;

    let Some(database) = TestDatabase::create("import_command_on_postgres")
        .await
        .unwrap()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let with_database = |command: &mut Command| {
        command
            .env("REKINDLE_DATABASE_URL", &database.app_url)
            .env("REKINDLE_DATABASE_ADMIN_URL", &database.admin_url);
    };

    let mut migrate = rekindle(dir.path());
    with_database(&mut migrate);
    let migrated = migrate.arg("migrate").output().unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let mut import = rekindle(dir.path());
    with_database(&mut import);
    let output = import
        .args(["import", "--json"])
        .arg(fixtures().join("hubspot_contacts_bom_crlf.csv"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["counts"]["imported"], 8);

    let store = database.store().await.unwrap();
    let mut system = store.begin_system("test").await.unwrap();
    let accounts = system.list_account_ids().await.unwrap();
    drop(system);
    assert_eq!(accounts.len(), 1);
    let mut tx = store.begin(accounts[0]).await.unwrap();
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(leads.len(), 8);
    drop(tx);

    let mut verify = rekindle(dir.path());
    with_database(&mut verify);
    let verified = verify.args(["audit", "verify"]).output().unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );

    store.pool().close().await;
    database.drop_database().await.unwrap();
}

/// Starts `rekindle serve` on a free loopback port and returns the child with
/// the base URL it printed.
fn start_server(data_dir: &Path) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    use std::io::BufRead;

    let mut child = rekindle(data_dir)
        .arg("serve")
        .env("REKINDLE_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    // Reads stderr to the end, so the child never blocks on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.strip_prefix("Rekindle API listening on ") {
                let base = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = sender.send(base);
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let base = receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("serve printed its address");
    (child, base, reader)
}

#[tokio::test]
async fn serve_answers_the_api_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base, reader) = start_server(dir.path());
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();

    let health: serde_json::Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let signup = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&serde_json::json!({
            "account_name": "Served Ltd", "email": "owner@served.example.com",
            "password": "a long enough passphrase", "postal_address": "1 Served Street, Leeds LS1 1AA",
            "time_zone": "Europe/London",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);

    let terminated = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(terminated.success());
    let mut child = child;
    let status = child.wait().unwrap();
    let log = reader.join().unwrap();
    assert!(status.success(), "serve did not stop cleanly: {log}");

    // The account it created is in the database the CLI uses.
    let store = SqliteStore::open(&dir.path().join("rekindle.sqlite"))
        .await
        .unwrap();
    let mut tx = store.begin_system("test").await.unwrap();
    let found = tx
        .find_user_by_email("owner@served.example.com")
        .await
        .unwrap();
    assert!(found.is_some());
}

#[tokio::test]
async fn serve_exits_when_its_port_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = rekindle(dir.path())
        .arg("serve")
        .env("REKINDLE_LISTEN", address.to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}

#[tokio::test]
async fn jobs_discard_removes_a_dead_job() {
    let dir = tempfile::tempdir().unwrap();
    let imported = rekindle(dir.path())
        .arg("import")
        .arg(fixtures().join("minimal_seven_columns.csv"))
        .output()
        .unwrap();
    assert!(imported.status.success());
    let store = std::sync::Arc::new(
        SqliteStore::open(&dir.path().join("rekindle.sqlite"))
            .await
            .unwrap(),
    );
    let account = only_account(&store).await;
    let mut job = rekindle_store::NewJob::now("no_such_job_kind", serde_json::json!({}));
    job.max_attempts = 1;
    let mut tx = store.begin(account).await.unwrap();
    let id = tx.enqueue_job(&job, chrono::Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    let app = rekindle_services::App::with_outbox(
        store.clone(),
        dir.path().join("outbox"),
        &[7; 32],
        rekindle_services::AppSettings::default(),
    )
    .unwrap();
    let worker = rekindle_services::worker::Worker::new(
        app,
        "test-worker",
        std::time::Duration::from_millis(10),
    );
    worker.run_due(chrono::Utc::now(), 10).await.unwrap();

    let dead = rekindle(dir.path())
        .args(["jobs", "dead"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&dead.stdout).contains(&id.to_string()));
    let discarded = rekindle(dir.path())
        .args(["jobs", "discard", &id.to_string()])
        .output()
        .unwrap();
    assert!(discarded.status.success());
    let dead = rekindle(dir.path())
        .args(["jobs", "dead"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&dead.stdout).contains("0 dead jobs"));
    let again = rekindle(dir.path())
        .args(["jobs", "discard", &id.to_string()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not dead"));
}

#[tokio::test]
async fn crew_runs_are_listed_shown_and_retried() {
    // A private person's address without consent has no lawful basis for
    // email, so the crew fails this lead at the compliance gate.
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let csv = dir.path().join("private.csv");
    std::fs::write(
        &csv,
        "first_name,last_name,email,notes\nAva,Stone,ava.stone@mailbox.example,Met at a fair\n",
    )
    .unwrap();
    let imported = rekindle(&data_dir)
        .arg("import")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    launch_one_email_step(&data_dir).await;

    let listed = rekindle(&data_dir)
        .args(["crew-runs", "list", "--status", "failed"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.status.success(), "{stdout}");
    assert!(stdout.contains("1 crew runs"), "{stdout}");
    let run_id = stdout.split_whitespace().next().unwrap().to_owned();

    let show = rekindle(&data_dir)
        .args(["crew-runs", "show", &run_id])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&show.stdout).into_owned();
    assert!(show.status.success(), "{stdout}");
    assert!(stdout.contains("compliance failed"), "{stdout}");
    assert!(
        stdout.contains("permanent: no lawful basis for email"),
        "{stdout}"
    );

    let retried = rekindle(&data_dir)
        .args(["crew-runs", "retry", &run_id])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&retried.stdout).into_owned();
    assert!(
        retried.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    assert!(stdout.contains("queued lead"), "{stdout}");

    // In the database: the enrollment is open again and its crew job queued.
    let store = SqliteStore::open(&data_dir.join("rekindle.sqlite"))
        .await
        .unwrap();
    let account = only_account(&store).await;
    let mut tx = store.begin(account).await.unwrap();
    let run = tx
        .get_crew_run(run_id.parse().unwrap())
        .await
        .unwrap()
        .expect("the listed run exists");
    let failed_lead = tx
        .list_stage_runs(run.id)
        .await
        .unwrap()
        .into_iter()
        .find_map(|stage| stage.lead_id.filter(|_| stage.error.is_some()))
        .expect("a failed stage run names its lead");
    let enrollment = tx
        .find_enrollment(run.campaign_id.unwrap(), failed_lead)
        .await
        .unwrap()
        .unwrap();
    // Open again as before its first step.
    assert_eq!(
        enrollment.status,
        rekindle_domain::EnrollmentStatus::Pending
    );
    let queued = tx
        .list_jobs(
            Some(rekindle_domain::JobStatus::Queued),
            PageRequest::first(200),
        )
        .await
        .unwrap();
    assert!(queued.items.iter().any(|job| job.kind == "prepare_step"));

    // Retrying again finds nothing to retry.
    drop(tx);
    let again = rekindle(&data_dir)
        .args(["crew-runs", "retry", &run_id])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("can be retried"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// Creates a campaign of one email step for every lead of the data
/// directory's only account, launches it and runs the crew.
async fn launch_one_email_step(data_dir: &Path) {
    use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
    use rekindle_services::campaigns;
    use rekindle_store::Actor;

    let store = std::sync::Arc::new(
        SqliteStore::open(&data_dir.join("rekindle.sqlite"))
            .await
            .unwrap(),
    );
    let account = only_account(&store).await;
    let app = rekindle_services::App::with_outbox(
        store.clone(),
        data_dir.join("outbox"),
        &[7; 32],
        rekindle_services::AppSettings::default(),
    )
    .unwrap();
    let actor = Actor::system("test");
    let spec = CampaignSpec {
        name: "Private contacts".into(),
        tone: rekindle_domain::Tone::Friendly,
        window: SendingWindow::default(),
        steps: vec![StepSpec {
            channel: rekindle_domain::Channel::Email,
            delay_days: 0,
        }],
    };
    let (campaign, _) = campaigns::create_campaign(&app, account, &actor, &spec)
        .await
        .unwrap();
    let mut tx = store.begin(account).await.unwrap();
    let leads: Vec<_> = tx
        .list_leads(&LeadFilter::default(), PageRequest::first(10))
        .await
        .unwrap()
        .items
        .iter()
        .map(|lead| lead.id)
        .collect();
    drop(tx);
    campaigns::enroll_leads(&app, account, &actor, campaign.id, &leads)
        .await
        .unwrap();
    campaigns::launch_campaign(&app, account, &actor, campaign.id)
        .await
        .unwrap();
    let worker = rekindle_services::worker::Worker::new(
        app,
        "test-worker",
        std::time::Duration::from_millis(10),
    );
    worker.run_due(chrono::Utc::now(), 10).await.unwrap();
}
