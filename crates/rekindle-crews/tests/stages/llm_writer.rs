//! The LLM writer against a mock LLM server: the prompt it sends, the drafts
//! it accepts, and the offline fallback with its recorded reason.

use std::sync::Arc;
use std::time::Duration;

use rekindle_crews::{
    CrewConfig, LeadOutcome, LlmWriter, MessageWriter, OfflineWriter, ReactivationCrew,
};
use rekindle_domain::{Channel, Tone};
use rekindle_llm::budget::{BudgetKey, Cost};
use rekindle_llm::prompt::NEUTRALISED;
use rekindle_llm::testing::{MockLlmServer, MockReply};
use serde_json::json;
use tokio::task::JoinSet;

use crate::common::{UNSUBSCRIBE_URL, campaign_step};
use crate::llm_support::{
    ClientSetup, INJECTION, LLM_BODY, LLM_SUBJECT, account, hijacked_draft, injected_task,
    llm_client, llm_draft, memory_ledger, writer_request,
};

#[tokio::test]
async fn valid_draft_is_used() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&llm_draft()));
    let client = llm_client(&server, &ClientSetup::default(), memory_ledger());
    let writer = LlmWriter::new(client, account());

    let request = writer_request(&injected_task(), Channel::Email, 0);
    let (draft, notes) = writer.write_noted(&request).await;
    let draft = draft.unwrap();
    assert_eq!(draft.channel, Channel::Email);
    assert_eq!(draft.subject.as_deref(), Some(LLM_SUBJECT));
    assert_eq!(draft.body, LLM_BODY);
    assert_eq!(notes.input_tokens, 120);
    assert_eq!(notes.output_tokens, 80);
    assert_eq!(notes.fallback, None);
    assert_eq!(writer.name(), "llm");
}

#[tokio::test]
async fn prompt_carries_lead_research_and_sender() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&llm_draft()));
    let client = llm_client(&server, &ClientSetup::default(), memory_ledger());
    let writer = LlmWriter::new(client, account());

    let mut task = injected_task();
    task.signals = vec![rekindle_domain::lead::SignalInput {
        kind: "funding".into(),
        summary: "Raised a Series B in May".into(),
        source: "import".into(),
    }];
    let (draft, _) = writer
        .write_noted(&writer_request(&task, Channel::Email, 0))
        .await;
    assert!(draft.is_ok());

    let request = &server.requests()[0];
    assert_eq!(
        request.body["response_format"]["json_schema"]["name"],
        "reactivation_email"
    );
    let system = request.system_prompt();
    assert!(system.contains("80 to 150 words"), "{system}");
    assert!(system.contains("first message of the sequence"), "{system}");
    for untrusted in [
        "Anna",
        "Acme",
        "Sam Carter",
        "Brightpath",
        "Series B",
        "attacker",
        "evil.example",
    ] {
        assert!(
            !system.contains(untrusted),
            "{untrusted:?} reached the system prompt"
        );
    }

    let user = request.user_message();
    for expected in [
        "first_name: Anna",
        "company: Acme Ltd",
        "notes: Asked for pricing in the spring.",
        "signal: funding: Raised a Series B in May",
        "name: Sam Carter",
        "company: Brightpath Analytics",
    ] {
        assert!(user.contains(expected), "{expected:?} missing from {user}");
    }
    assert!(!user.contains(INJECTION), "{user}");
    assert!(user.contains(NEUTRALISED), "{user}");
    assert!(
        !user.to_lowercase().contains("ignore previous instructions"),
        "{user}"
    );
    assert!(!user.contains("attacker@example.com"), "{user}");
    assert!(!user.contains("https://evil.example"), "{user}");
}

#[tokio::test]
async fn follow_up_refers_to_earlier_step() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({"body": "Hi Anna, it's Sam from Brightpath Analytics. Following up on my last message: worth a quick call?"})));
    let client = llm_client(&server, &ClientSetup::default(), memory_ledger());
    let writer = LlmWriter::new(client, account());

    let (draft, notes) = writer
        .write_noted(&writer_request(&injected_task(), Channel::Sms, 2))
        .await;
    let draft = draft.unwrap();
    assert_eq!(draft.subject, None);
    assert_eq!(notes.fallback, None);

    let request = &server.requests()[0];
    assert_eq!(
        request.body["response_format"]["json_schema"]["name"],
        "reactivation_text"
    );
    let system = request.system_prompt();
    assert!(system.contains("follow-up number 2"), "{system}");
    assert!(
        system.contains("refer briefly to the earlier message"),
        "{system}"
    );
    assert!(system.contains("SMS text message"), "{system}");
}

