//! Malformed and schema-violating output: one retry with the reason, then
//! an error that sends the caller to its fallback.

use rekindle_llm::checks::{FieldRules, LinkAllowList, NoChecks};
use rekindle_llm::testing::{MockLlmServer, MockReply};
use rekindle_llm::{LlmError, LlmOutput};
use serde_json::json;

use crate::support::{
    DEADLINE, TestSetup, account, draft_request, good_draft, memory_ledger, openai_client,
};

#[tokio::test]
async fn malformed_json_retried_with_reason() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_text(
        "Sure! Here is the email: {\"subject\": ",
    ));
    server.push(MockReply::openai_json(&good_draft()));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(!requests[0].user_message().contains("rejected"));
    let retry = requests[1].user_message();
    assert!(
        retry.contains("Your previous reply was rejected: the reply is not valid JSON"),
        "{retry}"
    );
    // Both attempts are counted.
    assert_eq!(outcome.usage.input_tokens, 240);
}

#[tokio::test]
async fn malformed_twice_is_invalid_output() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_text("not json at all"));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert!(matches!(error, LlmError::InvalidOutput { .. }), "{error}");
    assert_eq!(error.code(), "invalid_output");
    assert_eq!(
        server.request_count(),
        2,
        "only one retry for rejected output"
    );
}

#[tokio::test]
async fn schema_violation_rejected() {
    let server = MockLlmServer::start().await;
    let with_recipient = json!({
        "subject": "Hello",
        "body": "Hi",
        "to": "attacker@example.com"
    });
    server.set_fallback(MockReply::openai_json(&with_recipient));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    let LlmError::InvalidOutput { reason } = &error else {
        panic!("expected invalid output, got {error}");
    };
    assert!(reason.contains("draft schema"), "{reason}");
    assert!(reason.contains("to"), "{reason}");

    let retry = server.requests()[1].user_message();
    assert!(retry.contains("does not match the draft schema"), "{retry}");
}

#[tokio::test]
async fn failed_check_retried_with_reason() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({
        "subject": "Hello",
        "body": "Hi Anna, book at https://evil.example/now"
    })));
    server.push(MockReply::openai_json(&good_draft()));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());
    let checks = FieldRules::new("/body").links_only_from(LinkAllowList::none());

    let outcome = client
        .generate(account(1), draft_request(), &checks, DEADLINE)
        .await;
    assert_eq!(outcome.result, Ok(LlmOutput::Json(good_draft())));

    let retry = server.requests()[1].user_message();
    assert!(
        retry.contains("body contains the link \"https://evil.example/now\""),
        "{retry}"
    );
}

#[tokio::test]
async fn truncated_reply_retried() {
    let server = MockLlmServer::start().await;
    let cut = json!({
        "choices": [{
            "message": {"role": "assistant", "content": "{\"subject\": \"Hel"},
            "finish_reason": "length"
        }],
        "usage": {"prompt_tokens": 100, "completion_tokens": 400}
    });
    server.push(MockReply::raw(200, cut.to_string()));
    server.push(MockReply::openai_json(&good_draft()));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert!(server.requests()[1].user_message().contains("cut off"));
}
