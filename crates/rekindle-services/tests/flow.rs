//! The main flow through the services, checked in the database: import, launch,
//! crew, send to the outbox, reply; and atomicity when a write fails midway.

mod common;

use chrono::{Duration, Utc};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::*;
use rekindle_import::ImportOptions;
use rekindle_services::import::{ImportRequest, import_csv};
use rekindle_services::replies::{InboundReply, ingest_reply};
use rekindle_services::worker::Worker;
use rekindle_services::{App, campaigns, sequence};
use rekindle_store::{Actor, CrewRunFilter, LeadFilter, PageRequest};
use rekindle_store_conformance::{Harness, create_account};

on_both_backends!(
    campaign_sends_and_stops_on_opt_out => check_campaign_flow,
    failed_import_batch_writes_nothing => check_import_atomicity,
    failed_launch_writes_nothing => check_launch_atomicity,
    out_of_office_pauses_then_resumes => check_out_of_office_resume,
    transient_writer_failure_retries_lead => check_crew_retry,
    send_out_of_attempts_marks_message_failed => check_send_dead_letter,
);

const CSV: &str = "first_name,last_name,email,phone,company,job_title,notes\n\
Olivia,Grant,olivia.grant@tidewater.example,+1 212 555 0100,Tidewater Labs,CEO,Asked for a proposal at the Q4 conference\n\
Noah,Fischer,noah@pinecrest-hr.example,,Pinecrest HR,CTO,Demo no-show in May\n\
Emma,Costa,emma.costa@bluefin.example,,Bluefin Media,VP of Sales,\"Said 'not now, maybe next year'\"\n";

async fn import(
    app: &App,
    account: AccountId,
    csv: &'static str,
) -> rekindle_services::import::ImportSummary {
    let request = ImportRequest {
        file_name: "leads.csv".into(),
        options: ImportOptions::default(),
        bytes_read: None,
    };
    import_csv(
        app,
        account,
        &Actor::system("test"),
        csv.as_bytes(),
        request,
    )
    .await
    .unwrap()
}

fn spec() -> CampaignSpec {
    CampaignSpec {
        name: "Win-back".into(),
        tone: Tone::Friendly,
        window: SendingWindow::default(),
        steps: vec![
            StepSpec {
                channel: Channel::Email,
                delay_days: 0,
            },
            StepSpec {
                channel: Channel::Email,
                delay_days: 3,
            },
        ],
    }
}

async fn lead_ids(app: &App, account: AccountId) -> Vec<LeadId> {
    let mut tx = app.store.begin(account).await.unwrap();
    tx.list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|l| l.id)
        .collect()
}

/// Imports `CSV`, enrolls every lead in a two-step campaign and launches it.
async fn launch_for_all_leads(
    app: &App,
    account: AccountId,
    actor: &Actor,
) -> rekindle_store::Campaign {
    import(app, account, CSV).await;
    let leads = lead_ids(app, account).await;
    let (campaign, _) = campaigns::create_campaign(app, account, actor, &spec())
        .await
        .unwrap();
    let enrolled = campaigns::enroll_leads(app, account, actor, campaign.id, &leads)
        .await
        .unwrap();
    assert_eq!(enrolled as usize, leads.len());
    campaigns::launch_campaign(app, account, actor, campaign.id)
        .await
        .unwrap();
    campaign
}

