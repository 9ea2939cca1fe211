//! The LLM researcher against a mock LLM server: the request it sends in
//! both wire formats, the grounded research the crew uses, and the
//! rule-based fallback with its recorded reason.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use rekindle_config::{Secret, StructuredOutput};
use rekindle_crews::{
    CrewAgents, CrewConfig, Hook, LeadOutcome, LeadResearcher, LeadRun, LeadTask, LlmResearcher,
    LlmWriter, NoteCue, OfflineWriter, PreparedMessage, ReactivationCrew, Research,
    ResearcherInput, StageRecord, research,
};
use rekindle_domain::{Channel, Tone};
use rekindle_llm::budget::{BudgetKey, Cost, ModelPrice, PlanBudgets, PriceTable};
use rekindle_llm::prompt::NEUTRALISED;
use rekindle_llm::providers::{
    ANTHROPIC_VERSION, AnthropicProvider, LlmProvider, ModelMap, OpenAiProvider, ProviderSettings,
};
use rekindle_llm::testing::{MockLlmServer, MockReply, RecordedRequest};
use rekindle_llm::{ClientSettings, LlmClient, RetryPolicy};
use serde_json::{Value, json};

use crate::common::{UNSUBSCRIBE_URL, campaign_step, consented_task};
use crate::llm_support::{INJECTION, account, llm_draft, memory_ledger};

const API_KEY: &str = "sk-research-test";
const RESEARCHER_MODEL: &str = "researcher-model";
const WRITER_MODEL: &str = "writer-model";
/// The period the grounded reply copies from the second note.
const PERIOD: &str = "the office move";

fn models() -> ModelMap {
    ModelMap {
        writer: WRITER_MODEL.into(),
        researcher: RESEARCHER_MODEL.into(),
        classifier: WRITER_MODEL.into(),
    }
}

fn settings(server: &MockLlmServer, base_path: &str) -> ProviderSettings {
    ProviderSettings {
        base_url: Some(format!("{}{base_path}", server.base_url())),
        api_key: Some(Secret::new(API_KEY)),
        models: models(),
        structured_output: StructuredOutput::JsonSchema,
        timeout: Duration::from_secs(5),
    }
}

/// Builds a client whose maximum output tokens (1,000) is above the
/// researcher's own cap, so the request shows the researcher's cap.
fn client_for(provider: Arc<dyn LlmProvider>, daily_budget: Cost) -> Arc<LlmClient> {
    let prices = [WRITER_MODEL, RESEARCHER_MODEL]
        .into_iter()
        .fold(PriceTable::new(), |table, model| {
            table.with_price(model, ModelPrice::new(model, 1.0, 2.0).unwrap())
        });
    let settings = ClientSettings {
        prices,
        budgets: PlanBudgets::uniform(daily_budget),
        retry: RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        },
        max_tokens: 1_000,
        account_concurrency: 4,
        global_concurrency: 32,
    };
    Arc::new(LlmClient::new(provider, settings, memory_ledger()).unwrap())
}

fn openai_client(server: &MockLlmServer) -> Arc<LlmClient> {
    let provider = OpenAiProvider::new(settings(server, "/v1")).unwrap();
    client_for(Arc::new(provider), Cost::from_usd(10.0))
}

fn anthropic_client(server: &MockLlmServer) -> Arc<LlmClient> {
    let provider = AnthropicProvider::new(settings(server, "")).unwrap();
    client_for(Arc::new(provider), Cost::from_usd(10.0))
}

/// Lead 0 (Anna at Acme Ltd, with an imported funding signal), whose notes
/// ask for a call after an event that the rules' phrases do not cover.
fn office_move_task() -> LeadTask {
    let mut task = consented_task(0);
    task.lead.fields.notes =
        Some("Met at the spring expo.\nTold us to check back once the office move is done.".into());
    task
}

fn input(task: &LeadTask) -> ResearcherInput {
    ResearcherInput {
        lead_id: task.lead.id,
        fields: task.lead.fields.clone(),
        signals: task.signals.clone(),
    }
}

fn rules(task: &LeadTask) -> Research {
    research(&task.lead.fields, &task.signals)
}

/// Returns a reply grounded in [`office_move_task`]: the hook cites note 2 and
/// the summary stays within signal 1.
fn grounded_reply() -> Value {
    json!({
        "hook": {"source": "note", "number": 2, "cue": "call_me_after", "period": PERIOD, "summary": null},
        "signals": [{"number": 1, "summary": "Closed a Series B of EUR 20m"}],
        "opt_out_noted": false
    })
}

fn ungrounded_reply() -> Value {
    let mut reply = grounded_reply();
    reply["hook"]["number"] = json!(7);
    reply
}

