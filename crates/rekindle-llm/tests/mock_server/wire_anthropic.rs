//! The exact requests of the Anthropic messages wire format.

use rekindle_config::StructuredOutput;
use rekindle_llm::LlmOutput;
use rekindle_llm::checks::NoChecks;
use rekindle_llm::testing::{MockLlmServer, MockReply};
use serde_json::json;

use crate::support::{
    API_KEY, DEADLINE, SYSTEM, TestSetup, WRITER_MODEL, account, anthropic_client, draft_request,
    draft_schema, good_draft, memory_ledger,
};

#[tokio::test]
async fn tool_request_shape() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::anthropic_tool("draft", &good_draft()));
    let client = anthropic_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));
    assert_eq!(outcome.usage.input_tokens, 150);
    assert_eq!(outcome.usage.output_tokens, 90);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(API_KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("authorization"), None);

    let body = &request.body;
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "max_tokens",
            "messages",
            "model",
            "system",
            "temperature",
            "tool_choice",
            "tools"
        ]
    );
    assert_eq!(body["model"], WRITER_MODEL);
    assert_eq!(body["max_tokens"], 400);
    assert_eq!(body["temperature"], 0.7);
    assert_eq!(body["system"], SYSTEM);
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "draft"})
    );
    assert_eq!(body["tools"][0]["name"], "draft");
    assert_eq!(body["tools"][0]["input_schema"], *draft_schema().schema());

    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "the system prompt is not a message");
    assert_eq!(messages[0]["role"], "user");
    let user = messages[0]["content"].as_str().unwrap();
    assert!(user.contains("first_name: Anna"), "{user}");
    assert!(!SYSTEM.contains("Anna"));
}

#[tokio::test]
async fn text_mode_parses_reply() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::anthropic_text(&good_draft().to_string()));
    let setup = TestSetup {
        structured_output: StructuredOutput::None,
        ..TestSetup::default()
    };
    let client = anthropic_client(&server, &setup, memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));

    let body = &server.requests()[0].body;
    assert!(body.get("tools").is_none(), "{body}");
    assert!(body.get("tool_choice").is_none(), "{body}");
    let system = body["system"].as_str().unwrap();
    assert!(system.starts_with(SYSTEM), "{system}");
    assert!(
        system.contains(&draft_schema().schema().to_string()),
        "{system}"
    );
}

#[tokio::test]
async fn json_object_mode_falls_back_to_text() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::anthropic_text(&good_draft().to_string()));
    let setup = TestSetup {
        structured_output: StructuredOutput::JsonObject,
        ..TestSetup::default()
    };
    let client = anthropic_client(&server, &setup, memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));
    assert!(server.requests()[0].body.get("tools").is_none());
}
