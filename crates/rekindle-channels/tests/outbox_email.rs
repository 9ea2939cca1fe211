//! The email outbox, checked by parsing the written `.eml` files back.

use std::fs;
use std::path::Path;

use chrono::Utc;
use mail_parser::{HeaderValue, MessageParser};
use rekindle_channels::{
    EmailTransport, InternetMessageId, NamedAddress, OUTBOX_PROVIDER, OutboundEmail,
    OutboxEmailTransport,
};
use rekindle_domain::{AccountId, Email, ErrorClass, LeadId, MessageId};
use url::Url;

const UNSUBSCRIBE: &str = "https://links.rekindle.example/unsubscribe/AQIDBAUG-token_x";

fn email() -> OutboundEmail {
    let message_id = MessageId::new();
    OutboundEmail {
        account_id: AccountId::new(),
        lead_id: LeadId::new(),
        message_id,
        from: NamedAddress::new(
            "Jürgen Müller, Fernweh",
            Email::parse("juergen@fernweh-reisen.example").unwrap(),
        ),
        to: NamedAddress::new(
            "Zoë Ångström",
            Email::parse("zoe@brightlane.example").unwrap(),
        ),
        subject: "Grüße aus Köln — kurze Frage zu 2027 🚀".into(),
        text_body:
            "Hallo Zoë,\n\nes ist eine Weile her. Hätten Sie nächste Woche 15 Minuten?\n\nJürgen"
                .into(),
        html_body: None,
        internet_message_id: InternetMessageId::for_message(message_id, "fernweh-reisen.example")
            .unwrap(),
        list_unsubscribe: Url::parse(UNSUBSCRIBE).unwrap(),
        in_reply_to: None,
        references: Vec::new(),
    }
}

/// Returns a body as the sender wrote it: email bodies travel with CRLF line
/// endings (RFC 5322 section 2.3) and may gain a final line break.
fn as_written(body: &str) -> String {
    body.replace("\r\n", "\n").trim_end_matches('\n').to_owned()
}

fn file_names(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn eml_headers_parse_back() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());
    let email = email();

    let before = Utc::now().timestamp();
    let receipt = transport.send_email(&email).await.unwrap();
    let after = Utc::now().timestamp();

    let raw = fs::read(transport.path_for(email.message_id)).unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();

    let expected_id = email.internet_message_id.as_str();
    assert_eq!(parsed.message_id(), Some(expected_id));

    let date = parsed.date().unwrap().to_timestamp();
    assert!(date >= before, "date {date} before {before}");
    assert!(date <= after, "date {date} after {after}");
    assert_eq!(date, receipt.accepted_at.timestamp());

    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Jürgen Müller, Fernweh"));
    assert_eq!(from.address(), Some("juergen@fernweh-reisen.example"));

    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("Zoë Ångström"));
    assert_eq!(to.address(), Some("zoe@brightlane.example"));

    assert_eq!(
        parsed.subject(),
        Some("Grüße aus Köln — kurze Frage zu 2027 🚀")
    );
    assert_eq!(
        parsed.header_raw("List-Unsubscribe").map(str::trim),
        Some(format!("<{UNSUBSCRIBE}>").as_str())
    );
    assert_eq!(
        parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(as_written(&parsed.body_text(0).unwrap()), email.text_body);
    let content_type = parsed
        .header_raw("Content-Type")
        .unwrap()
        .to_ascii_lowercase();
    assert!(content_type.contains("text/plain"), "{content_type}");
    assert!(content_type.contains("charset=utf-8"), "{content_type}");
    assert!(parsed.header("In-Reply-To").is_none());
    assert!(parsed.header("References").is_none());
}

#[tokio::test]
async fn eml_is_seven_bit_ascii() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());
    let email = email();
    transport.send_email(&email).await.unwrap();

    let raw = fs::read(transport.path_for(email.message_id)).unwrap();
    assert!(raw.is_ascii(), "raw message contains 8-bit bytes");

    // The non-ASCII subject and names travel as RFC 2047 encoded words.
    let text = String::from_utf8(raw).unwrap();
    let subject_line = text
        .lines()
        .find(|line| line.starts_with("Subject:"))
        .unwrap();
    assert!(subject_line.contains("=?utf-8?"), "{subject_line}");
    assert!(!text.contains("Jürgen"));
}

#[tokio::test]
async fn html_and_threading_headers() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());

    let first = InternetMessageId::parse("<first.1@fernweh-reisen.example>").unwrap();
    let second = InternetMessageId::parse("second.2@fernweh-reisen.example").unwrap();
    let mut email = email();
    email.html_body = Some("<p>Hallo Zoë, <b>kurze</b> Frage.</p>".into());
    email.in_reply_to = Some(second.clone());
    email.references = vec![first.clone(), second.clone()];

    transport.send_email(&email).await.unwrap();
    let raw = fs::read(transport.path_for(email.message_id)).unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();

    assert_eq!(as_written(&parsed.body_text(0).unwrap()), email.text_body);
    assert_eq!(
        parsed.body_html(0).as_deref(),
        Some("<p>Hallo Zoë, <b>kurze</b> Frage.</p>")
    );
    assert_eq!(
        parsed.in_reply_to(),
        &HeaderValue::Text("second.2@fernweh-reisen.example".into())
    );
    let references = parsed.references().as_text_list().unwrap();
    assert_eq!(
        references,
        [
            "first.1@fernweh-reisen.example",
            "second.2@fernweh-reisen.example"
        ]
    );
    assert_eq!(
        parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
}

