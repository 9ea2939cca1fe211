//! What a reply sets off, driven through `POST /api/v1/replies` and checked in
//! the database: alerts for positive replies and questions, the contact a
//! referral names, the confirmation of a text-message opt-out, and the pause
//! of an out-of-office reply.

mod common;

use chrono::{Duration, Utc};
use common::{Session, TestServer};
use rekindle_domain::{AccountId, EnrollmentStatus};
use rekindle_store::{LeadFilter, PageRequest};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

on_both_backends!(
    positive_reply_raises_alert => positive_reply_raises_alert,
    referral_stores_new_contact => referral_stores_new_contact,
    sms_opt_out_is_confirmed => sms_opt_out_is_confirmed,
    reply_without_headers_finds_message => reply_without_headers_finds_message,
);

async fn ingest(server: &TestServer, owner: &Session, body: Value) -> Value {
    let response = server.post(owner, "/api/v1/replies", body).await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn alerts(server: &TestServer, owner: &Session) -> Vec<Value> {
    let page: Value = server
        .get(owner, "/api/v1/alerts")
        .await
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

async fn positive_reply_raises_alert(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Alerted").await;
    let lead = server.create_lead(&owner, "keen@alerted.example.com").await;

    let reply = ingest(
        &server,
        &owner,
        json!({ "channel": "email", "from": "keen@alerted.example.com",
                "text": "Yes, let's talk. Could we do a call on Thursday at 10?" }),
    )
    .await;
    assert_eq!(reply["label"], "meeting_request");
    let question = server
        .create_lead(&owner, "curious@alerted.example.com")
        .await;
    let reply = ingest(
        &server,
        &owner,
        json!({ "channel": "email", "from": "curious@alerted.example.com",
                "text": "Does it integrate with HubSpot?" }),
    )
    .await;
    assert_eq!(reply["label"], "question");

    let alerts = alerts(&server, &owner).await;
    let kinds: Vec<&str> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["positive_reply", "reply_question"]);

    // The meeting request gets a drafted reply with times in working hours.
    let meetings: Value = server
        .get(&owner, "/api/v1/meetings")
        .await
        .json()
        .await
        .unwrap();
    let meetings = meetings["items"].as_array().unwrap();
    assert_eq!(meetings.len(), 1);
    let meeting = &meetings[0];
    assert_eq!(meeting["lead_id"], lead.as_str());
    assert_eq!(meeting["status"], "proposed");
    let slots = meeting["proposed_slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    for slot in slots {
        let starts: chrono::DateTime<Utc> = slot["starts_at"].as_str().unwrap().parse().unwrap();
        assert!(
            starts > Utc::now() + Duration::hours(23),
            "{starts} gives too little notice"
        );
        let local = starts.with_timezone(&chrono_tz::Europe::London);
        let hour = chrono::Timelike::hour(&local);
        assert!((9..17).contains(&hour), "{local} is outside working hours");
    }
    assert!(
        meeting["draft_body"].as_str().unwrap().contains("Keen")
            || meeting["draft_body"].as_str().unwrap().contains("Dana")
    );
    assert!(
        alerts[0]["message"]
            .as_str()
            .unwrap()
            .contains(meeting["id"].as_str().unwrap())
    );
    assert!(alerts[0]["message"].as_str().unwrap().contains(&lead));
    assert!(alerts[1]["message"].as_str().unwrap().contains(&question));
    let other = server.signup("Not Alerted").await;
    assert!(
        self::alerts(&server, &other).await.is_empty(),
        "another account sees none"
    );
}

async fn referral_stores_new_contact(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Referred").await;
    server
        .create_lead(&owner, "dana@referred.example.com")
        .await;

    let reply = ingest(
        &server,
        &owner,
        json!({ "channel": "email", "from": "dana@referred.example.com",
                "text": "I've moved teams. Please contact my colleague Priya (priya.shah@referred.example.com), she runs purchasing now." }),
    )
    .await;
    assert_eq!(reply["label"], "referral");

    let account = AccountId(owner.account_id.parse().unwrap());
    let mut tx = server.store().begin(account).await.unwrap();
    let found = tx
        .find_leads_by_emails(&["priya.shah@referred.example.com".to_owned()])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(found.len(), 1, "the referred contact is a lead");
    assert_eq!(found[0].fields.company.as_deref(), Some("Acme Ltd"));
    assert!(
        found[0]
            .fields
            .notes
            .as_deref()
            .unwrap()
            .starts_with("Referred by Dana")
    );
    let alerts = alerts(&server, &owner).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["kind"], "referral");
    assert!(
        alerts[0]["message"]
            .as_str()
            .unwrap()
            .contains(&found[0].id.to_string())
    );
}

