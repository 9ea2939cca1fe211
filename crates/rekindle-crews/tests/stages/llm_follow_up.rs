//! The LLM writer's follow-ups: the engagement block it sends, and the
//! check that rejects drafts claiming an open or a click that did not happen.

use rekindle_crews::engagement::{ClickedLink, EngagementContext};
use rekindle_crews::{LlmWriter, MessageWriter, WriterRequest};
use rekindle_domain::Channel;
use rekindle_llm::testing::{MockLlmServer, MockReply};
use serde_json::json;

use crate::llm_support::{
    ClientSetup, account, injected_task, llm_client, memory_ledger, writer_request,
};

const TEXT_BODY: &str = "Hi Anna, it's Sam from Brightpath Analytics. Following up with a little \
                         more on our pricing. Worth a quick call this week?";

fn engagement(clicked: Option<&str>) -> EngagementContext {
    EngagementContext {
        previous_channel: Channel::Email,
        days_since_previous: 4,
        previous_bounced: false,
        opened: true,
        clicked: clicked.map(|label| ClickedLink {
            label: Some(label.to_owned()),
        }),
        question: None,
    }
}

fn follow_up_request(engagement: EngagementContext) -> WriterRequest {
    let mut request = writer_request(&injected_task(), Channel::Sms, 1);
    request.engagement = Some(engagement);
    request
}

fn writer(server: &MockLlmServer) -> LlmWriter {
    LlmWriter::new(
        llm_client(server, &ClientSetup::default(), memory_ledger()),
        account(),
    )
}

#[tokio::test]
async fn prompt_carries_click_but_not_open() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({ "body": TEXT_BODY })));

    let request = follow_up_request(engagement(Some("the pricing page")));
    let (draft, notes) = writer(&server).write_noted(&request).await;
    assert_eq!(draft.unwrap().body, TEXT_BODY);
    assert_eq!(notes.fallback, None);

    let sent = &server.requests()[0];
    let user = sent.user_message();
    assert!(user.contains("clicked_link"), "{user}");
    assert!(user.contains("the pricing page"), "{user}");
    assert!(user.contains("days_since_previous_message"), "{user}");
    assert!(!user.contains("opened"), "{user}");

    let system = sent.system_prompt();
    assert!(system.contains("The engagement block lists"), "{system}");
    assert!(
        system.contains("never say that the lead opened"),
        "{system}"
    );
    assert!(!system.contains("pricing page"), "{system}");
}

#[tokio::test]
async fn prompt_without_click_has_no_click() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({ "body": TEXT_BODY })));

    let request = follow_up_request(engagement(None));
    let (draft, _) = writer(&server).write_noted(&request).await;
    assert!(draft.is_ok());

    let user = server.requests()[0].user_message();
    assert!(!user.contains("clicked_link"), "{user}");
    assert!(user.contains("previous_message_channel"), "{user}");
}

#[tokio::test]
async fn question_goes_to_data_block_only() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({ "body": TEXT_BODY })));

    let request = follow_up_request(EngagementContext {
        question: Some("Does it integrate with HubSpot?".into()),
        ..engagement(None)
    });
    let (draft, _) = writer(&server).write_noted(&request).await;
    assert!(draft.is_ok());

    let sent = &server.requests()[0];
    assert!(sent.user_message().contains("HubSpot"));
    assert!(!sent.system_prompt().contains("HubSpot"));
}

#[tokio::test]
async fn invented_click_is_retried_with_reason() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({
        "body": "Hi Anna, it's Sam from Brightpath Analytics. I saw you clicked on our pricing. Worth a quick call?"
    })));
    server.push(MockReply::openai_json(&json!({ "body": TEXT_BODY })));

    let request = follow_up_request(engagement(None));
    let (draft, notes) = writer(&server).write_noted(&request).await;
    assert_eq!(draft.unwrap().body, TEXT_BODY);
    assert_eq!(notes.fallback, None);

    let retry = server.requests()[1].user_message();
    assert!(retry.contains("the lead clicked no link"), "{retry}");
}

#[tokio::test]
async fn claimed_open_falls_back() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&json!({
        "body": "Hi Anna, it's Sam from Brightpath Analytics. I noticed you opened my email. Worth a quick call?"
    })));

    // A click is listed, but an open is never allowed.
    let request = follow_up_request(engagement(Some("the pricing page")));
    let (draft, notes) = writer(&server).write_noted(&request).await;

    let fallback = notes.fallback.expect("the fallback is recorded");
    assert_eq!(fallback.reason, "invalid_output");
    assert!(fallback.message.contains("open"), "{}", fallback.message);
    let body = draft.unwrap().body;
    assert!(
        body.contains("Saw you had a look at the pricing page."),
        "{body}"
    );
    assert!(!body.contains("opened"), "{body}");
}

#[tokio::test]
async fn first_message_sends_no_engagement() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::openai_json(&json!({ "body": TEXT_BODY })));

    let mut request = follow_up_request(engagement(Some("the pricing page")));
    request.step_index = 0;
    let (draft, _) = writer(&server).write_noted(&request).await;
    assert!(draft.is_ok());

    let sent = &server.requests()[0];
    assert!(!sent.user_message().contains("clicked_link"));
    assert!(!sent.system_prompt().contains("engagement block"));
}
