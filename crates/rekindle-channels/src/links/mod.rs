//! Signed links for the pages that recipients open from an email: unsubscribe
//! and email preferences. An address alone never unsubscribes anyone; the link
//! must carry a token that only we can sign.

mod claims;
mod codec;
mod error;
mod reply_address;
mod tracking;

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rekindle_domain::{AccountId, LeadId};
use sha2::Sha256;
use url::Url;

pub use claims::{LinkClaims, LinkPurpose, LinkTarget};
pub use codec::MAX_TOKEN_CHARS;
pub use error::{LinkSignerError, TokenError};
pub use reply_address::{REPLY_PREFIX, ReplyAddressError, ReplyAddressSigner};
pub use tracking::{
    CLICK_PATH, ClickClaims, MAX_TRACKED_URL_BYTES, OPEN_PATH, OpenClaims, TrackingSigner,
};

type HmacSha256 = Hmac<Sha256>;

/// Minimum master secret length in bytes: the output size of SHA-256, as
/// RFC 2104 section 3 recommends for HMAC keys.
pub const MIN_SECRET_BYTES: usize = 32;
/// Default validity of a link.
pub const DEFAULT_VALIDITY: TimeDelta = TimeDelta::days(180);
/// Minimum validity of an unsubscribe link. CAN-SPAM requires the opt-out to
/// work for 30 days after sending; the product promises 90.
pub const MIN_UNSUBSCRIBE_VALIDITY: TimeDelta = TimeDelta::days(90);

/// HKDF salt (RFC 5869 section 3.1): fixed and public, it separates these keys
/// from any other use of the same master secret.
const HKDF_SALT: &[u8] = b"rekindle signed links v1";

/// Signs and verifies link tokens.
///
/// Each purpose has its own HMAC-SHA256 key, derived from the master secret
/// with HKDF-SHA256 and the purpose name as `info`. Tokens are compact
/// base64url strings (see `codec` for the layout) that carry the account, the
/// lead, the target contact or message, the purpose and the expiry.
#[derive(Clone)]
pub struct LinkSigner {
    /// Keyed HMAC states, indexed by `LinkPurpose::index`. Each use clones one.
    macs: [HmacSha256; 2],
    validity: [TimeDelta; 2],
}

impl LinkSigner {
    /// Derives the per-purpose keys from `master_secret`, which must be at
    /// least `MIN_SECRET_BYTES` long. Every purpose starts with
    /// `DEFAULT_VALIDITY`.
    pub fn new(master_secret: &[u8]) -> Result<Self, LinkSignerError> {
        if master_secret.len() < MIN_SECRET_BYTES {
            return Err(LinkSignerError::WeakSecret {
                actual: master_secret.len(),
                minimum: MIN_SECRET_BYTES,
            });
        }

        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), master_secret);
        let macs = LinkPurpose::ALL.map(|purpose| keyed_mac(&hkdf, purpose));
        Ok(Self {
            macs,
            validity: [DEFAULT_VALIDITY; 2],
        })
    }

    /// Sets how long new links for `purpose` stay valid. Unsubscribe links
    /// need at least `MIN_UNSUBSCRIBE_VALIDITY`, other purposes at least a day.
    pub fn with_validity(
        mut self,
        purpose: LinkPurpose,
        validity: TimeDelta,
    ) -> Result<Self, LinkSignerError> {
        let minimum = match purpose {
            LinkPurpose::Unsubscribe => MIN_UNSUBSCRIBE_VALIDITY,
            LinkPurpose::Preferences => TimeDelta::days(1),
        };
        if validity < minimum {
            return Err(LinkSignerError::ValidityTooShort {
                purpose,
                minimum_days: minimum.num_days(),
                requested_days: validity.num_days(),
            });
        }
        self.validity[purpose.index()] = validity;
        Ok(self)
    }

    pub fn validity(&self, purpose: LinkPurpose) -> TimeDelta {
        self.validity[purpose.index()]
    }

    /// Signs a token for `purpose` that expires after the purpose's validity,
    /// counted from `now` in whole seconds.
    pub fn issue(
        &self,
        purpose: LinkPurpose,
        account_id: AccountId,
        lead_id: LeadId,
        target: LinkTarget,
        now: DateTime<Utc>,
    ) -> String {
        let expires_at = now
            .checked_add_signed(self.validity(purpose))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let expires_at = DateTime::from_timestamp(expires_at.timestamp(), 0).unwrap_or(expires_at);

        self.sign(&LinkClaims {
            purpose,
            account_id,
            lead_id,
            target,
            expires_at,
        })
    }

    /// Signs `claims` as they are. Sub-second parts of `expires_at` are dropped.
    pub fn sign(&self, claims: &LinkClaims) -> String {
        let payload = codec::encode_payload(claims);
        let mut mac = self.macs[claims.purpose.index()].clone();
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        codec::to_text(&payload, &tag)
    }

    /// Verifies `token` for the `expected` purpose at time `now` and returns
    /// its claims.
    ///
    /// The checks run in this order: form (`Malformed`), signature with the
    /// key of the purpose the token names (`BadSignature`), purpose
    /// (`WrongPurpose`), expiry (`Expired`). So nothing but `Malformed` and
    /// `BadSignature` is reported for a token we did not sign. The tag is
    /// compared in constant time.
    pub fn verify(
        &self,
        token: &str,
        expected: LinkPurpose,
        now: DateTime<Utc>,
    ) -> Result<LinkClaims, TokenError> {
        let (payload, tag) = codec::from_text(token)?;
        let found = codec::purpose_of(&payload)?;

        let mut mac = self.macs[found.index()].clone();
        mac.update(&payload);
        mac.verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;

        if found != expected {
            return Err(TokenError::WrongPurpose { expected, found });
        }
        let claims = codec::decode_payload(&payload)?;
        if now >= claims.expires_at {
            return Err(TokenError::Expired {
                expired_at: claims.expires_at,
            });
        }
        Ok(claims)
    }

    /// Builds the unsubscribe link `<base_url>/unsubscribe/<token>`, which
    /// serves both the page and the RFC 8058 one-click POST.
    pub fn unsubscribe_url(
        &self,
        base_url: &Url,
        account_id: AccountId,
        lead_id: LeadId,
        target: LinkTarget,
        now: DateTime<Utc>,
    ) -> Result<Url, LinkSignerError> {
        let token = self.issue(LinkPurpose::Unsubscribe, account_id, lead_id, target, now);
        link_url(base_url, LinkPurpose::Unsubscribe, &token)
    }

    /// Builds the preference page link `<base_url>/preferences/<token>`.
    pub fn preferences_url(
        &self,
        base_url: &Url,
        account_id: AccountId,
        lead_id: LeadId,
        target: LinkTarget,
        now: DateTime<Utc>,
    ) -> Result<Url, LinkSignerError> {
        let token = self.issue(LinkPurpose::Preferences, account_id, lead_id, target, now);
        link_url(base_url, LinkPurpose::Preferences, &token)
    }
}

