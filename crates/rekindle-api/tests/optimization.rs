//! The optimization crew through the API. A/B decisions per campaign step
//! count positive replies and are made by a request or by the job a positive
//! reply enqueues. The tests check the switch of unsent messages to the
//! winner, the positive-reply report and the funnel per step and variant in
//! the database, on SQLite and on PostgreSQL.
//!
//! The sending provider is simulated in the store: chosen messages move to
//! `sent` and `delivered` (and some to `opened`) as provider events would
//! move them. Replies arrive through `POST /api/v1/replies`.

mod common;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use common::{Session, TestServer, expect_problem};
use rekindle_crews::{SubjectVariant, assign_variant};
use rekindle_domain::{CampaignId, LeadId, MessageStatus};
use rekindle_services::jobs::{PREPARE_STEP_JOB, PrepareStepPayload};
use rekindle_store::{Message, MessageUpdate, NewJob, PageRequest, Step};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

on_both_backends!(
    winner_decided_through_api => winner_decided_through_api,
    winner_decided_by_job => winner_decided_by_job,
    small_sample_stores_nothing => small_sample_stores_nothing,
);

/// Enough leads that each subject variant gets well over 100 of them: the
/// lead-id hash splits them about evenly, and 300 leads put each variant
/// below 101 only at more than 5 standard deviations.
const LEADS: usize = 300;
/// The minimum sample of the A/B decision.
const SENDS_PER_VARIANT: usize = 100;

/// Replies and opens the test sets up per variant. With 5 and 25 positive
/// replies in 100 sends each, z is about 3.96 and the p-value about 7.5e-5,
/// so B wins at the 0.05 level.
struct Plan {
    positive: usize,
    negative: usize,
    opened: usize,
}

const PLAN_A: Plan = Plan {
    positive: 5,
    negative: 3,
    opened: 10,
};
const PLAN_B: Plan = Plan {
    positive: 25,
    negative: 2,
    opened: 20,
};

const POSITIVE_TEXT: &str = "Yes, let's talk. Could we do a call on Thursday at 10?";
const NEGATIVE_TEXT: &str = "Thanks, but we are not interested.";

struct Launched {
    id: String,
    campaign: CampaignId,
}

/// A variant's messages: those the simulated provider sent and the rest,
/// still scheduled.
#[derive(Default)]
struct VariantMessages {
    sent: Vec<Message>,
    scheduled: Vec<Message>,
}

