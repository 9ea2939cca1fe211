//! The exact requests of the OpenAI-compatible wire format.

use rekindle_config::StructuredOutput;
use rekindle_llm::budget::{BudgetKey, BudgetLedger, Cost};
use rekindle_llm::checks::NoChecks;
use rekindle_llm::prompt::NEUTRALISED;
use rekindle_llm::testing::{MockLlmServer, MockReply, RecordedRequest};
use rekindle_llm::{AgentRole, LlmOutput};
use serde_json::{Value, json};

use crate::support::{
    API_KEY, CLASSIFIER_MODEL, DEADLINE, INJECTION, SYSTEM, TestSetup, WRITER_MODEL, account,
    draft_request, draft_schema, good_draft, memory_ledger, openai_client,
};

fn body_keys(request: &RecordedRequest) -> Vec<String> {
    let mut keys: Vec<String> = request
        .body
        .as_object()
        .expect("the body is a JSON object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Returns the boundary tag of the lead block in a user message.
fn lead_boundary(user_message: &str) -> String {
    let start = user_message
        .find("<data-")
        .expect("the user message has a data block")
        + 1;
    user_message[start..start + "data-".len() + 16].to_owned()
}

#[tokio::test]
async fn json_schema_request_shape() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&good_draft()));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        body_keys(request),
        [
            "max_tokens",
            "messages",
            "model",
            "response_format",
            "temperature"
        ]
    );
    assert_eq!(request.body["model"], WRITER_MODEL);
    assert_eq!(request.body["max_tokens"], 400);
    assert_eq!(request.body["temperature"], 0.7);
    assert_eq!(
        request.body["response_format"],
        json!({
            "type": "json_schema",
            "json_schema": {
                "name": "draft",
                "schema": draft_schema().schema(),
                "strict": true
            }
        })
    );

    let messages = request.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], json!({"role": "system", "content": SYSTEM}));
    assert_eq!(messages[1]["role"], "user");
}

#[tokio::test]
async fn lead_data_stays_in_user_message() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&good_draft()));
    server.push(MockReply::openai_json(&good_draft()));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    for _ in 0..2 {
        let outcome = client
            .generate(account(1), draft_request(), &NoChecks, DEADLINE)
            .await;
        assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    }

    let requests = server.requests();
    let system = requests[0].system_prompt();
    for untrusted in [
        "Anna",
        "Acme",
        "ignore previous",
        "attacker@example.com",
        "evil.example",
    ] {
        assert!(
            !system.contains(untrusted),
            "{untrusted:?} reached the system prompt"
        );
    }

    let user = requests[0].user_message();
    let tag = lead_boundary(&user);
    assert!(
        user.contains(&format!("<{tag} name=\"lead\">\nfirst_name: Anna\ncompany: Acme Ltd\nnotes: Asked for pricing. {NEUTRALISED}")),
        "{user}"
    );
    assert!(user.contains(&format!("</{tag}>")), "{user}");
    assert!(
        !user.to_lowercase().contains("ignore previous instructions"),
        "{user}"
    );
    assert!(!user.contains(INJECTION), "{user}");

    let second_tag = lead_boundary(&requests[1].user_message());
    assert_ne!(tag, second_tag, "the boundary must change per call");
}

#[tokio::test]
async fn json_object_mode_puts_schema_in_system() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&good_draft()));
    let setup = TestSetup {
        structured_output: StructuredOutput::JsonObject,
        ..TestSetup::default()
    };
    let client = openai_client(&server, &setup, memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));

    let request = &server.requests()[0];
    assert_eq!(
        request.body["response_format"],
        json!({"type": "json_object"})
    );
    let system = request.system_prompt();
    assert!(system.starts_with(SYSTEM), "{system}");
    assert!(system.contains("JSON schema"), "{system}");
    assert!(
        system.contains(&draft_schema().schema().to_string()),
        "{system}"
    );
}

#[tokio::test]
async fn plain_mode_parses_fenced_reply() {
    let server = MockLlmServer::start().await;
    let fenced = format!("```json\n{}\n```", good_draft());
    server.push(MockReply::openai_text(&fenced));
    let setup = TestSetup {
        structured_output: StructuredOutput::None,
        ..TestSetup::default()
    };
    let client = openai_client(&server, &setup, memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));

    let request = &server.requests()[0];
    assert!(
        request.body.get("response_format").is_none(),
        "{}",
        request.body
    );
    assert!(request.system_prompt().contains("JSON schema"));
}

#[tokio::test]
async fn usage_and_cost_recorded() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&good_draft()));
    let ledger = memory_ledger();
    let client = openai_client(&server, &TestSetup::default(), ledger.clone());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert!(outcome.result.is_ok());

    // The mock reports 120 input and 80 output tokens; at $1 and $2 per
    // million tokens that is 120 + 160 micro-dollars.
    assert_eq!(outcome.usage.input_tokens, 120);
    assert_eq!(outcome.usage.output_tokens, 80);
    assert_eq!(outcome.cost, Cost::from_nano_usd(280_000));
    assert_eq!(outcome.requests, 1);
    assert_eq!(outcome.provider, "openai");
    assert_eq!(outcome.model, WRITER_MODEL);

    let key = BudgetKey {
        account_id: account(1).account_id,
        day: chrono::Utc::now().date_naive(),
    };
    let spend = ledger.spent(key).await.unwrap();
    assert_eq!(spend.cost, Cost::from_nano_usd(280_000));
    assert_eq!(spend.reserved, Cost::ZERO);
    assert_eq!(spend.calls, 1);
    assert_eq!(spend.usage, outcome.usage);
}

#[tokio::test]
async fn text_request_has_no_response_format() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_text("A plain summary."));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let mut request = draft_request();
    request.schema = None;
    let outcome = client
        .generate(account(1), request, &NoChecks, DEADLINE)
        .await;
    assert_eq!(
        outcome.result,
        Ok(LlmOutput::Text("A plain summary.".into()))
    );

    let body: &Value = &server.requests()[0].body;
    assert!(body.get("response_format").is_none(), "{body}");
    assert_eq!(server.requests()[0].system_prompt(), SYSTEM);
}

#[tokio::test]
async fn mock_routes_by_body_text() {
    let server = MockLlmServer::start().await;
    let mut routed = good_draft();
    routed["body"] = json!("Routed reply");
    let mut scripted = good_draft();
    scripted["body"] = json!("Scripted reply");
    server.set_reply_for(CLASSIFIER_MODEL, MockReply::openai_json(&routed));
    server.set_fallback(MockReply::openai_json(&good_draft()));
    server.push(MockReply::openai_json(&scripted));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());
    let classifier_request = || {
        let mut request = draft_request();
        request.role = AgentRole::Classifier;
        request
    };

    // The script comes first, then the route that matches, then the fallback.
    let first = client
        .generate(account(1), classifier_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(first.result, Ok(LlmOutput::Json(scripted)));
    let second = client
        .generate(account(1), classifier_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(second.result, Ok(LlmOutput::Json(routed)));
    let third = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(third.result, Ok(LlmOutput::Json(good_draft())));
}