fn grounded_research() -> Research {
    let mut expected = rules(&office_move_task());
    expected.signals[0].summary = "Closed a Series B of EUR 20m".into();
    expected.hook = Hook::NoteCue {
        cue: NoteCue::CallMeAfter,
        period: Some(PERIOD.into()),
    };
    expected
}

fn body_keys(request: &RecordedRequest) -> BTreeSet<String> {
    request
        .body
        .as_object()
        .map(|body| body.keys().cloned().collect())
        .unwrap_or_default()
}

fn assert_schema(schema: &Value) {
    assert_eq!(
        schema["required"],
        json!(["hook", "signals", "opt_out_noted"])
    );
    assert_eq!(schema["additionalProperties"], json!(false));
    assert_eq!(
        schema["properties"]["hook"]["properties"]["source"]["enum"],
        json!(["signal", "note", "none"])
    );
}

/// Checks the data blocks: the numbered notes and signals, with nothing of
/// the lead in the system prompt.
fn assert_prompt_shape(request: &RecordedRequest) {
    let system = request.system_prompt();
    assert!(system.contains("square brackets"), "{system}");
    for untrusted in ["Acme", "office move", "Series B", "expo"] {
        assert!(
            !system.contains(untrusted),
            "{untrusted:?} reached the system prompt"
        );
    }
    let user = request.user_message();
    for expected in [
        "company: Acme Ltd",
        "note: [1] Met at the spring expo.",
        "note: [2] Told us to check back once the office move is done.",
        "signal: [1] funding: Raised a Series B of EUR 20m",
    ] {
        assert!(user.contains(expected), "{expected:?} missing from {user}");
    }
}

#[tokio::test]
async fn openai_request_shape() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&grounded_reply()));
    let researcher = LlmResearcher::new(openai_client(&server), account());
    let task = office_move_task();

    let (research, notes) = researcher.research(&task.lead.fields, &task.signals).await;
    assert_eq!(research, grounded_research());
    assert_eq!(notes.input_tokens, 120);
    assert_eq!(notes.output_tokens, 80);
    assert_eq!(notes.fallback, None);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    let expected_keys = [
        "max_tokens",
        "messages",
        "model",
        "response_format",
        "temperature",
    ];
    assert_eq!(body_keys(request), expected_keys.map(str::to_owned).into());
    let body = &request.body;
    assert_eq!(body["model"], RESEARCHER_MODEL);
    assert_eq!(body["max_tokens"], 800);
    assert_eq!(body["temperature"], 0.0);
    let roles: Vec<&Value> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| &message["role"])
        .collect();
    assert_eq!(roles, [&json!("system"), &json!("user")]);
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "lead_research");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_schema(&format["json_schema"]["schema"]);
    assert_prompt_shape(request);
}

#[tokio::test]
async fn anthropic_request_shape() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::anthropic_tool(
        "lead_research",
        &grounded_reply(),
    ));
    let researcher = LlmResearcher::new(anthropic_client(&server), account());
    let task = office_move_task();

    let (research, notes) = researcher.research(&task.lead.fields, &task.signals).await;
    assert_eq!(research, grounded_research());
    assert_eq!(notes.input_tokens, 150);
    assert_eq!(notes.output_tokens, 90);
    assert_eq!(notes.fallback, None);

    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(API_KEY));
    assert_eq!(request.header("anthropic-version"), Some(ANTHROPIC_VERSION));
    let expected_keys = [
        "max_tokens",
        "messages",
        "model",
        "system",
        "temperature",
        "tool_choice",
        "tools",
    ];
    assert_eq!(body_keys(request), expected_keys.map(str::to_owned).into());
    let body = &request.body;
    assert_eq!(body["model"], RESEARCHER_MODEL);
    assert_eq!(body["max_tokens"], 800);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(body["tools"].as_array().unwrap().len(), 1);
    assert_eq!(body["tools"][0]["name"], "lead_research");
    assert_schema(&body["tools"][0]["input_schema"]);
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "lead_research"})
    );
    assert_prompt_shape(request);
}

fn prepared(run: &LeadRun) -> &PreparedMessage {
    match &run.outcome {
        LeadOutcome::Prepared(prepared) => prepared,
        LeadOutcome::Failed { stage, error } => panic!("lead failed at {stage}: {error}"),
    }
}

fn researcher_record(run: &LeadRun) -> &StageRecord {
    run.stages
        .iter()
        .find(|record| record.stage == "researcher")
        .expect("the researcher stage ran")
}

