//! The sender identity of an account, used in signatures and footers.

use serde::{Deserialize, Serialize};

/// Sender of a campaign's messages, as set in the account. Every email must
/// name the sender and carry a valid postal address (CAN-SPAM, 15 U.S.C. 7704).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderIdentity {
    pub name: String,
    pub company: String,
    pub postal_address: String,
}
