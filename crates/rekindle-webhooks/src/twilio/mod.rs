//! Twilio webhooks: request signatures, message status callbacks and inbound
//! messages.

mod forms;
mod signature;
mod status;
mod url_port;

pub use forms::{
    InboundMessage, StatusCallback, TwilioChannel, parse_form, parse_inbound_message,
    parse_status_callback,
};
pub use signature::{BODY_SHA256_PARAMETER, SIGNATURE_HEADER, verify_json_request, verify_request};
pub use status::{TwilioMessageStatus, rank};
