//! Rendering an `OutboundEmail` as an RFC 5322 message with lettre's builder.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use super::{NamedAddress, OutboundEmail};
use crate::ChannelError;

/// The `List-Unsubscribe` header (RFC 2369) with one https URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let url = text
            .trim()
            .strip_prefix('<')
            .and_then(|rest| rest.strip_suffix('>'))
            .ok_or("List-Unsubscribe value must be <URL>")?;
        Ok(Self(url.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// The `List-Unsubscribe-Post` header of RFC 8058. It marks the
/// `List-Unsubscribe` URL as one-click: a POST to it unsubscribes at once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListUnsubscribePost;

/// The only value RFC 8058 section 3.1 allows.
const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        if text.trim() == ONE_CLICK {
            Ok(Self)
        } else {
            Err(format!("List-Unsubscribe-Post value must be {ONE_CLICK}").into())
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), ONE_CLICK.to_owned())
    }
}

/// Renders `email` as the bytes of an RFC 5322 message dated `date`.
///
/// Non-ASCII display names and subjects are encoded as RFC 2047 encoded words
/// and bodies as quoted-printable or base64 where needed, so the output is
/// 7-bit ASCII. With an HTML body the message is `multipart/alternative`;
/// without one it is a single `text/plain; charset=utf-8` part. Call
/// `OutboundEmail::validate` first: this function checks only what lettre
/// rejects.
pub fn render_email(email: &OutboundEmail, date: DateTime<Utc>) -> Result<Vec<u8>, ChannelError> {
    let mut builder = Message::builder()
        .message_id(Some(email.internet_message_id.to_string()))
        .date(SystemTime::from(date))
        .from(mailbox("from", &email.from)?)
        .to(mailbox("to", &email.to)?)
        .subject(email.subject.clone())
        // `Url` percent-encodes everything outside ASCII, so the value never
        // needs an encoded word.
        .header(ListUnsubscribe(email.list_unsubscribe.as_str().to_owned()))
        .header(ListUnsubscribePost);

    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(parent.to_string());
    }
    if !email.references.is_empty() {
        let references: Vec<String> = email.references.iter().map(ToString::to_string).collect();
        builder = builder.references(references.join(" "));
    }

    let text = email.text_body.clone();
    let message = match &email.html_body {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(text, html.clone())),
        None => builder.singlepart(SinglePart::plain(text)),
    }
    .map_err(|error| ChannelError::invalid_input(format!("email could not be built: {error}")))?;

    Ok(message.formatted())
}

fn mailbox(field: &str, named: &NamedAddress) -> Result<Mailbox, ChannelError> {
    let address: Address = named.address.as_str().parse().map_err(|error| {
        ChannelError::invalid_input(format!("{field}.address is not a valid mailbox: {error}"))
    })?;
    Ok(Mailbox::new(named.name.clone(), address))
}
