//! SendGrid Event Webhook: signature check and typed events.

mod events;
mod verify;

pub use events::{
    BounceType, MESSAGE_ID_ARGUMENT, MalformedEvent, SendgridBatch, SendgridEvent,
    SendgridEventKind, parse_events,
};
pub use verify::{
    SIGNATURE_HEADER, SendgridVerifier, TIMESTAMP_HEADER, check_timestamp, verify_event_webhook,
};
