//! Errors of link signing and verification.

use chrono::{DateTime, Utc};

use super::LinkPurpose;

/// Reason a token was rejected. The variants are for logs and tests; a page
/// should show recipients one generic message for all of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed link token: {reason}")]
    Malformed { reason: &'static str },

    #[error("link token signature is invalid")]
    BadSignature,

    #[error("link token expired at {expired_at}")]
    Expired { expired_at: DateTime<Utc> },

    #[error("link token is for {found}, expected {expected}")]
    WrongPurpose {
        expected: LinkPurpose,
        found: LinkPurpose,
    },
}

/// Invalid signer configuration or base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkSignerError {
    #[error(
        "link signing secret is {actual} bytes, at least {minimum} are required: generate one with `openssl rand -base64 48`"
    )]
    WeakSecret { actual: usize, minimum: usize },

    #[error(
        "{purpose} links must stay valid for at least {minimum_days} days, got {requested_days}"
    )]
    ValidityTooShort {
        purpose: LinkPurpose,
        minimum_days: i64,
        requested_days: i64,
    },

    #[error("link base URL must use https, got {scheme:?}")]
    NotHttps { scheme: String },

    #[error("link base URL {url:?} cannot take a path")]
    NotABase { url: String },
}
