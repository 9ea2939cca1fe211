//! Parsing of SendGrid Inbound Parse bodies built the way SendGrid posts them.

use rekindle_webhooks::ParseError;
use rekindle_webhooks::inbound::{AttachmentInfo, Envelope, InboundLimits, parse_inbound};

const BOUNDARY: &str = "xYzZY";
const CONTENT_TYPE: &str = "multipart/form-data; boundary=xYzZY";

/// Raw header block as SendGrid posts it: LF line breaks, folded lines kept.
const HEADERS: &str = concat!(
    "Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn Wed, 27 Mar 2024 10:15:02 +0000 (UTC)\n",
    "Received: from mail-ed1-f41.google.com (mail-ed1-f41.google.com [209.85.208.41]) by mx0047p1mdw1.sendgrid.net (Postfix) with ESMTPS id 3F5A2A81B6A\n",
    " for <reply+3a7c@inbound.example.com>; Wed, 27 Mar 2024 10:15:02 +0000 (UTC)\n",
    "MIME-Version: 1.0\n",
    "From: =?UTF-8?Q?Ren=C3=A9e_Dupont?= <renee.dupont@example.org>\n",
    "Date: Wed, 27 Mar 2024 11:14:51 +0100\n",
    "Message-ID: <CAK7dp2=reply-4411@mail.gmail.com>\n",
    "In-Reply-To: <0194f1a2-7b3c-7d4e-8f5a-6b7c8d9e0f1a@mail.example.com>\n",
    "References: <0194f1a2-0000-7000-8000-000000000001@mail.example.com>\n",
    " <0194f1a2-7b3c-7d4e-8f5a-6b7c8d9e0f1a@mail.example.com>\n",
    "Subject: Re: Quick question about your renewal\n",
    "To: Sam Seller <reply+3a7c@inbound.example.com>\n",
    "Content-Type: multipart/mixed; boundary=\"000000000000a1b2c3d4e5f6\"\n",
);

/// One part of a multipart/form-data body.
struct Part {
    name: &'static str,
    file_name: Option<&'static str>,
    content_type: Option<&'static str>,
    content: Vec<u8>,
}

fn field(name: &'static str, content: impl Into<Vec<u8>>) -> Part {
    Part {
        name,
        file_name: None,
        content_type: None,
        content: content.into(),
    }
}

fn file(
    name: &'static str,
    file_name: &'static str,
    content_type: &'static str,
    size: usize,
) -> Part {
    Part {
        name,
        file_name: Some(file_name),
        content_type: Some(content_type),
        content: vec![b'%'; size],
    }
}

/// Encodes parts as multipart/form-data with CRLF line breaks (RFC 7578).
fn encode(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match part.file_name {
            Some(file_name) => format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{file_name}\"\r\n",
                part.name
            ),
            None => format!("Content-Disposition: form-data; name=\"{}\"\r\n", part.name),
        };
        body.extend_from_slice(disposition.as_bytes());
        if let Some(content_type) = part.content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&part.content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Latin-1 bytes of the reply text: "Merci René, ça me va. Mardi à 15h ?".
fn latin1_text() -> Vec<u8> {
    let mut text = b"Merci Ren\xe9, \xe7a me va. Mardi \xe0 15h ?\n\n".to_vec();
    text.extend_from_slice(b"Le mer. 27 mars 2024, Sam Seller a \xe9crit :\n> Hi Ren\xe9e, ...\n");
    text
}

fn realistic_parts() -> Vec<Part> {
    vec![
        field("headers", HEADERS),
        field("dkim", "{@gmail.com : pass}"),
        field("content-ids", "{}"),
        field("to", "Sam Seller <reply+3a7c@inbound.example.com>"),
        field(
            "html",
            "<div dir=\"ltr\">Merci Ren&eacute;, &ccedil;a me va.</div>",
        ),
        field("from", "Renée Dupont <renee.dupont@example.org>"),
        field("text", latin1_text()),
        field("sender_ip", "209.85.208.41"),
        field("spam_report", "Spam detection software ..."),
        field(
            "envelope",
            r#"{"to":["reply+3a7c@inbound.example.com"],"from":"renee.dupont@example.org"}"#,
        ),
        field("attachments", "1"),
        field("subject", "Re: Quick question about your renewal"),
        field("spam_score", "0.1"),
        field(
            "attachment-info",
            r#"{"attachment1":{"filename":"signed-quote.pdf","name":"signed-quote.pdf","type":"application/pdf"}}"#,
        ),
        field(
            "charsets",
            r#"{"to":"UTF-8","html":"UTF-8","subject":"UTF-8","from":"UTF-8","text":"iso-8859-1"}"#,
        ),
        field("SPF", "pass"),
        file("attachment1", "signed-quote.pdf", "application/pdf", 48_213),
    ]
}

