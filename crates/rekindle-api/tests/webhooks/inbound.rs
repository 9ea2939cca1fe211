//! Replies through the inbound endpoints, end to end: an email posted by
//! Inbound Parse or a text posted by Twilio is matched to its message and
//! lead, classified, and acted on in the database.

use rekindle_domain::MessageId;
use rekindle_store_conformance::Harness;
use serde_json::Value;

use crate::common::TestServer;
use crate::on_both_backends;
use crate::support::{
    INBOUND_PASSWORD, INBOUND_SECRET, INBOUND_USER, REPLY_DOMAIN, SHARED_NUMBER,
    TWILIO_INBOUND_URL, TWILIO_SID, id, message_status, post_twilio, scalar, sent_messages, start,
    text,
};

on_both_backends!(
    email_replies_routed_and_acted_on => email_replies_routed_and_acted_on,
    text_replies_routed_and_acted_on => text_replies_routed_and_acted_on,
);

/// Returns the text of a labelled reply from the fixture sample.
fn reply_text(fixture_id: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/labelled_replies_sample.jsonl");
    let lines = std::fs::read_to_string(path).unwrap();
    lines
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|reply| reply["id"] == fixture_id)
        .and_then(|reply| reply["text"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no reply {fixture_id} in the sample"))
}

/// Posts an email as Inbound Parse does: multipart fields and basic auth.
async fn post_email(server: &TestServer, from: &str, to: &str, headers: &str, body: &str) -> Value {
    let form = reqwest::multipart::Form::new()
        .text("from", format!("Dana <{from}>"))
        .text("to", to.to_owned())
        .text("subject", "Re: picking things up again")
        .text(
            "text",
            format!("{body}\n\nOn Mon, Sam wrote:\n> Worth a quick call?\n"),
        )
        .text("headers", headers.to_owned())
        .text(
            "envelope",
            format!("{{\"to\":[\"{to}\"],\"from\":\"{from}\"}}"),
        )
        .part(
            "attachment1",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 signature".to_vec()).file_name("card.pdf"),
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
    response.json().await.unwrap()
}

async fn reply_label(harness: &Harness, lead: &str) -> Option<String> {
    text(
        harness,
        &format!(
            "SELECT label FROM replies WHERE lead_id = {}",
            id(harness, lead)
        ),
    )
    .await
}

async fn lead_status(harness: &Harness, lead: &str) -> String {
    text(
        harness,
        &format!("SELECT status FROM leads WHERE id = {}", id(harness, lead)),
    )
    .await
    .unwrap()
}

async fn email_replies_routed_and_acted_on(harness: &Harness) {
    let server = start(harness).await;
    let owner = server.signup("Repliers").await;
    let messages = sent_messages(&server, &owner, "email", 3, true).await;

    // By the signed reply address, although the mail client kept no threading headers.
    let first = &messages[0];
    let first_id: MessageId = first["id"].as_str().unwrap().parse().unwrap();
    let reply_to = server.app.reply_addresses.address(first_id, REPLY_DOMAIN);
    let lead = first["lead_id"].as_str().unwrap();
    let from = first["to_address"].as_str().unwrap();
    let headers =
        "Message-ID: <opt-out-1@mail.acme.example>\r\nSubject: Re: picking things up again\r\n";
    let body = post_email(
        &server,
        from,
        &format!("Sam <{reply_to}>"),
        headers,
        &reply_text("r050"),
    )
    .await;
    assert_eq!(body["status"], "ingested", "{body}");
    assert_eq!(reply_label(harness, lead).await.as_deref(), Some("opt_out"));
    assert_eq!(lead_status(harness, lead).await, "suppressed");
    let suppressed = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM suppressions WHERE value = '{from}' AND reason = 'opt_out_reply'"
        ),
    )
    .await;
    assert_eq!(suppressed, 1);

    // The same email posted again is recognised by its Message-ID.
    let again = post_email(
        &server,
        from,
        &format!("Sam <{reply_to}>"),
        headers,
        &reply_text("r050"),
    )
    .await;
    assert_eq!(again["status"], "duplicate");
    let replies = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM replies WHERE lead_id = {}",
            id(harness, lead)
        ),
    )
    .await;
    assert_eq!(replies, 1);

    // By In-Reply-To, sent to the account's ordinary address.
    let second = &messages[1];
    let second_id = second["id"].as_str().unwrap();
    let rfc = text(
        harness,
        &format!(
            "SELECT rfc_message_id FROM messages WHERE id = {}",
            id(harness, second_id)
        ),
    )
    .await
    .unwrap();
    let headers = format!(
        "Message-ID: <yes-1@mail.acme.example>\r\nIn-Reply-To: <{rfc}>\r\nReferences: <older@mail.example> <{rfc}>\r\n"
    );
    let lead = second["lead_id"].as_str().unwrap();
    let from = second["to_address"].as_str().unwrap();
    let body = post_email(
        &server,
        from,
        "sam@rekindle.example",
        &headers,
        &reply_text("r003"),
    )
    .await;
    assert_eq!(body["status"], "ingested", "{body}");
    assert_eq!(
        reply_label(harness, lead).await.as_deref(),
        Some("meeting_request")
    );
    assert_eq!(lead_status(harness, lead).await, "replied");
    assert_eq!(message_status(harness, second_id).await, "replied");

    // A forged reply address and unknown references match nothing.
    let third = &messages[2];
    let forged = format!(
        "reply+{}-0011223344556677@{REPLY_DOMAIN}",
        third["id"].as_str().unwrap().replace('-', "")
    );
    let headers = "Message-ID: <stray@mail.example>\r\nIn-Reply-To: <not-ours@mail.example>\r\n";
    let body = post_email(
        &server,
        third["to_address"].as_str().unwrap(),
        &forged,
        headers,
        &reply_text("r038"),
    )
    .await;
    assert_eq!(body["status"], "unmatched");
    assert_eq!(
        reply_label(harness, third["lead_id"].as_str().unwrap()).await,
        None
    );
}

