//! Stripe signature checks beyond the fixture vectors, and event parsing.
//!
//! The valid header below is the first fixture vector: secret `whsec_test_secret`,
//! timestamp 12345, and the payload of `signature_vectors.json`.

use rekindle_webhooks::stripe::{DEFAULT_TOLERANCE_SECS, parse_event, verify};

use crate::support::{load_fixture, text};

const SECRET: &str = "whsec_test_secret";
const VALID_V1: &str = "07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda";

fn payload() -> String {
    let vectors = load_fixture("signature_vectors.json");
    text(&vectors["stripe_signature"], "payload").to_owned()
}

fn code_of(header: &str, secret: &str, now: i64) -> Result<i64, &'static str> {
    verify(
        secret,
        header,
        payload().as_bytes(),
        now,
        DEFAULT_TOLERANCE_SECS,
    )
    .map(|verified| verified.timestamp)
    .map_err(|error| error.code())
}

#[test]
fn valid_v1_among_several() {
    let other = "a".repeat(64);
    let before = format!("t=12345,v1={other},v1={VALID_V1}");
    let after = format!("t=12345,v1={VALID_V1},v1={other}");
    let with_v0 = format!("t=12345,v0={other},v1={VALID_V1}");

    assert_eq!(code_of(&before, SECRET, 12345), Ok(12345));
    assert_eq!(code_of(&after, SECRET, 12345), Ok(12345));
    assert_eq!(code_of(&with_v0, SECRET, 12345), Ok(12345));
}

#[test]
fn no_matching_v1_fails() {
    let header = format!("t=12345,v1={},v1=zz", "b".repeat(64));

    assert_eq!(code_of(&header, SECRET, 12345), Err("bad_signature"));
}

#[test]
fn wrong_secret_fails() {
    let header = format!("t=12345,v1={VALID_V1}");

    assert_eq!(
        code_of(&header, "whsec_other_secret", 12345),
        Err("bad_signature")
    );
    // The whole secret is the key, so dropping the prefix changes it.
    assert_eq!(code_of(&header, "test_secret", 12345), Err("bad_signature"));
}

#[test]
fn empty_secret_is_rejected() {
    let header = format!("t=12345,v1={VALID_V1}");

    assert_eq!(code_of(&header, "", 12345), Err("not_configured"));
}

#[test]
fn tolerance_boundaries() {
    let header = format!("t=12345,v1={VALID_V1}");

    assert_eq!(code_of(&header, SECRET, 12345 + 300), Ok(12345));
    assert_eq!(
        code_of(&header, SECRET, 12345 + 301),
        Err("timestamp_out_of_tolerance")
    );
    assert_eq!(code_of(&header, SECRET, 12345 - 300), Ok(12345));
    assert_eq!(
        code_of(&header, SECRET, 12345 - 301),
        Err("timestamp_out_of_tolerance")
    );
}

#[test]
fn changed_timestamp_fails() {
    let header = format!("t=12346,v1={VALID_V1}");

    assert_eq!(code_of(&header, SECRET, 12346), Err("bad_signature"));
}

#[test]
fn malformed_headers() {
    assert_eq!(code_of("", SECRET, 12345), Err("missing_header"));
    assert_eq!(
        code_of(&format!("v1={VALID_V1}"), SECRET, 12345),
        Err("malformed_signature")
    );
    assert_eq!(
        code_of(&format!("t=abc,v1={VALID_V1}"), SECRET, 12345),
        Err("malformed_signature")
    );
    assert_eq!(
        code_of(&format!("t=12345,t=12345,v1={VALID_V1}"), SECRET, 12345),
        Err("malformed_signature")
    );
    assert_eq!(
        code_of("t=12345", SECRET, 12345),
        Err("malformed_signature")
    );
}

#[test]
fn error_message_holds_no_secret() {
    let header = format!("t=12345,v1={}", "c".repeat(64));

    let error =
        verify(SECRET, &header, payload().as_bytes(), 12345, 300).expect_err("bad signature");

    assert!(!error.to_string().contains(SECRET), "{error}");
    assert!(!error.to_string().contains(&"c".repeat(64)), "{error}");
}

#[test]
fn event_envelope_parses() {
    // The fixture payload has no `type` or `created`, so it is not a full event.
    let fixture_error = parse_event(payload().as_bytes()).err();
    assert_eq!(
        fixture_error.map(|error| error.code()),
        Some("invalid_json")
    );

    let body = br#"{
      "id": "evt_1PxYz2AbCdEfGh",
      "object": "event",
      "api_version": "2024-06-20",
      "created": 1718000000,
      "livemode": false,
      "type": "invoice.paid",
      "data": {
        "object": { "id": "in_1PxYz2AbCdEfGh", "object": "invoice", "amount_paid": 4900, "currency": "eur" }
      }
    }"#;

    let event = parse_event(body).expect("valid event");

    assert_eq!(event.id, "evt_1PxYz2AbCdEfGh");
    assert_eq!(event.event_type, "invoice.paid");
    assert_eq!(event.created, 1_718_000_000);
    assert!(!event.livemode);
    assert_eq!(event.api_version.as_deref(), Some("2024-06-20"));
    assert_eq!(event.account, None);
    assert_eq!(event.data.object["amount_paid"], 4900);
    assert_eq!(event.data.previous_attributes, None);
}