fn limits() -> InboundLimits {
    InboundLimits {
        max_attachment_bytes: 64 * 1024,
        max_total_attachment_bytes: 100 * 1024,
        max_attachments: 3,
        max_field_bytes: 16 * 1024,
    }
}

#[test]
fn realistic_email_parses() {
    let body = encode(&realistic_parts());

    let email = parse_inbound(CONTENT_TYPE, &body, &limits()).expect("valid email");

    assert_eq!(email.from, "Renée Dupont <renee.dupont@example.org>");
    assert_eq!(
        email.from_address.as_deref(),
        Some("renee.dupont@example.org")
    );
    assert_eq!(email.to, "Sam Seller <reply+3a7c@inbound.example.com>");
    assert_eq!(email.cc, None);
    assert_eq!(email.subject, "Re: Quick question about your renewal");
    let text = email.text.as_deref().expect("text");
    assert!(
        text.starts_with("Merci René, ça me va. Mardi à 15h ?"),
        "{text}"
    );
    assert_eq!(
        email.html.as_deref(),
        Some("<div dir=\"ltr\">Merci Ren&eacute;, &ccedil;a me va.</div>")
    );
    assert_eq!(email.headers, HEADERS);
    assert_eq!(
        email.charsets.get("text").map(String::as_str),
        Some("iso-8859-1")
    );
    assert_eq!(
        email.envelope,
        Some(Envelope {
            to: vec!["reply+3a7c@inbound.example.com".to_owned()],
            from: Some("renee.dupont@example.org".to_owned()),
        })
    );
    assert_eq!(
        email.attachments,
        vec![AttachmentInfo {
            field_name: "attachment1".to_owned(),
            file_name: "signed-quote.pdf".to_owned(),
            content_type: Some("application/pdf".to_owned()),
            size: 48_213,
        }]
    );
}

#[test]
fn threading_headers_extracted() {
    let body = encode(&realistic_parts());

    let email = parse_inbound(CONTENT_TYPE, &body, &limits()).expect("valid email");

    assert_eq!(
        email.threading.message_id.as_deref(),
        Some("CAK7dp2=reply-4411@mail.gmail.com")
    );
    assert_eq!(
        email.threading.in_reply_to,
        vec!["0194f1a2-7b3c-7d4e-8f5a-6b7c8d9e0f1a@mail.example.com".to_owned()]
    );
    assert_eq!(
        email.threading.references,
        vec![
            "0194f1a2-0000-7000-8000-000000000001@mail.example.com".to_owned(),
            "0194f1a2-7b3c-7d4e-8f5a-6b7c8d9e0f1a@mail.example.com".to_owned(),
        ]
    );
}

#[test]
fn first_message_has_no_thread() {
    let headers =
        "From: New Lead <new.lead@example.net>\nMessage-ID: <first@example.net>\nSubject: Hello\n";
    let parts = vec![
        field("headers", headers),
        field("from", "New Lead <new.lead@example.net>"),
        field("to", "reply@inbound.example.com"),
        field("text", "Hello there"),
    ];

    let email = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect("valid email");

    assert_eq!(
        email.threading.message_id.as_deref(),
        Some("first@example.net")
    );
    assert!(email.threading.in_reply_to.is_empty());
    assert!(email.threading.references.is_empty());
    assert_eq!(email.subject, "");
    assert_eq!(email.envelope, None);
    assert!(email.attachments.is_empty());
}

#[test]
fn from_address_without_headers_field() {
    let parts = vec![
        field("from", "\"Dupont, Renée\" <renee.dupont@example.org>"),
        field("to", "reply@inbound.example.com"),
    ];

    let email = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect("valid email");

    assert_eq!(
        email.from_address.as_deref(),
        Some("renee.dupont@example.org")
    );
    assert_eq!(email.headers, "");
    assert_eq!(email.threading.message_id, None);
}

