//! Our own access tokens: short-lived HS256 JWTs signed with a key derived
//! from the master key (see `keys::ACCESS_TOKEN_KEY_PURPOSE`).
//!
//! Verification pins the algorithm to HS256, so `none` and every other
//! algorithm are rejected before any key is used. It then checks the
//! signature, `aud` and `iss`, and last the time claims, with a 30-second
//! leeway for clock skew between our own servers.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rekindle_domain::{AccountId, UserId, UserRole};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AuthError;
use crate::jwt::{self, TimeClaims};

/// A sensible lifetime for access tokens: long enough for a page session
/// between refreshes, short enough that a leaked token soon stops working.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// Maximum lifetime the issuer accepts. A longer-lived credential belongs in
/// a refresh token, which can be revoked.
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: UserId,
    /// The account (tenant) the token acts in.
    pub acc: AccountId,
    pub role: UserRole,
    /// Issued at, in seconds since the Unix epoch.
    pub iat: i64,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Unique token id, for audit entries and a deny list if one is ever needed.
    pub jti: Uuid,
}

/// A freshly signed access token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct AccessTokenIssuer {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    /// Lifetime in whole seconds.
    ttl_seconds: i64,
    leeway: Duration,
}

impl fmt::Debug for AccessTokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenIssuer")
            .field("key", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_seconds", &self.ttl_seconds)
            .field("leeway", &self.leeway)
            .finish()
    }
}

impl AccessTokenIssuer {
    /// Creates an issuer. `key` is the HS256 key, normally
    /// `derive_key(master_key, ACCESS_TOKEN_KEY_PURPOSE)`. `ttl` is truncated
    /// to whole seconds and must be between 1 second and
    /// `MAX_ACCESS_TOKEN_TTL`.
    pub fn new(
        key: [u8; 32],
        issuer: String,
        audience: String,
        ttl: Duration,
    ) -> Result<Self, AuthError> {
        if issuer.trim().is_empty() {
            return Err(AuthError::configuration("access token issuer is empty"));
        }
        if audience.trim().is_empty() {
            return Err(AuthError::configuration("access token audience is empty"));
        }
        if ttl < Duration::from_secs(1) || ttl > MAX_ACCESS_TOKEN_TTL {
            return Err(AuthError::configuration(format!(
                "access token lifetime must be between 1 and {} seconds, got {} seconds",
                MAX_ACCESS_TOKEN_TTL.as_secs(),
                ttl.as_secs()
            )));
        }

        let validation = jwt::validation_for(Algorithm::HS256, &audience, Some(&issuer));

        let ttl_seconds = i64::try_from(ttl.as_secs())
            .map_err(|_| AuthError::configuration("access token lifetime is out of range"))?;

        let unusable =
            |error| AuthError::configuration(format!("access token key is unusable: {error}"));

        Ok(Self {
            encoding_key: EncodingKey::from_secret(&key).map_err(unusable)?,
            decoding_key: DecodingKey::from_secret(&key).map_err(unusable)?,
            validation,
            issuer,
            audience,
            ttl_seconds,
            leeway: jwt::DEFAULT_LEEWAY,
        })
    }

