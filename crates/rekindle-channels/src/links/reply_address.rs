//! Reply-To addresses that name the message a reply is for.
//!
//! Each email goes out with `Reply-To: reply+<message>-<tag>@<inbound domain>`,
//! where `<message>` is the message id in lowercase hex and `<tag>` a truncated
//! HMAC of it. A reply then names its message even when the mail client drops
//! `In-Reply-To`, and a reply address made up without the key fails the tag
//! check.
//! Lowercase hex survives mail servers that change the letter case of local
//! parts, and the whole local part stays within RFC 5321's 64 characters.

use hmac::{Hmac, Mac};
use rekindle_domain::MessageId;
use sha2::Sha256;
use uuid::Uuid;

use super::LinkSignerError;

type HmacSha256 = Hmac<Sha256>;

/// Local-part prefix of every reply address.
pub const REPLY_PREFIX: &str = "reply+";
/// Bytes of the HMAC kept in the address: 64 bits, so a forged address is
/// accepted with probability 2^-64.
const TAG_BYTES: usize = 8;
/// HKDF `info` of the reply-address key, distinct from every link purpose.
const KEY_INFO: &[u8] = b"rekindle reply address key";

/// Reason an address is not one of our reply addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyAddressError {
    #[error("the address has no reply token: it is not a Rekindle reply address")]
    NotReplyAddress,
    #[error("the reply token is malformed")]
    Malformed,
    #[error("the reply token's signature does not match")]
    BadSignature,
}

/// Signs and reads reply addresses.
#[derive(Clone)]
pub struct ReplyAddressSigner {
    mac: HmacSha256,
}

impl std::fmt::Debug for ReplyAddressSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyAddressSigner([REDACTED])")
    }
}

impl ReplyAddressSigner {
    /// Derives the reply-address key from `master_secret`, which must be at
    /// least `MIN_SECRET_BYTES` long.
    pub fn new(master_secret: &[u8]) -> Result<Self, LinkSignerError> {
        let mac = super::derived_mac(master_secret, KEY_INFO)?;
        Ok(Self { mac })
    }

    /// Returns the reply address of `message` at `domain`.
    pub fn address(&self, message: MessageId, domain: &str) -> String {
        format!("{}@{domain}", self.local_part(message))
    }

    /// Returns the local part `reply+<message>-<tag>`.
    pub fn local_part(&self, message: MessageId) -> String {
        let id = message.0.simple().to_string();
        let tag = hex::encode(self.tag(&id));
        format!("{REPLY_PREFIX}{id}-{tag}")
    }

    /// Reads the message id from a reply address (or its local part), checking
    /// the tag in constant time. Letter case and the domain do not matter.
    pub fn message_of(&self, address: &str) -> Result<MessageId, ReplyAddressError> {
        let local = address.trim().split('@').next().unwrap_or_default();
        let local = local.to_ascii_lowercase();
        let token = local
            .strip_prefix(REPLY_PREFIX)
            .ok_or(ReplyAddressError::NotReplyAddress)?;
        let (id, tag) = token.split_once('-').ok_or(ReplyAddressError::Malformed)?;
        let uuid = Uuid::try_parse(id).map_err(|_| ReplyAddressError::Malformed)?;
        let tag = hex::decode(tag).map_err(|_| ReplyAddressError::Malformed)?;
        if tag.len() != TAG_BYTES || id.len() != 32 {
            return Err(ReplyAddressError::Malformed);
        }

        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        mac.verify_truncated_left(&tag)
            .map_err(|_| ReplyAddressError::BadSignature)?;
        Ok(MessageId(uuid))
    }

    fn tag(&self, id: &str) -> [u8; TAG_BYTES] {
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> ReplyAddressSigner {
        ReplyAddressSigner::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn address_round_trip() {
        let message = MessageId::new();
        let address = signer(1).address(message, "in.example.com");

        let local = address.split('@').next().unwrap();
        assert!(local.len() <= 64, "{local} is longer than RFC 5321 allows");
        assert_eq!(signer(1).message_of(&address), Ok(message));
        assert_eq!(
            signer(1).message_of(&address.to_uppercase()),
            Ok(message),
            "mail servers may change the letter case"
        );
    }

    #[test]
    fn forged_address_rejected() {
        let message = MessageId::new();
        let address = signer(1).address(message, "in.example.com");

        assert_eq!(
            signer(2).message_of(&address),
            Err(ReplyAddressError::BadSignature)
        );
        let other = MessageId::new().0.simple().to_string();
        let forged = format!("{REPLY_PREFIX}{other}-{}", &address[39..55]);
        assert_eq!(
            signer(1).message_of(&forged),
            Err(ReplyAddressError::BadSignature)
        );
        assert_eq!(
            signer(1).message_of("sales@in.example.com"),
            Err(ReplyAddressError::NotReplyAddress)
        );
        assert_eq!(
            signer(1).message_of("reply+abc-00@in.example.com"),
            Err(ReplyAddressError::Malformed)
        );
    }

    #[test]
    fn short_secret_rejected() {
        assert!(ReplyAddressSigner::new(&[0; 16]).is_err());
    }
}
