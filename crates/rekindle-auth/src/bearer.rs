//! The `Authorization: Bearer <token>` header (RFC 6750 section 2.1) and the
//! kinds of credential it may carry.

use std::fmt;

use crate::AuthError;
use crate::api_keys::{API_KEY_PREFIX, ApiKeySecret};
use crate::refresh::REFRESH_TOKEN_PREFIX;

/// Maximum token length in bytes. API keys are 51 bytes, and typical JWTs
/// are under 2 KiB (an estimate: large custom claims make them longer).
pub const MAX_BEARER_TOKEN_BYTES: usize = 4096;

/// Extracts the token from an `Authorization` header value. The scheme is
/// matched without regard to case (RFC 9110 section 11.1), and the token must
/// be a single `b64token` of at most `MAX_BEARER_TOKEN_BYTES`.
pub fn parse_bearer(header_value: &str) -> Result<&str, AuthError> {
    let value = header_value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return Err(AuthError::MissingCredentials);
    }

    let Some((scheme, rest)) = value.split_once([' ', '\t']) else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            AuthError::MissingCredentials
        } else {
            AuthError::UnsupportedScheme
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::UnsupportedScheme);
    }

    let token = rest.trim_start_matches([' ', '\t']);
    if token.len() > MAX_BEARER_TOKEN_BYTES {
        return Err(AuthError::malformed("token is too long"));
    }
    if token.contains(|c: char| c.is_whitespace()) {
        return Err(AuthError::malformed("expected a single token after Bearer"));
    }
    if !is_b64token(token) {
        return Err(AuthError::malformed(
            "token contains characters not allowed in a bearer token",
        ));
    }

    Ok(token)
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// A bearer token classified by kind, so that the caller can pass it to the
/// matching verifier.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// An API key (`rk_live_…`), to be hashed with `hash_token` and looked up.
    ApiKey(&'a str),
    /// A compact JWT: one of our access tokens or an external provider's.
    Jwt(&'a str),
}

impl<'a> Credential<'a> {
    /// Reads an `Authorization` header value and classifies its token.
    pub fn from_header(header_value: &'a str) -> Result<Self, AuthError> {
        Self::classify(parse_bearer(header_value)?)
    }

    /// Classifies a bearer token. Refresh tokens are rejected: they are only
    /// ever sent to the refresh endpoint, never as a bearer credential.
    pub fn classify(token: &'a str) -> Result<Self, AuthError> {
        if token.starts_with(API_KEY_PREFIX) {
            return if ApiKeySecret::is_well_formed(token) {
                Ok(Credential::ApiKey(token))
            } else {
                Err(AuthError::malformed(
                    "API key has the wrong length or characters",
                ))
            };
        }
        if token.starts_with(REFRESH_TOKEN_PREFIX) {
            return Err(AuthError::malformed(
                "a refresh token is not accepted as a bearer credential",
            ));
        }
        if token.split('.').count() == 3 {
            return Ok(Credential::Jwt(token));
        }

        Err(AuthError::malformed("expected an API key or a JWT"))
    }

    /// Returns the token itself.
    pub fn token(&self) -> &'a str {
        match self {
            Credential::ApiKey(token) | Credential::Jwt(token) => token,
        }
    }
}

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ApiKey(_) => f.write_str("ApiKey([redacted])"),
            Credential::Jwt(_) => f.write_str("Jwt([redacted])"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";

    #[test]
    fn scheme_is_case_insensitive() {
        for value in [
            format!("Bearer {JWT}"),
            format!("bearer {JWT}"),
            format!("BEARER {JWT}"),
            format!("  Bearer \t {JWT}  "),
        ] {
            assert_eq!(parse_bearer(&value), Ok(JWT), "{value:?}");
        }
    }

    #[test]
    fn missing_token_is_missing_credentials() {
        for value in ["", "   ", "Bearer", "Bearer   ", "bearer\t"] {
            assert_eq!(
                parse_bearer(value),
                Err(AuthError::MissingCredentials),
                "{value:?}"
            );
        }
    }

    #[test]
    fn other_schemes_rejected() {
        for value in ["Basic dXNlcjpwYXNz", "Token abc", "BearerX abc", JWT] {
            assert_eq!(
                parse_bearer(value),
                Err(AuthError::UnsupportedScheme),
                "{value:?}"
            );
        }
    }

    #[test]
    fn only_one_token_allowed() {
        let error = parse_bearer(&format!("Bearer {JWT} {JWT}")).unwrap_err();

        assert_eq!(error.code(), "malformed_token");
    }

    #[test]
    fn token_length_bounded() {
        let longest = "a".repeat(MAX_BEARER_TOKEN_BYTES);
        let too_long = "a".repeat(MAX_BEARER_TOKEN_BYTES + 1);

        assert_eq!(
            parse_bearer(&format!("Bearer {longest}")),
            Ok(longest.as_str())
        );
        assert_eq!(
            parse_bearer(&format!("Bearer {too_long}"))
                .unwrap_err()
                .code(),
            "malformed_token"
        );
    }

    #[test]
    fn token_characters_checked() {
        assert_eq!(parse_bearer("Bearer abc+/~-._=="), Ok("abc+/~-._=="));
        for value in [
            "Bearer abc\"def",
            "Bearer abc,def",
            "Bearer ==",
            "Bearer a=b",
            "Bearer ü",
        ] {
            assert_eq!(
                parse_bearer(value).unwrap_err().code(),
                "malformed_token",
                "{value:?}"
            );
        }
    }

    #[test]
    fn classifies_api_keys_and_jwts() {
        let (api_key, _) = ApiKeySecret::generate();
        let header = format!("Bearer {api_key}");

        assert_eq!(
            Credential::from_header(&header),
            Ok(Credential::ApiKey(api_key.as_str()))
        );
        assert_eq!(Credential::classify(JWT), Ok(Credential::Jwt(JWT)));
        assert_eq!(Credential::classify(JWT).unwrap().token(), JWT);
    }

    #[test]
    fn rejects_refresh_tokens_and_junk() {
        let (refresh, _) = crate::RefreshSecret::generate();

        for token in [refresh.as_str(), "rk_live_tooshort", "opaque-token", "a.b"] {
            assert_eq!(
                Credential::classify(token).unwrap_err().code(),
                "malformed_token",
                "{token}"
            );
        }
    }

    #[test]
    fn debug_hides_token() {
        let rendered = format!("{:?}", Credential::Jwt(JWT));

        assert!(!rendered.contains(JWT));
    }
}
