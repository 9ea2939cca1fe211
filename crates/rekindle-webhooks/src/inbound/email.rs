//! Types of a parsed inbound email and the limits applied while parsing it.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Limits applied while reading an Inbound Parse body. The HTTP layer caps the
/// whole body separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundLimits {
    /// Maximum size of one attachment, in bytes.
    pub max_attachment_bytes: u64,
    /// Maximum size of all attachments together, in bytes.
    pub max_total_attachment_bytes: u64,
    /// Maximum number of attachments.
    pub max_attachments: usize,
    /// Maximum size of one text field (text, html, headers, ...), in bytes.
    pub max_field_bytes: u64,
}

impl Default for InboundLimits {
    /// NOTE: these values are our own choice for replies to sales emails, not
    /// limits published by SendGrid. Adjust them with the HTTP body cap.
    fn default() -> Self {
        Self {
            max_attachment_bytes: 10 * 1024 * 1024,
            max_total_attachment_bytes: 20 * 1024 * 1024,
            max_attachments: 20,
            max_field_bytes: 2 * 1024 * 1024,
        }
    }
}

/// An email posted by SendGrid Inbound Parse in its default (not raw) mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEmail {
    /// `from` field, as in the From header (`Name <address>`).
    pub from: String,
    /// Address of the From header, when one can be parsed.
    pub from_address: Option<String>,
    /// `to` field, as in the To header.
    pub to: String,
    /// `cc` field, as in the Cc header.
    pub cc: Option<String>,
    /// `subject` field, empty when absent.
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body.
    pub html: Option<String>,
    /// Raw header block of the email, empty when absent.
    pub headers: String,
    /// Threading headers taken from the header block.
    pub threading: ThreadingHeaders,
    /// SMTP envelope, when the `envelope` field is present.
    pub envelope: Option<Envelope>,
    /// Character set of each field, by field name, from the `charsets` field.
    pub charsets: BTreeMap<String, String>,
    /// Attachments, without their content.
    pub attachments: Vec<AttachmentInfo>,
}

/// Message ids that place an email in a conversation, without angle brackets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadingHeaders {
    /// `Message-ID` of this email.
    pub message_id: Option<String>,
    /// `In-Reply-To`: the message this email replies to.
    pub in_reply_to: Vec<String>,
    /// `References`: the earlier messages of the thread, oldest first.
    pub references: Vec<String>,
}

/// SMTP envelope of an inbound email, as SendGrid reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Envelope {
    /// Envelope recipients (RCPT TO).
    #[serde(default)]
    pub to: Vec<String>,
    /// Envelope sender (MAIL FROM), absent for bounces.
    #[serde(default)]
    pub from: Option<String>,
}

/// Metadata of one attachment. The content is read to measure it and then dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Name of the multipart field (`attachment1`, `attachment2`, ...).
    pub field_name: String,
    /// File name given by the sender.
    pub file_name: String,
    /// Content type of the part, when given.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
}
