//! Checks shared by our access tokens and external identity tokens: the
//! token's shape, the header's algorithm, the time claims and the mapping of
//! `jsonwebtoken` errors to `AuthError`.
//!
//! `jsonwebtoken` checks the signature, `aud` and `iss`. The time claims are
//! checked here instead, against a `now` that the caller passes in, so that
//! expiry can be tested without waiting.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::Algorithm;
use jsonwebtoken::errors::ErrorKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::AuthError;

/// Maximum length of a JWT in bytes, the same as `MAX_BEARER_TOKEN_BYTES`.
/// The bound keeps base64 and JSON decoding of hostile input cheap.
pub const MAX_TOKEN_BYTES: usize = crate::bearer::MAX_BEARER_TOKEN_BYTES;

/// Default allowance for clock skew between the issuer and us when checking
/// `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The header fields we read before the signature is checked. They only
/// select the algorithm and key, and both are checked against configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnverifiedHeader {
    pub algorithm: Algorithm,
    pub key_id: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

/// Reads the header of a compact JWS and checks that its algorithm is one of
/// `allowed`. Rejects `none`, unknown names and any algorithm missing from
/// `allowed`, whatever the token claims.
pub(crate) fn read_header(
    token: &str,
    allowed: &[Algorithm],
) -> Result<UnverifiedHeader, AuthError> {
    if token.is_empty() {
        return Err(AuthError::MissingCredentials);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::malformed("token is too long"));
    }

    let mut segments = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(AuthError::malformed(
            "a JWT has three dot-separated segments",
        ));
    };

    let header_json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::malformed("header is not base64url"))?;
    let raw: RawHeader = serde_json::from_slice(&header_json)
        .map_err(|_| AuthError::malformed("header is not a JSON object"))?;

    // RFC 7515 section 4.1.11: a recipient that does not understand a
    // critical extension must reject the token, and we understand none.
    if raw.crit.is_some() {
        return Err(AuthError::malformed("header has critical extensions"));
    }

    let name = raw
        .alg
        .ok_or(AuthError::malformed("header has no algorithm"))?;
    let algorithm = name
        .parse::<Algorithm>()
        .ok()
        .filter(|algorithm| allowed.contains(algorithm))
        .ok_or_else(|| AuthError::DisallowedAlgorithm {
            algorithm: printable_algorithm_name(&name),
        })?;

    Ok(UnverifiedHeader {
        algorithm,
        key_id: raw.kid,
    })
}

/// Keeps an algorithm name from a token fit for an error message and a log
/// line: short, ASCII alphanumeric.
fn printable_algorithm_name(name: &str) -> String {
    let printable = name.len() <= 16 && name.chars().all(|c| c.is_ascii_alphanumeric());
    if printable {
        name.to_owned()
    } else {
        "(unprintable)".to_owned()
    }
}

/// The time claims of a token, in seconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeClaims {
    pub expires_at: i64,
    pub not_before: Option<i64>,
    pub issued_at: Option<i64>,
}

/// Checks `exp`, `nbf` and `iat` against `now` with `leeway` of clock skew
/// either way.
pub(crate) fn check_time_claims(
    claims: TimeClaims,
    now: DateTime<Utc>,
    leeway: Duration,
) -> Result<(), AuthError> {
    let now = now.timestamp();
    let leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX);

    // RFC 7519 section 4.1.4: the token is valid only before `exp`.
    if now >= claims.expires_at.saturating_add(leeway) {
        return Err(AuthError::ExpiredToken);
    }

    let earliest_use = [claims.not_before, claims.issued_at]
        .into_iter()
        .flatten()
        .max();
    if earliest_use.is_some_and(|earliest_use| earliest_use > now.saturating_add(leeway)) {
        return Err(AuthError::TokenNotYetValid);
    }

    if claims
        .issued_at
        .is_some_and(|issued_at| issued_at >= claims.expires_at)
    {
        return Err(AuthError::InvalidClaims { claim: "iat" });
    }

    Ok(())
}

/// Claims every token must carry, checked in this order so that a token
/// lacking several of them always gets the same error.
const REQUIRED_CLAIMS: [&str; 4] = ["aud", "iss", "sub", "exp"];

