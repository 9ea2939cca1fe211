//! RS256 and ES256 tokens verified with keys from a JWKS on a mock server.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use rekindle_auth::{AuthError, JwksAlgorithm, JwksSettings};
use wiremock::MockServer;

use crate::support::{
    ISSUER, fixture, jwks_verifier, key_set, mount_key_set, public_jwk, quick_settings,
    request_count, sign_with_fixture, sign_with_secret, user_claims,
};

const BOTH: &[JwksAlgorithm] = &[JwksAlgorithm::Rs256, JwksAlgorithm::Es256];

async fn server_with_rsa_and_ec() -> MockServer {
    let server = MockServer::start().await;
    let keys = key_set(&[
        public_jwk("rsa-1", "rsa-1", "RS256"),
        public_jwk("ec-1", "ec-1", "ES256"),
    ]);
    mount_key_set(&server, keys, None).await;
    server
}

#[tokio::test]
async fn rs256_token_accepted() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let token = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());

    let identity = verifier.verify(&token).await.unwrap();

    assert_eq!(identity.subject, "8d3e1c52-7f0a-4a51-9d4e-2b6f1a0c9e77");
    assert_eq!(identity.issuer, ISSUER);
}

#[tokio::test]
async fn es256_token_accepted() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let token = sign_with_fixture("ec-1", Algorithm::ES256, Some("ec-1"), &user_claims());

    let identity = verifier.verify(&token).await.unwrap();

    assert_eq!(identity.email.as_deref(), Some("ada@example.com"));
}

#[tokio::test]
async fn key_set_fetched_once_while_fresh() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let rsa = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());
    let ec = sign_with_fixture("ec-1", Algorithm::ES256, Some("ec-1"), &user_claims());

    for _ in 0..3 {
        assert!(verifier.verify(&rsa).await.is_ok());
        assert!(verifier.verify(&ec).await.is_ok());
    }

    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn clones_share_the_cache() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let clone = verifier.clone();
    let token = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());

    assert!(verifier.verify(&token).await.is_ok());
    assert!(clone.verify(&token).await.is_ok());

    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn wrong_key_for_kid_is_invalid_signature() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    // Signed with rsa-2 but naming rsa-1, whose public key is in the set.
    let token = sign_with_fixture("rsa-2", Algorithm::RS256, Some("rsa-1"), &user_claims());

    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[tokio::test]
async fn public_key_as_hmac_secret_rejected() {
    // Algorithm confusion: an HS256 token whose HMAC key is the RSA public
    // key. It must fail on the algorithm, before any key is fetched.
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let public_pem = fixture("rsa-1.public.pem");
    let token = sign_with_secret(public_pem.as_bytes(), &user_claims());

    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        AuthError::DisallowedAlgorithm {
            algorithm: "HS256".into()
        }
    );
    assert_eq!(request_count(&server).await, 0);
}

#[tokio::test]
async fn unconfigured_algorithm_rejected() {
    let server = server_with_rsa_and_ec().await;
    let rsa_only = jwks_verifier(&server, &[JwksAlgorithm::Rs256], JwksSettings::default());
    let token = sign_with_fixture("ec-1", Algorithm::ES256, Some("ec-1"), &user_claims());

    assert_eq!(
        rsa_only.verify(&token).await.unwrap_err(),
        AuthError::DisallowedAlgorithm {
            algorithm: "ES256".into()
        }
    );
}

#[tokio::test]
async fn kid_of_other_key_type_is_unknown() {
    // An ES256 header naming the RSA key: no key fits both.
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let token = sign_with_fixture("ec-1", Algorithm::ES256, Some("rsa-1"), &user_claims());

    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        AuthError::UnknownKey
    );
}