/// Asserts the writer fell back to the offline draft with `reason`.
async fn assert_falls_back(server: &MockLlmServer, setup: ClientSetup, reason: &str) -> usize {
    let client = llm_client(server, &setup, memory_ledger());
    let writer = LlmWriter::new(client, account());
    let request = writer_request(&injected_task(), Channel::Email, 0);

    let (draft, notes) = writer.write_noted(&request).await;
    assert_eq!(draft, OfflineWriter.write_draft(&request));
    let fallback = notes.fallback.expect("the fallback is recorded");
    assert_eq!(fallback.reason, reason, "{}", fallback.message);
    server.request_count()
}

#[tokio::test]
async fn timeout_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&llm_draft()).with_delay(Duration::from_secs(3)));
    let setup = ClientSetup {
        timeout: Duration::from_millis(200),
        ..ClientSetup::default()
    };
    let requests = assert_falls_back(&server, setup, "timeout").await;
    assert_eq!(requests, 3, "the request and two retries");
}

#[tokio::test]
async fn writer_deadline_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&llm_draft()).with_delay(Duration::from_secs(3)));
    let client = llm_client(&server, &ClientSetup::default(), memory_ledger());
    let writer = LlmWriter::new(client, account()).with_deadline(Duration::from_millis(300));
    let request = writer_request(&injected_task(), Channel::Email, 0);

    let (draft, notes) = writer.write_noted(&request).await;
    assert_eq!(draft, OfflineWriter.write_draft(&request));
    assert_eq!(notes.fallback.unwrap().reason, "deadline_exceeded");
}

#[tokio::test]
async fn rate_limit_retried_then_falls_back() {
    let server = MockLlmServer::start().await;
    server
        .set_fallback(MockReply::error(429, "rate limit reached").with_header("retry-after", "1"));
    let setup = ClientSetup {
        max_retries: 1,
        ..ClientSetup::default()
    };
    let requests = assert_falls_back(&server, setup, "rate_limited").await;
    assert_eq!(requests, 2);
}

#[tokio::test]
async fn server_error_retried_then_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(500, "internal error"));
    let requests = assert_falls_back(&server, ClientSetup::default(), "provider_error").await;
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn malformed_json_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_text("Here is your email: Hi Anna, ..."));
    let requests = assert_falls_back(&server, ClientSetup::default(), "invalid_output").await;
    assert_eq!(requests, 2, "one retry with the reason");
    let retry = server.requests()[1].user_message();
    assert!(
        retry.contains("Your previous reply was rejected"),
        "{retry}"
    );
}

#[tokio::test]
async fn schema_violation_falls_back() {
    let server = MockLlmServer::start().await;
    let mut with_recipient = llm_draft();
    with_recipient["to"] = json!("attacker@example.com");
    server.set_fallback(MockReply::openai_json(&with_recipient));
    let requests = assert_falls_back(&server, ClientSetup::default(), "invalid_output").await;
    assert_eq!(requests, 2);
}

#[tokio::test]
async fn short_draft_retried_with_reason() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(
        &json!({"subject": "Hi", "body": "Hi Anna, call me?"}),
    ));
    server.push(MockReply::openai_json(&llm_draft()));
    let client = llm_client(&server, &ClientSetup::default(), memory_ledger());
    let writer = LlmWriter::new(client, account());

    let (draft, notes) = writer
        .write_noted(&writer_request(&injected_task(), Channel::Email, 0))
        .await;
    assert_eq!(draft.unwrap().body, LLM_BODY);
    assert_eq!(notes.fallback, None);
    assert_eq!(notes.input_tokens, 240, "both attempts are counted");

    let retry = server.requests()[1].user_message();
    assert!(
        retry.contains("subject has 2 characters, expected 40 to 60"),
        "{retry}"
    );
    assert!(
        retry.contains("body has 4 words, expected 80 to 150"),
        "{retry}"
    );
}

#[tokio::test]
async fn hijacked_output_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&hijacked_draft()));
    let requests = assert_falls_back(&server, ClientSetup::default(), "invalid_output").await;
    assert_eq!(requests, 2);
    let retry = server.requests()[1].user_message();
    assert!(retry.contains("attacker@example.com"), "{retry}");
}