async fn sms_opt_out_is_confirmed(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Confirmed").await;
    let response = server
        .post(
            &owner,
            "/api/v1/leads",
            json!({ "phone": "+447700900123", "first_name": "Sam", "company": "Acme Ltd" }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let away = server
        .create_lead(&owner, "away@confirmed.example.com")
        .await;

    let reply = ingest(
        &server,
        &owner,
        json!({ "channel": "sms", "from": "+447700900123", "text": "STOP" }),
    )
    .await;
    assert_eq!(reply["label"], "opt_out");
    server.run_jobs().await;

    let sms_dir = server.outbox_dir().join("sms");
    let files: Vec<String> = std::fs::read_dir(&sms_dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 1, "one confirmation");
    assert!(files[0].contains("+447700900123"));
    assert!(files[0].contains("unsubscribed"));

    // An out-of-office reply with no date pauses the lead for a week.
    let account = AccountId(owner.account_id.parse().unwrap());
    let campaign: Value = server
        .post(
            &owner,
            "/api/v1/campaigns",
            json!({ "name": "Away test", "tone": "friendly",
                    "steps": [{ "channel": "email", "delay_days": 0 }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = campaign["id"].as_str().unwrap();
    server
        .post(
            &owner,
            &format!("/api/v1/campaigns/{id}/enrollments"),
            json!({ "lead_ids": [away] }),
        )
        .await;
    server
        .post(&owner, &format!("/api/v1/campaigns/{id}/launch"), json!({}))
        .await;
    let reply = ingest(
        &server,
        &owner,
        json!({ "channel": "email", "from": "away@confirmed.example.com",
                "subject": "Automatic reply: Out of office",
                "text": "I am out of the office with limited access to email." }),
    )
    .await;
    assert_eq!(reply["label"], "out_of_office");
    let mut tx = server.store().begin(account).await.unwrap();
    let enrollments = tx
        .list_enrollments(
            rekindle_domain::CampaignId(id.parse().unwrap()),
            PageRequest::default(),
        )
        .await
        .unwrap();
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(leads.items.len(), 2);
    let enrollment = &enrollments.items[0];
    assert_eq!(enrollment.status, EnrollmentStatus::Paused);
    let resume = enrollment.next_run_at.unwrap();
    let week = Utc::now() + Duration::days(7);
    assert!(
        (resume - week).num_minutes().abs() < 5,
        "resumes in a week: {resume}"
    );
}

/// Checks that a reply recorded without `in_reply_to` is linked to the latest
/// message sent to its lead, so the campaign's funnel counts it.
async fn reply_without_headers_finds_message(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Threadless").await;
    let lead = server
        .create_lead(&owner, "plain@threadless.example.com")
        .await;
    let campaign = server
        .post_expect(
            &owner,
            "/api/v1/campaigns",
            json!({ "name": "Threadless", "steps": [{ "channel": "email", "delay_days": 0 }] }),
            201,
        )
        .await;
    let campaign = campaign["id"].as_str().unwrap().to_owned();
    for (path, status) in [("enrollments", 200), ("launch", 202)] {
        let body = if path == "launch" {
            json!({})
        } else {
            json!({ "lead_ids": [lead] })
        };
        server
            .post_expect(
                &owner,
                &format!("/api/v1/campaigns/{campaign}/{path}"),
                body,
                status,
            )
            .await;
    }
    server.run_jobs().await;
    let messages = server
        .get_json(&owner, &format!("/api/v1/messages?campaign_id={campaign}"))
        .await;
    let sent = &messages["items"][0];
    assert_eq!(sent["status"], "sent", "{messages}");

    let reply = ingest(
        &server,
        &owner,
        json!({ "channel": "email", "from": "plain@threadless.example.com",
                "text": "Yes, interested. Can we talk on Thursday?" }),
    )
    .await;
    assert_eq!(reply["label"], "meeting_request");
    let replies = server.get_json(&owner, "/api/v1/replies").await;
    assert_eq!(replies["items"][0]["message_id"], sent["id"], "{replies}");
    let funnel = server
        .get_json(
            &owner,
            &format!("/api/v1/analytics/funnel?campaign_id={campaign}"),
        )
        .await;
    assert_eq!(funnel["replied"], 1, "{funnel}");
}
