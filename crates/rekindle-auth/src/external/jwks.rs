//! A JWKS fetched over HTTP and cached.
//!
//! The key set is fetched on first use and again when it is older than the
//! cache TTL or when a token names a `kid` that the set lacks. Fetch attempts
//! are at least `min_refetch_interval` apart, and concurrent callers share one
//! attempt. While fetching fails, the last key set stays in use for
//! `stale_if_error` past its TTL.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use url::Url;

use crate::AuthError;
use crate::external::config::{JwksAlgorithm, JwksSettings};

/// Smallest RSA modulus accepted, in bits (NIST SP 800-57 part 1 rev. 5
/// gives 2048 bits as the minimum for RSA signatures).
const MIN_RSA_MODULUS_BITS: usize = 2048;

pub(crate) struct JwksCache {
    client: reqwest::Client,
    url: Url,
    algorithms: Vec<JwksAlgorithm>,
    settings: JwksSettings,
    /// The key set in use. Replaced whole, so readers never see a half update.
    current: RwLock<Arc<KeySet>>,
    /// Time of the last fetch attempt. Holding the lock is what makes
    /// concurrent callers share one attempt.
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(Default)]
struct KeySet {
    keys: Vec<CachedKey>,
    /// `None` until the first successful fetch.
    fetched_at: Option<Instant>,
}

struct CachedKey {
    key_id: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Reason that a refresh produced no new key set.
enum RefreshError {
    /// The previous attempt was less than `min_refetch_interval` ago.
    Throttled,
    Failed(String),
}

impl JwksCache {
    pub(crate) fn new(
        url: Url,
        algorithms: Vec<JwksAlgorithm>,
        settings: JwksSettings,
    ) -> Result<Self, AuthError> {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            // Key sets are served directly; a redirect could lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rekindle-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                AuthError::configuration(format!("could not build the JWKS HTTP client: {error}"))
            })?;

