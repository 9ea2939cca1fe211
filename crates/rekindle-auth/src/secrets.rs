//! Opaque random secrets (refresh tokens and API keys): generation, format
//! check and the hash we store instead of the secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// Random bytes in each secret: 256 bits.
pub(crate) const SECRET_BYTES: usize = 32;
/// Length of the base64url (no padding) encoding of `SECRET_BYTES`.
pub(crate) const ENCODED_SECRET_CHARS: usize = 43;

/// Generates `prefix` followed by 32 random bytes in base64url, and returns
/// the plaintext with its `hash_token` hash.
///
/// # Panics
///
/// Panics if the operating system's random number generator fails, because
/// no safe secret can be made without it.
pub(crate) fn generate(prefix: &str) -> (String, String) {
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random number generator failed");

    let plaintext = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_token(&plaintext);
    (plaintext, hash)
}

/// Tells whether `token` is `prefix` followed by exactly one encoded secret.
pub(crate) fn is_well_formed(token: &str, prefix: &str) -> bool {
    let Some(encoded) = token.strip_prefix(prefix) else {
        return false;
    };

    encoded.len() == ENCODED_SECRET_CHARS
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Hashes a refresh token or API key for storage and lookup: SHA-256 of the
/// whole string including its prefix, as 64 lowercase hex digits.
///
/// A fast hash is right here, unlike for passwords: each secret has 256 bits
/// from a secure generator, so a stolen hash cannot be reversed by guessing,
/// however fast the guesses. A deterministic hash also lets the database find
/// the row by an indexed equality lookup.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_sha256_vector() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn generated_secret_shape() {
        let (plaintext, hash) = generate("pfx_");

        assert!(is_well_formed(&plaintext, "pfx_"), "{plaintext}");
        assert_eq!(plaintext.len(), 4 + ENCODED_SECRET_CHARS);
        assert_eq!(hash, hash_token(&plaintext));
        assert_eq!(hash.len(), 64);
    }

    #[test]
    fn generated_secrets_differ() {
        let (first, first_hash) = generate("pfx_");
        let (second, second_hash) = generate("pfx_");

        assert_ne!(first, second);
        assert_ne!(first_hash, second_hash);
    }

    #[test]
    fn format_check_rejects_near_misses() {
        let body = "A".repeat(ENCODED_SECRET_CHARS);

        assert!(is_well_formed(&format!("pfx_{body}"), "pfx_"));
        assert!(!is_well_formed(&format!("other_{body}"), "pfx_"));
        assert!(!is_well_formed(&format!("pfx_{body}A"), "pfx_"));
        assert!(!is_well_formed(&format!("pfx_{}", &body[1..]), "pfx_"));
        assert!(!is_well_formed(&format!("pfx_{}+", &body[1..]), "pfx_"));
        assert!(!is_well_formed("pfx_", "pfx_"));
    }
}
