//! Signature check of Stripe webhooks (`Stripe-Signature` header).
//!
//! The header has the form `t=1712345678,v1=<hex>,v1=<hex>,v0=<hex>`. Each `v1`
//! value is HMAC-SHA256 keyed with the endpoint secret (the whole string,
//! `whsec_` prefix included) over `"{t}.{raw body}"`. Stripe sends several `v1`
//! values while a secret is being rolled, and any of them may match. Other
//! schemes (`v0` is a test-mode scheme) are ignored.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::VerifyError;

/// Name of the header that carries the signatures.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

/// Default tolerance, in seconds (five minutes).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Data of a verified `Stripe-Signature` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedHeader {
    /// Time Stripe signed the request, in Unix seconds.
    pub timestamp: i64,
}

/// Verifies a Stripe webhook request. The signature is checked first, and then
/// the timestamp, which must be within `tolerance_secs` of `now` (Unix seconds)
/// in either direction, so a request dated too far in the future is rejected
/// as well as an old one.
pub fn verify(
    secret: &str,
    signature_header: &str,
    raw_body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<VerifiedHeader, VerifyError> {
    if secret.is_empty() {
        return Err(VerifyError::NotConfigured {
            what: "Stripe webhook signing secret",
        });
    }
    let header = parse_header(signature_header)?;

    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(format!("{}.", header.timestamp).as_bytes());
    mac.update(raw_body);
    let matches = header
        .v1_signatures
        .iter()
        .any(|candidate| mac.clone().verify_slice(candidate).is_ok());
    if !matches {
        return Err(VerifyError::BadSignature);
    }

    if header.timestamp.abs_diff(now) > tolerance_secs.unsigned_abs() {
        return Err(VerifyError::TimestampOutOfTolerance {
            timestamp: header.timestamp,
            now,
            tolerance_secs,
        });
    }

    Ok(VerifiedHeader {
        timestamp: header.timestamp,
    })
}

struct ParsedHeader {
    timestamp: i64,
    /// Decoded `v1` values. Values that are not hexadecimal are left out,
    /// because they cannot match.
    v1_signatures: Vec<Vec<u8>>,
}

fn parse_header(signature_header: &str) -> Result<ParsedHeader, VerifyError> {
    if signature_header.trim().is_empty() {
        return Err(VerifyError::Missing {
            item: "Stripe-Signature header",
        });
    }

    let mut timestamp = None;
    let mut v1_count = 0;
    let mut v1_signatures = Vec::new();
    for (key, value) in signature_header
        .split(',')
        .filter_map(|item| item.split_once('='))
    {
        match key.trim() {
            "t" if timestamp.is_some() => return Err(malformed("more than one t= timestamp")),
            "t" => timestamp = Some(parse_timestamp(value.trim())?),
            "v1" => {
                v1_count += 1;
                if let Ok(bytes) = hex::decode(value.trim()) {
                    v1_signatures.push(bytes);
                }
            }
            _ => {}
        }
    }

    let timestamp = timestamp.ok_or(malformed("no t= timestamp"))?;
    if v1_count == 0 {
        return Err(malformed("no v1= signature"));
    }
    Ok(ParsedHeader {
        timestamp,
        v1_signatures,
    })
}

fn parse_timestamp(text: &str) -> Result<i64, VerifyError> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(malformed("t= is not a number of Unix seconds"));
    }
    text.parse()
        .map_err(|_| malformed("t= is not a number of Unix seconds"))
}

fn malformed(reason: &'static str) -> VerifyError {
    VerifyError::MalformedSignature { reason }
}
