//! Tokens from an external identity provider such as Supabase Auth.
//!
//! The provider signs either with one HS256 secret shared with us or with
//! asymmetric keys (RS256, ES256) that it publishes as a JWKS. Which
//! algorithms are accepted is fixed by `ExternalConfig`; the token header
//! only selects among them and names the key (`kid`). Other header
//! parameters that point at keys (`jku`, `jwk`, `x5u`) are ignored.

mod config;
mod jwks;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::AuthError;
use crate::jwt::{self, TimeClaims};

pub use config::{
    DEFAULT_EXTERNAL_AUDIENCE, ExternalConfig, ExternalKeys, JwksAlgorithm, JwksSettings,
    MIN_SHARED_SECRET_BYTES,
};

/// Maximum length of `sub`, in bytes. Provider subjects are UUIDs or short
/// opaque ids.
const MAX_SUBJECT_BYTES: usize = 255;
/// Maximum length of an email address (RFC 5321 section 4.5.3.1.3 limits a
/// path to 256 octets, including the angle brackets).
const MAX_EMAIL_BYTES: usize = 254;

/// The caller's identity as asserted by the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// The provider's stable user id (`sub`).
    pub subject: String,
    /// The `email` claim as the provider sent it, unverified by us. Do not
    /// link the identity to an existing user by this address unless the
    /// provider is known to confirm addresses first.
    pub email: Option<String>,
    /// The `iss` claim.
    pub issuer: String,
}

/// Verifies tokens from the external identity provider. Cloning is cheap and
/// clones share the JWKS cache.
#[derive(Clone)]
pub struct ExternalVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: KeySource,
    audience: String,
    issuer: Option<String>,
    leeway: std::time::Duration,
}

enum KeySource {
    Secret(DecodingKey),
    Jwks {
        algorithms: Vec<Algorithm>,
        cache: Box<jwks::JwksCache>,
    },
}

impl std::fmt::Debug for ExternalVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.inner.keys {
            KeySource::Secret(_) => "shared secret",
            KeySource::Jwks { .. } => "JWKS",
        };
        f.debug_struct("ExternalVerifier")
            .field("keys", &keys)
            .field("audience", &self.inner.audience)
            .field("issuer", &self.inner.issuer)
            .finish()
    }
}

#[derive(Deserialize)]
struct ExternalClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    iss: String,
    #[serde(deserialize_with = "jwt::numeric_date")]
    exp: i64,
    #[serde(default, deserialize_with = "jwt::optional_numeric_date")]
    nbf: Option<i64>,
    #[serde(default, deserialize_with = "jwt::optional_numeric_date")]
    iat: Option<i64>,
}

impl ExternalVerifier {
    /// Checks the configuration and prepares the verifier. No network request
    /// is made until the first token arrives.
    pub fn new(config: ExternalConfig) -> Result<Self, AuthError> {
        config.validate()?;

        let keys = match config.keys {
            config::ExternalKeys::SharedSecret(secret) => {
                let key = DecodingKey::from_secret(&secret).map_err(|error| {
                    AuthError::configuration(format!("external token secret is unusable: {error}"))
                })?;
                KeySource::Secret(key)
            }
            config::ExternalKeys::Jwks {
                url,
                algorithms,
                settings,
            } => KeySource::Jwks {
                algorithms: algorithms
                    .iter()
                    .map(|algorithm| algorithm.to_jsonwebtoken())
                    .collect(),
                cache: Box::new(jwks::JwksCache::new(url, algorithms, settings)?),
            },
        };

        Ok(Self {
            inner: Arc::new(Inner {
                keys,
                audience: config.audience,
                issuer: config.issuer,
                leeway: config.leeway,
            }),
        })
    }

    /// Verifies a token against the current time.
    pub async fn verify(&self, token: &str) -> Result<ExternalIdentity, AuthError> {
        self.verify_at(token, Utc::now()).await
    }

    /// Verifies a token as of `now`: algorithm, key, signature, audience,
    /// issuer, then `exp`, `nbf` and `iat` with the leeway.
    pub async fn verify_at(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<ExternalIdentity, AuthError> {
        let inner = &self.inner;
        let (header, key) = match &inner.keys {
            KeySource::Secret(key) => {
                let header = jwt::read_header(token, &[Algorithm::HS256])?;
                (header, key.clone())
            }
            KeySource::Jwks { algorithms, cache } => {
                let header = jwt::read_header(token, algorithms)?;
                let key = cache
                    .key_for(header.key_id.as_deref(), header.algorithm)
                    .await?;
                (header, key)
            }
        };

        let validation =
            jwt::validation_for(header.algorithm, &inner.audience, inner.issuer.as_deref());
        let claims: ExternalClaims = jwt::decode_claims(token, &key, &validation)?;

        let times = TimeClaims {
            expires_at: claims.exp,
            not_before: claims.nbf,
            issued_at: claims.iat,
        };
        jwt::check_time_claims(times, now, inner.leeway)?;

        identity_from(claims)
    }
}

fn identity_from(claims: ExternalClaims) -> Result<ExternalIdentity, AuthError> {
    if claims.sub.trim().is_empty() || claims.sub.len() > MAX_SUBJECT_BYTES {
        return Err(AuthError::InvalidClaims { claim: "sub" });
    }

    // An empty `email` means the user has no address, for example after a
    // sign-up by phone.
    let email = claims.email.filter(|email| !email.is_empty());
    if email
        .as_ref()
        .is_some_and(|email| email.len() > MAX_EMAIL_BYTES)
    {
        return Err(AuthError::InvalidClaims { claim: "email" });
    }

    Ok(ExternalIdentity {
        subject: claims.sub,
        email,
        issuer: claims.iss,
    })
}