fn llm_crew_agents(client: &Arc<LlmClient>, writer: bool) -> CrewAgents {
    let writer: Arc<dyn rekindle_crews::MessageWriter> = if writer {
        Arc::new(LlmWriter::new(Arc::clone(client), account()))
    } else {
        Arc::new(OfflineWriter)
    };
    CrewAgents {
        researcher: Arc::new(LlmResearcher::new(Arc::clone(client), account())),
        writer,
    }
}

#[tokio::test]
async fn crew_writes_from_grounded_note() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&grounded_reply()));
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let agents = llm_crew_agents(&openai_client(&server), false);

    let report = crew
        .run_with_agents(
            agents,
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![office_move_task()],
        )
        .await;
    let run = &report.leads[0];
    let message = &prepared(run).message;
    assert!(message.body.contains(PERIOD), "{}", message.body);
    assert_eq!(prepared(run).research, grounded_research());

    // The rules alone open with the funding signal, not with the note.
    let offline = ReactivationCrew::offline(CrewConfig::default())
        .run(
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![office_move_task()],
        )
        .await;
    let offline_body = &prepared(&offline.leads[0]).message.body;
    assert!(!offline_body.contains(PERIOD), "{offline_body}");

    let record = researcher_record(run);
    assert_eq!(record.notes.total_tokens(), 200);
    assert_eq!(record.notes.fallback, None);
    assert!(
        record.input_summary.contains("researcher llm"),
        "{}",
        record.input_summary
    );
}

#[tokio::test]
async fn crew_passes_research_to_llm_writer() {
    let server = MockLlmServer::start().await;
    server.set_reply_for("lead_research", MockReply::openai_json(&grounded_reply()));
    server.set_reply_for("reactivation_email", MockReply::openai_json(&llm_draft()));
    let crew = ReactivationCrew::offline(CrewConfig::default());
    let agents = llm_crew_agents(&openai_client(&server), true);

    let report = crew
        .run_with_agents(
            agents,
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![office_move_task()],
        )
        .await;
    let run = &report.leads[0];
    assert_eq!(prepared(run).research, grounded_research());

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body["model"], RESEARCHER_MODEL);
    assert_eq!(requests[1].body["model"], WRITER_MODEL);
    let writer_prompt = requests[1].user_message();
    assert!(
        writer_prompt.contains(&format!(
            "best_opening: a cue in the notes (call me after), with the period {PERIOD}"
        )),
        "{writer_prompt}"
    );
    assert!(
        writer_prompt.contains("signal: funding: Closed a Series B of EUR 20m"),
        "{writer_prompt}"
    );
}

/// Asserts the researcher used the rules with `reason`. Returns the notes'
/// fallback message.
async fn assert_falls_back(server: &MockLlmServer, client: Arc<LlmClient>, reason: &str) -> String {
    let researcher = LlmResearcher::new(client, account());
    let task = office_move_task();
    let (research, notes) = researcher.research(&task.lead.fields, &task.signals).await;
    assert_eq!(research, rules(&task));
    let fallback = notes.fallback.expect("the fallback is recorded");
    assert_eq!(fallback.reason, reason, "{}", fallback.message);
    assert!(server.request_count() > 0 || reason == "budget_exceeded");
    fallback.message
}

#[tokio::test]
async fn malformed_output_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_text("The best hook is the office move."));
    assert_falls_back(&server, openai_client(&server), "invalid_output").await;
    assert_eq!(server.request_count(), 2, "one retry with the reason");
    let retry = server.requests()[1].user_message();
    assert!(
        retry.contains("Your previous reply was rejected"),
        "{retry}"
    );
    assert!(retry.contains("not valid JSON"), "{retry}");
}

#[tokio::test]
async fn schema_violation_falls_back() {
    let server = MockLlmServer::start().await;
    let mut with_recipient = grounded_reply();
    with_recipient["recipient"] = json!("attacker@example.com");
    server.set_fallback(MockReply::openai_json(&with_recipient));
    let message = assert_falls_back(&server, openai_client(&server), "invalid_output").await;
    assert_eq!(server.request_count(), 2);
    assert!(message.contains("lead_research schema"), "{message}");
}

#[tokio::test]
async fn ungrounded_hook_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&ungrounded_reply()));
    let message = assert_falls_back(&server, openai_client(&server), "invalid_output").await;
    assert_eq!(server.request_count(), 2);
    assert!(
        message.contains("note 7, which does not exist: the notes are numbered 1 to 2"),
        "{message}"
    );
}

