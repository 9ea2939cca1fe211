//! The reactivation crew through the API with an LLM configured, played by a
//! mock LLM server on loopback. It checks leads researched and messages
//! written by the LLM, stage runs with tokens, the budget kept in the
//! database with the offline researcher and writer as the fallback, and crew
//! runs listed with a failed lead retried.
//! Outcomes are checked in the database, on SQLite and on PostgreSQL.

mod common;

use chrono::Utc;
use common::llm::{self, LLM_MARKER, LlmSetup};
use common::{Session, TestServer, expect_problem};
use rekindle_domain::{CampaignId, EnrollmentStatus, LeadId, RunStatus};
use rekindle_store::{CrewRunFilter, PageRequest, StageRun};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

on_both_backends!(
    llm_launch_writes_messages_with_tokens => llm_launch_writes_messages_with_tokens,
    budget_exhaustion_falls_back_offline => budget_exhaustion_falls_back_offline,
    failed_lead_is_listed_and_retried => failed_lead_is_listed_and_retried,
    running_campaign_starts_new_leads => running_campaign_starts_new_leads,
);

/// Creates `count` leads, a one-step email campaign with them enrolled, and
/// launches it. Returns the campaign and lead ids.
async fn launch_campaign(
    server: &TestServer,
    session: &Session,
    count: usize,
) -> (CampaignId, Vec<String>) {
    let mut leads = Vec::new();
    for index in 0..count {
        let lead = server
            .create_lead(session, &format!("lead{index}@acme.example.com"))
            .await;
        leads.push(lead);
    }
    let campaign = server
        .post_expect(
            session,
            "/api/v1/campaigns",
            json!({ "name": "Spring revival", "steps": [{ "channel": "email", "delay_days": 0 }] }),
            201,
        )
        .await;
    let id = campaign["id"].as_str().unwrap().to_owned();
    server
        .post_expect(
            session,
            &format!("/api/v1/campaigns/{id}/enrollments"),
            json!({ "lead_ids": leads }),
            200,
        )
        .await;
    server
        .post_expect(
            session,
            &format!("/api/v1/campaigns/{id}/launch"),
            json!({}),
            202,
        )
        .await;
    (CampaignId(id.parse().unwrap()), leads)
}

/// Returns the stored runs of `stage` in the campaign's crew runs.
async fn stage_runs(
    server: &TestServer,
    session: &Session,
    campaign: CampaignId,
    stage: &str,
) -> Vec<StageRun> {
    let mut tx = server.store().begin(session.account()).await.unwrap();
    let filter = CrewRunFilter {
        campaign_id: Some(campaign),
        ..CrewRunFilter::default()
    };
    let runs = tx
        .list_crew_runs(&filter, PageRequest::first(50))
        .await
        .unwrap();
    let mut found = Vec::new();
    for run in &runs.items {
        let stages = tx.list_stage_runs(run.id).await.unwrap();
        found.extend(stages.into_iter().filter(|run| run.stage == stage));
    }
    tx.commit().await.unwrap();
    found
}

async fn message_bodies(
    server: &TestServer,
    session: &Session,
    campaign: CampaignId,
) -> Vec<String> {
    let mut tx = server.store().begin(session.account()).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign), PageRequest::first(200))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    messages
        .items
        .into_iter()
        .map(|message| message.body)
        .collect()
}