async fn check_campaign_flow(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Flow Ltd").await;
    let actor = Actor::system("test");
    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));

    let summary = import(&app, account, CSV).await;
    assert_eq!(summary.counts.imported, 3);
    worker.run_due(Utc::now(), 100).await.unwrap();

    let leads = lead_ids(&app, account).await;
    let (campaign, _) = campaigns::create_campaign(&app, account, &actor, &spec())
        .await
        .unwrap();
    assert_eq!(
        campaigns::enroll_leads(&app, account, &actor, campaign.id, &leads)
            .await
            .unwrap(),
        3
    );
    campaigns::launch_campaign(&app, account, &actor, campaign.id)
        .await
        .unwrap();
    worker.run_due(Utc::now(), 100).await.unwrap();

    // Every lead is scored and has a first message scheduled in its window.
    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(messages.len(), 3);
    assert!(
        messages
            .iter()
            .all(|m| m.status == MessageStatus::Scheduled)
    );
    let latest = messages.iter().map(|m| m.scheduled_at).max().unwrap();
    for id in &leads {
        assert!(tx.get_lead(*id).await.unwrap().unwrap().score.is_some());
    }
    drop(tx);

    worker.run_due(latest, 100).await.unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    let sent: Vec<_> = messages
        .iter()
        .filter(|m| m.status == MessageStatus::Sent)
        .collect();
    assert_eq!(sent.len(), 3, "{messages:?}");
    assert!(
        messages
            .iter()
            .all(|m| m.status != MessageStatus::Scheduled),
        "the second step is written only when it is due"
    );
    drop(tx);
    // The engagement crew prepares each lead's second step three days after
    // the lead's first message.
    let mut system = app.store.begin_system("test").await.unwrap();
    let follow_up_jobs: Vec<_> = system
        .list_jobs(None, PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|job| job.kind == "prepare_step" && job.status == JobStatus::Queued)
        .collect();
    drop(system);
    assert_eq!(follow_up_jobs.len(), 3, "{follow_up_jobs:?}");
    for message in &sent {
        let due = message.sent_at.unwrap() + Duration::days(3);
        assert!(
            follow_up_jobs.iter().any(|job| job.run_at == due),
            "no follow-up job at {due} for {message:?}"
        );
    }
    let eml_files = std::fs::read_dir(dir.path().join("email")).unwrap().count();
    assert_eq!(eml_files, 3);

    // An opt-out reply suppresses the contact and cancels the follow-up.
    let target = sent[0];
    let reply = InboundReply {
        channel: Channel::Email,
        from: target.to_address.clone(),
        subject: None,
        text: "Please remove me from your list.".into(),
        in_reply_to: Some(target.rfc_message_id.clone()),
        received_at: Utc::now(),
    };
    let ingested = ingest_reply(&app, account, &reply).await.unwrap();
    assert_eq!(ingested.classification.label, ReplyLabel::OptOut);

    let mut tx = app.store.begin(account).await.unwrap();
    assert_eq!(
        tx.suppressed_values(ContactKind::Email, std::slice::from_ref(&target.to_address))
            .await
            .unwrap()
            .len(),
        1
    );
    let lead = tx.get_lead(target.lead_id).await.unwrap().unwrap();
    assert_eq!(lead.status, LeadStatus::Suppressed);
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    let of_lead: Vec<_> = messages
        .iter()
        .filter(|m| m.lead_id == target.lead_id)
        .collect();
    assert!(of_lead.iter().any(|m| m.status == MessageStatus::Replied));
    let enrollment = tx
        .get_enrollment(target.enrollment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enrollment.status, EnrollmentStatus::Stopped);
    let funnel = tx.funnel(Some(campaign.id)).await.unwrap();
    assert_eq!(funnel.sent, 3);
    assert_eq!(funnel.opted_out, 1);
    drop(tx);

    // Nothing more goes to the opted-out lead even when the follow-ups fall due.
    worker
        .run_due(latest + Duration::days(10), 100)
        .await
        .unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    let sent_to_lead = messages
        .iter()
        .filter(|m| m.lead_id == target.lead_id && m.status == MessageStatus::Sent)
        .count();
    assert_eq!(sent_to_lead, 0);
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.status == MessageStatus::Sent)
            .count(),
        4
    );
    drop(tx);
    assert!(
        rekindle_store::audit::verify_all(&*app.store)
            .await
            .unwrap()
            .breaks
            .is_empty()
    );
}

