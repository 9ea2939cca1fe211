//! SendGrid signature checks with a key made in the test, so any body can be signed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::PublicKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use rekindle_webhooks::VerifyError;
use rekindle_webhooks::sendgrid::{SendgridVerifier, check_timestamp, verify_event_webhook};

use crate::support::flip_byte;

const TIMESTAMP: &str = "1700000000";
const BODY: &[u8] = br#"[{"email":"ana@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"ZGVsaXZlcmVk","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}]"#;

fn signing_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).expect("a valid P-256 scalar")
}

fn public_key_base64(key: &SigningKey) -> String {
    let der = PublicKey::from(key.verifying_key())
        .to_public_key_der()
        .expect("encode the public key");
    STANDARD.encode(der.as_bytes())
}

fn sign(key: &SigningKey, timestamp: &str, body: &[u8]) -> Signature {
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(body);
    key.sign(&message)
}

fn der_base64(signature: &Signature) -> String {
    STANDARD.encode(signature.to_der().as_bytes())
}

#[test]
fn own_key_signature_verifies() {
    let key = signing_key();
    let signature = der_base64(&sign(&key, TIMESTAMP, BODY));

    let result = verify_event_webhook(&public_key_base64(&key), &signature, TIMESTAMP, BODY);

    assert_eq!(result, Ok(()));
}

#[test]
fn every_changed_byte_fails() {
    let key = signing_key();
    let verifier = SendgridVerifier::new(&public_key_base64(&key)).expect("valid key");
    let signature = der_base64(&sign(&key, TIMESTAMP, BODY));

    for index in 0..BODY.len() {
        let changed = flip_byte(BODY, index);
        assert_eq!(
            verifier.verify(&signature, TIMESTAMP, &changed),
            Err(VerifyError::BadSignature),
            "byte {index} changed"
        );
    }
}

#[test]
fn other_timestamp_fails() {
    let key = signing_key();
    let verifier = SendgridVerifier::new(&public_key_base64(&key)).expect("valid key");
    let signature = der_base64(&sign(&key, TIMESTAMP, BODY));

    let result = verifier.verify(&signature, "1700000001", BODY);

    assert_eq!(result, Err(VerifyError::BadSignature));
}

#[test]
fn high_s_signature_verifies() {
    // ECDSA signers may emit s or n - s. Both are valid signatures, and the
    // libraries SendGrid documents for verification accept both.
    let key = signing_key();
    let low = sign(&key, TIMESTAMP, BODY);
    let (r, s) = low.split_scalars();
    let high = Signature::from_scalars(r, -*s).expect("valid scalars");
    assert_ne!(high, low);

    let result = verify_event_webhook(
        &public_key_base64(&key),
        &der_base64(&high),
        TIMESTAMP,
        BODY,
    );

    assert_eq!(result, Ok(()));
}

#[test]
fn empty_key_is_not_configured() {
    let error = SendgridVerifier::new("  ").expect_err("empty key");
    assert_eq!(error.code(), "not_configured");

    let key = signing_key();
    let signature = der_base64(&sign(&key, TIMESTAMP, BODY));
    let error = verify_event_webhook("", &signature, TIMESTAMP, BODY).expect_err("empty key");
    assert_eq!(error.code(), "not_configured");
}

#[test]
fn invalid_key_is_rejected() {
    let not_base64 = SendgridVerifier::new("not base64 at all!").expect_err("invalid");
    assert_eq!(not_base64.code(), "invalid_key");

    let not_a_key =
        SendgridVerifier::new(&STANDARD.encode(b"just some bytes")).expect_err("invalid");
    assert_eq!(not_a_key.code(), "invalid_key");
}

#[test]
fn missing_and_malformed_signatures() {
    let key = signing_key();
    let verifier = SendgridVerifier::new(&public_key_base64(&key)).expect("valid key");
    let signature = der_base64(&sign(&key, TIMESTAMP, BODY));

    let missing = verifier.verify("", TIMESTAMP, BODY).expect_err("missing");
    assert_eq!(missing.code(), "missing_header");

    let missing_timestamp = verifier.verify(&signature, "", BODY).expect_err("missing");
    assert_eq!(missing_timestamp.code(), "missing_header");

    let not_base64 = verifier
        .verify("%%%", TIMESTAMP, BODY)
        .expect_err("malformed");
    assert_eq!(not_base64.code(), "malformed_signature");

    let not_der = verifier
        .verify(&STANDARD.encode([0u8; 64]), TIMESTAMP, BODY)
        .expect_err("malformed");
    assert_eq!(not_der.code(), "malformed_signature");
}

#[test]
fn error_messages_hold_no_key_or_signature() {
    let key = signing_key();
    let public_key = public_key_base64(&key);
    let signature = der_base64(&sign(&key, TIMESTAMP, BODY));
    let verifier = SendgridVerifier::new(&public_key).expect("valid key");

    let error = verifier
        .verify(&signature, TIMESTAMP, b"[]")
        .expect_err("bad signature");
    let message = error.to_string();

    assert!(!message.contains(&signature), "{message}");
    assert!(!message.contains(&public_key), "{message}");
}

#[test]
fn timestamp_within_tolerance() {
    assert_eq!(check_timestamp("1700000000", 1_700_000_300, 300), Ok(()));
    assert_eq!(check_timestamp("1700000300", 1_700_000_000, 300), Ok(()));
}

#[test]
fn timestamp_outside_tolerance() {
    let old = check_timestamp("1700000000", 1_700_000_301, 300).expect_err("old");
    assert_eq!(old.code(), "timestamp_out_of_tolerance");

    let future = check_timestamp("1700000301", 1_700_000_000, 300).expect_err("future");
    assert_eq!(future.code(), "timestamp_out_of_tolerance");
}

#[test]
fn timestamp_not_a_number() {
    assert_eq!(
        check_timestamp("timestamp", 1_700_000_000, 300).map_err(|error| error.code()),
        Err("malformed_signature")
    );
    assert_eq!(
        check_timestamp("", 1_700_000_000, 300).map_err(|error| error.code()),
        Err("missing_header")
    );
}