/// Builds the `jsonwebtoken` validation for one algorithm: signature, `aud`
/// and, when given, `iss`. The presence of claims and the time claims are
/// checked by `decode_claims` and `check_time_claims` instead.
pub(crate) fn validation_for(
    algorithm: Algorithm,
    audience: &str,
    issuer: Option<&str>,
) -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(algorithm);
    validation.set_audience(&[audience]);
    if let Some(issuer) = issuer {
        validation.set_issuer(&[issuer]);
    }

    // `jsonwebtoken` keeps required claims in a `HashSet`, so its error for a
    // token missing several would depend on the iteration order.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation
}

/// Checks the signature, `aud` and `iss` as set in `validation`, checks that
/// the required claims are present, then reads the claims into `T`.
///
/// `jsonwebtoken::decode` reads the claims into the target type before it
/// validates them, so decoding straight into a type that requires `aud` would
/// report a missing `aud` as malformed JSON. Decoding into a JSON object first
/// lets the precise errors (wrong audience, wrong issuer) come through.
pub(crate) fn decode_claims<T: DeserializeOwned>(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
    validation: &jsonwebtoken::Validation,
) -> Result<T, AuthError> {
    let claims =
        jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, key, validation)
            .map_err(map_decode_error)?
            .claims;

    let missing = REQUIRED_CLAIMS
        .into_iter()
        .find(|claim| claims.get(*claim).is_none_or(serde_json::Value::is_null));
    if let Some(missing) = missing {
        return Err(missing_claim(missing));
    }

    serde_json::from_value(serde_json::Value::Object(claims))
        .map_err(|_| AuthError::malformed("claims do not have the expected names and types"))
}

/// Maps an error of `jsonwebtoken::decode` to ours.
fn map_decode_error(error: jsonwebtoken::errors::Error) -> AuthError {
    match error.into_kind() {
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::ExpiredSignature => AuthError::ExpiredToken,
        ErrorKind::ImmatureSignature => AuthError::TokenNotYetValid,
        ErrorKind::MissingRequiredClaim(claim) => missing_claim(&claim),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaims {
            claim: static_claim_name(&claim),
        },
        ErrorKind::InvalidSubject => AuthError::InvalidClaims { claim: "sub" },
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            AuthError::DisallowedAlgorithm {
                algorithm: "(not configured)".to_owned(),
            }
        }
        // The key does not fit the algorithm (for example an RSA key that the
        // backend cannot load), so the signature cannot be valid.
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => AuthError::InvalidSignature,
        ErrorKind::Json(_) => AuthError::malformed("claims are not the expected JSON object"),
        _ => AuthError::malformed("token could not be decoded"),
    }
}

fn missing_claim(claim: &str) -> AuthError {
    match claim {
        "aud" => AuthError::WrongAudience,
        "iss" => AuthError::WrongIssuer,
        other => AuthError::InvalidClaims {
            claim: static_claim_name(other),
        },
    }
}

fn static_claim_name(claim: &str) -> &'static str {
    match claim {
        "exp" => "exp",
        "nbf" => "nbf",
        "iat" => "iat",
        "sub" => "sub",
        "aud" => "aud",
        "iss" => "iss",
        _ => "(other)",
    }
}

/// Deserializes a NumericDate (RFC 7519 section 2), which may be an integer
/// or a decimal number of seconds. Fractions are truncated toward zero.
pub(crate) fn numeric_date<'de, D>(deserializer: D) -> Result<i64, D::Error>
where
    D: Deserializer<'de>,
{
    let number = serde_json::Number::deserialize(deserializer)?;
    number_to_seconds(&number)
        .ok_or_else(|| serde::de::Error::custom("NumericDate is out of range"))
}

/// Like `numeric_date`, for an optional claim.
pub(crate) fn optional_numeric_date<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    let number = Option::<serde_json::Number>::deserialize(deserializer)?;
    match number {
        None => Ok(None),
        Some(number) => number_to_seconds(&number)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("NumericDate is out of range")),
    }
}