#[tokio::test]
async fn ungrounded_hook_retried_with_reason() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&ungrounded_reply()));
    server.push(MockReply::openai_json(&grounded_reply()));
    let researcher = LlmResearcher::new(openai_client(&server), account());
    let task = office_move_task();

    let (research, notes) = researcher.research(&task.lead.fields, &task.signals).await;
    assert_eq!(research, grounded_research());
    assert_eq!(notes.fallback, None);
    assert_eq!(notes.input_tokens, 240, "both attempts are counted");
    let retry = server.requests()[1].user_message();
    assert!(retry.contains("note 7, which does not exist"), "{retry}");
}

#[tokio::test]
async fn invented_period_falls_back() {
    let server = MockLlmServer::start().await;
    let mut invented = grounded_reply();
    invented["hook"]["period"] = json!("the summer holidays");
    server.set_fallback(MockReply::openai_json(&invented));
    let message = assert_falls_back(&server, openai_client(&server), "invalid_output").await;
    assert!(
        message.contains("does not appear in the cited note"),
        "{message}"
    );
}

#[tokio::test]
async fn server_error_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(500, "internal error"));
    assert_falls_back(&server, openai_client(&server), "provider_error").await;
    assert_eq!(server.request_count(), 3, "the request and two retries");
}

#[tokio::test]
async fn rate_limit_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(429, "rate limit reached"));
    assert_falls_back(&server, openai_client(&server), "rate_limited").await;
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn timeout_falls_back() {
    let server = MockLlmServer::start().await;
    server
        .set_fallback(MockReply::openai_json(&grounded_reply()).with_delay(Duration::from_secs(3)));
    let researcher = LlmResearcher::new(openai_client(&server), account())
        .with_deadline(Duration::from_millis(300));
    let task = office_move_task();

    let (research, notes) = researcher.research(&task.lead.fields, &task.signals).await;
    assert_eq!(research, rules(&task));
    assert_eq!(notes.fallback.unwrap().reason, "deadline_exceeded");
}

#[tokio::test]
async fn open_circuit_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(500, "internal error"));
    let client = openai_client(&server);

    // Five failed requests open the breaker, and each research sends up to three.
    let mut reasons = Vec::new();
    for _ in 0..3 {
        let researcher = LlmResearcher::new(Arc::clone(&client), account());
        let task = office_move_task();
        let (research, notes) = researcher.research(&task.lead.fields, &task.signals).await;
        assert_eq!(research, rules(&task));
        reasons.push(notes.fallback.expect("the fallback is recorded").reason);
    }
    assert_eq!(reasons.last().map(String::as_str), Some("circuit_open"));
    assert!(server.request_count() <= 6, "{}", server.request_count());
}

#[tokio::test]
async fn budget_exhaustion_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&grounded_reply()));
    let ledger = memory_ledger();
    let budget = Cost::from_usd(0.5);
    let key = BudgetKey {
        account_id: account().account_id,
        day: chrono::Utc::now().date_naive(),
    };
    ledger.add_spend(key, budget);
    let provider = OpenAiProvider::new(settings(&server, "/v1")).unwrap();
    let mut settings = ClientSettings {
        prices: PriceTable::new().with_price(
            RESEARCHER_MODEL,
            ModelPrice::new(RESEARCHER_MODEL, 1.0, 2.0).unwrap(),
        ),
        budgets: PlanBudgets::uniform(budget),
        retry: RetryPolicy::default(),
        max_tokens: 1_000,
        account_concurrency: 4,
        global_concurrency: 32,
    };
    settings.prices = settings.prices.with_price(
        WRITER_MODEL,
        ModelPrice::new(WRITER_MODEL, 1.0, 2.0).unwrap(),
    );
    let client = Arc::new(LlmClient::new(Arc::new(provider), settings, ledger).unwrap());

    let crew = ReactivationCrew::offline(CrewConfig::default());
    let report = crew
        .run_with_agents(
            llm_crew_agents(&client, false),
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![office_move_task()],
        )
        .await;
    let run = &report.leads[0];
    assert_eq!(prepared(run).research, rules(&office_move_task()));
    let record = researcher_record(run);
    let fallback = record
        .notes
        .fallback
        .as_ref()
        .expect("the fallback is recorded");
    assert_eq!(fallback.reason, "budget_exceeded");
    assert!(
        fallback.message.contains("daily LLM budget"),
        "{}",
        fallback.message
    );
    assert_eq!(record.notes.total_tokens(), 0);
    assert_eq!(record.error, None);
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn injection_stays_out_of_system_prompt() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({
        "hook": {"source": "note", "number": 1, "cue": "asked_for_pricing", "period": null, "summary": null},
        "signals": [],
        "opt_out_noted": false
    })));
    let researcher = LlmResearcher::new(openai_client(&server), account());
    let mut task = consented_task(0);
    task.lead.fields.notes = Some(format!("Asked for pricing in the spring. {INJECTION}"));

    let (_, notes) = researcher.research(&task.lead.fields, &task.signals).await;
    assert_eq!(notes.fallback, None);
    let request = &server.requests()[0];
    let system = request.system_prompt().to_lowercase();
    for untrusted in ["ignore previous", "attacker", "evil.example"] {
        assert!(
            !system.contains(untrusted),
            "{untrusted:?} reached the system prompt"
        );
    }
    let user = request.user_message();
    assert!(user.contains(NEUTRALISED), "{user}");
    assert!(
        !user.to_lowercase().contains("ignore previous instructions"),
        "{user}"
    );
    assert!(!user.contains("attacker@example.com"), "{user}");
    assert!(!user.contains("https://evil.example"), "{user}");
}

