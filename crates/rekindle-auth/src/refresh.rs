//! Opaque refresh tokens.
//!
//! A refresh token is `rkr_` followed by 32 random bytes in base64url. The
//! database stores only `hash_token(token)`, so a copy of the table cannot be
//! replayed.
//!
//! Rotation, enforced by the database layer: every refresh token belongs to a
//! family that starts at login. Each use revokes the presented token and
//! issues a new one in the same family, in one transaction. When a token that
//! was already revoked is presented again, someone else has a copy of it, so the
//! whole family is revoked and the user must log in again.

use crate::secrets;

pub use crate::secrets::hash_token;

/// Prefix of every refresh token. It lets secret scanners and people
/// recognise a leaked token, and it never collides with `rk_live_`.
pub const REFRESH_TOKEN_PREFIX: &str = "rkr_";

/// Generator and format check for refresh tokens.
#[derive(Debug, Clone, Copy)]
pub struct RefreshSecret;

impl RefreshSecret {
    /// Generates a refresh token and returns `(plaintext, hash)`. Give the
    /// plaintext to the client once and store only the hash.
    pub fn generate() -> (String, String) {
        secrets::generate(REFRESH_TOKEN_PREFIX)
    }

    /// Tells whether `token` has the refresh token format, so a request with a
    /// malformed token can be rejected without a database lookup.
    pub fn is_well_formed(token: &str) -> bool {
        secrets::is_well_formed(token, REFRESH_TOKEN_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_token_format() {
        let (plaintext, hash) = RefreshSecret::generate();

        assert!(plaintext.starts_with("rkr_"), "{plaintext}");
        assert_eq!(plaintext.len(), 4 + 43);
        assert!(RefreshSecret::is_well_formed(&plaintext));
        assert_eq!(hash, hash_token(&plaintext));
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn api_key_is_not_refresh_token() {
        let (api_key, _) = crate::ApiKeySecret::generate();

        assert!(!RefreshSecret::is_well_formed(&api_key));
    }
}