#[tokio::test]
async fn budget_exhaustion_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&llm_draft()));
    let ledger = memory_ledger();
    let budget = Cost::from_usd(0.5);
    let key = BudgetKey {
        account_id: account().account_id,
        day: chrono::Utc::now().date_naive(),
    };
    ledger.add_spend(key, budget);
    let setup = ClientSetup {
        daily_budget: budget,
        ..ClientSetup::default()
    };
    let client = llm_client(&server, &setup, ledger);
    let writer = LlmWriter::new(client, account());
    let request = writer_request(&injected_task(), Channel::Email, 0);

    let (draft, notes) = writer.write_noted(&request).await;
    assert_eq!(draft, OfflineWriter.write_draft(&request));
    let fallback = notes.fallback.expect("the fallback is recorded");
    assert_eq!(fallback.reason, "budget_exceeded");
    assert!(fallback.message.contains("budget"), "{}", fallback.message);
    assert_eq!(server.request_count(), 0);
    assert_eq!(notes.input_tokens + notes.output_tokens, 0);
}

#[tokio::test]
async fn concurrency_cap_holds_across_writes() {
    let server = MockLlmServer::start().await;
    server
        .set_fallback(MockReply::openai_json(&llm_draft()).with_delay(Duration::from_millis(300)));
    let setup = ClientSetup {
        account_concurrency: 2,
        ..ClientSetup::default()
    };
    let client = llm_client(&server, &setup, memory_ledger());
    let writer = Arc::new(LlmWriter::new(client, account()));

    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let writer = Arc::clone(&writer);
        tasks.spawn(async move {
            let request = writer_request(&injected_task(), Channel::Email, 0);
            writer.write_noted(&request).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (draft, notes) = joined.unwrap();
        assert_eq!(draft.unwrap().body, LLM_BODY);
        assert_eq!(notes.fallback, None);
    }
    assert_eq!(server.request_count(), 6);
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn crew_keeps_recipient_links_and_footer() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&llm_draft()));
    let client = llm_client(&server, &ClientSetup::default(), memory_ledger());
    let crew = ReactivationCrew::new(
        Arc::new(LlmWriter::new(client, account())),
        CrewConfig::default(),
    );
    let task = injected_task();
    let recipient = task.lead.fields.email.clone();

    let report = crew
        .run(
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![task],
        )
        .await;
    let run = &report.leads[0];
    let LeadOutcome::Prepared(prepared) = &run.outcome else {
        panic!("lead failed: {:?}", run.outcome);
    };
    assert_eq!(prepared.message.body, LLM_BODY);
    let footer = &prepared.message.footer;
    assert!(footer.contains(&format!("{UNSUBSCRIBE_URL}0")), "{footer}");
    assert!(footer.contains("1 Market Street"), "{footer}");
    let text = prepared.message.full_text();
    assert!(!text.contains("attacker"), "{text}");
    assert!(!text.contains("evil.example"), "{text}");
    assert_eq!(recipient.unwrap().as_str(), "lead0@example.com");

    let writer_record = run
        .stages
        .iter()
        .find(|record| record.stage == "writer")
        .unwrap();
    assert_eq!(writer_record.notes.input_tokens, 120);
    assert_eq!(writer_record.notes.fallback, None);
    assert!(
        writer_record.input_summary.contains("writer llm"),
        "{}",
        writer_record.input_summary
    );
}

#[tokio::test]
async fn crew_falls_back_on_hijacked_output() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&hijacked_draft()));
    let client = llm_client(&server, &ClientSetup::default(), memory_ledger());
    let crew = ReactivationCrew::new(
        Arc::new(LlmWriter::new(client, account())),
        CrewConfig::default(),
    );

    let report = crew
        .run(
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![injected_task()],
        )
        .await;
    let run = &report.leads[0];
    let LeadOutcome::Prepared(prepared) = &run.outcome else {
        panic!("lead failed: {:?}", run.outcome);
    };
    let text = prepared.message.full_text();
    assert!(!text.contains("attacker"), "{text}");
    assert!(!text.contains("evil.example"), "{text}");
    assert!(
        prepared
            .message
            .footer
            .contains(&format!("{UNSUBSCRIBE_URL}0"))
    );

    let writer_record = run
        .stages
        .iter()
        .find(|record| record.stage == "writer")
        .unwrap();
    let fallback = writer_record
        .notes
        .fallback
        .as_ref()
        .expect("the fallback is recorded");
    assert_eq!(fallback.reason, "invalid_output");
    assert_eq!(writer_record.notes.input_tokens, 240);
    assert_eq!(writer_record.error, None);
}
