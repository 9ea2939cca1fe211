//! API keys for integrations: `rk_live_` followed by 32 random bytes in
//! base64url. The database stores `hash_token(key)` and the key's scopes.
//!
//! SHA-256 is enough for these hashes and Argon2 would be wrong. Argon2's
//! cost protects low-entropy human passwords from guessing, but a key with
//! 256 random bits cannot be guessed at any speed. API keys are also checked
//! on every request, where a deliberately slow hash would cost CPU per call
//! and hand attackers a cheap way to load the server.

use crate::secrets;

pub use crate::secrets::hash_token;

/// Prefix of every API key, recognisable by people and secret scanners.
pub const API_KEY_PREFIX: &str = "rk_live_";

/// Characters of the random part shown in `hint`: 24 of the 256 bits, too
/// few to help a guesser.
const HINT_CHARS: usize = 4;

/// Generator and format check for API keys.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeySecret;

impl ApiKeySecret {
    /// Generates an API key and returns `(plaintext, hash)`. Show the
    /// plaintext to the user once and store only the hash.
    pub fn generate() -> (String, String) {
        secrets::generate(API_KEY_PREFIX)
    }

    /// Tells whether `key` has the API key format, so a request with a
    /// malformed key can be rejected without a database lookup.
    pub fn is_well_formed(key: &str) -> bool {
        secrets::is_well_formed(key, API_KEY_PREFIX)
    }

    /// Returns a short, non-secret label such as `rk_live_AbCd…` that a
    /// settings page can show to tell keys apart, or `None` for a malformed
    /// key. Store it next to the hash when the key is created.
    pub fn hint(key: &str) -> Option<String> {
        if !Self::is_well_formed(key) {
            return None;
        }

        let visible = &key[..API_KEY_PREFIX.len() + HINT_CHARS];
        Some(format!("{visible}…"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_format() {
        let (plaintext, hash) = ApiKeySecret::generate();

        assert!(plaintext.starts_with("rk_live_"), "{plaintext}");
        assert_eq!(plaintext.len(), 8 + 43);
        assert!(ApiKeySecret::is_well_formed(&plaintext));
        assert_eq!(hash, hash_token(&plaintext));
        assert_eq!(hash.len(), 64);
    }

    #[test]
    fn keys_and_hashes_are_unique() {
        let (first, first_hash) = ApiKeySecret::generate();
        let (second, second_hash) = ApiKeySecret::generate();

        assert_ne!(first, second);
        assert_ne!(first_hash, second_hash);
    }

    #[test]
    fn hash_differs_from_key() {
        let (plaintext, hash) = ApiKeySecret::generate();

        assert!(!hash.contains(&plaintext[API_KEY_PREFIX.len()..]));
    }

    #[test]
    fn refresh_token_is_not_api_key() {
        let (refresh, _) = crate::RefreshSecret::generate();

        assert!(!ApiKeySecret::is_well_formed(&refresh));
        assert!(!ApiKeySecret::is_well_formed("rk_live_short"));
    }

    #[test]
    fn hint_shows_prefix_and_four_characters() {
        let (plaintext, _) = ApiKeySecret::generate();

        let hint = ApiKeySecret::hint(&plaintext).unwrap();

        assert_eq!(hint, format!("{}…", &plaintext[..12]));
        assert_eq!(ApiKeySecret::hint("rk_live_short"), None);
    }
}
