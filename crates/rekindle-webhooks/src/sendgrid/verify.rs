//! Signature check of the SendGrid Event Webhook.
//!
//! SendGrid signs the value of the `X-Twilio-Email-Event-Webhook-Timestamp` header
//! followed by the raw request body with ECDSA P-256 and SHA-256. The signature
//! arrives base64-encoded DER in `X-Twilio-Email-Event-Webhook-Signature`, and the
//! account's verification key is shown in the SendGrid settings as base64 DER
//! SubjectPublicKeyInfo.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::DigestVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};

use crate::error::VerifyError;

/// Name of the header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Email-Event-Webhook-Signature";

/// Name of the header that carries the signed timestamp (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "X-Twilio-Email-Event-Webhook-Timestamp";

/// SendGrid verification key, parsed once at startup and reused for every request.
#[derive(Debug, Clone)]
pub struct SendgridVerifier {
    key: VerifyingKey,
}

impl SendgridVerifier {
    /// Parses the verification key from base64 DER SubjectPublicKeyInfo, as
    /// SendGrid displays it. Surrounding whitespace is ignored. An empty key is
    /// [`VerifyError::NotConfigured`].
    pub fn new(public_key_base64_der: &str) -> Result<Self, VerifyError> {
        let encoded = public_key_base64_der.trim();
        if encoded.is_empty() {
            return Err(VerifyError::NotConfigured {
                what: "SendGrid event webhook verification key",
            });
        }

        let der = STANDARD
            .decode(encoded)
            .map_err(|_| invalid_key("not valid base64"))?;
        let key = VerifyingKey::from_public_key_der(&der)
            .map_err(|_| invalid_key("not a DER SubjectPublicKeyInfo for a P-256 key"))?;

        Ok(Self { key })
    }

    /// Verifies that `signature_base64` signs `timestamp` followed by `raw_body`.
    /// The timestamp is used byte for byte as received, so pass the header value
    /// unchanged. Use [`check_timestamp`] as well to reject replayed requests.
    pub fn verify(
        &self,
        signature_base64: &str,
        timestamp: &str,
        raw_body: &[u8],
    ) -> Result<(), VerifyError> {
        let signature = decode_signature(signature_base64)?;
        if timestamp.is_empty() {
            return Err(VerifyError::Missing {
                item: "X-Twilio-Email-Event-Webhook-Timestamp header",
            });
        }

        let digest = Sha256::new()
            .chain_update(timestamp.as_bytes())
            .chain_update(raw_body);
        self.key
            .verify_digest(digest, &signature)
            .map_err(|_| VerifyError::BadSignature)
    }
}

/// Verifies one Event Webhook request with a key given as base64 DER. A service
/// that verifies many requests should build a [`SendgridVerifier`] once instead.
pub fn verify_event_webhook(
    public_key_base64_der: &str,
    signature_base64: &str,
    timestamp: &str,
    raw_body: &[u8],
) -> Result<(), VerifyError> {
    SendgridVerifier::new(public_key_base64_der)?.verify(signature_base64, timestamp, raw_body)
}

/// Checks that the signed timestamp header (Unix seconds) is within
/// `tolerance_secs` of `now`, in either direction. [`SendgridVerifier::verify`]
/// does not check freshness, so this is a separate step against replays.
pub fn check_timestamp(timestamp: &str, now: i64, tolerance_secs: i64) -> Result<(), VerifyError> {
    if timestamp.is_empty() {
        return Err(VerifyError::Missing {
            item: "X-Twilio-Email-Event-Webhook-Timestamp header",
        });
    }

    let seconds = parse_unix_seconds(timestamp).ok_or(VerifyError::MalformedSignature {
        reason: "timestamp header is not a number of Unix seconds",
    })?;
    if seconds.abs_diff(now) > tolerance_secs.unsigned_abs() {
        return Err(VerifyError::TimestampOutOfTolerance {
            timestamp: seconds,
            now,
            tolerance_secs,
        });
    }

    Ok(())
}

fn decode_signature(signature_base64: &str) -> Result<Signature, VerifyError> {
    let encoded = signature_base64.trim();
    if encoded.is_empty() {
        return Err(VerifyError::Missing {
            item: "X-Twilio-Email-Event-Webhook-Signature header",
        });
    }

    let der = STANDARD
        .decode(encoded)
        .map_err(|_| VerifyError::MalformedSignature {
            reason: "SendGrid signature is not valid base64",
        })?;
    Signature::from_der(&der).map_err(|_| VerifyError::MalformedSignature {
        reason: "SendGrid signature is not a DER-encoded ECDSA signature",
    })
}

fn parse_unix_seconds(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn invalid_key(reason: &'static str) -> VerifyError {
    VerifyError::InvalidKey {
        what: "SendGrid event webhook verification key",
        reason,
    }
}