    /// Sets the allowance for clock skew (default 30 seconds).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Signs a token for `user` acting in `account` with `role`, valid from
    /// `now` for the configured lifetime.
    pub fn issue(
        &self,
        user: impl Into<UserId>,
        account: impl Into<AccountId>,
        role: UserRole,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, AuthError> {
        let issued_at = now.timestamp();
        let expires_at = issued_at.saturating_add(self.ttl_seconds);
        let claims = AccessClaims {
            sub: user.into(),
            acc: account.into(),
            role,
            iat: issued_at,
            exp: expires_at,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::new_v4(),
        };

        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding_key)
                .map_err(|error| AuthError::TokenSigning {
                    reason: error.to_string(),
                })?;
        let expires_at =
            DateTime::from_timestamp(expires_at, 0).ok_or_else(|| AuthError::TokenSigning {
                reason: "expiry is out of range".to_owned(),
            })?;

        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies a token against the current time.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AuthError> {
        self.verify_at(token, Utc::now())
    }

    /// Verifies a token as of `now`: algorithm, signature, audience, issuer,
    /// then `exp` and `iat` with the leeway. A token whose lifetime is longer
    /// than the configured one is rejected too, because we never issue one.
    pub fn verify_at(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AuthError> {
        jwt::read_header(token, &[Algorithm::HS256])?;

        let claims: AccessClaims = jwt::decode_claims(token, &self.decoding_key, &self.validation)?;

        let times = TimeClaims {
            expires_at: claims.exp,
            not_before: None,
            issued_at: Some(claims.iat),
        };
        jwt::check_time_claims(times, now, self.leeway)?;

        if claims.exp.saturating_sub(claims.iat) > self.ttl_seconds {
            return Err(AuthError::InvalidClaims { claim: "exp" });
        }

        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::TimeDelta;
    use serde_json::{Value, json};

    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn issuer() -> AccessTokenIssuer {
        AccessTokenIssuer::new(
            KEY,
            "https://api.rekindle.test".into(),
            "rekindle-api".into(),
            DEFAULT_ACCESS_TOKEN_TTL,
        )
        .unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000, 0).unwrap()
    }

    fn issue_one(issuer: &AccessTokenIssuer) -> (IssuedToken, UserId, AccountId) {
        let user = UserId::new();
        let account = AccountId::new();
        let issued = issuer.issue(user, account, UserRole::Admin, now()).unwrap();
        (issued, user, account)
    }

    /// Signs arbitrary claims with `KEY` and HS256, to forge tokens that our
    /// issuer would never produce.
    fn sign(claims: &Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(&KEY).unwrap(),
        )
        .unwrap()
    }

    fn valid_claims() -> Value {
        json!({
            "sub": UserId::new(),
            "acc": AccountId::new(),
            "role": "member",
            "iat": now().timestamp(),
            "exp": now().timestamp() + 600,
            "iss": "https://api.rekindle.test",
            "aud": "rekindle-api",
            "jti": Uuid::new_v4(),
        })
    }

    #[test]
    fn issue_verify_round_trip() {
        let issuer = issuer();
        let (issued, user, account) = issue_one(&issuer);

        let claims = issuer.verify_at(&issued.token, now()).unwrap();

        assert_eq!(claims.sub, user);
        assert_eq!(claims.acc, account);
        assert_eq!(claims.role, UserRole::Admin);
        assert_eq!(claims.iat, now().timestamp());
        assert_eq!(claims.exp, now().timestamp() + 900);
        assert_eq!(claims.iss, "https://api.rekindle.test");
        assert_eq!(claims.aud, "rekindle-api");
        assert_eq!(issued.expires_at, now() + TimeDelta::seconds(900));
    }

    #[test]
    fn accepts_plain_uuids() {
        let issuer = issuer();
        let user = Uuid::now_v7();

        let issued = issuer
            .issue(user, Uuid::now_v7(), UserRole::Member, now())
            .unwrap();

        assert_eq!(
            issuer
                .verify_at(&issued.token, now())
                .unwrap()
                .sub
                .as_uuid(),
            user
        );
    }

    #[test]
    fn token_ids_are_unique() {
        let issuer = issuer();
        let (first, _, _) = issue_one(&issuer);
        let (second, _, _) = issue_one(&issuer);

        let first = issuer.verify_at(&first.token, now()).unwrap();
        let second = issuer.verify_at(&second.token, now()).unwrap();

        assert_ne!(first.jti, second.jti);
    }

    #[test]
    fn expired_after_leeway() {
        let issuer = issuer();
        let (issued, _, _) = issue_one(&issuer);

        let just_inside = now() + TimeDelta::seconds(900 + 29);
        let just_outside = now() + TimeDelta::seconds(900 + 30);

        assert!(issuer.verify_at(&issued.token, just_inside).is_ok());
        assert_eq!(
            issuer.verify_at(&issued.token, just_outside).unwrap_err(),
            AuthError::ExpiredToken
        );
    }

    #[test]
    fn verify_uses_system_clock() {
        let issuer = issuer();
        let (old, _, _) = issue_one(&issuer);
        let fresh = issuer
            .issue(UserId::new(), AccountId::new(), UserRole::Owner, Utc::now())
            .unwrap();

        assert_eq!(
            issuer.verify(&old.token).unwrap_err(),
            AuthError::ExpiredToken
        );
        assert!(issuer.verify(&fresh.token).is_ok());
    }

    #[test]
    fn issued_in_future_rejected() {
        let issuer = issuer();
        let (issued, _, _) = issue_one(&issuer);

        let long_before = now() - TimeDelta::seconds(31);

        assert_eq!(
            issuer.verify_at(&issued.token, long_before).unwrap_err(),
            AuthError::TokenNotYetValid
        );
    }

    #[test]
    fn other_key_is_invalid_signature() {
        let other = AccessTokenIssuer::new(
            [8; 32],
            "https://api.rekindle.test".into(),
            "rekindle-api".into(),
            DEFAULT_ACCESS_TOKEN_TTL,
        )
        .unwrap();
        let (issued, _, _) = issue_one(&other);

        assert_eq!(
            issuer().verify_at(&issued.token, now()).unwrap_err(),
            AuthError::InvalidSignature
        );
    }

    #[test]
    fn tampered_payload_is_invalid_signature() {
        let issuer = issuer();
        let (issued, _, _) = issue_one(&issuer);
        let parts: Vec<&str> = issued.token.split('.').collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["role"] = json!("owner");
        let forged_payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);

        assert_eq!(
            issuer.verify_at(&forged, now()).unwrap_err(),
            AuthError::InvalidSignature
        );
    }