/// Imports `leads` leads, creates a one-step email campaign a day after
/// launch with all of them enrolled, launches it and lets the worker prepare
/// every batch. The day's delay keeps every send job in the future.
async fn launch(server: &TestServer, owner: &Session, leads: usize) -> Launched {
    let mut csv = String::from("email,first_name,company,job_title,notes\n");
    for index in 0..leads {
        csv.push_str(&format!(
            "lead{index}@company{}.example.com,Dana,Acme {index} Ltd,Head of Sales,Asked for pricing last spring.\n",
            index % 50
        ));
    }
    server.import_csv(owner, csv).await;

    let campaign = server
        .post_expect(
            owner,
            "/api/v1/campaigns",
            json!({ "name": "Subject test", "tone": "friendly",
                    "window": { "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                "start_hour": 8, "end_hour": 18 },
                    "steps": [{ "channel": "email", "delay_days": 1 }] }),
            201,
        )
        .await;
    let id = campaign["id"].as_str().unwrap().to_owned();
    let lead_ids = server.all_lead_ids(owner).await;
    assert_eq!(lead_ids.len(), leads);
    server
        .post_expect(
            owner,
            &format!("/api/v1/campaigns/{id}/enrollments"),
            json!({ "lead_ids": lead_ids }),
            200,
        )
        .await;
    server
        .post_expect(
            owner,
            &format!("/api/v1/campaigns/{id}/launch"),
            json!({}),
            202,
        )
        .await;
    server.run_jobs_until(Utc::now()).await;

    Launched {
        campaign: CampaignId(id.parse().unwrap()),
        id,
    }
}

async fn stored_messages(
    server: &TestServer,
    owner: &Session,
    campaign: CampaignId,
) -> Vec<Message> {
    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let mut messages = Vec::new();
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let found = tx.list_messages(Some(campaign), page).await.unwrap();
        messages.extend(found.items);
        match found.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    tx.commit().await.unwrap();
    messages
}

async fn stored_step(server: &TestServer, owner: &Session, campaign: CampaignId) -> Step {
    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let mut steps = tx.list_steps(campaign).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(steps.len(), 1);
    steps.remove(0)
}

/// Sends the first `count` messages of each variant, as the provider would
/// report them sent and delivered, and returns the messages by variant.
async fn simulate_sends(
    server: &TestServer,
    owner: &Session,
    messages: Vec<Message>,
    count: usize,
) -> BTreeMap<String, VariantMessages> {
    let mut by_variant: BTreeMap<String, VariantMessages> = BTreeMap::new();
    for message in messages {
        let variant = by_variant.entry(message.variant.clone()).or_default();
        if variant.sent.len() < count {
            variant.sent.push(message);
        } else {
            variant.scheduled.push(message);
        }
    }

    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let sent = MessageUpdate {
        sent: true,
        ..MessageUpdate::default()
    };
    for message in by_variant.values().flat_map(|variant| &variant.sent) {
        let now = Utc::now();
        for (status, update) in [
            (MessageStatus::Sending, MessageUpdate::default()),
            (MessageStatus::Sent, sent.clone()),
            (MessageStatus::Delivered, MessageUpdate::default()),
        ] {
            assert!(
                tx.advance_message(message.id, status, &update, now)
                    .await
                    .unwrap()
            );
        }
    }
    tx.commit().await.unwrap();
    by_variant
}

/// Replies to `message` through the API and checks the label it got.
async fn reply(server: &TestServer, owner: &Session, message: &Message, text: &str, label: &str) {
    let body = server
        .post_expect(
            owner,
            "/api/v1/replies",
            json!({ "channel": "email", "from": message.to_address, "text": text,
                    "in_reply_to": message.rfc_message_id }),
            201,
        )
        .await;
    assert_eq!(body["label"], label, "{text}");
}

/// Replies to and opens a variant's sent messages as `plan` sets out: first the
/// positive replies, then the negative ones, then the opens of messages
/// without a reply.
async fn apply_plan(server: &TestServer, owner: &Session, sent: &[Message], plan: &Plan) {
    let (positive, rest) = sent.split_at(plan.positive);
    let (negative, rest) = rest.split_at(plan.negative);
    for message in positive {
        reply(server, owner, message, POSITIVE_TEXT, "meeting_request").await;
    }
    for message in negative {
        reply(server, owner, message, NEGATIVE_TEXT, "not_interested").await;
    }

    let mut tx = server.store().begin(owner.account()).await.unwrap();
    for message in &rest[..plan.opened] {
        let opened = tx
            .advance_message(
                message.id,
                MessageStatus::Opened,
                &MessageUpdate::default(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(opened);
    }
    tx.commit().await.unwrap();
}

/// Launches the large campaign, sends 100 messages per variant and applies
/// both plans. Returns the campaign and its messages by variant.
async fn known_winner_setup(
    server: &TestServer,
    owner: &Session,
) -> (Launched, BTreeMap<String, VariantMessages>) {
    let launched = launch(server, owner, LEADS).await;
    let messages = stored_messages(server, owner, launched.campaign).await;
    assert_eq!(messages.len(), LEADS, "one message per lead");
    for message in &messages {
        assert!(
            message.alternate_subject.is_some(),
            "an email keeps both subjects"
        );
        assert_ne!(message.alternate_subject, message.subject);
        assert!(
            message
                .personalisation_elements
                .iter()
                .any(|key| key.starts_with("hook:")),
            "{:?}",
            message.personalisation_elements
        );
    }

    let by_variant = simulate_sends(server, owner, messages, SENDS_PER_VARIANT).await;
    let labels: Vec<&str> = by_variant.keys().map(String::as_str).collect();
    assert_eq!(labels, ["A", "B"]);
    for variant in by_variant.values() {
        assert_eq!(variant.sent.len(), SENDS_PER_VARIANT);
        assert!(
            !variant.scheduled.is_empty(),
            "each variant keeps unsent messages"
        );
    }
    apply_plan(server, owner, &by_variant["A"].sent, &PLAN_A).await;
    apply_plan(server, owner, &by_variant["B"].sent, &PLAN_B).await;
    (launched, by_variant)
}

/// Checks the stored decision and that every unsent message of A now
/// carries B's subject while sent messages keep theirs.
async fn assert_winner_applied(
    server: &TestServer,
    owner: &Session,
    launched: &Launched,
    by_variant: &BTreeMap<String, VariantMessages>,
) -> Step {
    let step = stored_step(server, owner, launched.campaign).await;
    let decision = step.ab_decision.as_ref().expect("the step is decided");
    assert_eq!(decision.winner, "B");
    assert!(
        decision.figures["p_value"].as_f64().unwrap() < 0.001,
        "{}",
        decision.figures
    );
    assert_eq!(decision.figures["a"]["positive_replies"], PLAN_A.positive);
    assert_eq!(decision.figures["b"]["positive_replies"], PLAN_B.positive);

    let stored: BTreeMap<_, _> = stored_messages(server, owner, launched.campaign)
        .await
        .into_iter()
        .map(|message| (message.id, message))
        .collect();
    for before in &by_variant["A"].scheduled {
        let after = &stored[&before.id];
        assert_eq!(after.status, MessageStatus::Scheduled);
        assert_eq!(after.variant, "B");
        assert_eq!(after.subject, before.alternate_subject);
        assert_eq!(after.alternate_subject, before.subject);
        assert_eq!(after.body, before.body);
    }
    for before in by_variant.values().flat_map(|variant| &variant.sent) {
        let after = &stored[&before.id];
        assert_eq!(
            after.variant, before.variant,
            "a sent message keeps its variant"
        );
        assert_eq!(after.subject, before.subject);
    }
    for before in &by_variant["B"].scheduled {
        assert_eq!(stored[&before.id].subject, before.subject);
    }
    step
}

async fn winner_decided_through_api(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Winner Labs").await;
    let (launched, by_variant) = known_winner_setup(&server, &owner).await;
    let id = &launched.id;

    // Thirty positive replies leave one queued decision, five minutes out.
    let decisions: Vec<Value> = queued_jobs(&server, &owner)
        .await
        .into_iter()
        .filter(|job| job["kind"] == "decide_ab")
        .collect();
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    let run_at: DateTime<Utc> = decisions[0]["run_at"].as_str().unwrap().parse().unwrap();
    let delay = run_at - Utc::now();
    assert!(
        delay > Duration::minutes(3) && delay <= Duration::minutes(5),
        "{delay}"
    );

    let body = server
        .post_expect(
            &owner,
            &format!("/api/v1/campaigns/{id}/ab-decisions"),
            json!({}),
            200,
        )
        .await;
    let step = &body["steps"][0];
    assert_eq!(body["steps"].as_array().unwrap().len(), 1);
    assert_eq!(step["decision"]["winner"], "B");
    assert_eq!(step["current"]["outcome"], "winner");
    assert_eq!(step["current"]["a"]["sends"], SENDS_PER_VARIANT);
    assert_eq!(step["current"]["a"]["positive_replies"], PLAN_A.positive);
    assert_eq!(step["current"]["b"]["sends"], SENDS_PER_VARIANT);
    assert_eq!(step["current"]["b"]["positive_replies"], PLAN_B.positive);
    let z = step["current"]["z"].as_f64().unwrap();
    assert!((z - 3.96).abs() < 0.01, "z = {z}");
    assert_eq!(step["switched_messages"], by_variant["A"].scheduled.len());

    let stored = assert_winner_applied(&server, &owner, &launched, &by_variant).await;
    let steps = server
        .get_json(&owner, &format!("/api/v1/campaigns/{id}/steps"))
        .await;
    assert_eq!(steps["items"][0]["ab_winner"], "B");
    let decided_at = stored.ab_decision.unwrap().decided_at;

    let audit = server.get_json(&owner, "/api/v1/audit?limit=200").await;
    let entries: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "campaign.ab_decided")
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor_kind"], "user");
    assert_eq!(entries[0]["changes"]["winner"], "B");
    assert_eq!(
        entries[0]["changes"]["switched_messages"],
        by_variant["A"].scheduled.len()
    );

    // A decided step stays decided, and the queued job changes nothing.
    let again = server
        .post_expect(
            &owner,
            &format!("/api/v1/campaigns/{id}/ab-decisions"),
            json!({}),
            200,
        )
        .await;
    assert_eq!(again["steps"][0]["switched_messages"], 0);
    server
        .run_jobs_until(Utc::now() + Duration::minutes(10))
        .await;
    let step = stored_step(&server, &owner, launched.campaign).await;
    assert_eq!(step.ab_decision.unwrap().decided_at, decided_at);

    assert_funnel(&server, &owner, id).await;
    assert_optimization_report(&server, &owner, &launched, &by_variant).await;
    late_leads_get_winner(&server, &owner, &launched).await;
}

/// Enrolls leads after the decision and prepares the step for them, as the
/// dormant-lead scan does for the leads it enrolls: every one of them gets
/// the winner, including the leads the hash assigns to A.
async fn late_leads_get_winner(server: &TestServer, owner: &Session, launched: &Launched) {
    let mut leads = Vec::new();
    for index in 0..12 {
        let lead = server
            .create_lead(owner, &format!("late{index}@late.example.com"))
            .await;
        leads.push(LeadId(lead.parse().unwrap()));
    }
    assert!(
        leads
            .iter()
            .any(|lead| assign_variant(*lead) == SubjectVariant::A),
        "some late lead is assigned to A"
    );
    server
        .post_expect(
            owner,
            &format!("/api/v1/campaigns/{}/enrollments", launched.id),
            json!({ "lead_ids": leads }),
            200,
        )
        .await;

    let mut tx = server.store().begin(owner.account()).await.unwrap();
    let mut enrollments = Vec::new();
    for lead in &leads {
        let enrollment = tx
            .find_enrollment(launched.campaign, *lead)
            .await
            .unwrap()
            .unwrap();
        enrollments.push(enrollment.id);
    }
    let payload = PrepareStepPayload {
        campaign_id: launched.campaign,
        position: 1,
        enrollment_ids: enrollments,
        first_send_index: 0,
        retry: 0,
        resume_from: None,
    };
    tx.enqueue_job(&NewJob::now(PREPARE_STEP_JOB, json!(payload)), Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    server.run_jobs_until(Utc::now()).await;

    let late: Vec<Message> = stored_messages(server, owner, launched.campaign)
        .await
        .into_iter()
        .filter(|message| leads.contains(&message.lead_id))
        .collect();
    assert_eq!(late.len(), leads.len());
    for message in &late {
        assert_eq!(message.variant, "B");
        assert!(message.alternate_subject.is_some());
        assert_ne!(message.subject, message.alternate_subject);
    }
}

/// Lists every queued job of the account through the API, page by page.
async fn queued_jobs(server: &TestServer, owner: &Session) -> Vec<Value> {
    let mut jobs = Vec::new();
    let mut path = "/api/v1/jobs?status=queued&limit=200".to_owned();
    loop {
        let page = server.get_json(owner, &path).await;
        jobs.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/jobs?status=queued&limit=200&cursor={next}"),
            None => return jobs,
        }
    }
}

async fn winner_decided_by_job(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Job Labs").await;
    let (launched, by_variant) = known_winner_setup(&server, &owner).await;
    assert!(
        stored_step(&server, &owner, launched.campaign)
            .await
            .ab_decision
            .is_none()
    );

    // Only the decision is due within ten minutes; the sends wait a day.
    server
        .run_jobs_until(Utc::now() + Duration::minutes(10))
        .await;
    assert_winner_applied(&server, &owner, &launched, &by_variant).await;

    let audit = server.get_json(&owner, "/api/v1/audit?limit=200").await;
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "campaign.ab_decided")
        .expect("an audit entry for the decision");
    assert_eq!(entry["actor_kind"], "system");
    assert_eq!(entry["actor_id"], "optimizer");
}

async fn assert_funnel(server: &TestServer, owner: &Session, id: &str) {
    let funnel = server
        .get_json(owner, &format!("/api/v1/campaigns/{id}/funnel"))
        .await;
    assert_eq!(funnel["campaign_id"], id);
    assert_eq!(funnel["counts"]["sent"], 2 * SENDS_PER_VARIANT);
    let step = &funnel["steps"][0];
    assert_eq!(step["position"], 1);
    let variants = step["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    for (variant, plan, label) in [(&variants[0], &PLAN_A, "A"), (&variants[1], &PLAN_B, "B")] {
        assert_eq!(variant["variant"], label);
        let counts = &variant["counts"];
        assert_eq!(counts["sent"], SENDS_PER_VARIANT, "{variant}");
        assert_eq!(counts["delivered"], SENDS_PER_VARIANT, "{variant}");
        assert_eq!(counts["opened"], plan.opened, "{variant}");
        assert_eq!(counts["clicked"], 0, "{variant}");
        assert_eq!(
            counts["replied"],
            plan.positive + plan.negative,
            "{variant}"
        );
        assert_eq!(counts["positive"], plan.positive, "{variant}");
        assert_eq!(counts["meetings"], 0, "{variant}");
        let rate = variant["rates"]["positive_rate"].as_f64().unwrap();
        assert!((rate - plan.positive as f64 / SENDS_PER_VARIANT as f64).abs() < 1e-9);
    }
    assert_eq!(step["counts"]["replied"], 35);
    assert_eq!(step["counts"]["positive"], 30);
}

/// Checks the report against a tally of the stored messages: local send
/// hour and weekday in the account's zone (the leads have none), and each
/// element's messages and positive replies.
async fn assert_optimization_report(
    server: &TestServer,
    owner: &Session,
    launched: &Launched,
    by_variant: &BTreeMap<String, VariantMessages>,
) {
    let positive: Vec<_> = by_variant
        .values()
        .zip([&PLAN_A, &PLAN_B])
        .flat_map(|(variant, plan)| variant.sent[..plan.positive].iter().map(|m| m.id))
        .collect();
    let mut elements: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut hours: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut weekdays: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for message in stored_messages(server, owner, launched.campaign).await {
        let Some(sent_at) = message.sent_at else {
            continue;
        };
        let hit = u64::from(positive.contains(&message.id));
        let local = sent_at.with_timezone(&chrono_tz::Europe::London);
        let keys = [
            (&mut hours, local.hour().to_string()),
            (&mut weekdays, local.weekday().to_string().to_lowercase()),
        ];
        for (tally, key) in keys {
            let entry = tally.entry(key).or_default();
            *entry = (entry.0 + 1, entry.1 + hit);
        }
        for element in message.personalisation_elements {
            let entry = elements.entry(element).or_default();
            *entry = (entry.0 + 1, entry.1 + hit);
        }
    }

    let report = server
        .get_json(
            owner,
            &format!("/api/v1/campaigns/{}/optimization", launched.id),
        )
        .await;
    assert_eq!(report["steps"][0]["decision"]["winner"], "B");
    assert_eq!(
        report["steps"][0]["decision"]["figures"]["outcome"],
        "winner"
    );
    let replies = &report["positive_replies"];
    assert_eq!(replies["messages"], 2 * SENDS_PER_VARIANT);
    assert_eq!(replies["positive_replies"], 30);
    for (name, expected) in [
        ("elements", &elements),
        ("hours", &hours),
        ("weekdays", &weekdays),
    ] {
        let min = replies["min_messages"].as_u64().unwrap();
        let expected: BTreeMap<&String, &(u64, u64)> = expected
            .iter()
            .filter(|(_, (messages, _))| *messages >= min)
            .collect();
        let rows: BTreeMap<String, (u64, u64)> = replies[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let counts = (
                    row["messages"].as_u64().unwrap(),
                    row["positive_replies"].as_u64().unwrap(),
                );
                (row["key"].as_str().unwrap().to_owned(), counts)
            })
            .collect();
        let rows: BTreeMap<&String, &(u64, u64)> = rows.iter().collect();
        assert!(!rows.is_empty(), "{name}");
        assert_eq!(rows, expected, "{name}");
    }
}

