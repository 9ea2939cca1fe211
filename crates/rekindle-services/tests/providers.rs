//! Campaigns sent through a real provider transport (SendGrid, played by a mock
//! server on loopback): provider message ids are stored, a 429 with Retry-After
//! is retried after that wait and then dead-lettered, and an outage opens the
//! circuit.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use rekindle_channels::{SecretString, SendgridConfig, SendgridTransport};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::*;
use rekindle_import::ImportOptions;
use rekindle_services::import::{ImportRequest, import_csv};
use rekindle_services::worker::{Worker, WorkerStats};
use rekindle_services::{App, campaigns};
use rekindle_store::{Actor, LeadFilter, PageRequest};
use rekindle_store_conformance::{Harness, create_account};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_backends!(
    sendgrid_ids_are_stored => check_sendgrid_ids,
    rate_limited_send_dead_letters => check_rate_limited_send,
    provider_outage_opens_circuit => check_circuit_opens,
    whatsapp_goes_through_twilio => check_whatsapp,
);

const CSV: &str = "first_name,email,company,job_title,notes\n\
Olivia,olivia.grant@tidewater.example,Tidewater Labs,CEO,Asked for a proposal at the Q4 conference\n\
Noah,noah@pinecrest-hr.example,Pinecrest HR,CTO,Demo no-show in May\n";

fn app_with_sendgrid(harness: &Harness, outbox: &std::path::Path, provider: &MockServer) -> App {
    let mut app = common::app(harness, outbox.to_owned());
    let mut config = SendgridConfig::new(SecretString::from("SG.test-key.value".to_owned()));
    config.base_url = provider.uri().parse().unwrap();
    app.email = Arc::new(SendgridTransport::new(config).unwrap());
    app
}

/// Imports `csv`, then creates, fills and launches a one-step email campaign.
async fn launch(app: &App, csv: &'static str) -> (AccountId, CampaignId) {
    let account = create_account(app.store.as_ref(), "Provider Ltd").await;
    let actor = Actor::system("test");
    let request = ImportRequest {
        file_name: "leads.csv".into(),
        options: ImportOptions::default(),
        bytes_read: None,
    };
    import_csv(app, account, &actor, csv.as_bytes(), request)
        .await
        .unwrap();
    let spec = CampaignSpec {
        name: "Provider run".into(),
        tone: Tone::Friendly,
        // Always open, so a retry's time is never moved by the window check.
        window: SendingWindow {
            weekdays: vec![
                chrono::Weekday::Mon,
                chrono::Weekday::Tue,
                chrono::Weekday::Wed,
                chrono::Weekday::Thu,
                chrono::Weekday::Fri,
                chrono::Weekday::Sat,
                chrono::Weekday::Sun,
            ],
            start_hour: 0,
            end_hour: 24,
        },
        steps: vec![StepSpec {
            channel: Channel::Email,
            delay_days: 0,
        }],
    };
    let (campaign, _) = campaigns::create_campaign(app, account, &actor, &spec)
        .await
        .unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let leads: Vec<LeadId> = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|lead| lead.id)
        .collect();
    tx.commit().await.unwrap();
    campaigns::enroll_leads(app, account, &actor, campaign.id, &leads)
        .await
        .unwrap();
    campaigns::launch_campaign(app, account, &actor, campaign.id)
        .await
        .unwrap();
    (account, campaign.id)
}

async fn check_sendgrid_ids(harness: &Harness) {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .and(header("authorization", "Bearer SG.test-key.value"))
        .respond_with(ResponseTemplate::new(202).insert_header("X-Message-Id", "sg-message-1"))
        .expect(2)
        .mount(&provider)
        .await;
    let outbox = tempfile::tempdir().unwrap();
    let app = app_with_sendgrid(harness, outbox.path(), &provider);
    let (account, campaign) = launch(&app, CSV).await;

    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    worker
        .run_due(Utc::now() + Duration::days(8), 100)
        .await
        .unwrap();

    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign), PageRequest::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(messages.items.len(), 2);
    for message in &messages.items {
        assert_eq!(message.status, MessageStatus::Sent, "{message:?}");
        assert_eq!(message.provider_message_id.as_deref(), Some("sg-message-1"));
    }
    // The mock checks that it got exactly two requests.
    provider.verify().await;
}

async fn check_rate_limited_send(harness: &Harness) {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "7")
                .set_body_string(r#"{"errors":[{"message":"too many requests"}]}"#),
        )
        .mount(&provider)
        .await;
    let outbox = tempfile::tempdir().unwrap();
    let app = app_with_sendgrid(harness, outbox.path(), &provider);
    let one_lead = "first_name,email,company,job_title,notes\n\
        Olivia,olivia.grant@tidewater.example,Tidewater Labs,CEO,Asked for a proposal in May\n";
    let (account, campaign) = launch(&app, one_lead).await;

    // Write the message; its send is scheduled later, in the lead's window.
    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    worker.run_due(Utc::now(), 20).await.unwrap();
    let send_at = Utc::now() + Duration::days(8);

    // One attempt: the 429 puts the job 7 s (plus jitter) after the attempt.
    let before = Utc::now();
    let mut stats = WorkerStats::default();
    worker.run_once(send_at, &mut stats).await.unwrap();
    assert_eq!(stats.retried, 1, "{stats:?}");
    let mut system = app.store.begin_system("test").await.unwrap();
    let queued = system
        .list_jobs(Some(JobStatus::Queued), PageRequest::default())
        .await
        .unwrap();
    system.commit().await.unwrap();
    let job = queued
        .items
        .iter()
        .find(|job| job.kind == "send_message")
        .unwrap();
    let wait = (job.run_at - before).num_milliseconds();
    assert!((6_500..9_000).contains(&wait), "retry in {wait} ms");
    assert_eq!(job.error_class, Some(ErrorClass::RateLimited));

    // The other attempts get the same 429: dead letter and a failed message.
    worker.run_due(send_at, 20).await.unwrap();
    let mut system = app.store.begin_system("test").await.unwrap();
    let dead = system
        .list_jobs(Some(JobStatus::Dead), PageRequest::default())
        .await
        .unwrap();
    system.commit().await.unwrap();
    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign), PageRequest::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(dead.items.len(), 1);
    assert!(
        dead.items[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("429"),
        "{:?}",
        dead.items[0]
    );
    assert_eq!(messages.items[0].status, MessageStatus::Failed);
}

