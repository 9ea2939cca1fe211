//! Every labelled reply of the fixture through the inbound endpoints, each
//! from its own lead: emails by Inbound Parse to the message's reply address,
//! texts by Twilio. The stored label matches the fixture's, and an opt-out
//! suppresses its lead.

use rekindle_domain::MessageId;
use rekindle_store_conformance::Harness;
use serde_json::Value;

use crate::common::{Session, TestServer};
use crate::on_both_backends;
use crate::support::{
    INBOUND_PASSWORD, INBOUND_SECRET, INBOUND_USER, REPLY_DOMAIN, SHARED_NUMBER,
    TWILIO_INBOUND_URL, TWILIO_SID, id, post_twilio, sent_messages, start, text,
};

on_both_backends!(
    every_fixture_reply_labelled => every_fixture_reply_labelled,
);

const FIXTURE: &str =
    include_str!("../../../rekindle-domain/tests/fixtures/labelled_replies.jsonl");

fn fixture_replies(channel: &str) -> Vec<Value> {
    FIXTURE
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|reply| reply["channel"] == channel)
        .collect()
}

async fn every_fixture_reply_labelled(harness: &Harness) {
    let server = start(harness).await;

    let emails = fixture_replies("email");
    let owner = server.signup("Fixture Emails").await;
    let messages = sent_messages(&server, &owner, "email", emails.len(), false).await;
    for (reply, message) in emails.iter().zip(&messages) {
        let status = post_email(&server, reply, message).await;
        assert_eq!(status, "ingested", "reply {}", reply["id"]);
        check_outcome(harness, reply, message).await;
    }

    let texts = fixture_replies("sms");
    let owner = server.signup("Fixture Texts").await;
    let messages = sent_messages(&server, &owner, "sms", texts.len(), false).await;
    for (index, (reply, message)) in texts.iter().zip(&messages).enumerate() {
        post_text(&server, &owner, index, reply, message).await;
        check_outcome(harness, reply, message).await;
    }
}

/// Posts `reply` as Inbound Parse would, from the lead to the reply address
/// of `message`, and returns the endpoint's status field.
async fn post_email(server: &TestServer, reply: &Value, message: &Value) -> String {
    let message_id: MessageId = message["id"].as_str().unwrap().parse().unwrap();
    let reply_to = server.app.reply_addresses.address(message_id, REPLY_DOMAIN);
    let from = message["to_address"].as_str().unwrap();
    let subject = reply["subject"]
        .as_str()
        .unwrap_or("Re: picking things up again");
    let headers = format!(
        "Message-ID: <{}@mail.lead.example>\r\nSubject: {subject}\r\n",
        reply["id"].as_str().unwrap()
    );
    let form = reqwest::multipart::Form::new()
        .text("from", format!("Lead <{from}>"))
        .text("to", format!("Sam <{reply_to}>"))
        .text("subject", subject.to_owned())
        .text("text", reply["text"].as_str().unwrap().to_owned())
        .text("headers", headers)
        .text(
            "envelope",
            format!("{{\"to\":[\"{reply_to}\"],\"from\":\"{from}\"}}"),
        );
    let response = server
        .client
        .post(server.url(&format!("/webhooks/inbound-email/{INBOUND_SECRET}")))
        .basic_auth(INBOUND_USER, Some(INBOUND_PASSWORD))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["status"].as_str().unwrap().to_owned()
}

/// Posts `reply` as Twilio would, from the lead's number.
async fn post_text(
    server: &TestServer,
    owner: &Session,
    index: usize,
    reply: &Value,
    message: &Value,
) {
    let sid = format!("SMfixture{}{index:04}", &owner.account_id[..8]);
    let params = [
        ("MessageSid", sid.as_str()),
        ("AccountSid", TWILIO_SID),
        ("From", message["to_address"].as_str().unwrap()),
        ("To", SHARED_NUMBER),
        ("Body", reply["text"].as_str().unwrap()),
        ("NumSegments", "1"),
    ];
    let response = post_twilio(
        server,
        "/webhooks/twilio/inbound",
        TWILIO_INBOUND_URL,
        &params,
    )
    .await;
    assert_eq!(response.status(), 200, "reply {}", reply["id"]);
}

async fn check_outcome(harness: &Harness, reply: &Value, message: &Value) {
    let lead = id(harness, message["lead_id"].as_str().unwrap());
    let label = text(
        harness,
        &format!("SELECT label FROM replies WHERE lead_id = {lead}"),
    )
    .await;
    assert_eq!(
        label.as_deref(),
        reply["label"].as_str(),
        "reply {}",
        reply["id"]
    );
    if reply["label"] == "opt_out" {
        let status = text(
            harness,
            &format!("SELECT status FROM leads WHERE id = {lead}"),
        )
        .await;
        assert_eq!(
            status.as_deref(),
            Some("suppressed"),
            "reply {}",
            reply["id"]
        );
    }
}
