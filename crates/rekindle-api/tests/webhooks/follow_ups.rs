//! Follow-ups written from what each lead did: a click through our tracking
//! link (which brings the follow-up forward to a day later), silence, and a
//! blocked bounce with and without a text channel to switch to. The
//! engagement crew decides when the step falls due. The test checks the
//! stored messages, the decision's stage runs and the stopped enrollment in
//! the database.

use chrono::{Duration, Utc};
use rekindle_domain::{AccountId, MessageId};
use rekindle_services::worker::Worker;
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};
use url::Url;

use crate::common::{Session, TestServer};
use crate::on_both_backends;
use crate::support::{
    app_settings, configured, id, launch, post_sendgrid, scalar, sendgrid_event, start_with, text,
};

on_both_backends!(follow_ups_follow_engagement => follow_ups_follow_engagement);

/// Days between the first message and the follow-up, beyond the 30 days
/// that `TestServer::run_jobs` runs ahead.
const FOLLOW_UP_DAYS: i64 = 60;

/// Reads the follow-up of `lead`: its channel, subject and recipient, if written.
async fn follow_up(harness: &Harness, lead: &str) -> Option<(String, String, String)> {
    let where_clause = format!(
        "FROM messages m JOIN campaign_steps s ON s.id = m.step_id \
         WHERE m.lead_id = {} AND s.position = 2",
        id(harness, lead)
    );
    let channel = text(harness, &format!("SELECT m.channel {where_clause}")).await?;
    let subject = text(harness, &format!("SELECT m.subject {where_clause}"))
        .await
        .unwrap_or_default();
    let to = text(harness, &format!("SELECT m.to_address {where_clause}")).await?;
    Some((channel, subject, to))
}

/// Reads the engagement crew's recorded decision for `lead`.
async fn decision(harness: &Harness, lead: &str) -> Value {
    let sql = format!(
        "SELECT CAST(output AS TEXT) FROM stage_runs WHERE stage = 'next_step' AND lead_id = {}",
        id(harness, lead)
    );
    let output = text(harness, &sql)
        .await
        .unwrap_or_else(|| panic!("no next_step stage run for lead {lead}"));
    serde_json::from_str(&output).unwrap()
}

async fn give_text_consent(server: &TestServer, owner: &Session, lead: &str) {
    let response = server
        .post(
            owner,
            &format!("/api/v1/leads/{lead}/consent"),
            json!({ "basis": "consent", "source": "web form" }),
        )
        .await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
}

async fn click(server: &TestServer, owner: &Session, message: &str) {
    let account: AccountId = owner.account_id.parse().unwrap();
    let message: MessageId = message.parse().unwrap();
    let base = Url::parse(&server.app.settings.public_base_url).unwrap();
    let target = Url::parse("https://acme.example/pricing").unwrap();
    let link = server
        .app
        .tracking
        .click_url(&base, account, message, &target)
        .unwrap()
        .unwrap();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url(link.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
}

/// Builds a bounce caused by the sender's reputation: the message did not
/// arrive, but the address stays valid and unsuppressed.
fn blocked_bounce(message: &str, event_id: &str) -> Value {
    let mut event = sendgrid_event("bounce", message, Utc::now().timestamp(), event_id);
    event["type"] = json!("blocked");
    event["reason"] = json!("550 5.7.1 Message rejected for policy reasons");
    event
}

async fn follow_ups_follow_engagement(harness: &Harness) {
    let server = start_with(harness, configured(), app_settings(0)).await;
    let owner = server.signup("Followers").await;
    let steps = json!([
        { "channel": "email", "delay_days": 0 },
        { "channel": "email", "delay_days": FOLLOW_UP_DAYS },
        { "channel": "sms", "delay_days": 3 },
    ]);
    let messages = launch(&server, &owner, "email", 4, true, steps).await;
    let field = |index: usize, name: &str| messages[index][name].as_str().unwrap().to_owned();
    let (clicker, silent, switcher, stopper) = (
        field(0, "lead_id"),
        field(1, "lead_id"),
        field(2, "lead_id"),
        field(3, "lead_id"),
    );

    click(&server, &owner, &field(0, "id")).await;
    give_text_consent(&server, &owner, &switcher).await;
    let bounces = json!([
        blocked_bounce(&field(2, "id"), "ev-blocked-2"),
        blocked_bounce(&field(3, "id"), "ev-blocked-3"),
    ]);
    assert_eq!(post_sendgrid(&server, &bounces).await.status(), 202);
    server.run_jobs().await;

    // The click brings the clicker's follow-up forward to a day later;
    // the others wait for the step's due time.
    let (channel, subject, _) = follow_up(harness, &clicker)
        .await
        .expect("the clicker's follow-up is written a day after the click");
    assert_eq!(channel, "email");
    assert!(subject.contains("link"), "{subject}");
    assert_eq!(
        decision(harness, &clicker).await["reason"]["reason"],
        "clicked"
    );
    for lead in [&silent, &switcher, &stopper] {
        assert!(
            follow_up(harness, lead).await.is_none(),
            "the follow-up is written only when it falls due"
        );
    }

    // Past the follow-up's due time, before the third step's.
    let worker = Worker::new(
        server.app.clone(),
        "follow-ups",
        std::time::Duration::from_millis(10),
    );
    worker
        .run_due(
            Utc::now() + Duration::days(FOLLOW_UP_DAYS) + Duration::hours(12),
            500,
        )
        .await
        .unwrap();

    let (channel, subject, _) = follow_up(harness, &silent).await.expect("silent lead");
    assert_eq!(channel, "email");
    assert!(!subject.contains("link"), "{subject}");
    let silent_decision = decision(harness, &silent).await;
    assert_eq!(silent_decision["reason"]["reason"], "silent");
    assert_eq!(silent_decision["action"]["action"], "follow_up_now");

    // The blocked email is followed by a text, since the lead agreed to them.
    let (channel, _, to) = follow_up(harness, &switcher).await.expect("switcher");
    assert_eq!(channel, "sms");
    assert!(to.starts_with("+44"), "{to}");
    let switched = decision(harness, &switcher).await;
    assert_eq!(switched["action"]["action"], "switch_channel");
    assert_eq!(switched["reason"]["reason"], "bounced");

    // Without consent to texts there is no other channel, so the sequence ends.
    assert!(follow_up(harness, &stopper).await.is_none());
    let stopped = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM enrollments WHERE lead_id = {} AND status = 'stopped' \
             AND stop_reason LIKE '%bounced%'",
            id(harness, &stopper)
        ),
    )
    .await;
    assert_eq!(stopped, 1);
    assert_eq!(
        decision(harness, &stopper).await["action"]["action"],
        "stop"
    );
}
