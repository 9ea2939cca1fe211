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
