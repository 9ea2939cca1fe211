//! Basic auth and URL secret checks of the inbound email webhook.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rekindle_webhooks::inbound::{check_basic_auth, check_url_secret};

const USER: &str = "sendgrid-inbound";
const PASSWORD: &str = "c0rrect-h0rse-battery";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn code(result: Result<(), rekindle_webhooks::VerifyError>) -> Result<(), &'static str> {
    result.map_err(|error| error.code())
}

#[test]
fn right_credentials_pass() {
    assert_eq!(
        code(check_basic_auth(&basic(USER, PASSWORD), USER, PASSWORD)),
        Ok(())
    );
}

#[test]
fn scheme_is_case_insensitive() {
    let header = basic(USER, PASSWORD).replace("Basic", "basic");

    assert_eq!(code(check_basic_auth(&header, USER, PASSWORD)), Ok(()));
}

#[test]
fn password_may_contain_colons() {
    let password = "with:colon";

    assert_eq!(
        code(check_basic_auth(&basic(USER, password), USER, password)),
        Ok(())
    );
}

#[test]
fn wrong_password_fails() {
    let result = check_basic_auth(&basic(USER, "c0rrect-h0rse-batterx"), USER, PASSWORD);

    assert_eq!(code(result), Err("bad_credentials"));
}

#[test]
fn wrong_user_fails() {
    let result = check_basic_auth(&basic("sendgrid", PASSWORD), USER, PASSWORD);

    assert_eq!(code(result), Err("bad_credentials"));
}

#[test]
fn missing_header_fails() {
    assert_eq!(
        code(check_basic_auth("", USER, PASSWORD)),
        Err("missing_header")
    );
    assert_eq!(
        code(check_basic_auth("   ", USER, PASSWORD)),
        Err("missing_header")
    );
}

#[test]
fn malformed_headers_fail() {
    let bearer = format!("Bearer {}", STANDARD.encode(format!("{USER}:{PASSWORD}")));
    let not_base64 = "Basic %%%";
    let no_colon = format!("Basic {}", STANDARD.encode(format!("{USER}{PASSWORD}")));

    assert_eq!(
        code(check_basic_auth(&bearer, USER, PASSWORD)),
        Err("bad_credentials")
    );
    assert_eq!(
        code(check_basic_auth(not_base64, USER, PASSWORD)),
        Err("bad_credentials")
    );
    assert_eq!(
        code(check_basic_auth(&no_colon, USER, PASSWORD)),
        Err("bad_credentials")
    );
    assert_eq!(
        code(check_basic_auth("Basic", USER, PASSWORD)),
        Err("bad_credentials")
    );
}

#[test]
fn unconfigured_credentials_reject() {
    // Empty expected credentials must not accept an empty user and password.
    assert_eq!(
        code(check_basic_auth(&basic("", ""), "", "")),
        Err("not_configured")
    );
    assert_eq!(
        code(check_basic_auth(&basic(USER, ""), USER, "")),
        Err("not_configured")
    );
}

#[test]
fn error_message_holds_no_password() {
    let error = check_basic_auth(&basic(USER, "guess"), USER, PASSWORD).expect_err("wrong");

    assert!(!error.to_string().contains(PASSWORD), "{error}");
    assert!(!error.to_string().contains("guess"), "{error}");
}

#[test]
fn url_secret_checks() {
    let secret = "b3f1c2d4e5a6978812ab34cd56ef7890";

    assert_eq!(code(check_url_secret(secret, secret)), Ok(()));
    assert_eq!(
        code(check_url_secret("b3f1c2d4e5a6978812ab34cd56ef7891", secret)),
        Err("bad_credentials")
    );
    assert_eq!(
        code(check_url_secret("b3f1", secret)),
        Err("bad_credentials")
    );
    assert_eq!(code(check_url_secret("", secret)), Err("bad_credentials"));
    assert_eq!(code(check_url_secret("", "")), Err("not_configured"));
}
