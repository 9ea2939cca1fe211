//! Authentication primitives for the Rekindle HTTP API: password hashing and
//! policy, per-purpose keys, our own access tokens, tokens from an external
//! identity provider, refresh tokens, API keys with scopes, and the bearer
//! header. Nothing here touches the database; the HTTP layer and the store
//! combine these pieces.

pub mod access;
pub mod api_keys;
pub mod bearer;
pub mod error;
pub mod external;
mod jwt;
pub mod keys;
pub mod passwords;
pub mod refresh;
pub mod scopes;
mod secrets;

pub use access::{
    AccessClaims, AccessTokenIssuer, DEFAULT_ACCESS_TOKEN_TTL, IssuedToken, MAX_ACCESS_TOKEN_TTL,
};
pub use api_keys::{API_KEY_PREFIX, ApiKeySecret};
pub use bearer::{Credential, MAX_BEARER_TOKEN_BYTES, parse_bearer};
pub use error::AuthError;
pub use external::{
    ExternalConfig, ExternalIdentity, ExternalKeys, ExternalVerifier, JwksAlgorithm, JwksSettings,
};
pub use jwt::{DEFAULT_LEEWAY, MAX_TOKEN_BYTES};
pub use keys::{ACCESS_TOKEN_KEY_PURPOSE, derive_key};
pub use passwords::{
    PolicyError, check_password_policy, hash_password, hash_password_async, needs_rehash,
    verify_dummy, verify_dummy_async, verify_password, verify_password_async,
};
pub use refresh::{REFRESH_TOKEN_PREFIX, RefreshSecret};
pub use scopes::{Scope, Scopes, UnknownScope};
pub use secrets::hash_token;
