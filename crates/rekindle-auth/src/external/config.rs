//! Configuration of the external identity provider.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::AuthError;
use crate::jwt::DEFAULT_LEEWAY;

/// Audience that Supabase Auth puts in the tokens of signed-in users.
pub const DEFAULT_EXTERNAL_AUDIENCE: &str = "authenticated";

/// Minimum HS256 secret length in bytes: RFC 7518 section 3.2 requires a key
/// at least as long as the hash output, 256 bits.
pub const MIN_SHARED_SECRET_BYTES: usize = 32;

/// An asymmetric algorithm accepted for keys from a JWKS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwksAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA keys of at least 2048 bits.
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl JwksAlgorithm {
    /// Returns the JWA name (RFC 7518 section 3.1).
    pub fn as_str(self) -> &'static str {
        match self {
            JwksAlgorithm::Rs256 => "RS256",
            JwksAlgorithm::Es256 => "ES256",
        }
    }

    pub(crate) fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            JwksAlgorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
            JwksAlgorithm::Es256 => jsonwebtoken::Algorithm::ES256,
        }
    }
}

/// Fetching and caching of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSettings {
    /// How long a fetched key set is used before it is fetched again.
    pub cache_ttl: Duration,
    /// Minimum time between two fetch attempts, whatever triggers them: a
    /// token naming an unknown `kid`, an expired cache or a failed attempt.
    /// It stops tokens with made-up key ids from flooding the provider, and
    /// it makes requests fail fast while the provider is down.
    pub min_refetch_interval: Duration,
    /// How long after `cache_ttl` the last key set is still used while
    /// fetching a new one fails (the `stale-if-error` idea of RFC 5861).
    pub stale_if_error: Duration,
    /// Time allowed to establish the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Time allowed for the whole request, connection and body included.
    pub request_timeout: Duration,
    /// Largest accepted response body, in bytes.
    pub max_response_bytes: usize,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(10 * 60),
            min_refetch_interval: Duration::from_secs(30),
            stale_if_error: Duration::from_secs(60 * 60),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            // Real key sets hold a few keys of under 1 KiB each.
            max_response_bytes: 64 * 1024,
        }
    }
}

/// Source of the provider's verification keys.
#[derive(Clone)]
pub enum ExternalKeys {
    /// One HS256 secret shared with the provider, as Supabase's legacy JWT
    /// secret. The secret's bytes are used as given, not base64-decoded.
    SharedSecret(Vec<u8>),
    /// Public keys published as a JWKS at `url`, for the listed algorithms.
    Jwks {
        url: Url,
        algorithms: Vec<JwksAlgorithm>,
        settings: JwksSettings,
    },
}

impl fmt::Debug for ExternalKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternalKeys::SharedSecret(_) => f.write_str("SharedSecret([redacted])"),
            ExternalKeys::Jwks {
                url,
                algorithms,
                settings,
            } => f
                .debug_struct("Jwks")
                .field("url", &url.as_str())
                .field("algorithms", algorithms)
                .field("settings", settings)
                .finish(),
        }
    }
}

/// Settings for verifying tokens from the external identity provider. The
/// accepted algorithms come from here, never from the token header alone.
#[derive(Debug, Clone)]
pub struct ExternalConfig {
    pub keys: ExternalKeys,
    /// Required `aud` value.
    pub audience: String,
    /// Required `iss` value. When `None`, any issuer is accepted, but the
    /// token must still carry an `iss` claim.
    pub issuer: Option<String>,
    /// Allowance for clock skew between the provider and us.
    pub leeway: Duration,
}

impl ExternalConfig {
    /// Verifies HS256 tokens with a shared secret, expecting the audience
    /// `authenticated`.
    pub fn shared_secret(secret: impl Into<Vec<u8>>) -> Self {
        Self::with_keys(ExternalKeys::SharedSecret(secret.into()))
    }

    /// Verifies tokens signed with the keys published at `url`, expecting the
    /// audience `authenticated`. Only the listed algorithms are accepted.
    pub fn jwks(url: Url, algorithms: &[JwksAlgorithm]) -> Self {
        Self::with_keys(ExternalKeys::Jwks {
            url,
            algorithms: algorithms.to_vec(),
            settings: JwksSettings::default(),
        })
    }

    fn with_keys(keys: ExternalKeys) -> Self {
        Self {
            keys,
            audience: DEFAULT_EXTERNAL_AUDIENCE.to_owned(),
            issuer: None,
            leeway: DEFAULT_LEEWAY,
        }
    }

    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Replaces the JWKS fetch and cache settings. Has no effect on a shared
    /// secret configuration.
    pub fn with_jwks_settings(mut self, new_settings: JwksSettings) -> Self {
        if let ExternalKeys::Jwks { settings, .. } = &mut self.keys {
            *settings = new_settings;
        }
        self
    }

