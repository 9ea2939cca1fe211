//! `SmtpTransport` against a real SMTP server on 127.0.0.1.

use std::time::Duration;

use mail_parser::{HeaderValue, MessageParser};
use rekindle_channels::{
    ChannelError, EmailTransport, SMTP_PROVIDER, SecretString, SmtpConfig, SmtpMechanism,
    SmtpSecurity, SmtpTransport,
};
use rekindle_domain::ErrorClass;

use crate::content::{as_written, unfold};
use crate::support::fixtures::{
    self, EXPECTED_HTML, EXPECTED_TEXT, FROM, MESSAGE_ID, REPLY_TO, TO, UNSUBSCRIBE,
    UNSUBSCRIBE_MAILTO,
};
use crate::support::smtp_server::{
    AuthRecord, Delivery, ServerSettings, ServerTls, TestSmtpServer, self_signed_tls,
};

const USER: &str = "mailer@fernweh-reisen.example";
const PASSWORD: &str = "correct horse battery staple";

/// Upper bound for a send that must fail on its own timeout.
const TEST_DEADLINE: Duration = Duration::from_secs(10);

/// Starts a STARTTLS server with a fresh self-signed certificate and returns
/// it with a client config that trusts the certificate and logs in.
async fn starttls_server(
    settings: impl FnOnce(ServerSettings) -> ServerSettings,
) -> (TestSmtpServer, SmtpConfig) {
    let (tls, certificate_pem) = self_signed_tls();
    let server = TestSmtpServer::start(settings(
        ServerSettings::new(ServerTls::StartTls(tls)).with_login(USER, PASSWORD),
    ))
    .await;

    let mut config = SmtpConfig::new("127.0.0.1", server.port(), SmtpSecurity::StartTls)
        .with_credentials(USER, SecretString::from(PASSWORD));
    config.extra_root_certificate_pem = Some(certificate_pem);
    config.timeout = Duration::from_secs(5);
    (server, config)
}

fn only_delivery(server: &TestSmtpServer) -> Delivery {
    let deliveries = server.deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    deliveries.into_iter().next().unwrap()
}

async fn send(config: SmtpConfig) -> Result<rekindle_channels::SendReceipt, ChannelError> {
    let transport = SmtpTransport::new(config).unwrap();
    transport
        .send_email_with(&fixtures::email(), &fixtures::options())
        .await
}

#[tokio::test]
async fn starttls_delivers_multipart() {
    let (server, config) = starttls_server(|settings| settings).await;

    let receipt = send(config).await.unwrap();

    assert_eq!(receipt.provider, SMTP_PROVIDER);
    assert_eq!(receipt.provider_message_id, MESSAGE_ID);

    let delivery = only_delivery(&server);
    assert!(delivery.encrypted, "the message travelled unencrypted");
    assert_eq!(
        delivery.auth,
        Some(AuthRecord {
            mechanism: "PLAIN",
            user: USER.into(),
            password: PASSWORD.into()
        })
    );
    assert_eq!(delivery.mail_from, FROM);
    assert_eq!(delivery.recipients, vec![TO.to_owned()]);

    let parsed = MessageParser::default().parse(&delivery.data).unwrap();
    let content_type = parsed
        .header_raw("Content-Type")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        content_type.contains("multipart/alternative"),
        "{content_type}"
    );
    assert_eq!(as_written(&parsed.body_text(0).unwrap()), EXPECTED_TEXT);
    assert_eq!(
        as_written(&parsed.body_html(0).unwrap()),
        EXPECTED_HTML.trim_end()
    );
}