#[tokio::test]
async fn file_named_by_message_id() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path().join("outbox"));
    let email = email();

    let receipt = transport.send_email(&email).await.unwrap();

    assert_eq!(receipt.provider, OUTBOX_PROVIDER);
    assert_eq!(receipt.provider_message_id, email.message_id.to_string());
    assert_eq!(
        file_names(&directory.path().join("outbox")),
        vec![format!("{}.eml", email.message_id)]
    );
}

#[tokio::test]
async fn resend_overwrites_same_file() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());
    let mut email = email();

    transport.send_email(&email).await.unwrap();
    email.subject = "Second attempt".into();
    transport.send_email(&email).await.unwrap();

    assert_eq!(
        file_names(directory.path()),
        vec![format!("{}.eml", email.message_id)]
    );
    let raw = fs::read(transport.path_for(email.message_id)).unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.subject(), Some("Second attempt"));
}

#[tokio::test]
async fn concurrent_sends_leave_whole_files() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());
    let email = email();

    // Twenty writers of the same message id race for the same file name.
    let mut tasks = Vec::new();
    for attempt in 0..20 {
        let transport = transport.clone();
        let mut email = email.clone();
        email.text_body = format!("attempt {attempt}\n{}", "line of text\n".repeat(2000));
        tasks.push(tokio::spawn(
            async move { transport.send_email(&email).await },
        ));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    assert_eq!(
        file_names(directory.path()),
        vec![format!("{}.eml", email.message_id)]
    );
    let raw = fs::read(transport.path_for(email.message_id)).unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();
    let body = parsed.body_text(0).unwrap();
    assert!(body.starts_with("attempt "), "{}", &body[..40]);
    assert_eq!(body.matches("line of text").count(), 2000);
}

#[tokio::test]
async fn invalid_email_is_rejected() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());

    let mut http_link = email();
    http_link.list_unsubscribe = Url::parse("http://links.rekindle.example/u/x").unwrap();

    let mut injected_subject = email();
    injected_subject.subject = "Hello\r\nBcc: victim@example.com".into();

    let mut injected_name = email();
    injected_name.from.name = Some("Sam\nBcc: victim@example.com".into());

    let mut empty_body = email();
    empty_body.text_body = "  \n".into();

    let mut long_subject = email();
    long_subject.subject = "x".repeat(256);

    for (case, email) in [
        ("http link", http_link),
        ("subject line break", injected_subject),
        ("name line break", injected_name),
        ("empty body", empty_body),
        ("long subject", long_subject),
    ] {
        let error = transport.send_email(&email).await.unwrap_err();
        assert_eq!(error.class(), ErrorClass::InvalidInput, "{case}: {error}");
    }
    assert!(file_names(directory.path()).is_empty());
}

#[tokio::test]
async fn unwritable_directory_is_permanent() {
    let directory = tempfile::tempdir().unwrap();
    let not_a_directory = directory.path().join("file");
    fs::write(&not_a_directory, b"x").unwrap();
    let transport = OutboxEmailTransport::new(&not_a_directory);

    let error = transport.send_email(&email()).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");
}

#[test]
fn debug_hides_content() {
    let email = email();
    let text = format!("{email:?}");
    assert!(text.contains(&email.message_id.to_string()), "{text}");
    assert!(!text.contains("Köln"), "{text}");
    assert!(!text.contains("Hallo"), "{text}");
    assert!(!text.contains("zoe@"), "{text}");
}

#[tokio::test]
async fn ascii_name_with_comma_is_quoted() {
    let directory = tempfile::tempdir().unwrap();
    let transport = OutboxEmailTransport::new(directory.path());
    let mut email = email();
    email.to = NamedAddress::new(
        "Becker, Tom \"TB\"",
        Email::parse("tom.becker@fernweh-reisen.example").unwrap(),
    );

    transport.send_email(&email).await.unwrap();
    let raw = fs::read(transport.path_for(email.message_id)).unwrap();
    let parsed = MessageParser::default().parse(&raw).unwrap();

    let recipients = parsed.to().unwrap().as_list().unwrap();
    assert_eq!(recipients.len(), 1);
    assert_eq!(recipients[0].name(), Some("Becker, Tom \"TB\""));
    assert_eq!(
        recipients[0].address(),
        Some("tom.becker@fernweh-reisen.example")
    );
}
