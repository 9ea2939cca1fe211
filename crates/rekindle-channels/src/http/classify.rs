//! Classification of HTTP provider failures for the retry policy.

use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;

use crate::ChannelError;

/// A provider's error response, read before it is classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorResponse {
    pub status: StatusCode,
    /// The wait that `Retry-After` asked for, if any.
    pub retry_after: Option<Duration>,
    /// The provider's error text, already passed through
    /// `sanitise_provider_text`. Empty when the body had none.
    pub detail: String,
}

/// Classifies an error status. 429 is rate limited, 408 and 5xx are
/// transient, and 400, 413 and 422 mean the request itself is invalid. 401,
/// 403 and every other status are permanent, because a retry sends the same
/// request with the same credentials.
pub(crate) fn classify_status(provider: &str, response: &ErrorResponse) -> ChannelError {
    let status = response.status;
    let message = if response.detail.is_empty() {
        format!("{provider} returned {status}")
    } else {
        format!("{provider} returned {status}: {}", response.detail)
    };

    match status.as_u16() {
        429 => ChannelError::rate_limited(response.retry_after, message),
        408 | 500..=599 => ChannelError::transient(message),
        400 | 413 | 422 => ChannelError::invalid_input(message),
        401 | 403 => ChannelError::permanent(format!(
            "{message}; check the API credentials and their permissions"
        )),
        _ => ChannelError::permanent(message),
    }
}

/// Classifies a request that got no response: a timeout, a refused or reset
/// connection or a failed TLS handshake. All are transient. The message names
/// the cause chain but never the URL.
pub(crate) fn classify_request_error(
    provider: &str,
    error: &reqwest::Error,
    timeout: Duration,
) -> ChannelError {
    if error.is_timeout() {
        return ChannelError::transient(format!(
            "{provider} request timed out after {} ms",
            timeout.as_millis()
        ));
    }

    let failure = if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    ChannelError::transient(format!("{provider} {failure}: {}", cause_chain(error)))
}

/// Joins the messages of `error` and its sources, without the URL that
/// reqwest adds to its own message.
fn cause_chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push("no further detail".to_owned());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use rekindle_domain::ErrorClass;

    use super::*;

    fn classify(status: u16, retry_after: Option<Duration>) -> ChannelError {
        let response = ErrorResponse {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after,
            detail: "detail text".to_owned(),
        };
        classify_status("SendGrid", &response)
    }

    #[test]
    fn statuses_map_to_classes() {
        let cases = [
            (400, ErrorClass::InvalidInput),
            (401, ErrorClass::Permanent),
            (403, ErrorClass::Permanent),
            (404, ErrorClass::Permanent),
            (408, ErrorClass::Transient),
            (413, ErrorClass::InvalidInput),
            (422, ErrorClass::InvalidInput),
            (429, ErrorClass::RateLimited),
            (500, ErrorClass::Transient),
            (502, ErrorClass::Transient),
            (503, ErrorClass::Transient),
            (301, ErrorClass::Permanent),
        ];
        for (status, class) in cases {
            assert_eq!(classify(status, None).class(), class, "{status}");
        }
    }

    #[test]
    fn rate_limit_keeps_wait() {
        let error = classify(429, Some(Duration::from_secs(7)));
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(
            error.message(),
            "SendGrid returned 429 Too Many Requests: detail text"
        );
    }
}