#[test]
fn attachment_over_file_limit_is_rejected() {
    let mut parts = realistic_parts();
    parts.push(file(
        "attachment2",
        "site-photos.zip",
        "application/zip",
        64 * 1024 + 1,
    ));

    let error = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect_err("too large");

    assert_eq!(
        error,
        ParseError::AttachmentTooLarge {
            file_name: "site-photos.zip".to_owned(),
            limit: 64 * 1024,
        }
    );
    assert!(error.to_string().contains("site-photos.zip"), "{error}");
}

#[test]
fn attachment_at_file_limit_passes() {
    let mut parts = realistic_parts();
    parts.pop();
    parts.push(file(
        "attachment1",
        "exact.bin",
        "application/octet-stream",
        64 * 1024,
    ));

    let email = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect("at the limit");

    assert_eq!(email.attachments[0].size, 64 * 1024);
}

#[test]
fn attachments_over_total_limit_are_rejected() {
    let mut parts = realistic_parts();
    // 48,213 + 60,000 bytes is above the 100 KiB total, each under 64 KiB.
    parts.push(file("attachment2", "floor-plan.png", "image/png", 60_000));

    let error = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect_err("too large");

    assert_eq!(error, ParseError::AttachmentsTooLarge { limit: 100 * 1024 });
}

#[test]
fn too_many_attachments_are_rejected() {
    let mut parts = realistic_parts();
    parts.push(file("attachment2", "a.txt", "text/plain", 10));
    parts.push(file("attachment3", "b.txt", "text/plain", 10));
    parts.push(file("attachment4", "c.txt", "text/plain", 10));

    let error = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect_err("too many");

    assert_eq!(error, ParseError::TooManyAttachments { max: 3 });
}

#[test]
fn text_field_over_limit_is_rejected() {
    let mut parts = realistic_parts();
    parts.retain(|part| part.name != "html");
    parts.push(field("html", vec![b'x'; 16 * 1024 + 1]));

    let error = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect_err("too large");

    assert_eq!(
        error,
        ParseError::FieldTooLarge {
            field: "html".to_owned(),
            limit: 16 * 1024,
        }
    );
}

#[test]
fn missing_from_is_rejected() {
    let mut parts = realistic_parts();
    parts.retain(|part| part.name != "from");

    let error = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect_err("no from");

    assert_eq!(error, ParseError::MissingField { field: "from" });
}

#[test]
fn duplicate_text_field_is_rejected() {
    let mut parts = realistic_parts();
    parts.push(field("to", "someone-else@example.com"));

    let error = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect_err("duplicate");

    assert_eq!(
        error,
        ParseError::DuplicateField {
            field: "to".to_owned()
        }
    );
}

#[test]
fn invalid_envelope_is_rejected() {
    let mut parts = realistic_parts();
    parts.retain(|part| part.name != "envelope");
    parts.push(field("envelope", "{not json"));

    let error = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect_err("bad envelope");

    assert_eq!(error.code(), "invalid_field");
    assert!(error.to_string().contains("envelope"), "{error}");
}

#[test]
fn wrong_content_type_is_rejected() {
    let body = encode(&realistic_parts());

    let json = parse_inbound("application/json", &body, &limits()).expect_err("not multipart");
    let no_boundary =
        parse_inbound("multipart/form-data", &body, &limits()).expect_err("no boundary");

    assert_eq!(json.code(), "invalid_content_type");
    assert_eq!(no_boundary.code(), "invalid_content_type");
}

#[test]
fn truncated_body_is_rejected() {
    let body = encode(&realistic_parts());
    let truncated = &body[..body.len() / 2];

    let error = parse_inbound(CONTENT_TYPE, truncated, &limits()).expect_err("truncated");

    assert_eq!(error.code(), "invalid_multipart");
}

#[test]
fn part_charset_used_without_charsets_field() {
    let parts = vec![
        field("from", "lead@example.net"),
        field("to", "reply@inbound.example.com"),
        Part {
            name: "text",
            file_name: None,
            content_type: Some("text/plain; charset=windows-1252"),
            content: b"Price \x80 49 is fine".to_vec(),
        },
    ];

    let email = parse_inbound(CONTENT_TYPE, &encode(&parts), &limits()).expect("valid email");

    assert_eq!(email.text.as_deref(), Some("Price € 49 is fine"));
}

#[test]
fn default_limits_accept_realistic_email() {
    let body = encode(&realistic_parts());

    let email = parse_inbound(CONTENT_TYPE, &body, &InboundLimits::default()).expect("valid email");

    assert_eq!(email.attachments.len(), 1);
}
