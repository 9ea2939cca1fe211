//! The one error type of this crate. Each variant has a stable machine-readable
//! `code()` for problem-details responses. No message contains a token, a
//! password or a key, so every message is safe to log.

/// An authentication failure: a rejected credential or a failed step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing credentials: send an Authorization header with a Bearer token")]
    MissingCredentials,

    #[error("unsupported authorization scheme: use Bearer")]
    UnsupportedScheme,

    /// The token is not shaped like the credential it claims to be.
    #[error("malformed token: {reason}")]
    MalformedToken { reason: &'static str },

    #[error("token has expired")]
    ExpiredToken,

    /// `nbf` or `iat` lies in the future by more than the allowed clock skew.
    #[error("token is not valid yet")]
    TokenNotYetValid,

    #[error("token signature is invalid")]
    InvalidSignature,

    /// The header names an algorithm that this verifier is not configured for,
    /// including `none`.
    #[error("token algorithm {algorithm:?} is not allowed")]
    DisallowedAlgorithm { algorithm: String },

    #[error("token audience does not match")]
    WrongAudience,

    #[error("token issuer does not match")]
    WrongIssuer,

    /// A required claim is missing or has the wrong type or value.
    #[error("invalid token claim {claim:?}")]
    InvalidClaims { claim: &'static str },

    /// No key in the key set matches the token's `kid` and algorithm.
    #[error("no signing key matches the token")]
    UnknownKey,

    /// The identity provider's key set could not be fetched or parsed.
    #[error("identity provider unavailable: {reason}")]
    IdentityProviderUnavailable { reason: String },

    #[error("invalid authentication configuration: {reason}")]
    InvalidConfiguration { reason: String },

    #[error("password hashing failed: {reason}")]
    PasswordHashing { reason: String },

    #[error("token signing failed: {reason}")]
    TokenSigning { reason: String },
}

impl AuthError {
    /// Returns the stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingCredentials => "missing_credentials",
            AuthError::UnsupportedScheme => "unsupported_auth_scheme",
            AuthError::MalformedToken { .. } => "malformed_token",
            AuthError::ExpiredToken => "expired_token",
            AuthError::TokenNotYetValid => "token_not_yet_valid",
            AuthError::InvalidSignature => "invalid_signature",
            AuthError::DisallowedAlgorithm { .. } => "disallowed_algorithm",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::InvalidClaims { .. } => "invalid_claims",
            AuthError::UnknownKey => "unknown_key",
            AuthError::IdentityProviderUnavailable { .. } => "identity_provider_unavailable",
            AuthError::InvalidConfiguration { .. } => "invalid_configuration",
            AuthError::PasswordHashing { .. } => "password_hashing_failed",
            AuthError::TokenSigning { .. } => "token_signing_failed",
        }
    }

    /// Returns the HTTP status that fits this error: 401 when the client's
    /// credential is at fault, 503 when the identity provider cannot be reached
    /// and 500 for a fault on our side.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::IdentityProviderUnavailable { .. } => 503,
            AuthError::InvalidConfiguration { .. }
            | AuthError::PasswordHashing { .. }
            | AuthError::TokenSigning { .. } => 500,
            _ => 401,
        }
    }

    pub(crate) fn malformed(reason: &'static str) -> Self {
        AuthError::MalformedToken { reason }
    }

    pub(crate) fn configuration(reason: impl Into<String>) -> Self {
        AuthError::InvalidConfiguration {
            reason: reason.into(),
        }
    }

    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        AuthError::IdentityProviderUnavailable {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<AuthError> {
        vec![
            AuthError::MissingCredentials,
            AuthError::UnsupportedScheme,
            AuthError::malformed("x"),
            AuthError::ExpiredToken,
            AuthError::TokenNotYetValid,
            AuthError::InvalidSignature,
            AuthError::DisallowedAlgorithm {
                algorithm: "none".into(),
            },
            AuthError::WrongAudience,
            AuthError::WrongIssuer,
            AuthError::InvalidClaims { claim: "sub" },
            AuthError::UnknownKey,
            AuthError::unavailable("timed out"),
            AuthError::configuration("empty secret"),
            AuthError::PasswordHashing { reason: "x".into() },
            AuthError::TokenSigning { reason: "x".into() },
        ]
    }

    #[test]
    fn codes_are_distinct_snake_case() {
        let errors = every_variant();
        let mut codes: Vec<&str> = errors.iter().map(AuthError::code).collect();
        for code in &codes {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }

        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
    }

    #[test]
    fn status_separates_client_and_server_faults() {
        assert_eq!(AuthError::ExpiredToken.http_status(), 401);
        assert_eq!(AuthError::unavailable("down").http_status(), 503);
        assert_eq!(AuthError::configuration("bad").http_status(), 500);
    }
}
