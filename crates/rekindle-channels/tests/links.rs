//! Signed unsubscribe and preference links.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use rekindle_channels::links::{
    DEFAULT_VALIDITY, MAX_TOKEN_CHARS, MIN_SECRET_BYTES, MIN_UNSUBSCRIBE_VALIDITY,
};
use rekindle_channels::{
    LinkClaims, LinkPurpose, LinkSigner, LinkSignerError, LinkTarget, TokenError,
};
use rekindle_domain::{AccountId, ContactKind, Email, LeadId, MessageId, Phone};
use url::Url;

const SECRET: &[u8] = b"test master secret, 48 bytes long, not for use!!";

fn signer() -> LinkSigner {
    LinkSigner::new(SECRET).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn email_target() -> LinkTarget {
    LinkTarget::Email(Email::parse("zoe@brightlane.example").unwrap())
}

#[test]
fn round_trip_every_target() {
    let signer = signer();
    let account_id = AccountId::new();
    let lead_id = LeadId::new();
    let targets = [
        email_target(),
        LinkTarget::Phone(Phone::parse("+44 20 7946 0958", None).unwrap()),
        LinkTarget::Message(MessageId::new()),
    ];

    for target in targets {
        for purpose in LinkPurpose::ALL {
            let token = signer.issue(purpose, account_id, lead_id, target.clone(), now());
            let claims = signer.verify(&token, purpose, now()).unwrap();

            assert_eq!(claims.purpose, purpose);
            assert_eq!(claims.account_id, account_id);
            assert_eq!(claims.lead_id, lead_id);
            assert_eq!(claims.target, target);
            assert_eq!(claims.expires_at, now() + DEFAULT_VALIDITY);
        }
    }
}

#[test]
fn token_is_compact_url_safe() {
    let token = signer().issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{token}"
    );
    assert!(token.len() < 200, "{} characters", token.len());
}

#[test]
fn contact_kind_of_targets() {
    assert_eq!(email_target().contact_kind(), Some(ContactKind::Email));
    let phone = LinkTarget::Phone(Phone::parse("+14155550134", None).unwrap());
    assert_eq!(phone.contact_kind(), Some(ContactKind::Phone));
    assert_eq!(LinkTarget::Message(MessageId::new()).contact_kind(), None);
}

#[test]
fn tampered_payload_is_rejected() {
    let signer = signer();
    let token = signer.issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );
    let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();

    // Flip one bit in every byte position in turn: the expiry, the ids, the
    // address and the tag itself.
    for position in 2..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[position] ^= 0x01;
        let tampered = URL_SAFE_NO_PAD.encode(&tampered);

        let result = signer.verify(&tampered, LinkPurpose::Unsubscribe, now());
        assert_eq!(result, Err(TokenError::BadSignature), "byte {position}");
    }
}

