//! Open and click tracking of our own: the tracked email's HTML part, the
//! open pixel and the click redirect, likely machine opens, and links with
//! tampered signatures.

use rekindle_channels::TrackingSigner;
use rekindle_domain::{AccountId, MessageId};
use rekindle_store_conformance::Harness;
use serde_json::Value;
use url::Url;

use crate::common::{TestServer, expect_problem};
use crate::on_both_backends;
use crate::support::{
    REPLY_DOMAIN, app_settings, configured, id, message_status, scalar, sent_messages, start_with,
};

on_both_backends!(pixel_and_redirect_record_engagement => pixel_and_redirect_record_engagement);

/// Returns the HTML part and the Reply-To address of a sent email from the outbox.
fn sent_email(server: &TestServer, message: &str) -> (Option<String>, Option<String>) {
    let path = server
        .dir
        .path()
        .join(format!("outbox/email/{message}.eml"));
    let raw = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let html = parsed.body_html(0).map(|html| html.into_owned());
    let reply_to = parsed
        .reply_to()
        .and_then(|address| address.first())
        .and_then(|address| address.address())
        .map(str::to_owned);
    (html, reply_to)
}

/// Returns the path of the first link below `prefix` in `html`.
fn link_path(html: &str, prefix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {html}"));
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn counter(harness: &Harness, message: &str, column: &str) -> i64 {
    scalar(
        harness,
        &format!(
            "SELECT CAST({column} AS BIGINT) FROM message_engagement WHERE message_id = {}",
            id(harness, message)
        ),
    )
    .await
}

async fn pixel_and_redirect_record_engagement(harness: &Harness) {
    // A window of zero seconds: every open counts as a person's.
    let server = start_with(harness, configured(), app_settings(0)).await;
    let owner = server.signup("Trackers").await;
    let messages = sent_messages(&server, &owner, "email", 1, true).await;
    let message = messages[0]["id"].as_str().unwrap();

    let (html, reply_to) = sent_email(&server, message);
    let html = html.expect("a tracked email has an HTML part");
    let message_id: MessageId = message.parse().unwrap();
    assert_eq!(
        reply_to.as_deref(),
        Some(
            server
                .app
                .reply_addresses
                .address(message_id, REPLY_DOMAIN)
                .as_str()
        )
    );
    let pixel = link_path(&html, "/t/o/");
    assert!(
        html.contains("/unsubscribe/"),
        "the unsubscribe link stays direct: {html}"
    );

    let response = server.client.get(server.url(&pixel)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/gif");
    assert!(response.bytes().await.unwrap().starts_with(b"GIF89a"));
    assert_eq!(counter(harness, message, "opens").await, 1);
    assert_eq!(message_status(harness, message).await, "opened");

    // A click on a link of the email redirects to it and is counted.
    let account: AccountId = owner.account_id.parse().unwrap();
    let base = Url::parse(&server.app.settings.public_base_url).unwrap();
    let target = Url::parse("https://acme.example/pricing?plan=pro").unwrap();
    let click = server
        .app
        .tracking
        .click_url(&base, account, message_id, &target)
        .unwrap()
        .unwrap();
    let response = no_redirects()
        .get(server.url(click.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], target.as_str());
    assert_eq!(counter(harness, message, "clicks").await, 1);
    assert_eq!(message_status(harness, message).await, "clicked");

    // Tampered links: a changed character, a URL changed inside the token,
    // and a token signed with another key for another URL.
    let mut tampered = pixel.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    expect_problem(
        server
            .client
            .get(server.url(&tampered))
            .send()
            .await
            .unwrap(),
        404,
        "invalid_tracking_link",
    )
    .await;

    let token = click.path().rsplit('/').next().unwrap();
    let mut bytes = base64_url_decode(token);
    let url_byte = 2 + 16 + 16 + 10;
    bytes[url_byte] ^= 0x01;
    let changed = format!("/t/c/{}", base64_url_encode(&bytes));
    let response = no_redirects()
        .get(server.url(&changed))
        .send()
        .await
        .unwrap();
    expect_problem(response, 404, "invalid_tracking_link").await;

    let forger = TrackingSigner::new(&[9u8; 32]).unwrap();
    let evil = Url::parse("https://evil.example/login").unwrap();
    let forged = forger
        .click_url(&base, account, message_id, &evil)
        .unwrap()
        .unwrap();
    let response = no_redirects()
        .get(server.url(forged.path()))
        .send()
        .await
        .unwrap();
    assert!(!response.headers().contains_key("location"));
    expect_problem(response, 404, "invalid_tracking_link").await;

    assert_eq!(
        counter(harness, message, "clicks").await,
        1,
        "rejected links count nothing"
    );
    let rejected = scalar(
        harness,
        "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM webhook_rejections WHERE provider = 'tracking'",
    )
    .await;
    assert_eq!(rejected, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_right_after_sending_is_machine_open() {
    let harness = Harness::sqlite().await;
    let server = start_with(&harness, configured(), app_settings(3600)).await;
    let owner = server.signup("Scanned").await;
    let messages = sent_messages(&server, &owner, "email", 1, true).await;
    let message = messages[0]["id"].as_str().unwrap();
    let (html, _) = sent_email(&server, message);
    let pixel = link_path(&html.unwrap(), "/t/o/");

    let response = server.client.get(server.url(&pixel)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(counter(&harness, message, "machine_opens").await, 1);
    assert_eq!(counter(&harness, message, "opens").await, 0);
    assert_eq!(message_status(&harness, message).await, "sent");
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untracked_campaign_sends_no_pixel() {
    let harness = Harness::sqlite().await;
    let server = start_with(&harness, configured(), app_settings(10)).await;
    let owner = server.signup("Private").await;
    let messages = sent_messages(&server, &owner, "email", 1, false).await;
    let message = messages[0]["id"].as_str().unwrap();
    let (html, reply_to) = sent_email(&server, message);
    assert!(!html.unwrap_or_default().contains("/t/o/"));
    assert!(reply_to.is_some(), "replies are still routed");

    // Tracking can be switched on again after launch; the content cannot change.
    let campaign = messages[0]["campaign_id"].as_str().unwrap();
    let response = server
        .patch(
            &owner,
            &format!("/api/v1/campaigns/{campaign}"),
            serde_json::json!({ "tracking": true }),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["tracking"], true, "{body}");
    let response = server
        .patch(
            &owner,
            &format!("/api/v1/campaigns/{campaign}"),
            serde_json::json!({ "name": "Renamed" }),
        )
        .await;
    assert_eq!(response.status(), 422);
    harness.finish().await;
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn base64_url_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