        Ok(Self {
            client,
            url,
            algorithms,
            settings,
            current: RwLock::new(Arc::new(KeySet::default())),
            last_attempt: tokio::sync::Mutex::new(None),
        })
    }

    /// Finds the key for a token's `kid` and algorithm, fetching the key set
    /// when the cache is empty, expired or lacks the `kid`.
    pub(crate) async fn key_for(
        &self,
        key_id: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<DecodingKey, AuthError> {
        let seen = self.current();
        let fresh = seen.is_younger_than(self.settings.cache_ttl);
        if fresh && let Some(key) = seen.find(key_id, algorithm) {
            return Ok(key);
        }

        let error = match self.refresh(&seen).await {
            Ok(refreshed) => {
                return refreshed
                    .find(key_id, algorithm)
                    .ok_or(AuthError::UnknownKey);
            }
            Err(error) => error,
        };

        if fresh {
            // The set is current and lacks the key. Without a new fetch the
            // key stays unknown.
            return match error {
                RefreshError::Throttled => Err(AuthError::UnknownKey),
                RefreshError::Failed(reason) => Err(AuthError::unavailable(reason)),
            };
        }

        let stale_limit = self.settings.cache_ttl + self.settings.stale_if_error;
        if seen.is_younger_than(stale_limit)
            && let Some(key) = seen.find(key_id, algorithm)
        {
            tracing::debug!(url = %self.url, "using an expired JWKS while fetching fails");
            return Ok(key);
        }

        Err(match error {
            RefreshError::Throttled => AuthError::unavailable(
                "the last JWKS fetch failed and the next attempt is not due yet",
            ),
            RefreshError::Failed(reason) => AuthError::unavailable(reason),
        })
    }

    fn current(&self) -> Arc<KeySet> {
        // A poisoned lock only means another thread panicked while swapping
        // an `Arc`, which leaves the value intact.
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, keys: Arc<KeySet>) {
        match self.current.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    /// Fetches a new key set unless another caller already replaced `seen`
    /// or the previous attempt was too recent.
    async fn refresh(&self, seen: &Arc<KeySet>) -> Result<Arc<KeySet>, RefreshError> {
        let mut last_attempt = self.last_attempt.lock().await;

        let current = self.current();
        if !Arc::ptr_eq(&current, seen) {
            return Ok(current);
        }
        if last_attempt.is_some_and(|at| at.elapsed() < self.settings.min_refetch_interval) {
            return Err(RefreshError::Throttled);
        }

        *last_attempt = Some(Instant::now());
        tracing::info!(url = %self.url, "fetching JWKS");
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched JWKS");
                let refreshed = Arc::new(KeySet {
                    keys,
                    fetched_at: Some(Instant::now()),
                });
                self.replace(Arc::clone(&refreshed));
                Ok(refreshed)
            }
            Err(reason) => {
                tracing::warn!(url = %self.url, error = %reason, "JWKS fetch failed");
                Err(RefreshError::Failed(reason))
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<CachedKey>, String> {
        let response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| self.describe(&error))?;

        let status = response.status();
        if !status.is_success() {
            return Err(format!("JWKS request returned HTTP {status}"));
        }

        let body = self.read_body(response).await?;
        let keys = parse_key_set(&body, &self.algorithms)?;
        if keys.is_empty() {
            return Err("JWKS contains no usable signing key".to_owned());
        }
        Ok(keys)
    }

    /// Reads the body, stopping as soon as it passes the size limit.
    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, String> {
        let limit = self.settings.max_response_bytes;
        let too_large = || format!("JWKS response is larger than {limit} bytes");

        let announced = response.content_length().unwrap_or(0);
        if !usize::try_from(announced).is_ok_and(|length| length <= limit) {
            return Err(too_large());
        }

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.describe(&error))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn describe(&self, error: &reqwest::Error) -> String {
        if error.is_timeout() {
            format!(
                "JWKS request timed out (limit {} ms)",
                self.settings.request_timeout.as_millis()
            )
        } else if error.is_connect() {
            "could not connect to the JWKS server".to_owned()
        } else {
            format!("JWKS request failed: {}", message_without_url(error))
        }
    }
}

/// Returns the error message with the URL replaced by a placeholder, because
/// the log line of every fetch names the URL already.
fn message_without_url(error: &reqwest::Error) -> String {
    let text = error.to_string();
    match error.url() {
        Some(url) => text.replace(url.as_str(), "(JWKS URL)"),
        None => text,
    }
}

impl KeySet {
    fn is_younger_than(&self, age: std::time::Duration) -> bool {
        self.fetched_at.is_some_and(|at| at.elapsed() < age)
    }

    /// Finds the key with `key_id` for `algorithm`. A token without `kid` is
    /// matched only when exactly one key fits the algorithm, so a key is never
    /// picked by guessing.
    fn find(&self, key_id: Option<&str>, algorithm: Algorithm) -> Option<DecodingKey> {
        let mut candidates = self.keys.iter().filter(|cached| {
            cached.algorithm == algorithm
                && match key_id {
                    Some(key_id) => cached.key_id.as_deref() == Some(key_id),
                    None => true,
                }
        });

        let first = candidates.next()?;
        if key_id.is_none() && candidates.next().is_some() {
            return None;
        }
        Some(first.key.clone())
    }
}

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

/// Parses a JWKS document and keeps the keys usable with `algorithms`.
/// Entries of other types, for other uses or in a form that does not parse
/// are skipped, so one odd key does not break the whole set.
fn parse_key_set(body: &[u8], algorithms: &[JwksAlgorithm]) -> Result<Vec<CachedKey>, String> {
    let raw: RawKeySet = serde_json::from_slice(body)
        .map_err(|error| format!("JWKS is not a JSON object with a keys array: {error}"))?;

    let total = raw.keys.len();
    let keys: Vec<CachedKey> = raw
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| usable_key(&jwk, algorithms))
        .collect();

    if keys.len() < total {
        tracing::debug!(
            skipped = total - keys.len(),
            "skipped JWKS entries that are not usable signing keys"
        );
    }
    Ok(keys)
}

fn usable_key(jwk: &Jwk, algorithms: &[JwksAlgorithm]) -> Option<CachedKey> {
    let is_for_signing = match &jwk.common.public_key_use {
        None | Some(PublicKeyUse::Signature) => true,
        Some(_) => false,
    };
    if !is_for_signing {
        return None;
    }

    let algorithm = key_algorithm(jwk)?;
    if !algorithms.contains(&algorithm) {
        return None;
    }

    // A key that declares its algorithm is used for that algorithm only
    // (RFC 7517 section 4.4).
    if let Some(declared) = &jwk.common.key_algorithm
        && declared.to_string() != algorithm.as_str()
    {
        return None;
    }

    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(CachedKey {
        key_id: jwk.common.key_id.clone(),
        algorithm: algorithm.to_jsonwebtoken(),
        key,
    })
}

