//! Password hashing with Argon2id.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so
//! each stored hash carries its own parameters and salt, and verification
//! uses the parameters of the stored hash. `needs_rehash` reports when a
//! stored hash was made with other parameters.
//!
//! Each hash or verification fills 19 MiB of memory and takes CPU time in the
//! order of tens of milliseconds (an estimate for a release build, not a
//! measurement). In async code call the `*_async` functions, which run the
//! work on Tokio's blocking thread pool instead of stalling a runtime worker.

mod policy;

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::AuthError;

pub use policy::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PolicyError, check_password_policy};

/// Memory cost in KiB (19 MiB). This and the two constants below are the
/// first Argon2id option in the OWASP Password Storage Cheat Sheet
/// (m=19456 KiB, t=2, p=1).
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// Number of passes over the memory.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Degree of parallelism (lanes).
pub const ARGON2_PARALLELISM: u32 = 1;

/// Hashes `password` with Argon2id and a fresh random salt and returns the PHC
/// string to store.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let hash = hasher()?
        .hash_password(password.as_bytes())
        .map_err(|error| AuthError::PasswordHashing {
            reason: error.to_string(),
        })?;

    Ok(hash.to_string())
}

/// Checks `candidate` against a stored PHC string. The comparison of the
/// hash outputs is constant-time (done by the `password-hash` crate). Returns
/// false for a wrong password and for a stored value that is not a valid PHC
/// string.
pub fn verify_password(phc: &str, candidate: &str) -> bool {
    let Ok(hasher) = hasher() else {
        return false;
    };

    hasher.verify_password(candidate.as_bytes(), phc).is_ok()
}

/// Does the same Argon2 work as `verify_password` and returns false. Call it when
/// the login names an unknown user, so that response times do not reveal
/// which accounts exist.
pub fn verify_dummy(candidate: &str) -> bool {
    match dummy_hash() {
        Some(phc) => {
            // The result is discarded on purpose: only the time spent matters.
            let _ = verify_password(phc, candidate);
        }
        None => tracing::error!("could not build the dummy password hash"),
    }
    false
}

/// Tells whether a stored hash was made with other parameters than the
/// current ones, so the login path can store a fresh hash of the password it
/// has just verified. An unparseable hash also needs a rehash.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };

    let algorithm_is_current = hash.algorithm.as_str() == argon2::ARGON2ID_IDENT.as_str();
    let version_is_current = hash.version == Some(Version::V0x13.into());
    let params_are_current = Params::try_from(&hash).is_ok_and(|params| {
        params.m_cost() == ARGON2_MEMORY_KIB
            && params.t_cost() == ARGON2_ITERATIONS
            && params.p_cost() == ARGON2_PARALLELISM
    });

    !(algorithm_is_current && version_is_current && params_are_current)
}

/// Runs `hash_password` on Tokio's blocking thread pool.
pub async fn hash_password_async(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| AuthError::PasswordHashing {
            reason: format!("hashing task failed: {error}"),
        })?
}

/// Runs `verify_password` on Tokio's blocking thread pool. An error means the
/// task itself failed (a server fault), never that the password was wrong.
pub async fn verify_password_async(phc: String, candidate: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || verify_password(&phc, &candidate))
        .await
        .map_err(|error| AuthError::PasswordHashing {
            reason: format!("verification task failed: {error}"),
        })
}

/// Runs `verify_dummy` on Tokio's blocking thread pool.
pub async fn verify_dummy_async(candidate: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || verify_dummy(&candidate))
        .await
        .map_err(|error| AuthError::PasswordHashing {
            reason: format!("verification task failed: {error}"),
        })
}

fn hasher() -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        None,
    )
    .map_err(|error| AuthError::PasswordHashing {
        reason: format!("invalid Argon2 parameters: {error}"),
    })?;

    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Returns a hash of a fixed password with the current parameters, made once
/// per process, so that `verify_dummy` does the same work as a real
/// verification.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();

    DUMMY
        .get_or_init(|| hash_password("rekindle dummy password for unknown users").ok())
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trip() {
        let phc = hash_password("correct horse battery staple").unwrap();

        assert!(verify_password(&phc, "correct horse battery staple"));
    }

    #[test]
    fn wrong_password_rejected() {
        let phc = hash_password("correct horse battery staple").unwrap();

        assert!(!verify_password(&phc, "correct horse battery stapler"));
        assert!(!verify_password(&phc, ""));
    }

    #[test]
    fn hash_uses_owasp_parameters() {
        let phc = hash_password("correct horse battery staple").unwrap();

        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!needs_rehash(&phc));
    }

    #[test]
    fn salts_differ_between_hashes() {
        let first = hash_password("same password twice").unwrap();
        let second = hash_password("same password twice").unwrap();

        assert_ne!(first, second);
    }

    #[test]
    fn garbage_hash_never_verifies() {
        assert!(!verify_password("not a phc string", "anything"));
        assert!(!verify_password("", ""));
    }

    #[test]
    fn dummy_verification_is_false() {
        assert!(!verify_dummy("rekindle dummy password for unknown users"));
        assert!(!verify_dummy("anything"));
    }

    #[test]
    fn weaker_hash_needs_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"old password")
        .unwrap()
        .to_string();
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, 1, None).unwrap(),
        )
        .hash_password(b"old password")
        .unwrap()
        .to_string();

        assert!(needs_rehash(&weak));
        assert!(needs_rehash(&argon2i));
        assert!(needs_rehash("garbage"));
        assert!(verify_password(&weak, "old password"));
    }

    #[tokio::test]
    async fn async_wrappers_round_trip() {
        let phc = hash_password_async("async password 1".into())
            .await
            .unwrap();

        assert!(
            verify_password_async(phc.clone(), "async password 1".into())
                .await
                .unwrap()
        );
        assert!(
            !verify_password_async(phc, "async password 2".into())
                .await
                .unwrap()
        );
        assert!(!verify_dummy_async("whatever".into()).await.unwrap());
    }
}
