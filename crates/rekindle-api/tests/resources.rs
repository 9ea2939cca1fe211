//! The main flow through the HTTP API, as a user with curl would run it:
//! sign up, upload the fixture CSVs, look at leads, create a campaign, enroll,
//! preview, launch, read messages and stats, record a reply, manage
//! suppressions. Outcomes are checked in the database too.

mod common;

use common::{Session, TestServer, expect_problem};
use rekindle_domain::{AccountId, ContactKind, LeadStatus};
use rekindle_store::{LeadFilter, PageRequest};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

on_both_backends!(
    fixture_uploads_match_expected => fixture_uploads_match_expected,
    campaign_flow => campaign_flow,
    consent_controls_text_messages => consent_controls_text_messages,
);

fn fixtures() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rekindle-import/tests/fixtures")
}

async fn upload(server: &TestServer, session: &Session, name: &str, region: Option<&str>) -> Value {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    if let Some(region) = region {
        form = form.text("region", region.to_owned());
    }
    let response = server
        .client
        .post(server.url("/api/v1/imports"))
        .bearer_auth(&session.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "pending");
    server.run_jobs().await;
    server
        .get(session, accepted["status_url"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap()
}

async fn fixture_uploads_match_expected(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Fixture Imports").await;
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("expected.json")).unwrap()).unwrap();

    for (name, spec) in expected.as_object().unwrap() {
        let import = upload(&server, &owner, name, spec["default_region"].as_str()).await;
        assert_eq!(import["status"], "completed", "{name}: {import}");
        let imported = spec
            .get("imported_emails")
            .or_else(|| spec.get("imported_record_ids"))
            .and_then(Value::as_array)
            .unwrap();
        let rejected = spec["rejected"].as_array().unwrap();
        let duplicates = spec
            .get("duplicates")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(
            import["duplicates"].as_i64().unwrap(),
            duplicates as i64,
            "{name}"
        );
        assert_eq!(
            import["imported"].as_i64().unwrap(),
            imported.len() as i64,
            "{name}"
        );
        assert_eq!(
            import["rejected"].as_i64().unwrap(),
            rejected.len() as i64,
            "{name}"
        );

        // The per-row report names each rejected record's field.
        let rows: Value = server
            .get(
                &owner,
                &format!(
                    "/api/v1/imports/{}/rows?limit=200",
                    import["id"].as_str().unwrap()
                ),
            )
            .await
            .json()
            .await
            .unwrap();
        for reject in rejected {
            let row = rows["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|row| row["outcome"] == "rejected" && row["field"] == reject["field"])
                .unwrap_or_else(|| panic!("{name}: no rejected row for {reject}"));
            assert!(
                row["reason"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains(reject["reason"].as_str().unwrap()),
                "{row}"
            );
        }

        // Exact values, read back through the API by searching the email or CRM id.
        let exact = spec
            .get("exact_values")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (key, values) in &exact {
            let found: Value = server
                .get(
                    &owner,
                    &format!("/api/v1/leads?q={}", key.replace('+', "%2B")),
                )
                .await
                .json()
                .await
                .unwrap();
            let lead = found["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|lead| lead["email"] == key.as_str() || lead["external_id"] == key.as_str())
                .unwrap_or_else(|| panic!("{name}: no lead for {key}: {found}"));
            let email = key;
            for (field, value) in values.as_object().unwrap() {
                assert_eq!(&lead[field], value, "{name}: {email} {field}");
            }
        }
    }

    // Sorted by score, pages of two go through every lead once, best first.
    let mut scores = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/leads?sort=score&limit=2&cursor={cursor}"),
            None => "/api/v1/leads?sort=score&limit=2".to_owned(),
        };
        let page: Value = server.get(&owner, &path).await.json().await.unwrap();
        for lead in page["items"].as_array().unwrap() {
            scores.push(lead["score"].as_i64().unwrap_or(-1));
            assert!(
                ids.insert(lead["id"].as_str().unwrap().to_owned()),
                "a lead came twice"
            );
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );
    assert!(
        scores.first() > scores.last(),
        "the fixtures have different scores: {scores:?}"
    );

    // In the database: every imported email is a lead of this account.
    let account = AccountId(owner.account_id.parse().unwrap());
    let mut tx = server.store().begin(account).await.unwrap();
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::first(200))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let total: usize = expected
        .as_object()
        .unwrap()
        .values()
        .map(|spec| {
            spec.get("imported_emails")
                .or_else(|| spec.get("imported_record_ids"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(leads.items.len(), total);
    assert_eq!(ids.len(), total, "the sorted pages listed every lead");
}

async fn campaign_flow(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Flow Works").await;
    let mut leads = Vec::new();
    for index in 0..5 {
        leads.push(
            server
                .create_lead(&owner, &format!("lead{index}@flow.example.com"))
                .await,
        );
    }

    // Pagination: pages of two, a stable order, and no cursor on the last page.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/leads?limit=2&cursor={cursor}"),
            None => "/api/v1/leads?limit=2".to_owned(),
        };
        let page: Value = server.get(&owner, &path).await.json().await.unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, leads, "every lead once, in creation order");

    let campaign: Value = server
        .post(
            &owner,
            "/api/v1/campaigns",
            json!({ "name": "Q3 win-back", "tone": "friendly",
                    "window": { "weekdays": ["mon", "tue", "wed", "thu", "fri"], "start_hour": 9, "end_hour": 17 },
                    "steps": [{ "channel": "email", "delay_days": 0 }, { "channel": "email", "delay_days": 3 }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaign["status"], "draft");
    assert_eq!(campaign["steps"].as_array().unwrap().len(), 2);
    let id = campaign["id"].as_str().unwrap().to_owned();

    let enrolled: Value = server
        .post(
            &owner,
            &format!("/api/v1/campaigns/{id}/enrollments"),
            json!({ "lead_ids": leads }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enrolled["added"], 5);

    let preview: Value = server
        .post(
            &owner,
            &format!("/api/v1/campaigns/{id}/preview"),
            json!({ "lead_ids": [leads[0]] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let item = &preview["items"][0];
    assert_eq!(item["outcome"], "prepared", "{preview}");
    assert!(item["body"].as_str().unwrap().contains("Dana"));
    assert!(item["body"].as_str().unwrap().contains("/unsubscribe/"));
    let messages: Value = server
        .get(&owner, "/api/v1/messages")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(messages["items"], json!([]), "a preview stores nothing");

    let launched = server
        .post(&owner, &format!("/api/v1/campaigns/{id}/launch"), json!({}))
        .await;
    assert_eq!(launched.status(), 202);
    server.run_jobs().await;

    let messages: Value = server
        .get(
            &owner,
            &format!("/api/v1/messages?campaign_id={id}&limit=200"),
        )
        .await
        .json()
        .await
        .unwrap();
    let sent = messages["items"].as_array().unwrap();
    assert!(sent.len() >= 5, "first step for each lead: {}", sent.len());
    let stats: Value = server
        .get(&owner, &format!("/api/v1/campaigns/{id}/stats"))
        .await
        .json()
        .await
        .unwrap();
    let step_one: i64 = stats["by_step"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["position"] == 1)
        .map(|row| row["count"].as_i64().unwrap())
        .sum();
    assert_eq!(step_one, 5);
    assert!(
        stats["by_variant"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["variant"] == "A" || row["variant"] == "B")
    );
    let funnel: Value = server
        .get(
            &owner,
            &format!("/api/v1/analytics/funnel?campaign_id={id}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(funnel["enrolled"], 5);
    // A lead outside the campaign counts in the account's funnel only.
    server
        .create_lead(&owner, "not-enrolled@flow.example.com")
        .await;
    let campaign_funnel: Value = server
        .get(
            &owner,
            &format!("/api/v1/analytics/funnel?campaign_id={id}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(campaign_funnel["leads"], 5);
    let account_funnel: Value = server
        .get(&owner, "/api/v1/analytics/funnel")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(account_funnel["leads"], 6);

    // A reply asking to stop: classified, the lead is suppressed in the database.
    let reply = server
        .post(
            &owner,
            "/api/v1/replies",
            json!({ "channel": "email", "from": "lead1@flow.example.com", "text": "Please stop emailing me and remove me from your list." }),
        )
        .await;
    assert_eq!(reply.status(), 201, "{}", reply.text().await.unwrap());
    let reply: Value = reply.json().await.unwrap();
    assert_eq!(reply["label"], "opt_out");
    let account = AccountId(owner.account_id.parse().unwrap());
    let mut tx = server.store().begin(account).await.unwrap();
    let suppressed = tx
        .suppressed_values(ContactKind::Email, &["lead1@flow.example.com".to_owned()])
        .await
        .unwrap();
    let lead = tx
        .get_lead(rekindle_domain::LeadId(leads[1].parse().unwrap()))
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(lead.status, LeadStatus::Suppressed);

    // The suppression list and its export include it.
    let export = server.get(&owner, "/api/v1/suppressions/export").await;
    assert_eq!(export.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = export.text().await.unwrap();
    assert!(csv.starts_with("kind,value,reason,scope,created_at\n"));
    assert!(
        csv.contains("email,lead1@flow.example.com,opt_out_reply,account,"),
        "{csv}"
    );

    // Pause and resume.
    let paused: Value = server
        .post(&owner, &format!("/api/v1/campaigns/{id}/pause"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paused["status"], "paused");
    let resumed = server
        .post(&owner, &format!("/api/v1/campaigns/{id}/resume"), json!({}))
        .await;
    assert_eq!(resumed.status(), 202);

    // A running campaign cannot be deleted or changed.
    let response = server
        .delete(&owner, &format!("/api/v1/campaigns/{id}"))
        .await;
    expect_problem(response, 422, "validation_failed").await;
    let response = server
        .patch(
            &owner,
            &format!("/api/v1/campaigns/{id}"),
            json!({ "name": "Renamed" }),
        )
        .await;
    expect_problem(response, 422, "validation_failed").await;
}

async fn consent_controls_text_messages(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Texting").await;
    let created: Value = server
        .post(
            &owner,
            "/api/v1/leads",
            json!({ "email": "sam@texting.example.com", "phone": "+447700900123", "first_name": "Sam",
                    "company": "Texting Ltd", "job_title": "COO", "notes": "Asked for a demo in spring." }),
        )
        .await
        .json()
        .await
        .unwrap();
    let lead = created["id"].as_str().unwrap().to_owned();
    let always = json!({ "weekdays": ["mon","tue","wed","thu","fri","sat","sun"], "start_hour": 0, "end_hour": 24 });
    let campaign: Value = server
        .post(
            &owner,
            "/api/v1/campaigns",
            json!({ "name": "Texts", "window": always,
              "steps": [{ "channel": "sms", "delay_days": 0 }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = campaign["id"].as_str().unwrap().to_owned();
    // Without consent, a text message has no lawful basis.
    let item = preview_one(&server, &owner, &id, &lead).await;
    assert_eq!(item["outcome"], "failed", "{item}");
    assert!(
        item["error"].as_str().unwrap().contains("lawful basis"),
        "{item}"
    );

    // With consent recorded, the crew writes it.
    let response = server
        .post(
            &owner,
            &format!("/api/v1/leads/{lead}/consent"),
            json!({ "basis": "consent", "source": "web form" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let item = preview_one(&server, &owner, &id, &lead).await;
    assert_eq!(item["outcome"], "prepared", "{item}");

    // Written and scheduled, then consent is withdrawn before the send: it is cancelled.
    server
        .post(
            &owner,
            &format!("/api/v1/campaigns/{id}/enrollments"),
            json!({ "lead_ids": [lead] }),
        )
        .await;
    server
        .post(&owner, &format!("/api/v1/campaigns/{id}/launch"), json!({}))
        .await;
    let worker = rekindle_services::worker::Worker::new(
        server.app.clone(),
        "test",
        std::time::Duration::from_millis(10),
    );
    worker.run_due(chrono::Utc::now(), 20).await.unwrap();
    let messages: Value = server
        .get(&owner, &format!("/api/v1/messages?campaign_id={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(messages["items"][0]["status"], "scheduled", "{messages}");
    let response = server
        .post(
            &owner,
            &format!("/api/v1/leads/{lead}/consent"),
            json!({ "basis": "withdrawn", "source": "phone call" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    server.run_jobs().await;
    let messages: Value = server
        .get(&owner, &format!("/api/v1/messages?campaign_id={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(messages["items"][0]["status"], "cancelled", "{messages}");
    assert_eq!(
        messages["items"][0]["error"],
        "no lawful basis for this channel at send time"
    );
}

async fn preview_one(server: &TestServer, owner: &Session, campaign: &str, lead: &str) -> Value {
    let body: Value = server
        .post(
            owner,
            &format!("/api/v1/campaigns/{campaign}/preview"),
            json!({ "lead_ids": [lead] }),
        )
        .await
        .json()
        .await
        .unwrap();
    body["items"][0].clone()
}
