//! Every provider test vector of `tests/fixtures/signature_vectors.json`, run
//! through the crate's functions with the expected result as given in the file.
//! Where a vector is expected to fail, the tables below add which error it must
//! fail with.

use rekindle_webhooks::{VerifyError, sendgrid, stripe, twilio};
use serde_json::Value;

use crate::support::{flag, flip_byte, integer, load_fixture, text};

fn vectors() -> Value {
    load_fixture("signature_vectors.json")
}

/// Asserts that `result` agrees with the fixture's `expected`, and that a
/// failure carries `expected_code`.
fn assert_outcome<T: std::fmt::Debug>(
    label: &str,
    result: Result<T, VerifyError>,
    expected: bool,
    expected_code: Option<&str>,
) {
    match (&result, expected) {
        (Ok(_), true) => {}
        (Err(error), false) => {
            let code = expected_code.unwrap_or_else(|| panic!("{label}: no expected code listed"));
            assert_eq!(error.code(), code, "{label}: wrong error {error}");
        }
        _ => panic!("{label}: expected success {expected}, got {result:?}"),
    }
}

#[test]
fn sendgrid_valid_vector_passes() {
    let vector = &vectors()["sendgrid_event_webhook"];

    let result = sendgrid::verify_event_webhook(
        text(vector, "public_key"),
        text(vector, "signature"),
        text(vector, "timestamp"),
        text(vector, "payload").as_bytes(),
    );

    assert_outcome("sendgrid valid", result, flag(vector, "expected"), None);
}

#[test]
fn sendgrid_negative_vectors_fail() {
    let vector = &vectors()["sendgrid_event_webhook"];
    let cases = vector["negative_cases"].as_array().expect("negative_cases");
    assert_eq!(cases.len(), 4, "the fixture lists four negative cases");

    for case in cases {
        let change = text(case, "change");
        let mut public_key = text(vector, "public_key");
        let mut signature = text(vector, "signature");
        let mut timestamp = text(vector, "timestamp");
        let mut payload = text(vector, "payload");
        match change {
            "public_key" => public_key = text(case, "value"),
            "signature" => signature = text(case, "value"),
            "timestamp" => timestamp = text(case, "value"),
            "payload" => payload = text(case, "value"),
            other => panic!("unknown change {other}"),
        }

        let result =
            sendgrid::verify_event_webhook(public_key, signature, timestamp, payload.as_bytes());

        // Each changed input is still well formed, so the signature simply does
        // not match.
        assert_outcome(
            &format!("sendgrid change {change}"),
            result,
            flag(case, "expected"),
            Some("bad_signature"),
        );
    }
}

#[test]
fn sendgrid_vector_one_changed_byte_fails() {
    let vector = &vectors()["sendgrid_event_webhook"];
    let payload = text(vector, "payload").as_bytes();
    let verifier = sendgrid::SendgridVerifier::new(text(vector, "public_key")).expect("valid key");

    for index in [0, payload.len() / 2, payload.len() - 1] {
        let changed = flip_byte(payload, index);
        let result = verifier.verify(
            text(vector, "signature"),
            text(vector, "timestamp"),
            &changed,
        );
        assert_eq!(
            result,
            Err(VerifyError::BadSignature),
            "byte {index} changed"
        );
    }

    let mut with_newline = payload.to_vec();
    with_newline.push(b'\n');
    let result = verifier.verify(
        text(vector, "signature"),
        text(vector, "timestamp"),
        &with_newline,
    );
    assert_eq!(
        result,
        Err(VerifyError::BadSignature),
        "trailing newline added"
    );
}

fn twilio_params(case: &Value) -> Vec<(String, String)> {
    match &case["params"] {
        Value::Object(map) => map
            .iter()
            .map(|(name, value)| {
                (
                    name.clone(),
                    value.as_str().expect("string value").to_owned(),
                )
            })
            .collect(),
        Value::Array(pairs) => pairs
            .iter()
            .map(|pair| {
                let name = pair[0].as_str().expect("parameter name");
                let value = pair[1].as_str().expect("parameter value");
                (name.to_owned(), value.to_owned())
            })
            .collect(),
        other => panic!("unexpected params {other}"),
    }
}

#[test]
fn twilio_vectors_match_expected() {
    let vectors = vectors();
    let section = &vectors["twilio_request_validation"];
    let auth_token = text(section, "auth_token");
    let cases = section["cases"].as_array().expect("cases");

    // Error expected for each case that the fixture marks as failing, by index.
    // "NOTRSOYD...B8=" has 31 characters, which is not valid padded base64.
    // "FAIL" decodes to three bytes, which cannot equal a 20-byte HMAC-SHA1.
    let expected_codes = [
        None,
        Some("malformed_signature"),
        Some("bad_signature"),
        None,
        None,
        None,
        None,
        None,
        None,
    ];
    assert_eq!(
        cases.len(),
        expected_codes.len(),
        "one expected code per case"
    );

    for (index, (case, expected_code)) in cases.iter().zip(expected_codes).enumerate() {
        let result = twilio::verify_request(
            auth_token,
            text(case, "url"),
            &twilio_params(case),
            text(case, "signature"),
        );
        assert_outcome(
            &format!("twilio case {index}"),
            result,
            flag(case, "expected"),
            expected_code,
        );
    }
}