async fn llm_launch_writes_messages_with_tokens(harness: &Harness) {
    let mock = llm::drafting_mock().await;
    let config = llm::config(&mock, LlmSetup::default());
    let server = TestServer::start_with_services(harness, |app| llm::use_llm(app, &config)).await;
    let owner = server.signup("Llm Launch").await;
    let (campaign, _) = launch_campaign(&server, &owner, 3).await;
    server.run_jobs().await;

    let bodies = message_bodies(&server, &owner, campaign).await;
    assert_eq!(bodies.len(), 3);
    for body in &bodies {
        assert!(body.contains(LLM_MARKER), "not written by the LLM: {body}");
    }

    // Each lead costs a research request and a writer request.
    let requests = mock.requests();
    assert_eq!(requests.len(), 6);
    let research_requests: Vec<_> = requests
        .iter()
        .filter(|request| request.body.to_string().contains(llm::RESEARCH_SCHEMA))
        .collect();
    assert_eq!(research_requests.len(), 3);
    for request in &research_requests {
        let user = request.user_message();
        assert!(
            user.contains(&format!("note: [1] {}", llm::LEAD_NOTE)),
            "the lead's note did not reach the research request: {user}"
        );
        assert!(user.contains("company: Acme Ltd"), "{user}");
    }
    // The writer request contains the opening the LLM researcher chose from the note.
    let writer_requests: Vec<_> = requests
        .iter()
        .filter(|request| request.body.to_string().contains("reactivation_email"))
        .collect();
    assert_eq!(writer_requests.len(), 3);
    for request in &writer_requests {
        let user = request.user_message();
        assert!(
            user.contains("best_opening: a cue in the notes (asked for pricing)"),
            "{user}"
        );
    }

    // The mock reports 120 input and 80 output tokens per request.
    for stage in ["researcher", "writer"] {
        let runs = stage_runs(&server, &owner, campaign, stage).await;
        assert_eq!(runs.len(), 3, "{stage}");
        for run in &runs {
            assert_eq!(run.tokens, 200, "{run:?}");
            assert_eq!(run.fallback, None, "{run:?}");
            assert_eq!(run.status, RunStatus::Succeeded);
            assert!(
                run.input_summary.contains(&format!("{stage} llm")),
                "{run:?}"
            );
        }
    }

    // Every request is in the ledger: at $1 and $2 per million tokens, one
    // costs 120 + 160 = 280 micro-dollars.
    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let spend = tx.ai_spend(Utc::now().date_naive()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(spend.calls, 6);
    assert_eq!(spend.input_tokens, 720);
    assert_eq!(spend.output_tokens, 480);
    assert_eq!(spend.cost_nano_usd, 6 * 280_000);
    assert_eq!(spend.reserved_nano_usd, 0);

    let runs = server.get_json(&owner, "/api/v1/crew-runs").await;
    assert_eq!(runs["items"][0]["tokens"], 1200, "{runs}");
    assert_eq!(runs["items"][0]["fallbacks"], 0);
}

async fn budget_exhaustion_falls_back_offline(harness: &Harness) {
    // Input is free and output costs $0.001 a token, so each researcher or
    // writer request reserves 100 tokens ($0.10) and settles at the mock's
    // 80 ($0.08). A budget of $0.25 lets two requests through, whatever
    // their order: after two, $0.16 spent plus $0.10 passes it.
    let setup = LlmSetup {
        daily_budget_usd: 0.25,
        input_usd_per_million: 0.0,
        output_usd_per_million: 1_000.0,
        max_tokens: 100,
    };
    let mock = llm::drafting_mock().await;
    let config = llm::config(&mock, setup);
    let server = TestServer::start_with_services(harness, |app| llm::use_llm(app, &config)).await;
    let owner = server.signup("Budget Ltd").await;
    let (campaign, _) = launch_campaign(&server, &owner, 4).await;
    server.run_jobs().await;

    let bodies = message_bodies(&server, &owner, campaign).await;
    assert_eq!(bodies.len(), 4, "every lead still gets a message");
    assert_eq!(mock.request_count(), 2);

    // Two of the eight researcher and writer runs got their request through,
    // whichever ran first; the other six used the offline implementation.
    let mut runs = stage_runs(&server, &owner, campaign, "researcher").await;
    runs.extend(stage_runs(&server, &owner, campaign, "writer").await);
    assert_eq!(runs.len(), 8);
    let (fallbacks, by_llm): (Vec<&StageRun>, Vec<&StageRun>) =
        runs.iter().partition(|run| run.fallback.is_some());
    assert_eq!(fallbacks.len(), 6);
    for run in &fallbacks {
        assert_eq!(run.fallback.as_deref(), Some("budget_exceeded"), "{run:?}");
        let detail = run.fallback_detail.as_deref().unwrap_or_default();
        assert!(detail.contains("daily LLM budget"), "{detail}");
        assert_eq!(run.tokens, 0);
        assert_eq!(run.status, RunStatus::Succeeded);
    }
    for run in &by_llm {
        assert_eq!(run.tokens, 200, "{run:?}");
    }
    // A message is the LLM's exactly when its writer's request got through.
    let llm_writers = by_llm.iter().filter(|run| run.stage == "writer").count();
    let llm_bodies = bodies
        .iter()
        .filter(|body| body.contains(LLM_MARKER))
        .count();
    assert_eq!(llm_bodies, llm_writers);

    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let spend = tx.ai_spend(Utc::now().date_naive()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(spend.calls, 2);
    assert_eq!(spend.cost_nano_usd, 160_000_000);
    assert_eq!(spend.reserved_nano_usd, 0);

    let runs = server.get_json(&owner, "/api/v1/crew-runs").await;
    let id = runs["items"][0]["id"].as_str().unwrap();
    assert_eq!(runs["items"][0]["fallbacks"], 6);
    let run = server
        .get_json(&owner, &format!("/api/v1/crew-runs/{id}"))
        .await;
    let reasons: Vec<&Value> = run["stage_runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|stage| stage.get("fallback").filter(|fallback| !fallback.is_null()))
        .collect();
    assert_eq!(reasons.len(), 6, "{run}");
    for reason in reasons {
        assert_eq!(reason["reason"], "budget_exceeded");
    }
}

async fn failed_lead_is_listed_and_retried(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Retry Ltd").await;
    let dana = server.create_lead(&owner, "dana@acme.example.com").await;
    let lee = server.create_lead(&owner, "lee@acme.example.com").await;
    // Lee withdrew consent, so the compliance gate stops him for good.
    server
        .post_expect(
            &owner,
            &format!("/api/v1/leads/{lee}/consent"),
            json!({ "basis": "withdrawn", "source": "phone call" }),
            201,
        )
        .await;
    let campaign = server
        .post_expect(
            &owner,
            "/api/v1/campaigns",
            json!({ "name": "Retry", "steps": [{ "channel": "email", "delay_days": 0 }] }),
            201,
        )
        .await;
    let campaign_id = campaign["id"].as_str().unwrap().to_owned();
    server
        .post_expect(
            &owner,
            &format!("/api/v1/campaigns/{campaign_id}/enrollments"),
            json!({ "lead_ids": [dana, lee] }),
            200,
        )
        .await;
    server
        .post_expect(
            &owner,
            &format!("/api/v1/campaigns/{campaign_id}/launch"),
            json!({}),
            202,
        )
        .await;
    server.run_jobs().await;

    let runs = server
        .get_json(
            &owner,
            &format!("/api/v1/crew-runs?campaign_id={campaign_id}"),
        )
        .await;
    let items = runs["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{runs}");
    assert_eq!(items[0]["crew"], "reactivation");
    assert_eq!(items[0]["step_position"], 1);
    assert_eq!(items[0]["status"], "succeeded");
    assert_eq!(items[0]["leads_total"], 2);
    assert_eq!(items[0]["leads_failed"], 1);
    assert!(items[0]["duration_ms"].as_i64().unwrap() >= 0);
    let failed_runs = server
        .get_json(&owner, "/api/v1/crew-runs?status=failed")
        .await;
    assert_eq!(failed_runs["items"], json!([]));

    let run_id = items[0]["id"].as_str().unwrap().to_owned();
    let run = server
        .get_json(&owner, &format!("/api/v1/crew-runs/{run_id}"))
        .await;
    let failed: Vec<&Value> = run["stage_runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|stage| stage["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{run}");
    assert_eq!(failed[0]["lead_id"], lee.as_str());
    assert_eq!(failed[0]["stage"], "compliance");
    assert_eq!(failed[0]["error_class"], "permanent");

    let lee_id = LeadId(lee.parse().unwrap());
    let campaign = CampaignId(campaign_id.parse().unwrap());
    let status = enrollment_status(&server, &owner, campaign, lee_id).await;
    assert_eq!(status, EnrollmentStatus::Failed);

    // Dana did not fail, so she cannot be retried.
    let response = server
        .post(
            &owner,
            &format!("/api/v1/crew-runs/{run_id}/retry"),
            json!({ "lead_ids": [dana] }),
        )
        .await;
    expect_problem(response, 422, "validation_failed").await;

    // Lee consents again; his retry writes his message.
    server
        .post_expect(
            &owner,
            &format!("/api/v1/leads/{lee}/consent"),
            json!({ "basis": "consent", "source": "web form" }),
            201,
        )
        .await;
    let retry = server
        .post_expect(
            &owner,
            &format!("/api/v1/crew-runs/{run_id}/retry"),
            json!({ "lead_ids": [lee] }),
            202,
        )
        .await;
    assert_eq!(retry["queued"][0]["lead_id"], lee.as_str());
    assert_eq!(retry["queued"][0]["failed_stage"], "compliance");
    assert_eq!(
        enrollment_status(&server, &owner, campaign, lee_id).await,
        EnrollmentStatus::Pending
    );

    // A second retry finds the enrollment queued already.
    let response = server
        .post(
            &owner,
            &format!("/api/v1/crew-runs/{run_id}/retry"),
            json!({}),
        )
        .await;
    expect_problem(response, 422, "validation_failed").await;

    server.run_jobs().await;
    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign), PageRequest::first(50))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let leads: Vec<LeadId> = messages
        .items
        .iter()
        .map(|message| message.lead_id)
        .collect();
    assert_eq!(messages.items.len(), 2, "{leads:?}");
    assert!(leads.contains(&lee_id));
    assert_ne!(
        enrollment_status(&server, &owner, campaign, lee_id).await,
        EnrollmentStatus::Failed
    );

    let runs = server.get_json(&owner, "/api/v1/crew-runs").await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 2);
    assert_eq!(runs["items"][0]["leads_total"], 1, "newest first: {runs}");
    assert_eq!(runs["items"][0]["leads_failed"], 0);

    // The retry resumed Lee at the compliance gate: the stages he had passed
    // reused their outputs, and the gates after them ran again.
    let retried_id = runs["items"][0]["id"].as_str().unwrap();
    let retried = server
        .get_json(&owner, &format!("/api/v1/crew-runs/{retried_id}"))
        .await;
    let stages = retried["stage_runs"].as_array().unwrap();
    let summary = |name: &str| {
        stages
            .iter()
            .find(|stage| stage["stage"] == name)
            .unwrap_or_else(|| panic!("no {name} stage in {retried}"))["input_summary"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let reused = format!("reused from crew run {run_id}");
    for name in ["scorer", "researcher", "writer", "subject_optimizer"] {
        assert_eq!(summary(name), reused, "{name}");
    }
    assert_ne!(summary("compliance"), reused);
    assert_ne!(summary("quality"), reused);
}

/// Leads enrolled after the launch get their first message without another
/// launch, and enrolling them again adds nothing.
async fn running_campaign_starts_new_leads(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Latecomers Ltd").await;
    let (campaign, _) = launch_campaign(&server, &owner, 2).await;
    server.run_jobs().await;

    let late = server.create_lead(&owner, "late@acme.example.com").await;
    let path = format!("/api/v1/campaigns/{}/enrollments", campaign.0);
    let body = json!({ "lead_ids": [late] });
    let enrolled = server.post_expect(&owner, &path, body.clone(), 200).await;
    assert_eq!(enrolled["added"], 1, "{enrolled}");
    let again = server.post_expect(&owner, &path, body, 200).await;
    assert_eq!(again["added"], 0, "{again}");
    server.run_jobs().await;

    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let messages = tx
        .list_messages(Some(campaign), PageRequest::first(50))
        .await
        .unwrap()
        .items;
    tx.commit().await.unwrap();
    let late_id = LeadId(late.parse().unwrap());
    let to_late: Vec<_> = messages.iter().filter(|m| m.lead_id == late_id).collect();
    assert_eq!(to_late.len(), 1, "{messages:?}");
    assert_eq!(messages.len(), 3);
}

async fn enrollment_status(
    server: &TestServer,
    session: &Session,
    campaign: CampaignId,
    lead: LeadId,
) -> EnrollmentStatus {
    let mut tx = server.store().begin(session.account()).await.unwrap();
    let enrollment = tx.find_enrollment(campaign, lead).await.unwrap();
    tx.commit().await.unwrap();
    enrollment.expect("the lead is enrolled").status
}
