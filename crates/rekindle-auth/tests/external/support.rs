//! Test keys, token builders and the mock JWKS server.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rekindle_auth::{ExternalConfig, ExternalVerifier, JwksAlgorithm, JwksSettings};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const JWKS_PATH: &str = "/auth/v1/.well-known/jwks.json";
pub const ISSUER: &str = "https://project-ref.supabase.co/auth/v1";

pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The public JWK of fixture key `name` (`rsa-1`, `rsa-2`, `ec-1`) with `kid`,
/// `alg` and `use` added.
pub fn public_jwk(name: &str, kid: &str, alg: &str) -> Value {
    let mut jwk: Value =
        serde_json::from_str(&fixture(&format!("{name}.public.jwk.json"))).unwrap();
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg);
    jwk["use"] = json!("sig");
    jwk
}

pub fn key_set(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

/// Claims shaped like those of a Supabase Auth access token for a signed-in
/// user, valid for an hour from now.
pub fn user_claims() -> Value {
    let now = Utc::now().timestamp();
    json!({
        "aud": "authenticated",
        "exp": now + 3600,
        "iat": now,
        "iss": ISSUER,
        "sub": "8d3e1c52-7f0a-4a51-9d4e-2b6f1a0c9e77",
        "email": "ada@example.com",
        "phone": "",
        "app_metadata": { "provider": "email", "providers": ["email"] },
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{ "method": "password", "timestamp": now }],
        "session_id": "0b8f5f0e-4c4a-4f39-a7f5-0d7f6d0d2a1e",
        "is_anonymous": false
    })
}

/// Signs `claims` with fixture key `name` (PEM, PKCS #8).
pub fn sign_with_fixture(name: &str, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let pem = fixture(&format!("{name}.private.pem"));
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        other => panic!("no fixture key for {other:?}"),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

pub fn sign_with_secret(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret).unwrap(),
    )
    .unwrap()
}

/// Settings with short intervals, so that tests can pass a TTL or a refetch
/// interval by sleeping a fraction of a second.
pub fn quick_settings() -> JwksSettings {
    JwksSettings {
        cache_ttl: Duration::from_millis(600),
        min_refetch_interval: Duration::from_millis(200),
        stale_if_error: Duration::from_secs(60),
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
        max_response_bytes: 64 * 1024,
    }
}

pub fn jwks_url(server: &MockServer) -> url::Url {
    format!("{}{JWKS_PATH}", server.uri()).parse().unwrap()
}

pub fn jwks_verifier(
    server: &MockServer,
    algorithms: &[JwksAlgorithm],
    settings: JwksSettings,
) -> ExternalVerifier {
    let config = ExternalConfig::jwks(jwks_url(server), algorithms)
        .with_issuer(ISSUER)
        .with_jwks_settings(settings);
    ExternalVerifier::new(config).unwrap()
}

/// Serves `body` as the key set, at most `times` times when given.
pub async fn mount_key_set(server: &MockServer, body: Value, times: Option<u64>) {
    let mock = Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body));
    let mock = match times {
        Some(times) => mock.up_to_n_times(times),
        None => mock,
    };
    mock.mount(server).await;
}

pub async fn request_count(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .map_or(0, |requests| requests.len())
}