/// Installs a trigger that rejects one insert, as a failure between two writes.
async fn inject_failure(harness: &Harness, table: &str, condition: &str) {
    let sql = match harness {
        Harness::Sqlite { .. } => format!(
            "CREATE TRIGGER injected_failure BEFORE INSERT ON {table} WHEN {condition} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ),
        Harness::Postgres { .. } => format!(
            "CREATE FUNCTION injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF {condition} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER injected_failure BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION injected_failure();"
        ),
    };
    harness.owner_execute(&sql).await;
}

async fn check_import_atomicity(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Atomic Ltd").await;
    // The third lead's insert fails after the first two leads were written.
    inject_failure(harness, "leads", "NEW.email = 'emma.costa@bluefin.example'").await;

    let request = ImportRequest {
        file_name: "leads.csv".into(),
        options: ImportOptions::default(),
        bytes_read: None,
    };
    let result = import_csv(
        &app,
        account,
        &Actor::system("test"),
        CSV.as_bytes(),
        request,
    )
    .await;
    let summary = result.unwrap();
    assert!(
        summary
            .error
            .as_deref()
            .unwrap_or("")
            .contains("injected failure"),
        "{summary:?}"
    );
    assert_eq!(summary.status, ImportStatus::Failed);

    assert!(
        lead_ids(&app, account).await.is_empty(),
        "no lead of the failed batch was kept"
    );
    let mut tx = app.store.begin(account).await.unwrap();
    let stored = tx.get_import(summary.import_id).await.unwrap().unwrap();
    assert_eq!(stored.counts.imported, 0);
    assert!(
        tx.list_import_rows(summary.import_id, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    let mut system = app.store.begin_system("test").await.unwrap();
    let jobs = system
        .list_jobs(None, PageRequest::default())
        .await
        .unwrap();
    assert!(
        jobs.items.is_empty(),
        "no scoring job for a batch that was rolled back"
    );
    let entries = system.list_audit(account, 0, 100).await.unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.record.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["account.create", "import.start", "import.finish"]
    );
}

async fn check_launch_atomicity(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Atomic Ltd").await;
    let actor = Actor::system("test");
    import(&app, account, CSV).await;
    let leads = lead_ids(&app, account).await;
    let (campaign, _) = campaigns::create_campaign(&app, account, &actor, &spec())
        .await
        .unwrap();
    campaigns::enroll_leads(&app, account, &actor, campaign.id, &leads)
        .await
        .unwrap();

    // The audit entry, written after the status change and the jobs, fails.
    inject_failure(harness, "audit_log", "NEW.action = 'campaign.launch'").await;
    let result = campaigns::launch_campaign(&app, account, &actor, campaign.id).await;
    assert!(result.is_err());

    let mut tx = app.store.begin(account).await.unwrap();
    assert_eq!(
        tx.get_campaign(campaign.id).await.unwrap().unwrap().status,
        CampaignStatus::Draft
    );
    drop(tx);
    let mut system = app.store.begin_system("test").await.unwrap();
    let jobs = system
        .list_jobs(None, PageRequest::default())
        .await
        .unwrap();
    assert!(
        jobs.items.iter().all(|job| job.kind != "prepare_step"),
        "{:?}",
        jobs.items
    );
}

async fn check_out_of_office_resume(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Pause Ltd").await;
    let actor = Actor::system("test");
    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    let campaign = launch_for_all_leads(&app, account, &actor).await;
    worker.run_due(Utc::now(), 100).await.unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let first = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    drop(tx);
    let latest = first.iter().map(|m| m.scheduled_at).max().unwrap();
    worker.run_due(latest, 100).await.unwrap();

    let target = first[0].clone();
    let received = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let reply = InboundReply {
        channel: Channel::Email,
        from: target.to_address.clone(),
        subject: Some("Automatic reply".into()),
        text: "I am out of the office until 15 January 2027 with limited access to email.".into(),
        in_reply_to: Some(target.rfc_message_id.clone()),
        received_at: received,
    };
    let ingested = ingest_reply(&app, account, &reply).await.unwrap();
    assert_eq!(ingested.classification.label, ReplyLabel::OutOfOffice);

    let mut tx = app.store.begin(account).await.unwrap();
    let enrollment = tx
        .get_enrollment(target.enrollment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enrollment.status, EnrollmentStatus::Paused);
    assert_eq!(
        enrollment.current_step, 1,
        "the second step will be prepared after the absence"
    );
    let resume_at = enrollment.next_run_at.unwrap();
    assert_eq!(
        resume_at.date_naive(),
        chrono::NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
    );
    drop(tx);

    // The second step falls due during the absence and is not written.
    worker
        .run_due(resume_at - Duration::hours(1), 100)
        .await
        .unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert!(
        messages
            .iter()
            .all(|m| m.lead_id != target.lead_id || m.step_id == target.step_id),
        "{messages:?}"
    );
    drop(tx);

    assert_eq!(
        sequence::resume_paused(&app, resume_at - Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(sequence::resume_paused(&app, resume_at).await.unwrap(), 1);
    worker.run_due(resume_at, 100).await.unwrap();

    let mut tx = app.store.begin(account).await.unwrap();
    let enrollment = tx
        .get_enrollment(target.enrollment_id)
        .await
        .unwrap()
        .unwrap();
    // Sent at the resume time when the window is open then, else scheduled.
    assert_eq!(enrollment.current_step, 2);
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    let second_steps: Vec<_> = messages
        .iter()
        .filter(|m| m.lead_id == target.lead_id && m.step_id != target.step_id)
        .map(|m| m.status)
        .collect();
    assert_eq!(second_steps.len(), 1, "{second_steps:?}");
    assert!(
        matches!(
            second_steps[0],
            MessageStatus::Scheduled | MessageStatus::Sent
        ),
        "{second_steps:?}"
    );
    let second = messages
        .iter()
        .find(|m| m.lead_id == target.lead_id && m.step_id != target.step_id)
        .unwrap();
    assert!(second.scheduled_at >= resume_at, "{second:?}");
}

/// A writer that fails once, with a transient error, for one address.
struct FlakyWriter {
    email: &'static str,
    failed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl rekindle_crews::MessageWriter for FlakyWriter {
    fn name(&self) -> &'static str {
        "flaky"
    }

    async fn write(
        &self,
        request: &rekindle_crews::WriterRequest,
    ) -> Result<rekindle_crews::Draft, rekindle_crews::StageError> {
        let is_target = request.lead.email.as_ref().map(|e| e.as_str()) == Some(self.email);
        if is_target && !self.failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(rekindle_crews::StageError::transient("provider timed out"));
        }
        rekindle_crews::OfflineWriter.write(request).await
    }
}

async fn check_crew_retry(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let mut app = common::app(harness, dir.path().to_owned());
    let writer = FlakyWriter {
        email: "noah@pinecrest-hr.example",
        failed: Default::default(),
    };
    app.crew = std::sync::Arc::new(rekindle_crews::ReactivationCrew::new(
        std::sync::Arc::new(writer),
        rekindle_crews::CrewConfig::default(),
    ));
    let account = create_account(&*app.store, "Retry Ltd").await;
    let actor = Actor::system("test");
    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    let campaign = launch_for_all_leads(&app, account, &actor).await;

    let now = Utc::now();
    worker.run_due(now, 100).await.unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(messages.len(), 2, "the other leads go on");
    let enrollments = tx
        .list_enrollments(campaign.id, PageRequest::default())
        .await
        .unwrap()
        .items;
    let waiting: Vec<_> = enrollments
        .iter()
        .filter(|e| e.status == EnrollmentStatus::Pending)
        .collect();
    assert_eq!(waiting.len(), 1);
    assert!(
        waiting[0]
            .stop_reason
            .as_deref()
            .unwrap_or("")
            .contains("writer"),
        "{:?}",
        waiting[0]
    );
    drop(tx);

    worker
        .run_due(now + Duration::minutes(2), 100)
        .await
        .unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        messages.len(),
        3,
        "the failed lead was retried from the crew"
    );

    // The retry resumed at the writer: the scorer's and researcher's
    // outputs of the first run were reused, and the writer ran again.
    let runs = tx
        .list_crew_runs(&CrewRunFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items;
    let (first, retried) = (runs.last().unwrap().id, runs[0].id);
    assert_ne!(first, retried);
    let stages = tx.list_stage_runs(retried).await.unwrap();
    let summary = |name: &str| {
        stages
            .iter()
            .find(|stage| stage.stage == name)
            .map(|stage| stage.input_summary.clone())
            .unwrap_or_default()
    };
    let reused = format!("reused from crew run {first}");
    assert_eq!(summary("scorer"), reused);
    assert_eq!(summary("researcher"), reused);
    assert_ne!(summary("writer"), reused);
    assert!(!summary("writer").is_empty());
}

/// An email transport whose provider never responds in time.
struct TimingOutTransport;

#[async_trait::async_trait]
impl rekindle_channels::EmailTransport for TimingOutTransport {
    async fn send_email(
        &self,
        _email: &rekindle_channels::OutboundEmail,
    ) -> Result<rekindle_channels::SendReceipt, rekindle_channels::ChannelError> {
        Err(rekindle_channels::ChannelError::transient(
            "provider timed out",
        ))
    }
}

async fn check_send_dead_letter(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let mut app = common::app(harness, dir.path().to_owned());
    app.email = std::sync::Arc::new(TimingOutTransport);
    app.settings.max_attempts = 2;
    let account = create_account(&*app.store, "Dead Ltd").await;
    let actor = Actor::system("test");
    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    let campaign = launch_for_all_leads(&app, account, &actor).await;
    worker.run_due(Utc::now(), 100).await.unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let scheduled = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    drop(tx);
    let latest = scheduled.iter().map(|m| m.scheduled_at).max().unwrap();

    // The retry delay is counted from the real clock, so a later horizon
    // covers both attempts.
    let stats = worker
        .run_due(latest + Duration::hours(1), 100)
        .await
        .unwrap();
    assert_eq!(stats.dead, 3, "{stats:?}");

    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert!(
        messages.iter().all(|m| m.status == MessageStatus::Failed),
        "{messages:?}"
    );
    assert!(
        messages[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("gave up after 2 attempts")
    );
    let enrollments = tx
        .list_enrollments(campaign.id, PageRequest::default())
        .await
        .unwrap()
        .items;
    assert!(
        enrollments
            .iter()
            .all(|e| e.status == EnrollmentStatus::Failed)
    );
    drop(tx);
    let mut system = app.store.begin_system("test").await.unwrap();
    let dead = system
        .list_jobs(Some(JobStatus::Dead), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(dead.items.len(), 3);
}
