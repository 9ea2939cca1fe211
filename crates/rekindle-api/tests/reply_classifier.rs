//! Reply classification on the labelled fixture, through `POST
//! /api/v1/replies`, with the labels checked in the database. The offline
//! classifier must get every reply right. The LLM path, against a mock LLM
//! server on loopback, must store the model's label, except that the rules
//! keep deciding opt-outs. Runs on SQLite and on PostgreSQL.
//!
//! The mock stands in for a model, so the LLM figures measure the path from
//! the reply to the stored label (request, schema, checks, the rules that
//! come first), not a model's accuracy.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::llm::{self, LlmSetup};
use common::{Session, TestServer};
use rekindle_domain::replies::classify;
use rekindle_domain::{Channel, ObjectionKind, ReplyLabel};
use rekindle_llm::testing::{MockLlmServer, MockReply};
use rekindle_store::PageRequest;
use rekindle_store_conformance::Harness;
use serde::Deserialize;
use serde_json::json;

on_both_backends!(
    offline_classifier_gets_every_reply_right => offline_classifier_gets_every_reply_right,
    llm_labels_are_stored_with_tokens => llm_labels_are_stored_with_tokens,
    opt_outs_survive_a_wrong_model => opt_outs_survive_a_wrong_model,
);

const FIXTURE: &str = include_str!("fixtures/labelled_replies.jsonl");

#[derive(Debug, Deserialize)]
struct LabelledReply {
    id: String,
    channel: Channel,
    subject: Option<String>,
    text: String,
    label: ReplyLabel,
    objection: Option<ObjectionKind>,
    return_date: Option<NaiveDate>,
}

fn labelled_replies() -> Vec<LabelledReply> {
    FIXTURE
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("fixture line is valid JSON"))
        .collect()
}

/// Returns the day replies arrive: the fixture's dates carry their year,
/// and this day is before all of them.
fn received_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 15).unwrap()
}

/// Checks whether the rules decide the reply before any LLM is asked.
fn decided_by_rules(reply: &LabelledReply) -> bool {
    let rules = classify(
        reply.channel,
        reply.subject.as_deref(),
        &reply.text,
        received_on(),
    );
    matches!(rules.label, ReplyLabel::OptOut | ReplyLabel::Bounce)
}

/// Creates a lead for each reply, posts the replies in fixture order, and
/// returns the stored (label, objection, return date) of each, in order.
async fn ingest_all(
    server: &TestServer,
    session: &Session,
    replies: &[LabelledReply],
) -> Vec<(ReplyLabel, Option<ObjectionKind>, Option<NaiveDate>)> {
    let received_at = Utc.with_ymd_and_hms(2026, 12, 15, 12, 0, 0).unwrap();
    for (index, reply) in replies.iter().enumerate() {
        let from = match reply.channel {
            Channel::Email => format!("{}@fixture.example.com", reply.id),
            Channel::Sms | Channel::Whatsapp => format!("+4477009{index:05}"),
        };
        let lead = match reply.channel {
            Channel::Email => json!({ "email": from }),
            Channel::Sms | Channel::Whatsapp => json!({ "phone": from }),
        };
        server
            .post_expect(session, "/api/v1/leads", lead, 201)
            .await;
        server
            .post_expect(
                session,
                "/api/v1/replies",
                json!({
                    "channel": reply.channel.as_str(),
                    "from": from,
                    "subject": reply.subject,
                    "text": reply.text,
                    "received_at": received_at,
                }),
                201,
            )
            .await;
    }

    let mut tx = server.store().begin(session.account()).await.unwrap();
    let stored = tx.list_replies(PageRequest::first(200)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.items.len(), replies.len());
    stored
        .items
        .iter()
        .map(|reply| (reply.label, reply.objection, reply.return_date))
        .collect()
}