#[tokio::test]
async fn token_without_kid_uses_single_key() {
    let server = MockServer::start().await;
    mount_key_set(
        &server,
        key_set(&[public_jwk("rsa-1", "rsa-1", "RS256")]),
        None,
    )
    .await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let token = sign_with_fixture("rsa-1", Algorithm::RS256, None, &user_claims());

    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn wrong_audience_rejected() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let mut claims = user_claims();
    claims["aud"] = serde_json::json!("anon");
    let token = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &claims);

    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        AuthError::WrongAudience
    );
}

#[tokio::test]
async fn wrong_issuer_rejected() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let mut claims = user_claims();
    claims["iss"] = serde_json::json!("https://attacker.example/auth/v1");
    let token = sign_with_fixture("ec-1", Algorithm::ES256, Some("ec-1"), &claims);

    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        AuthError::WrongIssuer
    );
}

#[tokio::test]
async fn rotation_refetches_for_new_kid() {
    let server = MockServer::start().await;
    // The first request gets only rsa-1, and later ones get rsa-1 and rsa-2.
    mount_key_set(
        &server,
        key_set(&[public_jwk("rsa-1", "rsa-1", "RS256")]),
        Some(1),
    )
    .await;
    let rotated = key_set(&[
        public_jwk("rsa-1", "rsa-1", "RS256"),
        public_jwk("rsa-2", "rsa-2", "RS256"),
    ]);
    mount_key_set(&server, rotated, None).await;
    let settings = JwksSettings {
        cache_ttl: Duration::from_secs(600),
        ..quick_settings()
    };
    let verifier = jwks_verifier(&server, BOTH, settings);
    let old_key = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());
    let new_key = sign_with_fixture("rsa-2", Algorithm::RS256, Some("rsa-2"), &user_claims());

    assert!(verifier.verify(&old_key).await.is_ok());
    assert_eq!(request_count(&server).await, 1);

    // Wait past the minimum refetch interval (200 ms).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(verifier.verify(&new_key).await.is_ok());
    assert_eq!(request_count(&server).await, 2);

    assert!(verifier.verify(&old_key).await.is_ok());
    assert!(verifier.verify(&new_key).await.is_ok());
    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn unknown_kid_refetch_is_throttled() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let known = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());
    let unknown = sign_with_fixture("rsa-2", Algorithm::RS256, Some("made-up"), &user_claims());

    assert!(verifier.verify(&known).await.is_ok());
    for _ in 0..5 {
        assert_eq!(
            verifier.verify(&unknown).await.unwrap_err(),
            AuthError::UnknownKey
        );
    }

    // The default interval is 30 s, so none of the five caused a fetch.
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn unknown_kid_triggers_one_refetch() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());
    let known = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());
    let unknown = sign_with_fixture("rsa-2", Algorithm::RS256, Some("made-up"), &user_claims());

    assert!(verifier.verify(&known).await.is_ok());
    tokio::time::sleep(Duration::from_millis(300)).await;

    for _ in 0..3 {
        assert_eq!(
            verifier.verify(&unknown).await.unwrap_err(),
            AuthError::UnknownKey
        );
    }

    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn expired_cache_refetched() {
    let server = server_with_rsa_and_ec().await;
    let verifier = jwks_verifier(&server, BOTH, quick_settings());
    let token = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());

    assert!(verifier.verify(&token).await.is_ok());
    // Wait past the cache TTL (600 ms).
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(verifier.verify(&token).await.is_ok());

    assert_eq!(request_count(&server).await, 2);
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let server = MockServer::start().await;
    let body = key_set(&[public_jwk("rsa-1", "rsa-1", "RS256")]);
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(body)
                .set_delay(Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    let verifier = jwks_verifier(&server, BOTH, JwksSettings::default());
    let token = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let verifier = verifier.clone();
        let token = token.clone();
        tasks.spawn(async move { verifier.verify(&token).await });
    }
    while let Some(result) = tasks.join_next().await {
        assert!(result.unwrap().is_ok());
    }

    assert_eq!(request_count(&server).await, 1);
}
