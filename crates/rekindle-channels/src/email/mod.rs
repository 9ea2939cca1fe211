//! An outbound email, its validation, its footer and its RFC 5322 rendering.

mod footer;
mod html;
mod message_id;
mod options;
mod render;

use std::fmt;

use rekindle_domain::{AccountId, Email, LeadId, MessageId};
use url::Url;

use crate::ChannelError;

pub use footer::{EmailFooter, MAX_POSTAL_ADDRESS_CHARS};
pub(crate) use html::provider_html;
pub use html::{LinkRewriter, tracked_html};
pub use message_id::{InternetMessageId, MAX_MESSAGE_ID_LEN};
pub use options::EmailOptions;
pub use render::render_email;
pub(crate) use render::{LIST_UNSUBSCRIBE_ONE_CLICK, build_message, list_unsubscribe_value};

/// Maximum subject length in characters. The writer aims for 40 to 60; this
/// only rejects what no mail client would show.
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Maximum display-name length in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;
/// Maximum size of the text body and of the HTML body, each, in bytes. Our
/// emails are 80 to 150 words, and Gmail clips HTML bodies over about 100 KB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Maximum number of ids in the `References` header.
pub const MAX_REFERENCES: usize = 50;

/// A mailbox: an address with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedAddress {
    pub name: Option<String>,
    pub address: Email,
}

impl NamedAddress {
    pub fn new(name: impl Into<String>, address: Email) -> Self {
        Self {
            name: Some(name.into()),
            address,
        }
    }

    pub fn without_name(address: Email) -> Self {
        Self {
            name: None,
            address,
        }
    }
}

/// One email to one lead, ready for a transport.
///
/// `Debug` shows ids and sizes only, so that logging a message never logs its
/// subject or body.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    pub account_id: AccountId,
    pub lead_id: LeadId,
    /// Our id of the message. Transports use it as the idempotency key.
    pub message_id: MessageId,
    pub from: NamedAddress,
    pub to: NamedAddress,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    /// The `Message-ID` header, which replies quote in `In-Reply-To`.
    pub internet_message_id: InternetMessageId,
    /// The one-click unsubscribe link (RFC 8058), an `https` URL.
    pub list_unsubscribe: Url,
    /// The `Message-ID` of the email this one follows up.
    pub in_reply_to: Option<InternetMessageId>,
    /// The thread so far, oldest first, for the `References` header.
    pub references: Vec<InternetMessageId>,
}

impl OutboundEmail {
    /// Checks every field a transport relies on. The error names the field.
    pub fn validate(&self) -> Result<(), ChannelError> {
        validate_name("from.name", self.from.name.as_deref())?;
        validate_name("to.name", self.to.name.as_deref())?;
        validate_subject(&self.subject)?;
        validate_body("text_body", &self.text_body)?;
        if let Some(html) = &self.html_body {
            validate_body("html_body", html)?;
        }
        validate_unsubscribe(&self.list_unsubscribe)?;

        if self.references.len() > MAX_REFERENCES {
            return Err(ChannelError::invalid_input(format!(
                "references: {} ids is over the maximum of {MAX_REFERENCES}",
                self.references.len()
            )));
        }
        Ok(())
    }

    /// Appends `footer` to both parts: the sender line, the postal address and
    /// a link to `list_unsubscribe`.
    ///
    /// The text footer follows `text_body`. Without an `html_body`, the HTML
    /// part is built from `text_body` (escaped, a paragraph per block between
    /// blank lines, URLs as links) and the footer follows it. An existing
    /// `html_body` gets the footer before its `</body>`, or at its end when it
    /// has none. Call it once, on a body that has no footer yet.
    pub fn with_footer(mut self, footer: &EmailFooter) -> Self {
        let footer_html = footer.html(&self.list_unsubscribe);
        let html = match self.html_body.take() {
            Some(html) => insert_before_body_end(&html, &footer_html),
            None => {
                let body = html::text_to_paragraphs(&self.text_body);
                html::html_document(&format!("{body}{footer_html}"))
            }
        };

        self.text_body = format!(
            "{}\n\n{}",
            self.text_body.trim_end(),
            footer.text(&self.list_unsubscribe)
        );
        self.html_body = Some(html);
        self
    }
}

/// Inserts `fragment` before the last `</body>` tag of `html`, matched without
/// regard to case, or appends it when there is no such tag.
fn insert_before_body_end(html: &str, fragment: &str) -> String {
    let position = html.to_ascii_lowercase().rfind("</body>");
    match position {
        Some(index) => format!("{}{fragment}{}", &html[..index], &html[index..]),
        None => format!("{html}{fragment}"),
    }
}

fn validate_name(field: &str, name: Option<&str>) -> Result<(), ChannelError> {
    let Some(name) = name else { return Ok(()) };

    if name.chars().any(char::is_control) {
        return Err(ChannelError::invalid_input(format!(
            "{field} contains a control character or line break"
        )));
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(ChannelError::invalid_input(format!(
            "{field} is longer than {MAX_DISPLAY_NAME_CHARS} characters"
        )));
    }
    Ok(())
}

fn validate_subject(subject: &str) -> Result<(), ChannelError> {
    if subject.trim().is_empty() {
        return Err(ChannelError::invalid_input("subject is empty"));
    }
    if subject.chars().any(char::is_control) {
        return Err(ChannelError::invalid_input(
            "subject contains a control character or line break",
        ));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(ChannelError::invalid_input(format!(
            "subject is longer than {MAX_SUBJECT_CHARS} characters"
        )));
    }
    Ok(())
}

fn validate_body(field: &str, body: &str) -> Result<(), ChannelError> {
    if body.trim().is_empty() {
        return Err(ChannelError::invalid_input(format!("{field} is empty")));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ChannelError::invalid_input(format!(
            "{field} is {} bytes, over the maximum of {MAX_BODY_BYTES}",
            body.len()
        )));
    }
    Ok(())
}

fn validate_unsubscribe(url: &Url) -> Result<(), ChannelError> {
    // RFC 8058 section 3.1: the one-click URI must be https.
    if url.scheme() != "https" || url.host_str().is_none() {
        return Err(ChannelError::invalid_input(format!(
            "list_unsubscribe must be an https URL with a host, got scheme {:?}",
            url.scheme()
        )));
    }
    Ok(())
}

impl fmt::Debug for OutboundEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundEmail")
            .field("account_id", &self.account_id)
            .field("lead_id", &self.lead_id)
            .field("message_id", &self.message_id)
            .field("internet_message_id", &self.internet_message_id)
            .field("subject_chars", &self.subject.chars().count())
            .field("text_body_bytes", &self.text_body.len())
            .field("html_body_bytes", &self.html_body.as_ref().map(String::len))
            .finish_non_exhaustive()
    }
}