    #[test]
    fn wrong_audience_rejected() {
        let mut claims = valid_claims();
        claims["aud"] = json!("someone-else");
        let token = sign(&claims);

        assert_eq!(
            issuer().verify_at(&token, now()).unwrap_err(),
            AuthError::WrongAudience
        );
    }

    #[test]
    fn missing_audience_rejected() {
        let mut claims = valid_claims();
        claims.as_object_mut().unwrap().remove("aud");
        let token = sign(&claims);

        assert_eq!(
            issuer().verify_at(&token, now()).unwrap_err(),
            AuthError::WrongAudience
        );
    }

    #[test]
    fn missing_claims_reported_in_order() {
        let without = |names: &[&str]| {
            let mut claims = valid_claims();
            for name in names {
                claims.as_object_mut().unwrap().remove(*name);
            }
            sign(&claims)
        };
        let issuer = issuer();

        let cases = [
            (
                without(&["aud", "iss", "sub", "exp"]),
                AuthError::WrongAudience,
            ),
            (without(&["iss", "sub", "exp"]), AuthError::WrongIssuer),
            (
                without(&["sub", "exp"]),
                AuthError::InvalidClaims { claim: "sub" },
            ),
            (without(&["exp"]), AuthError::InvalidClaims { claim: "exp" }),
        ];
        for (token, expected) in cases {
            assert_eq!(issuer.verify_at(&token, now()).unwrap_err(), expected);
        }
    }

    #[test]
    fn wrong_issuer_rejected() {
        let mut claims = valid_claims();
        claims["iss"] = json!("https://evil.test");
        let token = sign(&claims);

        assert_eq!(
            issuer().verify_at(&token, now()).unwrap_err(),
            AuthError::WrongIssuer
        );
    }

    #[test]
    fn forged_valid_claims_accepted() {
        // Guards the tests above: the forging helper itself makes tokens that
        // pass, so each rejection comes from the one claim that was changed.
        let token = sign(&valid_claims());

        assert!(issuer().verify_at(&token, now()).is_ok());
    }

    #[test]
    fn lifetime_longer_than_ttl_rejected() {
        let mut claims = valid_claims();
        claims["exp"] = json!(now().timestamp() + 901);
        let token = sign(&claims);

        assert_eq!(
            issuer().verify_at(&token, now()).unwrap_err(),
            AuthError::InvalidClaims { claim: "exp" }
        );
    }

    #[test]
    fn alg_none_rejected() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(valid_claims().to_string());
        let unsigned = format!("{header}.{payload}.");

        assert_eq!(
            issuer().verify_at(&unsigned, now()).unwrap_err(),
            AuthError::DisallowedAlgorithm {
                algorithm: "none".into()
            }
        );
    }

    #[test]
    fn other_hmac_algorithm_rejected() {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &valid_claims(),
            &EncodingKey::from_secret(&KEY).unwrap(),
        )
        .unwrap();

        assert_eq!(
            issuer().verify_at(&token, now()).unwrap_err(),
            AuthError::DisallowedAlgorithm {
                algorithm: "HS512".into()
            }
        );
    }

    #[test]
    fn malformed_tokens_rejected() {
        let issuer = issuer();
        let (issued, _, _) = issue_one(&issuer);
        let (signed_part, _signature) = issued.token.rsplit_once('.').unwrap();
        let stripped = format!("{signed_part}.");
        let bad_signature_encoding = format!("{}!!", &issued.token);

        for token in ["abc", "a.b.c", "....", bad_signature_encoding.as_str()] {
            assert_eq!(
                issuer.verify_at(token, now()).unwrap_err().code(),
                "malformed_token",
                "{token}"
            );
        }
        assert_eq!(
            issuer.verify_at(&stripped, now()).unwrap_err(),
            AuthError::InvalidSignature
        );
    }

    #[test]
    fn missing_account_claim_is_malformed() {
        let mut claims = valid_claims();
        claims.as_object_mut().unwrap().remove("acc");
        let token = sign(&claims);

        assert_eq!(
            issuer().verify_at(&token, now()).unwrap_err().code(),
            "malformed_token"
        );
    }

    #[test]
    fn rejects_bad_configuration() {
        let make = |issuer: &str, audience: &str, ttl: Duration| {
            AccessTokenIssuer::new(KEY, issuer.into(), audience.into(), ttl)
        };

        assert!(make("", "aud", DEFAULT_ACCESS_TOKEN_TTL).is_err());
        assert!(make("iss", " ", DEFAULT_ACCESS_TOKEN_TTL).is_err());
        assert!(make("iss", "aud", Duration::from_millis(500)).is_err());
        assert!(make("iss", "aud", MAX_ACCESS_TOKEN_TTL + Duration::from_secs(1)).is_err());
        assert!(make("iss", "aud", MAX_ACCESS_TOKEN_TTL).is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let issuer = issuer();
        let (issued, _, _) = issue_one(&issuer);

        assert!(!format!("{issued:?}").contains(&issued.token));
        assert!(!format!("{issuer:?}").contains("7, 7"));
    }
}
