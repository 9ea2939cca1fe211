//! The binary token layout and its URL-safe text form.
//!
//! ```text
//! version (1) | purpose (1) | expires_at, Unix seconds, big-endian (8)
//! | account id (16) | lead id (16) | target kind (1) | target value (rest)
//! | HMAC-SHA256 tag (32)
//! ```
//!
//! The target value is the UTF-8 email address or E.164 number, or the 16
//! bytes of a message id. The text form is base64url without padding
//! (RFC 4648 section 5).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rekindle_domain::{Email, MessageId, Phone};
use uuid::Uuid;

use super::{LinkClaims, LinkPurpose, LinkTarget, TokenError};

const VERSION: u8 = 1;
/// Length of an HMAC-SHA256 tag in bytes.
pub const TAG_LEN: usize = 32;
/// Bytes before the target value.
const HEADER_LEN: usize = 1 + 1 + 8 + 16 + 16 + 1;
/// Maximum token length in characters, checked before decoding. A token for
/// a 254-byte email address, the longest target, is 439 characters.
pub const MAX_TOKEN_CHARS: usize = 512;

const TARGET_EMAIL: u8 = 1;
const TARGET_PHONE: u8 = 2;
const TARGET_MESSAGE: u8 = 3;

/// Serialises the claims to the bytes that are signed.
pub fn encode_payload(claims: &LinkClaims) -> Vec<u8> {
    // A time before 1970 cannot be stored and is already expired anyway.
    let expires = u64::try_from(claims.expires_at.timestamp()).unwrap_or(0);

    let mut payload = Vec::with_capacity(HEADER_LEN + 64);
    payload.push(VERSION);
    payload.push(claims.purpose.code());
    payload.extend_from_slice(&expires.to_be_bytes());
    payload.extend_from_slice(claims.account_id.as_uuid().as_bytes());
    payload.extend_from_slice(claims.lead_id.as_uuid().as_bytes());

    match &claims.target {
        LinkTarget::Email(email) => {
            payload.push(TARGET_EMAIL);
            payload.extend_from_slice(email.as_str().as_bytes());
        }
        LinkTarget::Phone(phone) => {
            payload.push(TARGET_PHONE);
            payload.extend_from_slice(phone.as_str().as_bytes());
        }
        LinkTarget::Message(message_id) => {
            payload.push(TARGET_MESSAGE);
            payload.extend_from_slice(message_id.as_uuid().as_bytes());
        }
    }
    payload
}

/// Joins payload and tag into the token text.
pub fn to_text(payload: &[u8], tag: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(payload.len() + tag.len());
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(tag);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Splits the token text into payload and tag, checking only the form.
pub fn from_text(token: &str) -> Result<(Vec<u8>, Vec<u8>), TokenError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(TokenError::Malformed {
            reason: "token is too long",
        });
    }
    let mut bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| TokenError::Malformed {
            reason: "token is not base64url without padding",
        })?;
    if bytes.len() < HEADER_LEN + TAG_LEN {
        return Err(TokenError::Malformed {
            reason: "token is too short",
        });
    }
    if bytes[0] != VERSION {
        return Err(TokenError::Malformed {
            reason: "unknown token version",
        });
    }

    let tag = bytes.split_off(bytes.len() - TAG_LEN);
    Ok((bytes, tag))
}

/// Reads the purpose byte, which selects the verification key.
pub fn purpose_of(payload: &[u8]) -> Result<LinkPurpose, TokenError> {
    payload
        .get(1)
        .copied()
        .and_then(LinkPurpose::from_code)
        .ok_or(TokenError::Malformed {
            reason: "unknown link purpose",
        })
}

/// Reads the claims from a payload whose tag was verified.
pub fn decode_payload(payload: &[u8]) -> Result<LinkClaims, TokenError> {
    let purpose = purpose_of(payload)?;
    let expires = u64::from_be_bytes(array(&payload[2..10])?);
    let expires_at = i64::try_from(expires)
        .ok()
        .and_then(|seconds| DateTime::<Utc>::from_timestamp(seconds, 0))
        .ok_or(TokenError::Malformed {
            reason: "expiry is out of range",
        })?;

    let account_id = Uuid::from_bytes(array(&payload[10..26])?).into();
    let lead_id = Uuid::from_bytes(array(&payload[26..42])?).into();
    let target = decode_target(payload[42], &payload[HEADER_LEN..])?;

    Ok(LinkClaims {
        purpose,
        account_id,
        lead_id,
        target,
        expires_at,
    })
}

fn decode_target(kind: u8, value: &[u8]) -> Result<LinkTarget, TokenError> {
    let invalid = |reason| TokenError::Malformed { reason };
    let text = || std::str::from_utf8(value).map_err(|_| invalid("contact is not UTF-8"));

    match kind {
        TARGET_EMAIL => Email::parse(text()?)
            .map(LinkTarget::Email)
            .map_err(|_| invalid("invalid email in token")),
        TARGET_PHONE => Phone::parse(text()?, None)
            .map(LinkTarget::Phone)
            .map_err(|_| invalid("invalid phone number in token")),
        TARGET_MESSAGE => Ok(LinkTarget::Message(MessageId::from(Uuid::from_bytes(
            array(value)?,
        )))),
        _ => Err(invalid("unknown target kind")),
    }
}

fn array<const N: usize>(bytes: &[u8]) -> Result<[u8; N], TokenError> {
    bytes.try_into().map_err(|_| TokenError::Malformed {
        reason: "field has the wrong length",
    })
}