#[tokio::test]
async fn starttls_sends_headers() {
    let (server, config) = starttls_server(|settings| settings).await;

    send(config).await.unwrap();

    let delivery = only_delivery(&server);
    let parsed = MessageParser::default().parse(&delivery.data).unwrap();
    assert_eq!(parsed.message_id(), Some(MESSAGE_ID));
    assert_eq!(parsed.subject(), Some(fixtures::SUBJECT));
    assert_eq!(
        parsed.reply_to().unwrap().first().unwrap().address(),
        Some(REPLY_TO)
    );
    assert_eq!(
        unfold(parsed.header_raw("List-Unsubscribe").unwrap()),
        format!("<{UNSUBSCRIBE}>, <{UNSUBSCRIBE_MAILTO}>")
    );
    assert_eq!(
        parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(
        parsed.in_reply_to(),
        &HeaderValue::Text("second.2@fernweh-reisen.example".into())
    );
    assert_eq!(
        parsed.references().as_text_list().unwrap(),
        [
            "first.1@fernweh-reisen.example",
            "second.2@fernweh-reisen.example"
        ]
    );
}

#[tokio::test]
async fn login_mechanism_used_when_only_allowed() {
    let (server, mut config) = starttls_server(|settings| settings).await;
    config.mechanisms = vec![SmtpMechanism::Login];

    send(config).await.unwrap();

    let auth = only_delivery(&server).auth.unwrap();
    assert_eq!(auth.mechanism, "LOGIN");
    assert_eq!(auth.user, USER);
    assert_eq!(auth.password, PASSWORD);
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let (tls, certificate_pem) = self_signed_tls();
    let server = TestSmtpServer::start(
        ServerSettings::new(ServerTls::Implicit(tls)).with_login(USER, PASSWORD),
    )
    .await;
    let mut config = SmtpConfig::new("localhost", server.port(), SmtpSecurity::ImplicitTls)
        .with_credentials(USER, SecretString::from(PASSWORD));
    config.extra_root_certificate_pem = Some(certificate_pem);

    send(config).await.unwrap();

    let delivery = only_delivery(&server);
    assert!(delivery.encrypted);
    assert_eq!(delivery.auth.unwrap().user, USER);
}

#[tokio::test]
async fn plaintext_to_loopback_delivers() {
    let mut settings = ServerSettings::new(ServerTls::None).with_login(USER, PASSWORD);
    settings.plaintext_auth = true;
    let server = TestSmtpServer::start(settings).await;
    let config = SmtpConfig::new("127.0.0.1", server.port(), SmtpSecurity::Plaintext)
        .with_credentials(USER, SecretString::from(PASSWORD));

    send(config).await.unwrap();

    let delivery = only_delivery(&server);
    assert!(!delivery.encrypted);
    assert_eq!(delivery.recipients, vec![TO.to_owned()]);
}

#[tokio::test]
async fn untrusted_certificate_is_transient() {
    let (server, mut config) = starttls_server(|settings| settings).await;
    config.extra_root_certificate_pem = None;

    let error = send(config).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert!(error.message().contains("UnknownIssuer"), "{error}");
    assert!(server.deliveries().is_empty());
}

#[tokio::test]
async fn rejected_recipient_is_permanent() {
    let (server, config) = starttls_server(|settings| {
        settings.rejecting(
            TO,
            550,
            "5.1.1 <zoe@brightlane.example>: Recipient address rejected",
        )
    })
    .await;

    let error = send(config).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");
    assert!(
        error.message().contains("rejected the mailbox with 550"),
        "{error}"
    );
    assert!(!error.message().contains(TO), "{error}");
    assert!(server.deliveries().is_empty());
}

#[tokio::test]
async fn deferred_recipient_is_transient() {
    let (server, config) = starttls_server(|settings| {
        settings.rejecting(TO, 451, "4.7.1 Greylisted, try again in 5 minutes")
    })
    .await;

    let error = send(config).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert!(
        error.message().contains("deferred the email with 451"),
        "{error}"
    );
    assert!(server.deliveries().is_empty());
}

#[tokio::test]
async fn wrong_password_is_permanent() {
    let (server, mut config) = starttls_server(|settings| settings).await;
    config = config.with_credentials(USER, SecretString::from("wrong password"));

    let error = send(config).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");
    assert!(
        error.message().contains("rejected the login with 535"),
        "{error}"
    );
    assert!(!error.message().contains("wrong password"), "{error}");
    assert!(server.deliveries().is_empty());
}

#[tokio::test]
async fn missing_starttls_is_permanent() {
    // A server without STARTTLS: the transport must not fall back to
    // sending the credentials and the message in plain text.
    let mut settings = ServerSettings::new(ServerTls::None).with_login(USER, PASSWORD);
    settings.plaintext_auth = true;
    let server = TestSmtpServer::start(settings).await;
    let config = SmtpConfig::new("127.0.0.1", server.port(), SmtpSecurity::StartTls)
        .with_credentials(USER, SecretString::from(PASSWORD));

    let error = send(config).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");
    assert!(server.deliveries().is_empty());
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts connections but never sends its greeting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });

    let mut config = SmtpConfig::new("127.0.0.1", port, SmtpSecurity::StartTls);
    config.timeout = Duration::from_millis(300);
    let error = tokio::time::timeout(TEST_DEADLINE, send(config))
        .await
        .expect("the transport's own timeout must end the send")
        .unwrap_err();
    holder.abort();

    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
}

#[tokio::test]
async fn refused_connection_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);

    let config = SmtpConfig::new("127.0.0.1", port, SmtpSecurity::StartTls);
    let error = send(config).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
}
