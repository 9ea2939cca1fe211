//! HS256 tokens verified with a secret shared with the provider, as Supabase
//! issues them with its legacy JWT secret.

use chrono::{TimeDelta, Utc};
use jsonwebtoken::Algorithm;
use rekindle_auth::{AuthError, ExternalConfig, ExternalVerifier};
use serde_json::json;

use crate::support::{ISSUER, sign_with_fixture, sign_with_secret, user_claims};

const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";

fn verifier() -> ExternalVerifier {
    ExternalVerifier::new(ExternalConfig::shared_secret(SECRET)).unwrap()
}

#[tokio::test]
async fn user_token_accepted() {
    let token = sign_with_secret(SECRET, &user_claims());

    let identity = verifier().verify(&token).await.unwrap();

    assert_eq!(identity.subject, "8d3e1c52-7f0a-4a51-9d4e-2b6f1a0c9e77");
    assert_eq!(identity.email.as_deref(), Some("ada@example.com"));
    assert_eq!(identity.issuer, ISSUER);
}

#[tokio::test]
async fn other_secret_is_invalid_signature() {
    let token = sign_with_secret(
        b"another-secret-that-is-also-32-bytes-or-more",
        &user_claims(),
    );

    let error = verifier().verify(&token).await.unwrap_err();

    assert_eq!(error, AuthError::InvalidSignature);
}

#[tokio::test]
async fn anon_key_rejected() {
    // Supabase's legacy anon key is an HS256 JWT signed with the same secret,
    // with role `anon`. It must not pass for a signed-in user, whether it
    // carries no `aud` or the audience `anon`.
    let now = Utc::now().timestamp();
    let without_audience = json!({
        "iss": "supabase",
        "ref": "project-ref",
        "role": "anon",
        "iat": now,
        "exp": now + 3600,
    });
    let mut anon_audience = without_audience.clone();
    anon_audience["aud"] = json!("anon");

    for claims in [without_audience, anon_audience] {
        let token = sign_with_secret(SECRET, &claims);
        let error = verifier().verify(&token).await.unwrap_err();
        assert_eq!(error, AuthError::WrongAudience, "{claims}");
    }
}

#[tokio::test]
async fn other_audience_rejected() {
    let mut claims = user_claims();
    claims["aud"] = json!("service_role");
    let token = sign_with_secret(SECRET, &claims);

    assert_eq!(
        verifier().verify(&token).await.unwrap_err(),
        AuthError::WrongAudience
    );
}

#[tokio::test]
async fn audience_list_with_match_accepted() {
    let mut claims = user_claims();
    claims["aud"] = json!(["other", "authenticated"]);
    let token = sign_with_secret(SECRET, &claims);

    assert!(verifier().verify(&token).await.is_ok());
}

#[tokio::test]
async fn configured_issuer_enforced() {
    let strict = ExternalVerifier::new(
        ExternalConfig::shared_secret(SECRET).with_issuer("https://other.supabase.co/auth/v1"),
    )
    .unwrap();
    let matching =
        ExternalVerifier::new(ExternalConfig::shared_secret(SECRET).with_issuer(ISSUER)).unwrap();
    let token = sign_with_secret(SECRET, &user_claims());

    assert_eq!(
        strict.verify(&token).await.unwrap_err(),
        AuthError::WrongIssuer
    );
    assert!(matching.verify(&token).await.is_ok());
}

#[tokio::test]
async fn missing_issuer_rejected() {
    let mut claims = user_claims();
    claims.as_object_mut().unwrap().remove("iss");
    let token = sign_with_secret(SECRET, &claims);

    assert_eq!(
        verifier().verify(&token).await.unwrap_err(),
        AuthError::WrongIssuer
    );
}

#[tokio::test]
async fn expired_token_rejected() {
    let token = sign_with_secret(SECRET, &user_claims());
    let verifier = verifier();

    let within_leeway = Utc::now() + TimeDelta::seconds(3600 + 20);
    let after_leeway = Utc::now() + TimeDelta::seconds(3600 + 31);

    assert!(verifier.verify_at(&token, within_leeway).await.is_ok());
    assert_eq!(
        verifier.verify_at(&token, after_leeway).await.unwrap_err(),
        AuthError::ExpiredToken
    );
}

#[tokio::test]
async fn not_before_in_future_rejected() {
    let mut claims = user_claims();
    claims["nbf"] = json!(Utc::now().timestamp() + 600);
    let token = sign_with_secret(SECRET, &claims);

    assert_eq!(
        verifier().verify(&token).await.unwrap_err(),
        AuthError::TokenNotYetValid
    );
}

#[tokio::test]
async fn missing_subject_rejected() {
    let mut claims = user_claims();
    claims.as_object_mut().unwrap().remove("sub");
    let token = sign_with_secret(SECRET, &claims);

    assert_eq!(
        verifier().verify(&token).await.unwrap_err(),
        AuthError::InvalidClaims { claim: "sub" }
    );
}

#[tokio::test]
async fn empty_email_becomes_none() {
    let mut claims = user_claims();
    claims["email"] = json!("");
    claims["phone"] = json!("447700900123");
    let token = sign_with_secret(SECRET, &claims);

    let identity = verifier().verify(&token).await.unwrap();

    assert_eq!(identity.email, None);
}

#[tokio::test]
async fn rs256_token_rejected() {
    let token = sign_with_fixture("rsa-1", Algorithm::RS256, Some("rsa-1"), &user_claims());

    assert_eq!(
        verifier().verify(&token).await.unwrap_err(),
        AuthError::DisallowedAlgorithm {
            algorithm: "RS256".into()
        }
    );
}

#[tokio::test]
async fn alg_none_rejected() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(user_claims().to_string());
    let token = format!("{header}.{payload}.");

    assert_eq!(
        verifier().verify(&token).await.unwrap_err().code(),
        "disallowed_algorithm"
    );
}

#[tokio::test]
async fn malformed_token_rejected() {
    // Correctly signed, but the claims are a JSON array instead of an object.
    let array_claims = sign_with_secret(SECRET, &json!([1, 2, 3]));

    for token in ["not-a-jwt", "a.b.c", array_claims.as_str()] {
        assert_eq!(
            verifier().verify(token).await.unwrap_err().code(),
            "malformed_token",
            "{token}"
        );
    }
}
