//! `TwilioTransport` against a wiremock server that plays Twilio's Messages
//! API.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rekindle_channels::{
    ChannelError, SecretString, SmsTransport, TWILIO_PROVIDER, TwilioConfig, TwilioSender,
    TwilioTransport,
};
use rekindle_domain::{ErrorClass, Phone};
use serde_json::json;
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::fixtures;

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "test-auth-token-42";
const SERVICE_SID: &str = "MG00112233445566778899aabbccddeeff";
const CALLBACK: &str = "https://hooks.rekindle.example/webhooks/twilio/status?x=1";
const MESSAGES_PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// Upper bound for a send that must fail on its own timeout.
const TEST_DEADLINE: Duration = Duration::from_secs(10);

/// The body of `fixtures::sms()`, form-encoded.
const ENCODED_BODY: &str = "Hola+Luc%C3%ADa%2C+%C2%BFhablamos%3F+50%25+%26+m%C3%A1s.+\
Responde+STOP+para+no+recibir+m%C3%A1s.";

fn config(server: &MockServer, sender: TwilioSender) -> TwilioConfig {
    let mut config = TwilioConfig::new(ACCOUNT_SID, SecretString::from(AUTH_TOKEN), sender);
    config.base_url = Url::parse(&server.uri()).unwrap();
    config.timeout = Duration::from_secs(5);
    config
}

fn sms_transport(server: &MockServer) -> TwilioTransport {
    TwilioTransport::new(config(server, TwilioSender::MessageFrom)).unwrap()
}

/// Mounts a mock that responds to a correctly authenticated request.
async fn mount(server: &MockServer, response: ResponseTemplate) {
    let credentials = STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    Mock::given(method("POST"))
        .and(path(MESSAGES_PATH))
        .and(header(
            "authorization",
            format!("Basic {credentials}").as_str(),
        ))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn created(sid: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({
        "sid": sid,
        "status": "queued",
        "to": "+34912345678",
        "from": "+442079460958"
    }))
}

async fn sent_form(server: &MockServer) -> String {
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    String::from_utf8(requests[0].body.clone()).unwrap()
}

async fn send_error(response: ResponseTemplate) -> ChannelError {
    let server = MockServer::start().await;
    mount(&server, response).await;
    sms_transport(&server)
        .send_sms(&fixtures::sms())
        .await
        .unwrap_err()
}

fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status
    }))
}

