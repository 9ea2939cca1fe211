//! Per-purpose keys derived from the master key, so that a key leaked or
//! rotated for one use (for example access tokens) reveals nothing about another.

use hkdf::Hkdf;
use sha2::Sha256;

/// HKDF `info` for the key that signs access tokens. Changing the version
/// suffix invalidates every access token in circulation.
pub const ACCESS_TOKEN_KEY_PURPOSE: &str = "rekindle access tokens v1";

/// Derives a 32-byte key for `purpose` from `master_key` with HKDF-SHA256
/// (RFC 5869).
///
/// The purpose goes into HKDF's `info` input, which binds the output to that
/// one use. No salt is passed, so HKDF uses 32 zero bytes (RFC 5869 section
/// 2.2). The master key itself must be long and random; the configuration
/// layer enforces its minimum length, and this function accepts any length.
pub fn derive_key(master_key: &[u8], purpose: &str) -> [u8; 32] {
    let hkdf = Hkdf::<Sha256>::new(None, master_key);
    let mut key = [0u8; 32];

    // HKDF-SHA256 can expand to 255 * 32 bytes (RFC 5869 section 2.3), so a
    // 32-byte output cannot fail.
    hkdf.expand(purpose.as_bytes(), &mut key)
        .expect("32 bytes is within the HKDF-SHA256 output limit");
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn derivation_is_deterministic() {
        let first = derive_key(MASTER, ACCESS_TOKEN_KEY_PURPOSE);
        let second = derive_key(MASTER, ACCESS_TOKEN_KEY_PURPOSE);

        assert_eq!(first, second);
    }

    #[test]
    fn purposes_get_different_keys() {
        let access = derive_key(MASTER, ACCESS_TOKEN_KEY_PURPOSE);
        let other = derive_key(MASTER, "rekindle websocket tickets v1");

        assert_ne!(access, other);
        assert_ne!(access.as_slice(), MASTER);
    }

    #[test]
    fn master_keys_get_different_keys() {
        let first = derive_key(MASTER, ACCESS_TOKEN_KEY_PURPOSE);
        let second = derive_key(
            b"fedcba9876543210fedcba9876543210",
            ACCESS_TOKEN_KEY_PURPOSE,
        );

        assert_ne!(first, second);
    }

    #[test]
    fn matches_rfc5869_test_case_3() {
        // RFC 5869 appendix A.3: SHA-256, 22 bytes of 0x0b, no salt, empty
        // info. Its 42-byte OKM starts with these 32 bytes.
        let ikm = [0x0b_u8; 22];
        let expected = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d";

        assert_eq!(hex::encode(derive_key(&ikm, "")), expected);
    }
}
