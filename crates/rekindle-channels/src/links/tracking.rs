//! Signed links of email tracking: the open pixel and click redirects.
//!
//! A click token carries the target URL itself, signed together with the
//! account and message ids. The redirect therefore only ever goes to a URL
//! that we signed when the email was sent, so the endpoint is no open
//! redirect, and it needs no database read to find the target.
//!
//! Token layout, base64url without padding:
//!
//! ```text
//! version (1) | kind (1) | account id (16) | message id (16) | URL (click only) | tag (16)
//! ```
//!
//! The tag is HMAC-SHA256 truncated to 128 bits, keyed with an HKDF-derived
//! key of its own, so these tokens never verify as any other link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rekindle_domain::{AccountId, MessageId};
use sha2::Sha256;
use url::Url;
use uuid::Uuid;

use super::{LinkSignerError, TokenError};

type HmacSha256 = Hmac<Sha256>;

/// Path of the open pixel below the public base URL.
pub const OPEN_PATH: &str = "t/o";
/// Path of click redirects below the public base URL.
pub const CLICK_PATH: &str = "t/c";
/// Longest URL that is tracked. Longer links are left untracked, because the
/// token carries the URL and some mail clients cut links near 2,048 characters.
pub const MAX_TRACKED_URL_BYTES: usize = 1500;

const VERSION: u8 = 1;
const KIND_OPEN: u8 = 1;
const KIND_CLICK: u8 = 2;
const HEADER_LEN: usize = 2 + 16 + 16;
const TAG_LEN: usize = 16;
/// HKDF `info` of the tracking key, distinct from every other link key.
const KEY_INFO: &[u8] = b"rekindle tracking link key";

/// The verified contents of an open-pixel token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenClaims {
    pub account_id: AccountId,
    pub message_id: MessageId,
}

/// The verified contents of a click token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickClaims {
    pub account_id: AccountId,
    pub message_id: MessageId,
    /// The link's target as it was in the email.
    pub url: Url,
}

/// Signs and verifies tracking tokens.
#[derive(Clone)]
pub struct TrackingSigner {
    mac: HmacSha256,
}

impl std::fmt::Debug for TrackingSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrackingSigner([REDACTED])")
    }
}

impl TrackingSigner {
    /// Derives the tracking key from `master_secret`, which must be at least
    /// `MIN_SECRET_BYTES` long.
    pub fn new(master_secret: &[u8]) -> Result<Self, LinkSignerError> {
        let mac = super::derived_mac(master_secret, KEY_INFO)?;
        Ok(Self { mac })
    }

    /// Signs the open-pixel token of a message.
    pub fn open_token(&self, account: AccountId, message: MessageId) -> String {
        self.sign(KIND_OPEN, account, message, b"")
    }

    /// Signs the click token of one link of a message.
    pub fn click_token(&self, account: AccountId, message: MessageId, target: &Url) -> String {
        self.sign(KIND_CLICK, account, message, target.as_str().as_bytes())
    }

    /// Builds `<base_url>/t/o/<token>`.
    pub fn open_url(
        &self,
        base_url: &Url,
        account: AccountId,
        message: MessageId,
    ) -> Result<Url, LinkSignerError> {
        tracking_url(base_url, OPEN_PATH, &self.open_token(account, message))
    }

    /// Builds `<base_url>/t/c/<token>`, or `None` when `target` is not an
    /// `http` or `https` URL or is longer than `MAX_TRACKED_URL_BYTES`.
    pub fn click_url(
        &self,
        base_url: &Url,
        account: AccountId,
        message: MessageId,
        target: &Url,
    ) -> Result<Option<Url>, LinkSignerError> {
        if !is_web(target) || target.as_str().len() > MAX_TRACKED_URL_BYTES {
            return Ok(None);
        }
        let token = self.click_token(account, message, target);
        tracking_url(base_url, CLICK_PATH, &token).map(Some)
    }

    /// Verifies an open-pixel token.
    pub fn verify_open(&self, token: &str) -> Result<OpenClaims, TokenError> {
        let (account_id, message_id, rest) = self.verify(token, KIND_OPEN)?;
        if !rest.is_empty() {
            return Err(malformed("open token carries a URL"));
        }
        Ok(OpenClaims {
            account_id,
            message_id,
        })
    }

    /// Verifies a click token and returns the URL it was signed for.
    pub fn verify_click(&self, token: &str) -> Result<ClickClaims, TokenError> {
        let (account_id, message_id, rest) = self.verify(token, KIND_CLICK)?;
        let text = std::str::from_utf8(&rest).map_err(|_| malformed("URL is not UTF-8"))?;
        let url = Url::parse(text).map_err(|_| malformed("URL does not parse"))?;
        if !is_web(&url) {
            return Err(malformed("URL is not http or https"));
        }
        Ok(ClickClaims {
            account_id,
            message_id,
            url,
        })
    }