async fn text_replies_routed_and_acted_on(harness: &Harness) {
    let server = start(harness).await;
    let owner = server.signup("Text Repliers").await;
    let messages = sent_messages(&server, &owner, "sms", 2, true).await;

    let inbound = |sid: &'static str, from: String, body: String| {
        let server = &server;
        async move {
            let params = [
                ("MessageSid", sid),
                ("AccountSid", TWILIO_SID),
                ("From", from.as_str()),
                ("To", SHARED_NUMBER),
                ("Body", body.as_str()),
                ("NumSegments", "1"),
            ];
            post_twilio(
                server,
                "/webhooks/twilio/inbound",
                TWILIO_INBOUND_URL,
                &params,
            )
            .await
        }
    };

    let first = &messages[0];
    let response = inbound(
        "SMin0001",
        first["to_address"].as_str().unwrap().to_owned(),
        reply_text("r005"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<Response></Response>")
    );
    let lead = first["lead_id"].as_str().unwrap();
    assert_eq!(
        reply_label(harness, lead).await.as_deref(),
        Some("meeting_request")
    );
    let channel = text(
        harness,
        &format!(
            "SELECT channel FROM replies WHERE lead_id = {}",
            id(harness, lead)
        ),
    )
    .await;
    assert_eq!(channel.as_deref(), Some("sms"));

    let second = &messages[1];
    let phone = second["to_address"].as_str().unwrap().to_owned();
    inbound("SMin0002", phone.clone(), reply_text("r047")).await;
    inbound("SMin0002", phone.clone(), reply_text("r047")).await;
    let lead = second["lead_id"].as_str().unwrap();
    assert_eq!(reply_label(harness, lead).await.as_deref(), Some("opt_out"));
    let replies = scalar(
        harness,
        &format!(
            "SELECT count(*) FROM replies WHERE lead_id = {}",
            id(harness, lead)
        ),
    )
    .await;
    assert_eq!(replies, 1, "the repeated MessageSid is ingested once");
    let suppressed = scalar(
        harness,
        &format!("SELECT count(*) FROM suppressions WHERE kind = 'phone' AND value = '{phone}'"),
    )
    .await;
    assert_eq!(suppressed, 1);

    // A number we never wrote to matches nothing.
    let response = inbound("SMin0003", "+447700900999".to_owned(), "hello?".to_owned()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(scalar(harness, "SELECT count(*) FROM replies").await, 2);
}