fn number_to_seconds(number: &serde_json::Number) -> Option<i64> {
    if let Some(seconds) = number.as_i64() {
        return Some(seconds);
    }

    // Years beyond 9999 make no sense for a token, and the bound keeps the
    // cast below exact.
    const MAX_SECONDS: f64 = 253_402_300_799.0;
    let seconds = number.as_f64()?;
    if seconds.is_finite() && seconds.abs() <= MAX_SECONDS {
        #[allow(clippy::cast_possible_truncation)]
        Some(seconds.trunc() as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_header(json: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(json))
    }

    #[test]
    fn header_with_allowed_algorithm() {
        let token = encode_header(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);

        let header = read_header(&token, &[Algorithm::RS256]).unwrap();

        assert_eq!(header.algorithm, Algorithm::RS256);
        assert_eq!(header.key_id.as_deref(), Some("k1"));
    }

    #[test]
    fn header_rejects_none_and_unlisted() {
        let none = encode_header(r#"{"alg":"none"}"#);
        let hs512 = encode_header(r#"{"alg":"HS512"}"#);

        assert_eq!(
            read_header(&none, &[Algorithm::HS256]).unwrap_err(),
            AuthError::DisallowedAlgorithm {
                algorithm: "none".into()
            }
        );
        assert_eq!(
            read_header(&hs512, &[Algorithm::HS256]).unwrap_err().code(),
            "disallowed_algorithm"
        );
    }

    #[test]
    fn header_rejects_bad_shapes() {
        let cases = [
            "abc".to_owned(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            "!!!.e30.c2ln".to_owned(),
            encode_header("[1,2]"),
            encode_header(r#"{"typ":"JWT"}"#),
            encode_header(r#"{"alg":"HS256","crit":["exp"]}"#),
            "a".repeat(MAX_TOKEN_BYTES + 1),
        ];

        for token in cases {
            let error = read_header(&token, &[Algorithm::HS256]).unwrap_err();
            assert_eq!(error.code(), "malformed_token", "{token:.40}");
        }
        assert_eq!(
            read_header("", &[Algorithm::HS256]).unwrap_err(),
            AuthError::MissingCredentials
        );
    }

    #[test]
    fn unprintable_algorithm_not_echoed() {
        let token = encode_header(r#"{"alg":"HS256\nInjected: yes"}"#);

        let error = read_header(&token, &[Algorithm::HS256]).unwrap_err();

        assert_eq!(
            error,
            AuthError::DisallowedAlgorithm {
                algorithm: "(unprintable)".into()
            }
        );
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn expiry_honours_leeway() {
        let claims = TimeClaims {
            expires_at: 1_000,
            not_before: None,
            issued_at: Some(900),
        };
        let leeway = Duration::from_secs(30);

        assert_eq!(check_time_claims(claims, at(999), leeway), Ok(()));
        assert_eq!(check_time_claims(claims, at(1_029), leeway), Ok(()));
        assert_eq!(
            check_time_claims(claims, at(1_030), leeway),
            Err(AuthError::ExpiredToken)
        );
        assert_eq!(
            check_time_claims(claims, at(1_000), Duration::ZERO),
            Err(AuthError::ExpiredToken)
        );
    }

    #[test]
    fn future_tokens_rejected() {
        let leeway = Duration::from_secs(30);
        let issued_later = TimeClaims {
            expires_at: 2_000,
            not_before: None,
            issued_at: Some(1_100),
        };
        let not_before_later = TimeClaims {
            expires_at: 2_000,
            not_before: Some(1_100),
            issued_at: Some(1_000),
        };

        assert_eq!(
            check_time_claims(issued_later, at(1_000), leeway),
            Err(AuthError::TokenNotYetValid)
        );
        assert_eq!(
            check_time_claims(not_before_later, at(1_000), leeway),
            Err(AuthError::TokenNotYetValid)
        );
        assert_eq!(check_time_claims(issued_later, at(1_080), leeway), Ok(()));
    }

    #[test]
    fn issued_after_expiry_rejected() {
        let claims = TimeClaims {
            expires_at: 1_000,
            not_before: None,
            issued_at: Some(1_000),
        };

        assert_eq!(
            check_time_claims(claims, at(990), Duration::from_secs(30)),
            Err(AuthError::InvalidClaims { claim: "iat" })
        );
    }

    #[derive(Deserialize)]
    struct Dates {
        #[serde(deserialize_with = "numeric_date")]
        exp: i64,
        #[serde(default, deserialize_with = "optional_numeric_date")]
        nbf: Option<i64>,
    }

    #[test]
    fn numeric_dates_accept_decimals() {
        let dates: Dates = serde_json::from_str(r#"{"exp": 1700000000.75}"#).unwrap();
        assert_eq!(dates.exp, 1_700_000_000);
        assert_eq!(dates.nbf, None);

        let dates: Dates = serde_json::from_str(r#"{"exp": 5, "nbf": 4}"#).unwrap();
        assert_eq!(dates.nbf, Some(4));

        assert!(serde_json::from_str::<Dates>(r#"{"exp": "5"}"#).is_err());
        assert!(serde_json::from_str::<Dates>(r#"{"exp": 1e300}"#).is_err());
        assert!(serde_json::from_str::<Dates>(r#"{}"#).is_err());
    }
}
