//! Behaviour when the JWKS server is down, slow, returns an error status or
//! serves an invalid or oversized document.

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use rekindle_auth::{AuthError, ExternalConfig, ExternalVerifier, JwksAlgorithm, JwksSettings};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    ISSUER, jwks_verifier, key_set, mount_key_set, public_jwk, quick_settings, request_count,
    sign_with_fixture, user_claims,
};

const BOTH: &[JwksAlgorithm] = &[JwksAlgorithm::Rs256, JwksAlgorithm::Es256];

fn rsa_token() -> String {
    sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims())
}

fn assert_unavailable(result: Result<rekindle_auth::ExternalIdentity, AuthError>) -> String {
    match result {
        Err(AuthError::IdentityProviderUnavailable { reason }) => reason,
        other => panic!("expected identity_provider_unavailable, got {other:?}"),
    }
}

async fn serve(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn server_down_is_unavailable() {
    // Bind a port, then free it, so that nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{address}/jwks.json").parse().unwrap();
    let config = ExternalConfig::jwks(url, BOTH)
        .with_issuer(ISSUER)
        .with_jwks_settings(quick_settings());
    let verifier = ExternalVerifier::new(config).unwrap();

    let reason = assert_unavailable(verifier.verify(&rsa_token()).await);

    assert!(reason.contains("connect"), "{reason}");
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = MockServer::start().await;
    let body = key_set(&[public_jwk("rsa-1", "rsa-1", "RS256")]);
    serve(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(Duration::from_secs(30)),
    )
    .await;
    // quick_settings allow 500 ms for the whole request.
    let verifier = jwks_verifier(&server, BOTH, quick_settings());

    let started = Instant::now();
    let reason = assert_unavailable(verifier.verify(&rsa_token()).await);
    let elapsed = started.elapsed();

    assert!(reason.contains("timed out"), "{reason}");
    // Far below the server's 30 s delay: the request timeout ended the wait.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test]
async fn server_error_is_unavailable() {
    let server = MockServer::start().await;
    serve(&server, ResponseTemplate::new(503)).await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());

    let reason = assert_unavailable(verifier.verify(&rsa_token()).await);

    assert!(reason.contains("503"), "{reason}");
}

#[tokio::test]
async fn invalid_document_is_unavailable() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
    )
    .await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());

    assert_unavailable(verifier.verify(&rsa_token()).await);
}

#[tokio::test]
async fn set_without_usable_keys_is_unavailable() {
    let server = MockServer::start().await;
    let mut encryption_key = public_jwk("rsa-1", "rsa-1", "RS256");
    encryption_key["use"] = serde_json::json!("enc");
    mount_key_set(&server, key_set(&[encryption_key]), None).await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());

    let reason = assert_unavailable(verifier.verify(&rsa_token()).await);

    assert!(reason.contains("no usable signing key"), "{reason}");
}

#[tokio::test]
async fn oversized_response_rejected() {
    let server = MockServer::start().await;
    let mut keys: Vec<serde_json::Value> = Vec::new();
    for index in 0..200 {
        keys.push(public_jwk("rsa-1", &format!("key-{index}"), "RS256"));
    }
    mount_key_set(&server, key_set(&keys), None).await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());

    let reason = assert_unavailable(verifier.verify(&rsa_token()).await);

    assert!(reason.contains("larger than"), "{reason}");
}

#[tokio::test]
async fn redirect_not_followed() {
    let server = MockServer::start().await;
    serve(
        &server,
        ResponseTemplate::new(302).insert_header("Location", "http://127.0.0.1:1/elsewhere"),
    )
    .await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());

    let reason = assert_unavailable(verifier.verify(&rsa_token()).await);

    assert!(reason.contains("302"), "{reason}");
}

#[tokio::test]
async fn failure_fails_fast_until_retry_due() {
    let server = MockServer::start().await;
    serve(&server, ResponseTemplate::new(500)).await;
    let settings = JwksSettings {
        min_refetch_interval: Duration::from_secs(30),
        cache_ttl: Duration::from_secs(600),
        ..quick_settings()
    };
    let verifier = jwks_verifier(&server, BOTH, settings);
    let token = rsa_token();

    for _ in 0..4 {
        assert_unavailable(verifier.verify(&token).await);
    }

    // Only the first call reached the server.
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn recovers_after_outage() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_key_set(
        &server,
        key_set(&[public_jwk("rsa-1", "rsa-1", "RS256")]),
        None,
    )
    .await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());
    let token = rsa_token();

    assert_unavailable(verifier.verify(&token).await);
    // Wait past the minimum refetch interval (200 ms).
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(request_count(&server).await, 2);
}

/// Serves the key set once, then only HTTP 500.
async fn server_that_fails_after_first_fetch() -> MockServer {
    let server = MockServer::start().await;
    mount_key_set(
        &server,
        key_set(&[public_jwk("rsa-1", "rsa-1", "RS256")]),
        Some(1),
    )
    .await;
    serve(&server, ResponseTemplate::new(500)).await;
    server
}

#[tokio::test]
async fn expired_keys_used_while_fetch_fails() {
    let server = server_that_fails_after_first_fetch().await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());
    let token = rsa_token();

    assert!(verifier.verify(&token).await.is_ok());
    // Wait past the cache TTL (600 ms); stale_if_error is 60 s.
    tokio::time::sleep(Duration::from_millis(700)).await;

    assert!(verifier.verify(&token).await.is_ok());
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn expired_keys_dropped_without_grace() {
    let server = server_that_fails_after_first_fetch().await;
    let settings = JwksSettings {
        stale_if_error: Duration::ZERO,
        ..quick_settings()
    };
    let verifier = jwks_verifier(&server, BOTH, settings);
    let token = rsa_token();

    assert!(verifier.verify(&token).await.is_ok());
    tokio::time::sleep(Duration::from_millis(700)).await;

    assert_unavailable(verifier.verify(&token).await);
}
