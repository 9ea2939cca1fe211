//! Row types for people and credentials: users, refresh tokens and API keys.
//! Secrets are never stored: tokens and keys are kept as SHA-256 hashes and
//! passwords as Argon2id PHC strings.

use chrono::{DateTime, Utc};
use rekindle_domain::{AccountId, UserId, UserRole};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: String,
    pub role: UserRole,
    /// Subject of the user at an external identity provider, once linked.
    pub external_subject: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A user with the password hash that login checks. Keep it out of responses.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    /// Argon2id PHC string; `None` for users who only sign in through an
    /// external identity provider.
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub password_hash: Option<String>,
    pub role: UserRole,
    pub external_subject: Option<String>,
}

/// One refresh token of a login session. All tokens issued from one login
/// share a family; reusing a rotated token revokes the whole family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRow {
    pub id: Uuid,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub family_id: Uuid,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: Uuid,
    pub account_id: AccountId,
    pub name: String,
    /// Scope names, as `rekindle_auth::Scope` spells them.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    /// SHA-256 of the key, hex.
    pub key_hash: String,
}