#[test]
fn changed_purpose_byte_is_rejected() {
    let signer = signer();
    let token = signer.issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );
    let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
    bytes[1] = 2; // the preferences purpose
    let forged = URL_SAFE_NO_PAD.encode(&bytes);

    assert_eq!(
        signer.verify(&forged, LinkPurpose::Preferences, now()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn malformed_tokens_are_rejected() {
    let signer = signer();
    let token = signer.issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );

    let mut wrong_version = URL_SAFE_NO_PAD.decode(&token).unwrap();
    wrong_version[0] = 9;

    let cases = [
        String::new(),
        "not a token!".to_owned(),
        format!("{token}="),
        token[..40].to_owned(),
        "A".repeat(MAX_TOKEN_CHARS + 1),
        URL_SAFE_NO_PAD.encode(wrong_version),
    ];
    for case in cases {
        let result = signer.verify(&case, LinkPurpose::Unsubscribe, now());
        assert!(
            matches!(result, Err(TokenError::Malformed { .. })),
            "{case:?}: {result:?}"
        );
    }
}

#[test]
fn other_secret_is_rejected() {
    let token = signer().issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );
    let other = LinkSigner::new(b"another master secret of at least 32 bytes").unwrap();

    assert_eq!(
        other.verify(&token, LinkPurpose::Unsubscribe, now()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn expired_token_is_rejected() {
    let signer = signer();
    let token = signer.issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );
    let expires_at = now() + DEFAULT_VALIDITY;

    let last_second = expires_at - TimeDelta::seconds(1);
    assert!(
        signer
            .verify(&token, LinkPurpose::Unsubscribe, last_second)
            .is_ok()
    );

    assert_eq!(
        signer.verify(&token, LinkPurpose::Unsubscribe, expires_at),
        Err(TokenError::Expired {
            expired_at: expires_at
        })
    );
}

#[test]
fn unsubscribe_valid_for_ninety_days() {
    let signer = signer()
        .with_validity(LinkPurpose::Unsubscribe, MIN_UNSUBSCRIBE_VALIDITY)
        .unwrap();
    let token = signer.issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );

    let day_89 = now() + TimeDelta::days(89);
    assert!(
        signer
            .verify(&token, LinkPurpose::Unsubscribe, day_89)
            .is_ok()
    );
    assert!(MIN_UNSUBSCRIBE_VALIDITY >= TimeDelta::days(90));
    assert!(DEFAULT_VALIDITY >= MIN_UNSUBSCRIBE_VALIDITY);
}

#[test]
fn short_unsubscribe_validity_is_rejected() {
    let result = signer().with_validity(LinkPurpose::Unsubscribe, TimeDelta::days(30));
    assert_eq!(
        result.unwrap_err(),
        LinkSignerError::ValidityTooShort {
            purpose: LinkPurpose::Unsubscribe,
            minimum_days: 90,
            requested_days: 30,
        }
    );

    let preferences = signer()
        .with_validity(LinkPurpose::Preferences, TimeDelta::days(7))
        .unwrap();
    assert_eq!(
        preferences.validity(LinkPurpose::Preferences),
        TimeDelta::days(7)
    );
}

#[test]
fn wrong_purpose_is_rejected() {
    let signer = signer();
    let token = signer.issue(
        LinkPurpose::Preferences,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );

    assert_eq!(
        signer.verify(&token, LinkPurpose::Unsubscribe, now()),
        Err(TokenError::WrongPurpose {
            expected: LinkPurpose::Unsubscribe,
            found: LinkPurpose::Preferences,
        })
    );
}

#[test]
fn purposes_sign_differently() {
    let signer = signer();
    let claims = LinkClaims {
        purpose: LinkPurpose::Unsubscribe,
        account_id: AccountId::new(),
        lead_id: LeadId::new(),
        target: email_target(),
        expires_at: now(),
    };
    let preferences = LinkClaims {
        purpose: LinkPurpose::Preferences,
        ..claims.clone()
    };

    let unsubscribe_tag = &URL_SAFE_NO_PAD.decode(signer.sign(&claims)).unwrap()[2..];
    let preferences_tag = &URL_SAFE_NO_PAD.decode(signer.sign(&preferences)).unwrap()[2..];
    // Everything after the purpose byte: same claims, different tags.
    assert_ne!(unsubscribe_tag, preferences_tag);
}

#[test]
fn weak_secret_is_rejected() {
    let result = LinkSigner::new(&[7u8; MIN_SECRET_BYTES - 1]);
    assert_eq!(
        result.unwrap_err(),
        LinkSignerError::WeakSecret {
            actual: MIN_SECRET_BYTES - 1,
            minimum: MIN_SECRET_BYTES,
        }
    );
    assert!(LinkSigner::new(&[7u8; MIN_SECRET_BYTES]).is_ok());
}

#[test]
fn unsubscribe_url_carries_token() {
    let signer = signer();
    let base = Url::parse("https://links.rekindle.example/r/").unwrap();
    let account_id = AccountId::new();
    let lead_id = LeadId::new();

    let url = signer
        .unsubscribe_url(&base, account_id, lead_id, email_target(), now())
        .unwrap();

    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("links.rekindle.example"));
    let segments: Vec<&str> = url.path_segments().unwrap().collect();
    assert_eq!(segments.len(), 3, "{url}");
    assert_eq!(segments[0], "r");
    assert_eq!(segments[1], "unsubscribe");

    let claims = signer
        .verify(segments[2], LinkPurpose::Unsubscribe, now())
        .unwrap();
    assert_eq!(claims.account_id, account_id);
    assert_eq!(claims.lead_id, lead_id);
}

#[test]
fn preferences_url_carries_token() {
    let signer = signer();
    let base = Url::parse("https://app.rekindle.example").unwrap();

    let url = signer
        .preferences_url(
            &base,
            AccountId::new(),
            LeadId::new(),
            email_target(),
            now(),
        )
        .unwrap();

    let segments: Vec<&str> = url.path_segments().unwrap().collect();
    assert_eq!(segments[0], "preferences");
    assert!(
        signer
            .verify(segments[1], LinkPurpose::Preferences, now())
            .is_ok()
    );
}

#[test]
fn http_base_url_is_rejected() {
    let base = Url::parse("http://links.rekindle.example").unwrap();
    let result = signer().unsubscribe_url(
        &base,
        AccountId::new(),
        LeadId::new(),
        email_target(),
        now(),
    );
    assert_eq!(
        result.unwrap_err(),
        LinkSignerError::NotHttps {
            scheme: "http".into()
        }
    );
}

#[test]
fn longest_address_fits_token_limit() {
    // 64 + 1 + 63 + 1 + 63 + 1 + 57 + 4 = 254 bytes, the RFC 5321 maximum.
    let address = format!(
        "{}@{}.{}.{}.com",
        "a".repeat(64),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(57)
    );
    assert_eq!(address.len(), 254);
    let target = LinkTarget::Email(Email::parse(&address).unwrap());

    let signer = signer();
    let token = signer.issue(
        LinkPurpose::Unsubscribe,
        AccountId::new(),
        LeadId::new(),
        target.clone(),
        now(),
    );
    assert_eq!(token.len(), 439);
    assert!(token.len() <= MAX_TOKEN_CHARS);

    let claims = signer
        .verify(&token, LinkPurpose::Unsubscribe, now())
        .unwrap();
    assert_eq!(claims.target, target);
}
