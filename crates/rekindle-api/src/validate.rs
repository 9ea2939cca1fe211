//! Input checks shared by the handlers. Each failure is a 422 that names the
//! field and the accepted form.

use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::{Email, Phone};
use uuid::Uuid;

use crate::problem::ApiError;

/// Most ids accepted in one list (enrollments, bulk actions).
pub const MAX_IDS: usize = 1000;

pub fn email(field: &str, text: &str) -> Result<Email, ApiError> {
    Email::parse(text.trim()).map_err(|error| {
        ApiError::invalid(
            field,
            format!("{field} {text:?} is not a valid email address ({error}); use one such as sales@example.com"),
        )
    })
}

pub fn phone(field: &str, text: &str, region: Option<&str>) -> Result<Phone, ApiError> {
    Phone::parse(text.trim(), region).map_err(|error| {
        ApiError::invalid(
            field,
            format!("{field} {text:?} is not a valid phone number ({error}); use E.164, such as +447700900123"),
        )
    })
}

/// Trims `text` and checks its length in characters.
pub fn text(field: &str, text: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    if length < min || length > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be {min} to {max} characters, got {length}"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(ApiError::invalid(
            field,
            format!("{field} contains control characters; remove them"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Checks an optional text field: `None` and an empty string give `None`.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, 1, max).map(Some),
    }
}

pub fn time_zone(field: &str, text: &str) -> Result<String, ApiError> {
    parse_time_zone(text.trim()).map_err(|_| {
        ApiError::invalid(
            field,
            format!("{field} {text:?} is not an IANA time zone; use one such as Europe/London or America/New_York"),
        )
    })?;
    Ok(text.trim().to_owned())
}

pub fn currency(field: &str, text: &str) -> Result<String, ApiError> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::invalid(
            field,
            format!("{field} {text:?} is not an ISO 4217 code; use one such as GBP, EUR or USD"),
        ));
    }
    Ok(code)
}

pub fn non_negative(field: &str, value: i64) -> Result<i64, ApiError> {
    if value < 0 {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 0 or more, got {value}"),
        ));
    }
    Ok(value)
}

/// Checks an absolute http or https URL.
pub fn web_url(field: &str, text: &str) -> Result<String, ApiError> {
    let parsed = url::Url::parse(text.trim()).map_err(|error| {
        ApiError::invalid(
            field,
            format!("{field} {text:?} is not a URL ({error}); use one such as https://example.com"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be an http or https URL with a host, got {text:?}"),
        ));
    }
    Ok(parsed.to_string())
}

/// Checks the size of an id list.
pub fn id_list(field: &str, ids: &[Uuid]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Err(ApiError::invalid(
            field,
            format!("{field} is empty; send at least one id"),
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(ApiError::invalid(
            field,
            format!(
                "{field} has {} ids; send at most {MAX_IDS} per request",
                ids.len()
            ),
        ));
    }
    Ok(())
}