/// Derives the purpose's 32-byte key and prepares an HMAC state with it.
fn keyed_mac(hkdf: &Hkdf<Sha256>, purpose: LinkPurpose) -> HmacSha256 {
    let info = format!("rekindle link key: {purpose}");
    let mut key = [0u8; 32];

    // HKDF-SHA256 expands up to 255 * 32 bytes (RFC 5869 section 2.3) and
    // HMAC takes keys of any length (RFC 2104 section 3), so neither call can
    // fail here.
    hkdf.expand(info.as_bytes(), &mut key)
        .expect("32 bytes is within the HKDF-SHA256 output limit");
    HmacSha256::new_from_slice(&key).expect("HMAC accepts keys of any length")
}

/// Appends `<purpose>/<token>` to the path of `base_url`, which must be https.
fn link_url(base_url: &Url, purpose: LinkPurpose, token: &str) -> Result<Url, LinkSignerError> {
    if base_url.scheme() != "https" {
        return Err(LinkSignerError::NotHttps {
            scheme: base_url.scheme().to_owned(),
        });
    }

    let mut url = base_url.clone();
    url.path_segments_mut()
        .map_err(|()| LinkSignerError::NotABase {
            url: base_url.to_string(),
        })?
        .pop_if_empty()
        .push(purpose.as_str())
        .push(token);
    Ok(url)
}

/// Shows the validity only, never key material.
impl fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkSigner")
            .field(
                "unsubscribe_validity",
                &self.validity(LinkPurpose::Unsubscribe),
            )
            .field(
                "preferences_validity",
                &self.validity(LinkPurpose::Preferences),
            )
            .finish_non_exhaustive()
    }
}

/// Derives an HMAC-SHA256 key for one use (`info`) from `master_secret`, which
/// must be at least `MIN_SECRET_BYTES` long.
pub(crate) fn derived_mac(
    master_secret: &[u8],
    info: &[u8],
) -> Result<HmacSha256, LinkSignerError> {
    if master_secret.len() < MIN_SECRET_BYTES {
        return Err(LinkSignerError::WeakSecret {
            actual: master_secret.len(),
            minimum: MIN_SECRET_BYTES,
        });
    }
    let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), master_secret);
    let mut key = [0u8; 32];
    hkdf.expand(info, &mut key)
        .expect("32 bytes is within the HKDF-SHA256 output limit");
    Ok(HmacSha256::new_from_slice(&key).expect("HMAC accepts keys of any length"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rekindle_domain::MessageId;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

    fn claims(purpose: LinkPurpose) -> LinkClaims {
        LinkClaims {
            purpose,
            account_id: AccountId::new(),
            lead_id: LeadId::new(),
            target: LinkTarget::Message(MessageId::new()),
            expires_at: DateTime::from_timestamp(2_000_000_000, 0).unwrap(),
        }
    }

    fn tag_with(signer: &LinkSigner, key_purpose: LinkPurpose, payload: &[u8]) -> Vec<u8> {
        let mut mac = signer.macs[key_purpose.index()].clone();
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn purposes_have_distinct_keys() {
        let signer = LinkSigner::new(SECRET).unwrap();
        let payload = codec::encode_payload(&claims(LinkPurpose::Preferences));

        let unsubscribe_tag = tag_with(&signer, LinkPurpose::Unsubscribe, &payload);
        let preferences_tag = tag_with(&signer, LinkPurpose::Preferences, &payload);
        assert_ne!(unsubscribe_tag, preferences_tag);
    }

    #[test]
    fn other_purpose_key_is_rejected() {
        // A preferences token whose tag was made with the unsubscribe key:
        // what a leaked or misused unsubscribe key could produce.
        let signer = LinkSigner::new(SECRET).unwrap();
        let payload = codec::encode_payload(&claims(LinkPurpose::Preferences));
        let tag = tag_with(&signer, LinkPurpose::Unsubscribe, &payload);
        let token = codec::to_text(&payload, &tag);

        let now = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        assert_eq!(
            signer.verify(&token, LinkPurpose::Preferences, now),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn debug_hides_keys() {
        let signer = LinkSigner::new(SECRET).unwrap();
        let text = format!("{signer:?}");
        assert!(text.starts_with("LinkSigner {"), "{text}");
        assert!(!text.contains("macs"), "{text}");
    }
}
