//! `SendgridTransport` against a wiremock server that plays SendGrid's v3
//! mail send API.

use std::time::Duration;

use rekindle_channels::{
    ChannelError, EmailOptions, EmailTransport, SENDGRID_PROVIDER, SecretString, SendgridConfig,
    SendgridTransport,
};
use rekindle_domain::ErrorClass;
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::fixtures::{
    self, EXPECTED_HTML, EXPECTED_TEXT, FROM, MESSAGE_ID, REPLY_TO, SUBJECT, TO, UNSUBSCRIBE,
    UNSUBSCRIBE_MAILTO,
};

const API_KEY: &str = "SG.test-key.abc123";

/// Upper bound for a send that must fail on its own timeout. Far above the
/// transport's timeout, so only a missing deadline trips it.
const TEST_DEADLINE: Duration = Duration::from_secs(10);

fn transport(server: &MockServer, timeout: Duration) -> SendgridTransport {
    let mut config = SendgridConfig::new(SecretString::from(API_KEY));
    config.base_url = Url::parse(&server.uri()).unwrap();
    config.timeout = timeout;
    SendgridTransport::new(config).unwrap()
}

/// Mounts a mock that responds to a correct mail send request with
/// `response`.
async fn mount(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .and(header("content-type", "application/json"))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn send_error(response: ResponseTemplate) -> ChannelError {
    let server = MockServer::start().await;
    mount(&server, response).await;
    transport(&server, Duration::from_secs(5))
        .send_email(&fixtures::email())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn request_matches_api() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(202).insert_header("X-Message-Id", "sgmsg-8f3KzQ"),
    )
    .await;
    let email = fixtures::email();

    let receipt = transport(&server, Duration::from_secs(5))
        .send_email_with(&email, &fixtures::options())
        .await
        .unwrap();

    assert_eq!(receipt.provider, SENDGRID_PROVIDER);
    assert_eq!(receipt.provider_message_id, "sgmsg-8f3KzQ");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    let expected = json!({
        "personalizations": [{"to": [{"email": TO, "name": "Zoë Ångström"}]}],
        "from": {"email": FROM, "name": "Jürgen Müller, Fernweh"},
        "reply_to": {"email": REPLY_TO, "name": "Jürgen Müller"},
        "subject": SUBJECT,
        "content": [
            {"type": "text/plain", "value": EXPECTED_TEXT},
            {"type": "text/html", "value": EXPECTED_HTML}
        ],
        "headers": {
            "Message-ID": format!("<{MESSAGE_ID}>"),
            "List-Unsubscribe": format!("<{UNSUBSCRIBE}>, <{UNSUBSCRIBE_MAILTO}>"),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "In-Reply-To": "<second.2@fernweh-reisen.example>",
            "References": "<first.1@fernweh-reisen.example> <second.2@fernweh-reisen.example>"
        },
        "custom_args": {
            "rekindle_message_id": email.message_id.to_string(),
            "rekindle_account_id": email.account_id.to_string()
        },
        "tracking_settings": {
            "click_tracking": {"enable": false},
            "open_tracking": {"enable": false},
            "subscription_tracking": {"enable": false}
        }
    });
    assert_eq!(body, expected);
}

#[tokio::test]
async fn plain_email_gets_html_part() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(202).insert_header("X-Message-Id", "sgmsg-1"),
    )
    .await;

    transport(&server, Duration::from_secs(5))
        .send_email(&fixtures::plain_email())
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["content"][0]["type"], "text/plain");
    assert_eq!(body["content"][0]["value"], fixtures::BODY);
    assert_eq!(body["content"][1]["type"], "text/html");
    assert_eq!(
        body["content"][1]["value"],
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n</head>\n<body>\n\
         <p>Hallo Zoë,</p>\n\
         <p>es ist eine Weile her. Hätten Sie 15 Minuten für &lt;Q3&gt; &amp; 2027?</p>\n\
         <p>Jürgen</p>\n</body>\n</html>\n"
    );
    assert!(body.get("reply_to").is_none(), "{body}");
    assert_eq!(
        body["headers"]["List-Unsubscribe"],
        format!("<{UNSUBSCRIBE}>")
    );
    assert!(body["headers"].get("In-Reply-To").is_none(), "{body}");
    assert!(body["headers"].get("References").is_none(), "{body}");
}