async fn small_sample_stores_nothing(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Small Labs").await;
    let launched = launch(&server, &owner, 40).await;
    let before = stored_messages(&server, &owner, launched.campaign).await;
    let by_variant = simulate_sends(&server, &owner, before.clone(), 8).await;
    for message in &by_variant["B"].sent[..3] {
        reply(&server, &owner, message, POSITIVE_TEXT, "meeting_request").await;
    }

    let id = &launched.id;
    let body = server
        .post_expect(
            &owner,
            &format!("/api/v1/campaigns/{id}/ab-decisions"),
            json!({}),
            200,
        )
        .await;
    let step = &body["steps"][0];
    assert_eq!(step["decision"], Value::Null);
    assert_eq!(step["switched_messages"], 0);
    assert_eq!(step["current"]["outcome"], "no_decision_yet");
    assert_eq!(step["current"]["reason"], "sample_too_small");
    assert_eq!(step["current"]["b"]["positive_replies"], 3);
    let detail = step["current"]["detail"].as_str().unwrap();
    assert!(
        detail.contains("8 sends") && detail.contains("100"),
        "{detail}"
    );

    assert!(
        stored_step(&server, &owner, launched.campaign)
            .await
            .ab_decision
            .is_none()
    );
    let after = stored_messages(&server, &owner, launched.campaign).await;
    let subjects = |messages: &[Message]| -> Vec<(String, Option<String>)> {
        messages
            .iter()
            .map(|message| (message.variant.clone(), message.subject.clone()))
            .collect()
    };
    assert_eq!(subjects(&after), subjects(&before), "no message switched");
    let audit = server.get_json(&owner, "/api/v1/audit?limit=200").await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|entry| entry["action"] != "campaign.ab_decided")
    );

    let report = server
        .get_json(&owner, &format!("/api/v1/campaigns/{id}/optimization"))
        .await;
    assert_eq!(report["steps"][0]["current"]["reason"], "sample_too_small");
    assert_eq!(report["positive_replies"]["messages"], 16);

    let missing = uuid::Uuid::now_v7();
    for path in ["ab-decisions", "optimization", "funnel"] {
        let path = format!("/api/v1/campaigns/{missing}/{path}");
        let response = if path.ends_with("ab-decisions") {
            server.post(&owner, &path, json!({})).await
        } else {
            server.get(&owner, &path).await
        };
        expect_problem(response, 404, "not_found").await;
    }
}