    fn sign(&self, kind: u8, account: AccountId, message: MessageId, rest: &[u8]) -> String {
        let mut bytes = Vec::with_capacity(HEADER_LEN + rest.len() + TAG_LEN);
        bytes.push(VERSION);
        bytes.push(kind);
        bytes.extend_from_slice(account.0.as_bytes());
        bytes.extend_from_slice(message.0.as_bytes());
        bytes.extend_from_slice(rest);

        let mut mac = self.mac.clone();
        mac.update(&bytes);
        let tag = mac.finalize().into_bytes();
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Checks form, tag (in constant time) and kind, in that order.
    fn verify(
        &self,
        token: &str,
        expected_kind: u8,
    ) -> Result<(AccountId, MessageId, Vec<u8>), TokenError> {
        let max_chars = (HEADER_LEN + MAX_TRACKED_URL_BYTES + TAG_LEN).div_ceil(3) * 4;
        if token.len() > max_chars {
            return Err(malformed("token is too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| malformed("token is not base64url without padding"))?;
        if bytes.len() < HEADER_LEN + TAG_LEN || bytes[0] != VERSION {
            return Err(malformed("token is too short or of an unknown version"));
        }

        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let mut mac = self.mac.clone();
        mac.update(payload);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenError::BadSignature)?;
        if payload[1] != expected_kind {
            return Err(malformed("token is for another kind of tracking link"));
        }

        let account = Uuid::from_slice(&payload[2..18]).map_err(|_| malformed("account id"))?;
        let message = Uuid::from_slice(&payload[18..34]).map_err(|_| malformed("message id"))?;
        Ok((
            AccountId(account),
            MessageId(message),
            payload[HEADER_LEN..].to_vec(),
        ))
    }
}

fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host_str().is_some()
}

/// Appends the path segments and the token to `base_url`, which must be an
/// `http` or `https` URL.
fn tracking_url(base_url: &Url, path: &str, token: &str) -> Result<Url, LinkSignerError> {
    if !matches!(base_url.scheme(), "http" | "https") {
        return Err(LinkSignerError::NotHttps {
            scheme: base_url.scheme().to_owned(),
        });
    }
    let mut url = base_url.clone();
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| LinkSignerError::NotABase {
                url: base_url.to_string(),
            })?;
        segments.pop_if_empty();
        for segment in path.split('/') {
            segments.push(segment);
        }
        segments.push(token);
    }
    Ok(url)
}

fn malformed(reason: &'static str) -> TokenError {
    TokenError::Malformed { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(byte: u8) -> TrackingSigner {
        TrackingSigner::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn click_token_round_trip() {
        let account = AccountId::new();
        let message = MessageId::new();
        let target = Url::parse("https://acme.example/pricing?plan=pro#top").unwrap();
        let base = Url::parse("https://rekindle.example/").unwrap();

        let url = signer(1)
            .click_url(&base, account, message, &target)
            .unwrap()
            .unwrap();
        assert!(
            url.as_str().starts_with("https://rekindle.example/t/c/"),
            "{url}"
        );
        let token = url.path_segments().unwrap().next_back().unwrap();
        let claims = signer(1).verify_click(token).unwrap();
        assert_eq!(claims.url, target);
        assert_eq!(claims.account_id, account);
        assert_eq!(claims.message_id, message);
    }

    #[test]
    fn open_token_round_trip() {
        let account = AccountId::new();
        let message = MessageId::new();
        let token = signer(1).open_token(account, message);
        let claims = signer(1).verify_open(&token).unwrap();
        assert_eq!(claims.message_id, message);
        assert_eq!(
            signer(1).verify_click(&token).unwrap_err(),
            malformed("token is for another kind of tracking link"),
            "an open token is no click token"
        );
    }

    #[test]
    fn tampered_tokens_rejected() {
        let target = Url::parse("https://acme.example/a").unwrap();
        let token = signer(1).click_token(AccountId::new(), MessageId::new(), &target);
        assert_eq!(
            signer(2).verify_click(&token),
            Err(TokenError::BadSignature)
        );

        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let url_start = HEADER_LEN;
        bytes[url_start + 8] ^= 0x20;
        let changed = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(
            signer(1).verify_click(&changed),
            Err(TokenError::BadSignature)
        );
        assert!(matches!(
            signer(1).verify_click("not a token"),
            Err(TokenError::Malformed { .. })
        ));
    }

    #[test]
    fn non_web_and_long_links_untracked() {
        let base = Url::parse("https://rekindle.example").unwrap();
        let mailto = Url::parse("mailto:sam@acme.example").unwrap();
        let long = Url::parse(&format!("https://acme.example/{}", "a".repeat(2000))).unwrap();
        for target in [mailto, long] {
            let url = signer(1)
                .click_url(&base, AccountId::new(), MessageId::new(), &target)
                .unwrap();
            assert_eq!(url, None, "{target}");
        }
    }
}
