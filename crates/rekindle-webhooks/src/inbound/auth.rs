//! Credentials of the inbound email webhook.
//!
//! SendGrid Inbound Parse does not sign its requests, so the endpoint is protected
//! by a secret in its URL and by HTTP basic auth in the URL SendGrid is given
//! (`https://user:password@host/...`). Both comparisons run in constant time:
//! each side is hashed with SHA-256 and the digests are compared with `subtle`, so
//! neither the position of the first difference nor the length of the expected
//! value shows in the timing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::VerifyError;

/// Checks an `Authorization: Basic ...` header value against the expected user and
/// password (RFC 7617). Pass an empty string when the header is absent. An empty
/// expected user or password is [`VerifyError::NotConfigured`].
pub fn check_basic_auth(
    authorization_header: &str,
    expected_user: &str,
    expected_password: &str,
) -> Result<(), VerifyError> {
    if expected_user.is_empty() || expected_password.is_empty() {
        return Err(VerifyError::NotConfigured {
            what: "inbound email basic auth user or password",
        });
    }

    let header = authorization_header.trim();
    if header.is_empty() {
        return Err(VerifyError::Missing {
            item: "Authorization header",
        });
    }

    let (user, password) = decode_basic_credentials(header)?;
    let user_matches = digests_equal(&user, expected_user.as_bytes());
    let password_matches = digests_equal(&password, expected_password.as_bytes());

    // `&` on `Choice` evaluates both sides, so a wrong user takes as long as a
    // wrong password.
    if bool::from(user_matches & password_matches) {
        Ok(())
    } else {
        Err(VerifyError::BadCredentials {
            reason: "user or password is wrong",
        })
    }
}

/// Checks the secret from the webhook URL against the configured one. An empty
/// expected secret is [`VerifyError::NotConfigured`].
pub fn check_url_secret(given: &str, expected: &str) -> Result<(), VerifyError> {
    if expected.is_empty() {
        return Err(VerifyError::NotConfigured {
            what: "inbound email URL secret",
        });
    }

    if bool::from(digests_equal(given.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err(VerifyError::BadCredentials {
            reason: "URL secret is wrong",
        })
    }
}

/// Splits a Basic credential into user and password. The user is everything
/// before the first colon, because RFC 7617 forbids colons in user ids.
fn decode_basic_credentials(header: &str) -> Result<(Vec<u8>, Vec<u8>), VerifyError> {
    let (scheme, encoded) = header.split_once(' ').ok_or(VerifyError::BadCredentials {
        reason: "Authorization header is not of the form `Basic <credentials>`",
    })?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(VerifyError::BadCredentials {
            reason: "Authorization scheme is not Basic",
        });
    }

    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| VerifyError::BadCredentials {
            reason: "Basic credentials are not valid base64",
        })?;
    let colon =
        decoded
            .iter()
            .position(|&byte| byte == b':')
            .ok_or(VerifyError::BadCredentials {
                reason: "Basic credentials contain no colon between user and password",
            })?;

    Ok((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

fn digests_equal(given: &[u8], expected: &[u8]) -> Choice {
    Sha256::digest(given).ct_eq(&Sha256::digest(expected))
}
