//! Rules that a new password must meet. Lengths count Unicode scalar values
//! (Rust `char`s), not bytes, so a password in any script gets the same limits.

/// Minimum password length in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Maximum password length in characters. It bounds the input to Argon2 and
/// still leaves room for long passphrases.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The first rule that a password breaks. `rule()` returns a stable code for
/// API responses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("password is too short: {actual} characters, at least {minimum} required")]
    TooShort { actual: usize, minimum: usize },

    #[error("password is too long: {actual} characters, at most {maximum} allowed")]
    TooLong { actual: usize, maximum: usize },

    #[error("password repeats one character: use different characters")]
    SingleCharacter,

    #[error("password matches the email address: choose a password unrelated to it")]
    MatchesEmail,
}

impl PolicyError {
    /// Returns the stable code of the broken rule.
    pub fn rule(&self) -> &'static str {
        match self {
            PolicyError::TooShort { .. } => "password_too_short",
            PolicyError::TooLong { .. } => "password_too_long",
            PolicyError::SingleCharacter => "password_single_character",
            PolicyError::MatchesEmail => "password_matches_email",
        }
    }
}

/// Checks a new password against the policy: 12 to 128 characters, not one
/// character repeated, and, when `email` is given, equal to neither the
/// address nor its local part (compared without regard to letter case).
pub fn check_password_policy(password: &str, email: Option<&str>) -> Result<(), PolicyError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(PolicyError::TooShort {
            actual: length,
            minimum: MIN_PASSWORD_CHARS,
        });
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(PolicyError::TooLong {
            actual: length,
            maximum: MAX_PASSWORD_CHARS,
        });
    }

    let mut characters = password.chars();
    let first = characters.next();
    if characters.all(|c| Some(c) == first) {
        return Err(PolicyError::SingleCharacter);
    }

    if email.is_some_and(|email| matches_email(password, email)) {
        return Err(PolicyError::MatchesEmail);
    }

    Ok(())
}

fn matches_email(password: &str, email: &str) -> bool {
    let password = password.to_lowercase();
    let email = email.trim().to_lowercase();
    let local_part = email
        .rsplit_once('@')
        .map_or(email.as_str(), |(local, _)| local);

    password == email || (!local_part.is_empty() && password == local_part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_reasonable_password() {
        assert_eq!(check_password_policy("tangerine-orbit-42", None), Ok(()));
        assert_eq!(
            check_password_policy("tangerine-orbit-42", Some("ada@example.com")),
            Ok(())
        );
    }

    #[test]
    fn length_limits_in_characters() {
        assert_eq!(
            check_password_policy("elevenchars", None),
            Err(PolicyError::TooShort {
                actual: 11,
                minimum: 12
            })
        );
        assert_eq!(check_password_policy("twelve chars", None), Ok(()));

        // Twelve characters in 23 bytes: the limit counts characters.
        assert_eq!(check_password_policy("ééééééééééé1", None), Ok(()));

        let longest = "ab".repeat(64);
        assert_eq!(check_password_policy(&longest, None), Ok(()));
        let too_long = format!("{longest}c");
        assert_eq!(
            check_password_policy(&too_long, None),
            Err(PolicyError::TooLong {
                actual: 129,
                maximum: 128
            })
        );
    }

    #[test]
    fn rejects_one_repeated_character() {
        let error = check_password_policy("aaaaaaaaaaaaaaaa", None).unwrap_err();

        assert_eq!(error, PolicyError::SingleCharacter);
        assert_eq!(error.rule(), "password_single_character");
        assert_eq!(check_password_policy("aaaaaaaaaaaaaaab", None), Ok(()));
    }

    #[test]
    fn rejects_email_or_local_part() {
        let email = Some("Margaret.Hamilton@example.com");

        assert_eq!(
            check_password_policy("margaret.hamilton", email),
            Err(PolicyError::MatchesEmail)
        );
        assert_eq!(
            check_password_policy("MARGARET.HAMILTON@EXAMPLE.COM", email),
            Err(PolicyError::MatchesEmail)
        );
        assert_eq!(check_password_policy("margaret.hamilton", None), Ok(()));
        assert_eq!(check_password_policy("margaret.hamilton1", email), Ok(()));
    }

    #[test]
    fn error_names_the_rule() {
        let short = check_password_policy("short", None).unwrap_err();

        assert_eq!(short.rule(), "password_too_short");
        assert!(short.to_string().contains("at least 12"), "{short}");
    }
}
