//! A send job that runs when the lead's window is closed is put back until the
//! window opens, without spending an attempt and without sending.

mod common;

use chrono::{Datelike, Duration, Utc};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::*;
use rekindle_services::campaigns;
use rekindle_services::worker::{Worker, WorkerStats};
use rekindle_store::{Actor, LeadFilter, NewLead, PageRequest};
use rekindle_store_conformance::{Harness, create_account};

on_both_backends!(late_send_waits_for_window => check_late_send);

async fn check_late_send(harness: &Harness) {
    let outbox = tempfile::tempdir().unwrap();
    let app = common::app(harness, outbox.path().to_owned());
    let account = create_account(app.store.as_ref(), "Windowed Ltd").await;
    let actor = Actor::system("test");

    let lead = NewLead {
        id: LeadId::new(),
        fields: rekindle_domain::lead::LeadFields {
            email: Some(Email::parse("olivia@tidewater.example").unwrap()),
            first_name: Some("Olivia".into()),
            company: Some("Tidewater Labs".into()),
            job_title: Some("CEO".into()),
            notes: Some("Asked for a proposal in May".into()),
            ..Default::default()
        },
        import_id: None,
        import_ref: None,
    };
    let mut tx = app.store.begin(account).await.unwrap();
    tx.insert_lead(&lead, Utc::now()).await.unwrap();
    tx.commit().await.unwrap();

    // The window is open only on the weekday three days from now, so it is
    // closed now whatever the hour.
    let open_day = (Utc::now() + Duration::days(3)).weekday();
    let spec = CampaignSpec {
        name: "Windowed".into(),
        tone: Tone::Friendly,
        window: SendingWindow {
            weekdays: vec![open_day],
            start_hour: 9,
            end_hour: 17,
        },
        steps: vec![StepSpec {
            channel: Channel::Email,
            delay_days: 0,
        }],
    };
    let (campaign, _) = campaigns::create_campaign(&app, account, &actor, &spec)
        .await
        .unwrap();
    campaigns::enroll_leads(&app, account, &actor, campaign.id, &[lead.id])
        .await
        .unwrap();
    campaigns::launch_campaign(&app, account, &actor, campaign.id)
        .await
        .unwrap();
    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    worker.run_due(Utc::now(), 20).await.unwrap();

    let mut tx = app.store.begin(account).await.unwrap();
    let message = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap()
        .items
        .remove(0);
    tx.commit().await.unwrap();
    assert!(message.scheduled_at > Utc::now());

    // Make the send job late: due an hour ago, when the window was closed.
    let mut system = app.store.begin_system("test").await.unwrap();
    let job = system
        .list_jobs(Some(JobStatus::Queued), PageRequest::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|job| job.kind == "send_message")
        .unwrap();
    system
        .defer_job(job.id, Utc::now() - Duration::hours(1), Utc::now())
        .await
        .unwrap();
    system.commit().await.unwrap();

    let mut stats = WorkerStats::default();
    worker.run_once(Utc::now(), &mut stats).await.unwrap();
    assert_eq!(stats.deferred, 1, "{stats:?}");

    let mut system = app.store.begin_system("test").await.unwrap();
    let queued = system
        .list_jobs(Some(JobStatus::Queued), PageRequest::default())
        .await
        .unwrap();
    system.commit().await.unwrap();
    let job = queued
        .items
        .iter()
        .find(|j| j.kind == "send_message")
        .unwrap();
    assert_eq!(
        job.run_at, message.scheduled_at,
        "the job waits for the window"
    );
    assert_eq!(job.attempts, 0, "a deferral spends no attempt");
    let mut tx = app.store.begin(account).await.unwrap();
    let after = tx.get_message(message.id).await.unwrap().unwrap();
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(after.status, MessageStatus::Scheduled);
    assert_eq!(leads.items.len(), 1);
    let sent_files = std::fs::read_dir(outbox.path().join("email"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(sent_files, 0, "nothing was sent");
}
