//! SendGrid Inbound Parse: the credentials that protect the unsigned endpoint, and
//! parsing of the posted email.

mod auth;
mod email;
mod multipart;
mod parse;
mod threading;

pub use auth::{check_basic_auth, check_url_secret};
pub use email::{AttachmentInfo, Envelope, InboundEmail, InboundLimits, ThreadingHeaders};
pub use parse::parse_inbound;

/// Converts an HTML body to plain text, for emails that have no text part.
pub fn html_to_text(html: &str) -> String {
    mail_parser::decoders::html::html_to_text(html)
}
