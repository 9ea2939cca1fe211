//! The RFC 5322 `Message-ID` of an email, used to thread follow-ups.

use std::fmt;

use rekindle_domain::MessageId;
use serde::{Deserialize, Serialize};

use crate::ChannelError;

/// Maximum length of a message id without its angle brackets. RFC 5322 sets no
/// limit of its own, and this one keeps a header line far below the
/// 998-character maximum of RFC 5322 section 2.1.1.
pub const MAX_MESSAGE_ID_LEN: usize = 250;

/// An RFC 5322 message id (`msg-id`), stored without its angle brackets:
/// `0190f3c2-...@mail.example.com`. Both sides of the `@` are dot-atoms, so the
/// id never needs quoting or encoding.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InternetMessageId(String);

impl InternetMessageId {
    /// Parses `left@right` or `<left@right>`.
    pub fn parse(input: &str) -> Result<Self, ChannelError> {
        let trimmed = input.trim();
        let bare = trimmed
            .strip_prefix('<')
            .and_then(|rest| rest.strip_suffix('>'))
            .unwrap_or(trimmed);

        let invalid = || {
            ChannelError::invalid_input(format!(
                "invalid Message-ID {input:?}: expected left@right of letters, digits, dots and !#$%&'*+-/=?^_`{{|}}~, at most {MAX_MESSAGE_ID_LEN} characters"
            ))
        };
        if bare.len() > MAX_MESSAGE_ID_LEN {
            return Err(invalid());
        }
        let (left, right) = bare.split_once('@').ok_or_else(invalid)?;
        if !is_dot_atom(left) || !is_dot_atom(right) {
            return Err(invalid());
        }
        Ok(Self(bare.to_owned()))
    }

    /// Builds the id of our message `message_id` sent from `domain` (the
    /// sender's domain, so the id is unique across senders).
    pub fn for_message(message_id: MessageId, domain: &str) -> Result<Self, ChannelError> {
        Self::parse(&format!("{}@{domain}", message_id.as_uuid().simple()))
    }

    /// Returns the id without angle brackets.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 5322 section 3.2.3: atoms of `atext` joined by single dots.
fn is_dot_atom(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

fn is_atext(character: char) -> bool {
    character.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(character)
}

/// Formats the header form, with angle brackets.
impl fmt::Display for InternetMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.0)
    }
}

impl fmt::Debug for InternetMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InternetMessageId(<{}>)", self.0)
    }
}

impl TryFrom<String> for InternetMessageId {
    type Error = ChannelError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InternetMessageId> for String {
    fn from(value: InternetMessageId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_both_forms() {
        let bare = InternetMessageId::parse("abc.123@mail.example.com").unwrap();
        let bracketed = InternetMessageId::parse("<abc.123@mail.example.com>").unwrap();
        assert_eq!(bare, bracketed);
        assert_eq!(bare.as_str(), "abc.123@mail.example.com");
        assert_eq!(bare.to_string(), "<abc.123@mail.example.com>");
    }

    #[test]
    fn parse_rejects_bad_ids() {
        for bad in [
            "",
            "no-at-sign",
            "two@@example.com",
            "@example.com",
            "left@",
            "a b@example.com",
            "a@exa\r\nmple.com",
            "a..b@example.com",
            "a@example.com>",
            "ä@example.com",
        ] {
            assert!(InternetMessageId::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_MESSAGE_ID_LEN));
        assert!(InternetMessageId::parse(&long).is_err());
    }

    #[test]
    fn for_message_uses_uuid_and_domain() {
        let message_id = MessageId::new();
        let id = InternetMessageId::for_message(message_id, "mail.example.com").unwrap();
        let expected = format!("{}@mail.example.com", message_id.as_uuid().simple());
        assert_eq!(id.as_str(), expected);
    }
}
