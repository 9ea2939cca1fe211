//! Rekindle's domain: identifiers, status vocabularies, validated values and the
//! pure rules (scoring, compliance, scheduling, reply classification) that the
//! rest of the workspace builds on. Nothing here performs I/O.

pub mod campaign;
pub mod contact;
pub mod custom_fields;
pub mod ids;
pub mod lead;
pub mod replies;
pub mod scheduling;
pub mod status;
pub mod throttle;

pub use contact::{ContactError, Email, Phone, PhoneOutcome};
pub use custom_fields::{CustomFields, CustomFieldsError};
pub use ids::*;
pub use status::*;