#[tokio::test]
async fn missing_message_id_header_uses_ours() {
    let server = MockServer::start().await;
    mount(&server, ResponseTemplate::new(202)).await;
    let email = fixtures::email();

    let receipt = transport(&server, Duration::from_secs(5))
        .send_email(&email)
        .await
        .unwrap();

    assert_eq!(receipt.provider_message_id, email.message_id.to_string());
}

#[tokio::test]
async fn server_error_is_transient() {
    let error = send_error(ResponseTemplate::new(500)).await;
    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert!(error.message().contains("500"), "{error}");
}

#[tokio::test]
async fn rate_limit_keeps_retry_after() {
    let error = send_error(ResponseTemplate::new(429).insert_header("Retry-After", "7")).await;
    assert_eq!(error.class(), ErrorClass::RateLimited, "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn rate_limit_with_http_date() {
    let in_a_minute = std::time::SystemTime::now() + Duration::from_secs(60);
    let date = httpdate::fmt_http_date(in_a_minute);
    let error = send_error(ResponseTemplate::new(429).insert_header("Retry-After", date)).await;

    assert_eq!(error.class(), ErrorClass::RateLimited, "{error}");
    // The date has a resolution of one second, and time passes during the test.
    let wait = error.retry_after().unwrap();
    assert!(wait <= Duration::from_secs(60), "{wait:?}");
    assert!(wait >= Duration::from_secs(50), "{wait:?}");
}

#[tokio::test]
async fn bad_request_is_invalid_input() {
    let body = json!({"errors": [{
        "message": "The from email does not contain a valid address.",
        "field": "from.email",
        "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.from"
    }]});
    let error = send_error(ResponseTemplate::new(400).set_body_json(body)).await;

    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");
    assert_eq!(
        error.message(),
        "SendGrid returned 400 Bad Request: The from email does not contain a valid address. (field from.email)"
    );
}

#[tokio::test]
async fn error_keeps_none_of_our_content() {
    // A body that echoes what we sent must not reach the error message.
    let echo = format!("{{\"errors\":[{{\"message\":\"bad\"}}],\"echo\":\"{SUBJECT} {TO}\"}}");
    let error = send_error(ResponseTemplate::new(413).set_body_string(echo)).await;

    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");
    assert_eq!(
        error.message(),
        "SendGrid returned 413 Payload Too Large: bad"
    );
}

#[tokio::test]
async fn bad_credentials_are_permanent() {
    for status in [401, 403] {
        let error = send_error(ResponseTemplate::new(status)).await;
        assert_eq!(error.class(), ErrorClass::Permanent, "{status}: {error}");
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let transport = transport(&server, Duration::from_millis(300));

    let email = fixtures::email();
    let sending = transport.send_email(&email);
    let error = tokio::time::timeout(TEST_DEADLINE, sending)
        .await
        .expect("the transport's own timeout must end the send")
        .unwrap_err();

    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert_eq!(error.message(), "SendGrid request timed out after 300 ms");
}

#[tokio::test]
async fn refused_connection_is_transient() {
    // Bind a port and free it, so nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);

    let mut config = SendgridConfig::new(SecretString::from(API_KEY));
    config.base_url = Url::parse(&format!("http://{address}")).unwrap();
    let transport = SendgridTransport::new(config).unwrap();

    let error = transport.send_email(&fixtures::email()).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert!(
        error.message().starts_with("SendGrid connection failed"),
        "{error}"
    );
}

#[tokio::test]
async fn invalid_email_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .expect(0)
        .mount(&server)
        .await;
    let transport = transport(&server, Duration::from_secs(5));

    let mut email = fixtures::email();
    email.subject = "Hello\r\nBcc: victim@example.com".into();
    let error = transport.send_email(&email).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");

    let options = EmailOptions::default()
        .with_list_unsubscribe_mailto(Url::parse("https://not-mailto.example").unwrap());
    let error = transport
        .send_email_with(&fixtures::email(), &options)
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");
}