/// Returns the algorithm that a key's type allows, if any, after checking
/// the key's size.
fn key_algorithm(jwk: &Jwk) -> Option<JwksAlgorithm> {
    match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = URL_SAFE_NO_PAD.decode(&rsa.n).ok()?;
            let bits = significant_bits(&modulus);
            (bits >= MIN_RSA_MODULUS_BITS).then_some(JwksAlgorithm::Rs256)
        }
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            let x = URL_SAFE_NO_PAD.decode(&ec.x).ok()?;
            let y = URL_SAFE_NO_PAD.decode(&ec.y).ok()?;
            (x.len() == 32 && y.len() == 32).then_some(JwksAlgorithm::Es256)
        }
        _ => None,
    }
}

/// Number of bits in a big-endian unsigned integer, ignoring leading zeros.
fn significant_bits(bytes: &[u8]) -> usize {
    let Some(first) = bytes.iter().position(|&byte| byte != 0) else {
        return 0;
    };
    let leading_zeros = bytes[first].leading_zeros() as usize;
    (bytes.len() - first) * 8 - leading_zeros
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rsa_jwk(modulus_bytes: usize) -> serde_json::Value {
        let mut modulus = vec![0xc5_u8; modulus_bytes];
        modulus[modulus_bytes - 1] = 0x01;
        json!({
            "kty": "RSA",
            "kid": "rsa",
            "n": URL_SAFE_NO_PAD.encode(&modulus),
            "e": "AQAB",
        })
    }

    fn ec_jwk() -> serde_json::Value {
        json!({
            "kty": "EC",
            "kid": "ec",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode([1_u8; 32]),
            "y": URL_SAFE_NO_PAD.encode([2_u8; 32]),
        })
    }

    fn parse(keys: Vec<serde_json::Value>, algorithms: &[JwksAlgorithm]) -> Vec<CachedKey> {
        let body = json!({ "keys": keys }).to_string();
        parse_key_set(body.as_bytes(), algorithms).unwrap()
    }

    const BOTH: &[JwksAlgorithm] = &[JwksAlgorithm::Rs256, JwksAlgorithm::Es256];

    #[test]
    fn keeps_rsa_and_ec_keys() {
        let keys = parse(vec![rsa_jwk(256), ec_jwk()], BOTH);

        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].algorithm, Algorithm::RS256);
        assert_eq!(keys[0].key_id.as_deref(), Some("rsa"));
        assert_eq!(keys[1].algorithm, Algorithm::ES256);
    }

    #[test]
    fn skips_short_rsa_keys() {
        assert!(parse(vec![rsa_jwk(128)], BOTH).is_empty());
    }

    #[test]
    fn skips_unconfigured_algorithms() {
        let keys = parse(vec![rsa_jwk(256), ec_jwk()], &[JwksAlgorithm::Es256]);

        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].algorithm, Algorithm::ES256);
    }

    #[test]
    fn skips_encryption_and_mismatched_keys() {
        let mut encryption = rsa_jwk(256);
        encryption["use"] = json!("enc");
        let mut declared_other = rsa_jwk(256);
        declared_other["alg"] = json!("PS256");
        let mut declared_same = rsa_jwk(256);
        declared_same["alg"] = json!("RS256");
        let mut p384 = ec_jwk();
        p384["crv"] = json!("P-384");

        let keys = parse(vec![encryption, declared_other, declared_same, p384], BOTH);

        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn skips_entries_that_do_not_parse() {
        let keys = parse(
            vec![json!({"kty": "unknown"}), json!(42), rsa_jwk(256)],
            BOTH,
        );

        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn rejects_documents_without_keys() {
        assert!(parse_key_set(b"{}", BOTH).is_err());
        assert!(parse_key_set(b"<html>", BOTH).is_err());
    }

    #[test]
    fn key_without_kid_needs_single_candidate() {
        let one = KeySet {
            keys: parse(vec![rsa_jwk(256)], BOTH),
            fetched_at: Some(Instant::now()),
        };
        let two = KeySet {
            keys: parse(vec![rsa_jwk(256), rsa_jwk(300)], BOTH),
            fetched_at: Some(Instant::now()),
        };

        assert!(one.find(None, Algorithm::RS256).is_some());
        assert!(one.find(None, Algorithm::ES256).is_none());
        assert!(two.find(None, Algorithm::RS256).is_none());
        assert!(two.find(Some("rsa"), Algorithm::RS256).is_some());
        assert!(two.find(Some("other"), Algorithm::RS256).is_none());
    }

    #[test]
    fn counts_significant_bits() {
        assert_eq!(significant_bits(&[]), 0);
        assert_eq!(significant_bits(&[0, 0]), 0);
        assert_eq!(significant_bits(&[0, 1]), 1);
        assert_eq!(significant_bits(&[0x80, 0]), 16);
        assert_eq!(significant_bits(&[0, 0x7f, 0]), 15);
    }
}
