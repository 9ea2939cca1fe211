//! A campaign sent through a real provider transport (SendGrid, played by a
//! mock server on loopback): every first-step email reaches the provider once,
//! and the provider's message id is stored on the message.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use rekindle_channels::{SecretString, SendgridConfig, SendgridTransport};
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::*;
use rekindle_import::ImportOptions;
use rekindle_services::campaigns;
use rekindle_services::import::{ImportRequest, import_csv};
use rekindle_services::worker::Worker;
use rekindle_store::{Actor, LeadFilter, PageRequest};
use rekindle_store_conformance::{Harness, create_account};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

on_both_backends!(sendgrid_ids_are_stored => sendgrid_ids_are_stored);

const CSV: &str = "first_name,email,company,job_title,notes\n\
Olivia,olivia.grant@tidewater.example,Tidewater Labs,CEO,Asked for a proposal at the Q4 conference\n\
Noah,noah@pinecrest-hr.example,Pinecrest HR,CTO,Demo no-show in May\n";

async fn sendgrid_ids_are_stored(harness: &Harness) {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .and(header("authorization", "Bearer SG.test-key.value"))
        .respond_with(ResponseTemplate::new(202).insert_header("X-Message-Id", "sg-message-1"))
        .expect(2)
        .mount(&provider)
        .await;

    let outbox = tempfile::tempdir().unwrap();
    let mut app = common::app(harness, outbox.path().to_owned());
    let mut config = SendgridConfig::new(SecretString::from("SG.test-key.value".to_owned()));
    config.base_url = provider.uri().parse().unwrap();
    app.email = Arc::new(SendgridTransport::new(config).unwrap());

    let account = create_account(app.store.as_ref(), "Provider Ltd").await;
    let actor = Actor::system("test");
    let request = ImportRequest {
        file_name: "leads.csv".into(),
        options: ImportOptions::default(),
        bytes_read: None,
    };
    import_csv(&app, account, &actor, CSV.as_bytes(), request)
        .await
        .unwrap();
    let spec = CampaignSpec {
        name: "Provider run".into(),
        tone: Tone::Friendly,
        window: SendingWindow::default(),
        steps: vec![StepSpec {
            channel: Channel::Email,
            delay_days: 0,
        }],
    };
    let (campaign, _) = campaigns::create_campaign(&app, account, &actor, &spec)
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
    campaigns::enroll_leads(&app, account, &actor, campaign.id, &leads)
        .await
        .unwrap();
    campaigns::launch_campaign(&app, account, &actor, campaign.id)
        .await
        .unwrap();

    let worker = Worker::new(app.clone(), "test", std::time::Duration::from_millis(10));
    worker
        .run_due(Utc::now() + Duration::days(8), 100)
        .await
        .unwrap();

    let mut tx = app.store.begin(account).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign.id), PageRequest::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(messages.items.len(), 2);
    for message in &messages.items {
        assert_eq!(message.status, MessageStatus::Sent, "{message:?}");
        assert_eq!(message.provider_message_id.as_deref(), Some("sg-message-1"));
    }
    // The mock checks on drop that it got exactly two requests.
    provider.verify().await;
}