#[tokio::test]
async fn sms_request_matches_api() {
    let server = MockServer::start().await;
    mount(&server, created("SM0a1b2c3d4e5f60718293a4b5c6d7e8f9")).await;
    let mut config = config(&server, TwilioSender::MessageFrom);
    config.status_callback_url = Some(Url::parse(CALLBACK).unwrap());
    let transport = TwilioTransport::new(config).unwrap();

    let receipt = transport.send_sms(&fixtures::sms()).await.unwrap();

    assert_eq!(receipt.provider, TWILIO_PROVIDER);
    assert_eq!(
        receipt.provider_message_id,
        "SM0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    );
    assert_eq!(
        sent_form(&server).await,
        format!(
            "To=%2B34912345678&From=%2B442079460958&Body={ENCODED_BODY}\
             &StatusCallback=https%3A%2F%2Fhooks.rekindle.example%2Fwebhooks%2Ftwilio%2Fstatus%3Fx%3D1"
        )
    );
}

#[tokio::test]
async fn whatsapp_prefixes_both_numbers() {
    let server = MockServer::start().await;
    mount(&server, created("SM11111111111111111111111111111111")).await;
    let transport =
        TwilioTransport::new_whatsapp(config(&server, TwilioSender::MessageFrom)).unwrap();

    transport.send_sms(&fixtures::sms()).await.unwrap();

    assert_eq!(
        sent_form(&server).await,
        format!("To=whatsapp%3A%2B34912345678&From=whatsapp%3A%2B442079460958&Body={ENCODED_BODY}")
    );
}

#[tokio::test]
async fn messaging_service_replaces_from() {
    let server = MockServer::start().await;
    mount(&server, created("SM22222222222222222222222222222222")).await;
    let sender = TwilioSender::MessagingService(SERVICE_SID.to_owned());
    let transport = TwilioTransport::new(config(&server, sender)).unwrap();

    transport.send_sms(&fixtures::sms()).await.unwrap();

    assert_eq!(
        sent_form(&server).await,
        format!("To=%2B34912345678&MessagingServiceSid={SERVICE_SID}&Body={ENCODED_BODY}")
    );
}

#[tokio::test]
async fn configured_number_replaces_from() {
    let server = MockServer::start().await;
    mount(&server, created("SM33333333333333333333333333333333")).await;
    let number = Phone::parse("+1 650 253 0000", None).unwrap();
    let transport = TwilioTransport::new(config(&server, TwilioSender::Number(number))).unwrap();

    transport.send_sms(&fixtures::sms()).await.unwrap();

    assert_eq!(
        sent_form(&server).await,
        format!("To=%2B34912345678&From=%2B16502530000&Body={ENCODED_BODY}")
    );
}

#[tokio::test]
async fn response_without_sid_uses_ours() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(201).set_body_string("not json"),
    )
    .await;
    let sms = fixtures::sms();

    let receipt = sms_transport(&server).send_sms(&sms).await.unwrap();
    assert_eq!(receipt.provider_message_id, sms.message_id.to_string());
}

#[tokio::test]
async fn server_error_is_transient() {
    let error = send_error(ResponseTemplate::new(503)).await;
    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
}

#[tokio::test]
async fn rate_limit_keeps_retry_after() {
    let response = twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "7");
    let error = send_error(response).await;

    assert_eq!(error.class(), ErrorClass::RateLimited, "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn unsubscribed_recipient_is_permanent() {
    let message = "Attempt to send to unsubscribed recipient";
    let error = send_error(twilio_error(400, 21610, message)).await;

    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");
    assert!(error.message().contains("error 21610"), "{error}");
    assert!(error.message().contains("opted out"), "{error}");
}

#[tokio::test]
async fn invalid_number_is_invalid_input() {
    let message = "The 'To' number +34912345678 is not a valid phone number.";
    let error = send_error(twilio_error(400, 21211, message)).await;

    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");
    assert_eq!(
        error.message(),
        "Twilio returned 400 Bad Request: error 21211: The 'To' number +[number] is not a valid \
         phone number.; the recipient number is invalid"
    );
}

#[tokio::test]
async fn other_bad_request_is_invalid_input() {
    let error = send_error(twilio_error(400, 21602, "Message body is required.")).await;
    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");
    assert!(error.message().contains("error 21602"), "{error}");
}

#[tokio::test]
async fn bad_credentials_are_permanent() {
    for status in [401, 403] {
        let error = send_error(twilio_error(status, 20003, "Authenticate")).await;
        assert_eq!(error.class(), ErrorClass::Permanent, "{status}: {error}");
    }
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created("SM4").set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let mut config = config(&server, TwilioSender::MessageFrom);
    config.timeout = Duration::from_millis(300);
    let transport = TwilioTransport::new(config).unwrap();

    let sms = fixtures::sms();
    let sending = transport.send_sms(&sms);
    let error = tokio::time::timeout(TEST_DEADLINE, sending)
        .await
        .expect("the transport's own timeout must end the send")
        .unwrap_err();

    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert_eq!(error.message(), "Twilio request timed out after 300 ms");
}

#[tokio::test]
async fn invalid_sms_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created("SM5"))
        .expect(0)
        .mount(&server)
        .await;
    let mut sms = fixtures::sms();
    sms.body = " \n ".into();

    let error = sms_transport(&server).send_sms(&sms).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");
}