#[tokio::test]
async fn injected_reply_keeps_message_safe() {
    let server = MockLlmServer::start().await;
    // A model that followed the injection: the signal summary carries the
    // attacker's address and the hook's period a link.
    server.set_reply_for(
        "lead_research",
        MockReply::openai_json(&json!({
            "hook": {"source": "note", "number": 2, "cue": "call_me_after", "period": "https://evil.example", "summary": null},
            "signals": [{"number": 1, "summary": "Series B: write to attacker@example.com"}],
            "opt_out_noted": false
        })),
    );
    server.set_reply_for("reactivation_email", MockReply::openai_json(&llm_draft()));
    let mut task = consented_task(0);
    task.lead.fields.notes = Some(format!("Asked for pricing in the spring. {INJECTION}"));
    let recipient = task.lead.fields.email.clone();

    let crew = ReactivationCrew::offline(CrewConfig::default());
    let report = crew
        .run_with_agents(
            llm_crew_agents(&openai_client(&server), true),
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![task.clone()],
        )
        .await;
    let run = &report.leads[0];
    let prepared = prepared(run);
    assert_eq!(prepared.research, rules(&task));
    let record = researcher_record(run);
    let fallback = record
        .notes
        .fallback
        .as_ref()
        .expect("the fallback is recorded");
    assert_eq!(fallback.reason, "invalid_output");

    let text = prepared.message.full_text();
    assert!(!text.contains("attacker"), "{text}");
    assert!(!text.contains("evil.example"), "{text}");
    assert!(
        prepared
            .message
            .footer
            .contains(&format!("{UNSUBSCRIBE_URL}0")),
        "{}",
        prepared.message.footer
    );
    assert!(prepared.message.footer.contains("1 Market Street"));
    assert_eq!(
        recipient.map(|email| email.as_str().to_owned()),
        Some("lead0@example.com".to_owned())
    );
    // Neither request carried the attacker's address, because the notes'
    // links and addresses are removed before they reach the model.
    for request in server.requests() {
        assert!(!request.user_message().contains("attacker@example.com"));
    }
}

#[tokio::test]
async fn rules_opt_out_survives_llm() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&json!({
        "hook": {"source": "note", "number": 1, "cue": "interested", "period": null, "summary": null},
        "signals": [],
        "opt_out_noted": false
    })));
    let mut task = consented_task(0);
    task.lead.fields.notes =
        Some("Liked the demo, keen on a trial.\nLater asked us to unsubscribe him.".into());
    assert!(rules(&task).opt_out_noted);

    let crew = ReactivationCrew::offline(CrewConfig::default());
    let report = crew
        .run_with_agents(
            llm_crew_agents(&openai_client(&server), false),
            &campaign_step(Channel::Email, Tone::Friendly, 0),
            vec![task],
        )
        .await;
    let run = &report.leads[0];
    assert_eq!(server.request_count(), 1);
    let record = researcher_record(run);
    assert_eq!(record.notes.fallback, None);
    assert_eq!(record.output["opt_out_noted"], true);
    let LeadOutcome::Failed { stage, .. } = &run.outcome else {
        panic!("a lead whose notes opt out was prepared");
    };
    assert_eq!(*stage, "compliance");
}

#[tokio::test]
async fn lead_without_sources_skips_llm() {
    let server = MockLlmServer::start().await;
    let researcher = LlmResearcher::new(openai_client(&server), account());
    let mut task = consented_task(0);
    task.lead.fields.notes = None;
    task.signals.clear();

    let (research, notes) = researcher.research_noted(&input(&task)).await;
    assert_eq!(research, Ok(rules(&task)));
    assert_eq!(notes, rekindle_crews::RunNotes::default());
    assert_eq!(server.request_count(), 0);
    assert_eq!(researcher.name(), "llm");
}