    /// Checks the configuration before any token is verified with it.
    pub(crate) fn validate(&self) -> Result<(), AuthError> {
        if self.audience.trim().is_empty() {
            return Err(AuthError::configuration("external token audience is empty"));
        }
        if self
            .issuer
            .as_deref()
            .is_some_and(|issuer| issuer.trim().is_empty())
        {
            return Err(AuthError::configuration(
                "external token issuer is empty: leave it unset to accept any issuer",
            ));
        }

        match &self.keys {
            ExternalKeys::SharedSecret(secret) => validate_secret(secret),
            ExternalKeys::Jwks {
                url,
                algorithms,
                settings,
            } => validate_jwks(url, algorithms, settings),
        }
    }
}

fn validate_secret(secret: &[u8]) -> Result<(), AuthError> {
    if secret.len() < MIN_SHARED_SECRET_BYTES {
        return Err(AuthError::configuration(format!(
            "external token secret has {} bytes, at least {MIN_SHARED_SECRET_BYTES} required",
            secret.len()
        )));
    }
    Ok(())
}

fn validate_jwks(
    url: &Url,
    algorithms: &[JwksAlgorithm],
    settings: &JwksSettings,
) -> Result<(), AuthError> {
    if algorithms.is_empty() {
        return Err(AuthError::configuration(
            "no JWKS algorithm configured: list RS256, ES256 or both",
        ));
    }

    // Plain HTTP would let anyone on the path swap the keys, so it is allowed
    // only for a server on this machine (tests, a local provider).
    let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url));
    if !secure {
        return Err(AuthError::configuration(format!(
            "JWKS URL {url} must use https (http only for a loopback address)"
        )));
    }

    if settings.cache_ttl < settings.min_refetch_interval {
        return Err(AuthError::configuration(
            "JWKS cache TTL must not be shorter than the minimum refetch interval",
        ));
    }
    if settings.connect_timeout.is_zero() || settings.request_timeout.is_zero() {
        return Err(AuthError::configuration("JWKS timeouts must be positive"));
    }

    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

    fn jwks_config(url: &str) -> ExternalConfig {
        ExternalConfig::jwks(url.parse().unwrap(), &[JwksAlgorithm::Rs256])
    }

    #[test]
    fn defaults_expect_authenticated_audience() {
        let config = ExternalConfig::shared_secret(SECRET);

        assert_eq!(config.audience, "authenticated");
        assert_eq!(config.issuer, None);
        assert_eq!(config.leeway, Duration::from_secs(30));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn short_secret_rejected() {
        let error = ExternalConfig::shared_secret("too-short")
            .validate()
            .unwrap_err();

        assert_eq!(error.code(), "invalid_configuration");
        assert!(error.to_string().contains("at least 32"), "{error}");
    }

    #[test]
    fn jwks_url_must_be_https_or_loopback() {
        assert!(
            jwks_config("https://example.supabase.co/auth/v1/.well-known/jwks.json")
                .validate()
                .is_ok()
        );
        assert!(jwks_config("http://127.0.0.1:9999/jwks").validate().is_ok());
        assert!(jwks_config("http://[::1]:9999/jwks").validate().is_ok());
        assert!(jwks_config("http://localhost:9999/jwks").validate().is_ok());
        assert!(
            jwks_config("http://idp.example.com/jwks")
                .validate()
                .is_err()
        );
        assert!(jwks_config("ftp://127.0.0.1/jwks").validate().is_err());
    }

    #[test]
    fn jwks_needs_an_algorithm() {
        let config = ExternalConfig::jwks("https://idp.example.com/jwks".parse().unwrap(), &[]);

        assert_eq!(
            config.validate().unwrap_err().code(),
            "invalid_configuration"
        );
    }

    #[test]
    fn empty_audience_or_issuer_rejected() {
        assert!(
            ExternalConfig::shared_secret(SECRET)
                .with_audience(" ")
                .validate()
                .is_err()
        );
        assert!(
            ExternalConfig::shared_secret(SECRET)
                .with_issuer("")
                .validate()
                .is_err()
        );
    }

    #[test]
    fn debug_hides_secret() {
        let config = ExternalConfig::shared_secret(SECRET);

        assert!(!format!("{config:?}").contains("super-secret"));
    }
}