async fn check_circuit_opens(harness: &Harness) {
    use rekindle_channels::{CircuitConfig, CircuitEmailTransport, CircuitRegistry};
    use rekindle_services::circuit_alerts::AlertingObserver;

    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .respond_with(ResponseTemplate::new(503).set_body_string("service unavailable"))
        .mount(&provider)
        .await;
    let outbox = tempfile::tempdir().unwrap();
    let mut app = app_with_sendgrid(harness, outbox.path(), &provider);
    let circuits = Arc::new(CircuitRegistry::new(
        CircuitConfig::default(),
        Arc::new(AlertingObserver::new(app.store.clone())),
    ));
    app.email = Arc::new(CircuitEmailTransport::new(
        app.email.clone(),
        "sendgrid",
        circuits.clone(),
    ));
    let (account, _campaign) = launch(&app, CSV).await;

    // Every attempt fails; after five in a row the circuit opens and later
    // attempts are rejected without calling the provider.
    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    worker
        .run_due(Utc::now() + Duration::days(8), 40)
        .await
        .unwrap();
    let calls = provider.received_requests().await.unwrap().len();
    assert_eq!(calls, 5, "the provider was called {calls} times");
    assert_eq!(
        circuits.breaker("sendgrid").unwrap().state(),
        rekindle_channels::CircuitState::Open
    );
    // Waiting for the circuit spends no attempt, so no send is dead-lettered
    // by the outage however often the worker polls.
    let mut tx = app.store.begin(account).await.unwrap();
    let dead = tx
        .list_jobs(
            Some(rekindle_domain::JobStatus::Dead),
            PageRequest::default(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(dead.items.is_empty(), "{} dead jobs", dead.items.len());

    // The alert is stored by a task of its own; wait for it, boundedly.
    let mut found = false;
    for _ in 0..50 {
        let mut system = app.store.begin_system("test").await.unwrap();
        let alerts = system.list_alerts(20).await.unwrap();
        system.commit().await.unwrap();
        if alerts
            .iter()
            .any(|alert| alert.kind == "circuit_open" && alert.severity == AlertSeverity::Critical)
        {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(found, "no circuit_open alert was stored");
}

async fn check_whatsapp(harness: &Harness) {
    use rekindle_channels::{TwilioConfig, TwilioSender, TwilioTransport};
    use wiremock::matchers::body_string_contains;

    let sid = "AC00000000000000000000000000000000";
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{sid}/Messages.json")))
        .and(body_string_contains("To=whatsapp%3A%2B447700900123"))
        .and(body_string_contains("From=whatsapp%3A%2B14155238886"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(serde_json::json!({ "sid": "SM123" })),
        )
        .expect(1)
        .mount(&provider)
        .await;
    let outbox = tempfile::tempdir().unwrap();
    let mut app = common::app(harness, outbox.path().to_owned());
    let sender = TwilioSender::Number(Phone::parse("+14155238886", None).unwrap());
    let mut config = TwilioConfig::new(sid, SecretString::from("token".to_owned()), sender);
    config.base_url = provider.uri().parse().unwrap();
    app.whatsapp = Arc::new(TwilioTransport::new_whatsapp(config).unwrap());

    let account = create_account(app.store.as_ref(), "Chat Ltd").await;
    let actor = Actor::system("test");
    let lead = rekindle_store::NewLead {
        id: LeadId::new(),
        fields: rekindle_domain::lead::LeadFields {
            phone: Some(Phone::parse("+447700900123", None).unwrap()),
            first_name: Some("Sam".into()),
            company: Some("Chat Ltd".into()),
            job_title: Some("COO".into()),
            notes: Some("Asked for a demo in spring.".into()),
            ..Default::default()
        },
        import_id: None,
        import_ref: None,
    };
    let mut tx = app.store.begin(account).await.unwrap();
    tx.insert_lead(&lead, Utc::now()).await.unwrap();
    tx.record_consent(lead.id, ConsentBasis::Consent, "web form", Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let spec = CampaignSpec {
        name: "Chats".into(),
        tone: Tone::Friendly,
        window: SendingWindow {
            weekdays: vec![
                chrono::Weekday::Mon,
                chrono::Weekday::Tue,
                chrono::Weekday::Wed,
                chrono::Weekday::Thu,
                chrono::Weekday::Fri,
                chrono::Weekday::Sat,
                chrono::Weekday::Sun,
            ],
            start_hour: 0,
            end_hour: 24,
        },
        steps: vec![StepSpec {
            channel: Channel::Whatsapp,
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
    worker
        .run_due(Utc::now() + Duration::days(1), 20)
        .await
        .unwrap();

    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        messages.items[0].status,
        MessageStatus::Sent,
        "{:?}",
        messages.items[0]
    );
    assert_eq!(
        messages.items[0].provider_message_id.as_deref(),
        Some("SM123")
    );
    provider.verify().await;
}
