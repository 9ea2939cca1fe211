//! The content every real provider sends: the footer in both parts, the HTML
//! part built from the text, and the optional headers in the local outbox.

use std::fs;

use mail_parser::MessageParser;
use rekindle_channels::{EmailFooter, EmailTransport, OutboxEmailTransport};
use rekindle_domain::ErrorClass;
use url::Url;

use crate::support::fixtures::{
    self, EXPECTED_HTML, EXPECTED_TEXT, REPLY_TO, UNSUBSCRIBE, UNSUBSCRIBE_MAILTO,
};

#[test]
fn footer_added_to_both_parts() {
    let email = fixtures::plain_email().with_footer(&fixtures::footer());

    assert_eq!(email.text_body, EXPECTED_TEXT);
    assert_eq!(email.html_body.as_deref(), Some(EXPECTED_HTML));
    assert_eq!(email.validate(), Ok(()));
}

#[test]
fn footer_goes_inside_existing_html() {
    let mut email = fixtures::plain_email();
    email.html_body = Some("<html><BODY><p>Hallo</p></BODY></html>".into());

    let email = email.with_footer(&EmailFooter::new("1 Example Street, London").unwrap());

    assert_eq!(
        email.html_body.as_deref(),
        Some(
            "<html><BODY><p>Hallo</p><hr>\n<p>1 Example Street, London<br>\n\
             To stop receiving these emails, \
             <a href=\"https://links.rekindle.example/unsubscribe/AQIDBAUG-token_x\">unsubscribe here</a>.\
             </p>\n</BODY></html>"
        )
    );
    assert!(
        email
            .text_body
            .ends_with(&format!("1 Example Street, London\nTo stop receiving these emails, unsubscribe here: {UNSUBSCRIBE}")),
        "{}",
        email.text_body
    );
}

#[test]
fn footer_appended_to_fragment() {
    let mut email = fixtures::plain_email();
    email.html_body = Some("<p>Hallo</p>".into());

    let email = email.with_footer(&EmailFooter::new("1 Example Street, London").unwrap());
    let html = email.html_body.unwrap();

    assert!(
        html.starts_with("<p>Hallo</p><hr>\n<p>1 Example Street"),
        "{html}"
    );
    assert!(html.ends_with("unsubscribe here</a>.</p>\n"), "{html}");
}

#[tokio::test]
async fn outbox_writes_options_headers() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());
    let email = fixtures::email();

    transport
        .send_email_with(&email, &fixtures::options())
        .await
        .unwrap();
    let raw = fs::read(transport.path_for(email.message_id)).unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();

    let reply_to = parsed.reply_to().unwrap().first().unwrap();
    assert_eq!(reply_to.address(), Some(REPLY_TO));
    assert_eq!(reply_to.name(), Some("Jürgen Müller"));
    let list_unsubscribe = parsed.header_raw("List-Unsubscribe").unwrap();
    assert_eq!(
        unfold(list_unsubscribe),
        format!("<{UNSUBSCRIBE}>, <{UNSUBSCRIBE_MAILTO}>")
    );
    assert_eq!(
        as_written(&parsed.body_html(0).unwrap()),
        EXPECTED_HTML.trim_end()
    );
}

#[tokio::test]
async fn default_send_with_rejects_options() {
    // A transport written before `EmailOptions` gets the trait's default.
    struct LegacyTransport;

    #[async_trait::async_trait]
    impl EmailTransport for LegacyTransport {
        async fn send_email(
            &self,
            _email: &rekindle_channels::OutboundEmail,
        ) -> Result<rekindle_channels::SendReceipt, rekindle_channels::ChannelError> {
            Ok(rekindle_channels::SendReceipt {
                provider: "legacy",
                provider_message_id: "legacy-1".into(),
                accepted_at: chrono::Utc::now(),
            })
        }
    }

    let email = fixtures::email();
    let error = LegacyTransport
        .send_email_with(&email, &fixtures::options())
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::InvalidInput, "{error}");

    let receipt = LegacyTransport
        .send_email_with(&email, &rekindle_channels::EmailOptions::default())
        .await
        .unwrap();
    assert_eq!(receipt.provider_message_id, "legacy-1");
}

#[test]
fn options_reject_bad_mailto() {
    let options =
        fixtures::options().with_list_unsubscribe_mailto(Url::parse("mailto:?subject=x").unwrap());
    assert_eq!(
        options.validate().unwrap_err().class(),
        ErrorClass::InvalidInput
    );
}

/// Returns a body as the sender wrote it: bodies travel with CRLF line
/// endings (RFC 5322 section 2.3) and may gain a final line break.
pub fn as_written(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end_matches('\n').to_owned()
}

/// Joins a folded header value (RFC 5322 section 2.2.3) back into one line.
pub fn unfold(value: &str) -> String {
    value.replace("\r\n", "").trim().to_owned()
}