#[test]
fn twilio_vector_one_changed_byte_fails() {
    let vectors = vectors();
    let section = &vectors["twilio_request_validation"];
    let case = &section["cases"][0];
    let mut params = twilio_params(case);
    params[0].1.push('0');

    let result = twilio::verify_request(
        text(section, "auth_token"),
        text(case, "url"),
        &params,
        text(case, "signature"),
    );
    assert_eq!(result, Err(VerifyError::BadSignature));

    let changed_url = text(case, "url").replace("foo=1", "foo=2");
    let result = twilio::verify_request(
        text(section, "auth_token"),
        &changed_url,
        &twilio_params(case),
        text(case, "signature"),
    );
    assert_eq!(result, Err(VerifyError::BadSignature));
}

#[test]
fn twilio_vector_through_form_body() {
    let vectors = vectors();
    let section = &vectors["twilio_request_validation"];
    let case = &section["cases"][3];

    // The repeated `Digits` case, encoded as Twilio would post it.
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in twilio_params(case) {
        serializer.append_pair(&name, &value);
    }
    let body = serializer.finish();

    let params = twilio::parse_form(body.as_bytes());
    let result = twilio::verify_request(
        text(section, "auth_token"),
        text(case, "url"),
        &params,
        text(case, "signature"),
    );
    assert_eq!(result, Ok(()));
}

#[test]
fn stripe_vectors_match_expected() {
    let vectors = vectors();
    let section = &vectors["stripe_signature"];
    let secret = text(section, "secret");
    let payload = text(section, "payload").as_bytes();
    let cases = section["cases"].as_array().expect("cases");

    let expected_codes = [
        None,
        Some("timestamp_out_of_tolerance"),
        None,
        Some("malformed_signature"),
        Some("malformed_signature"),
    ];
    assert_eq!(
        cases.len(),
        expected_codes.len(),
        "one expected code per case"
    );

    for (index, (case, expected_code)) in cases.iter().zip(expected_codes).enumerate() {
        let result = stripe::verify(
            secret,
            text(case, "header"),
            payload,
            integer(case, "now"),
            integer(case, "tolerance_s"),
        );
        if let Ok(header) = &result {
            assert_eq!(header.timestamp, 12345, "stripe case {index}");
        }
        assert_outcome(
            &format!("stripe case {index}"),
            result,
            flag(case, "expected"),
            expected_code,
        );
    }
}

#[test]
fn stripe_vector_one_changed_byte_fails() {
    let vectors = vectors();
    let section = &vectors["stripe_signature"];
    let payload = text(section, "payload").as_bytes();
    let case = &section["cases"][0];

    let changed = flip_byte(payload, payload.len() / 2);
    let result = stripe::verify(
        text(section, "secret"),
        text(case, "header"),
        &changed,
        12345,
        300,
    );
    assert_eq!(result, Err(VerifyError::BadSignature));

    let mut with_newline = payload.to_vec();
    with_newline.push(b'\n');
    let result = stripe::verify(
        text(section, "secret"),
        text(case, "header"),
        &with_newline,
        12345,
        300,
    );
    assert_eq!(result, Err(VerifyError::BadSignature));
}

#[test]
fn stripe_vector_reserialised_json_fails() {
    let vectors = vectors();
    let section = &vectors["stripe_signature"];
    let payload = text(section, "payload");
    let case = &section["cases"][0];

    let reserialised = serde_json::to_vec(&serde_json::from_str::<Value>(payload).expect("JSON"))
        .expect("serialise");
    assert_ne!(reserialised, payload.as_bytes());

    let result = stripe::verify(
        text(section, "secret"),
        text(case, "header"),
        &reserialised,
        12345,
        300,
    );
    assert_eq!(result, Err(VerifyError::BadSignature));
}

#[test]
fn twilio_body_vector_passes() {
    let vector = load_fixture("twilio_body_vector.json");

    let result = twilio::verify_json_request(
        text(&vector, "auth_token"),
        text(&vector, "url"),
        text(&vector, "body").as_bytes(),
        text(&vector, "signature"),
    );

    assert_outcome("twilio body", result, flag(&vector, "expected"), None);
}

#[test]
fn twilio_body_vector_changed_body_fails() {
    let vector = load_fixture("twilio_body_vector.json");
    let body = text(&vector, "body").as_bytes();

    let changed = flip_byte(body, 3);
    let result = twilio::verify_json_request(
        text(&vector, "auth_token"),
        text(&vector, "url"),
        &changed,
        text(&vector, "signature"),
    );

    assert_eq!(
        result.map_err(|error| error.code()),
        Err("body_hash_mismatch")
    );
}

#[test]
fn twilio_body_vector_changed_hash_fails() {
    let vector = load_fixture("twilio_body_vector.json");
    let url = text(&vector, "url");
    let digest = text(&vector, "body_sha256");
    assert!(
        url.ends_with(digest),
        "the fixture URL ends with the digest"
    );

    // A forger who swaps the digest for the one of another body breaks the
    // signature, because the signature covers the URL.
    let other_body = b"{\"property\": \"other\"}";
    let other_digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(other_body));
    let forged_url = url.replace(digest, &other_digest);
    let result = twilio::verify_json_request(
        text(&vector, "auth_token"),
        &forged_url,
        other_body,
        text(&vector, "signature"),
    );

    assert_eq!(result, Err(VerifyError::BadSignature));
}
