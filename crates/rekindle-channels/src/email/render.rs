//! Rendering an `OutboundEmail` as an RFC 5322 message with lettre's builder.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use super::{EmailOptions, NamedAddress, OutboundEmail};
use crate::ChannelError;

/// The `List-Unsubscribe` header (RFC 2369): the one-click https URL, then
/// an optional `mailto:` URL, each in angle brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let value = text.trim();
        if !value.starts_with('<') || !value.ends_with('>') {
            return Err("List-Unsubscribe value must be <URL> or <URL>, <URL>".into());
        }
        Ok(Self(value.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Returns the `List-Unsubscribe` value: `<https://...>`, followed by
/// `, <mailto:...>` when `options` has a mailto URL. `Url` percent-encodes
/// everything outside ASCII, so the value never needs an encoded word.
pub(crate) fn list_unsubscribe_value(email: &OutboundEmail, options: &EmailOptions) -> String {
    let https = format!("<{}>", email.list_unsubscribe);
    match &options.list_unsubscribe_mailto {
        Some(mailto) => format!("{https}, <{mailto}>"),
        None => https,
    }
}

/// The `List-Unsubscribe-Post` header of RFC 8058. It marks the
/// `List-Unsubscribe` URL as one-click: a POST to it unsubscribes at once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListUnsubscribePost;

/// The only value RFC 8058 section 3.1 allows.
pub(crate) const LIST_UNSUBSCRIBE_ONE_CLICK: &str = "List-Unsubscribe=One-Click";

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        if text.trim() == LIST_UNSUBSCRIBE_ONE_CLICK {
            Ok(Self)
        } else {
            Err(format!("List-Unsubscribe-Post value must be {LIST_UNSUBSCRIBE_ONE_CLICK}").into())
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), LIST_UNSUBSCRIBE_ONE_CLICK.to_owned())
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
    let html = email.html_body.as_deref();
    let message = build_message(email, &EmailOptions::default(), html, date)?;
    Ok(message.formatted())
}

/// Builds the lettre message of `email` with the headers of `options` and
/// `html` as its HTML part, if any. Call `OutboundEmail::validate` and
/// `EmailOptions::validate` first.
pub(crate) fn build_message(
    email: &OutboundEmail,
    options: &EmailOptions,
    html: Option<&str>,
    date: DateTime<Utc>,
) -> Result<Message, ChannelError> {
    let mut builder = Message::builder()
        .message_id(Some(email.internet_message_id.to_string()))
        .date(SystemTime::from(date))
        .from(mailbox("from", &email.from)?)
        .to(mailbox("to", &email.to)?)
        .subject(email.subject.clone())
        .header(ListUnsubscribe(list_unsubscribe_value(email, options)))
        .header(ListUnsubscribePost);

    if let Some(reply_to) = &options.reply_to {
        builder = builder.reply_to(mailbox("reply_to", reply_to)?);
    }
    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(parent.to_string());
    }
    if !email.references.is_empty() {
        let references: Vec<String> = email.references.iter().map(ToString::to_string).collect();
        builder = builder.references(references.join(" "));
    }

    let text = email.text_body.clone();
    match html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(text, html.to_owned())),
        None => builder.singlepart(SinglePart::plain(text)),
    }
    .map_err(|error| ChannelError::invalid_input(format!("email could not be built: {error}")))
}

fn mailbox(field: &str, named: &NamedAddress) -> Result<Mailbox, ChannelError> {
    let address: Address = named.address.as_str().parse().map_err(|error| {
        ChannelError::invalid_input(format!("{field}.address is not a valid mailbox: {error}"))
    })?;
    Ok(Mailbox::new(named.name.clone(), address))
}