/// Lists the replies whose stored result differs from the fixture.
fn mismatches(
    replies: &[LabelledReply],
    stored: &[(ReplyLabel, Option<ObjectionKind>, Option<NaiveDate>)],
) -> Vec<String> {
    replies
        .iter()
        .zip(stored)
        .filter(|(reply, actual)| (reply.label, reply.objection, reply.return_date) != **actual)
        .map(|(reply, actual)| {
            format!(
                "{}: expected {:?}, stored {actual:?}",
                reply.id, reply.label
            )
        })
        .collect()
}

async fn offline_classifier_gets_every_reply_right(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Offline Replies").await;
    let replies = labelled_replies();
    let stored = ingest_all(&server, &owner, &replies).await;

    let wrong = mismatches(&replies, &stored);
    eprintln!(
        "offline classifier on the labelled fixture: {} of {} right",
        replies.len() - wrong.len(),
        replies.len()
    );
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

async fn llm_labels_are_stored_with_tokens(harness: &Harness) {
    let replies = labelled_replies();
    let mock = MockLlmServer::start().await;
    // The mock replies to each request with the fixture's label for its
    // reply. Replies the rules decide send no request.
    let mut expected_calls = 0;
    for reply in replies.iter().filter(|reply| !decided_by_rules(reply)) {
        mock.push(MockReply::openai_json(&json!({
            "label": reply.label,
            "objection": reply.objection,
            "return_date": reply.return_date,
            "confidence": 0.9,
        })));
        expected_calls += 1;
    }
    let config = llm::config(&mock, LlmSetup::default());
    let server = TestServer::start_with_services(harness, |app| llm::use_llm(app, &config)).await;
    let owner = server.signup("Llm Replies").await;
    let stored = ingest_all(&server, &owner, &replies).await;

    let wrong = mismatches(&replies, &stored);
    eprintln!(
        "LLM classifier against the mock that answers the fixture's labels: {} of {} stored right, \
         {expected_calls} LLM requests, {} decided by the rules first",
        replies.len() - wrong.len(),
        replies.len(),
        replies.len() - expected_calls
    );
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    assert_eq!(mock.request_count(), expected_calls);

    // Each reply has its crew run; the LLM-decided ones carry the mock's
    // 200 tokens and no fallback.
    let runs = server.get_json(&owner, "/api/v1/crew-runs?limit=200").await;
    let runs = runs["items"].as_array().unwrap();
    assert_eq!(runs.len(), replies.len());
    assert!(runs.iter().all(|run| run["crew"] == "reply_classification"));
    let with_tokens = runs.iter().filter(|run| run["tokens"] == 200).count();
    assert_eq!(with_tokens, expected_calls);
    assert!(runs.iter().all(|run| run["fallbacks"] == 0));
}

async fn opt_outs_survive_a_wrong_model(harness: &Harness) {
    let replies = labelled_replies();
    let mock = MockLlmServer::start().await;
    mock.set_fallback(MockReply::openai_json(&json!({
        "label": "meeting_request",
        "objection": null,
        "return_date": null,
        "confidence": 0.99,
    })));
    let config = llm::config(&mock, LlmSetup::default());
    let server = TestServer::start_with_services(harness, |app| llm::use_llm(app, &config)).await;
    let owner = server.signup("Wrong Model").await;
    let stored = ingest_all(&server, &owner, &replies).await;

    let right = replies.len() - mismatches(&replies, &stored).len();
    eprintln!(
        "LLM classifier against a mock that always answers meeting_request: {right} of {} right",
        replies.len()
    );
    for (reply, (label, _, _)) in replies.iter().zip(&stored) {
        if reply.label == ReplyLabel::OptOut {
            assert_eq!(*label, ReplyLabel::OptOut, "{} became {label}", reply.id);
        }
    }
    let opt_outs = replies
        .iter()
        .filter(|reply| reply.label == ReplyLabel::OptOut)
        .count();
    assert!(opt_outs > 0, "the fixture has opt-outs");
}
