//! The HTTP side shared by both wire formats: the client with its timeouts,
//! endpoint URLs, sending a JSON request and classifying the response.

use std::time::{Duration, SystemTime};

use rekindle_domain::ErrorClass;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::redirect::Policy;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use url::Url;

use crate::error::{LlmError, LlmSetupError};

/// Deadline for the TCP and TLS handshake, within the request timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response body read. An LLM reply of a few thousand tokens is far
/// smaller, so this only bounds memory for a misbehaving server.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most characters of a provider's error message kept in an error.
const MAX_ERROR_MESSAGE_CHARS: usize = 300;

/// Builds a client whose every request times out after `timeout`, body
/// included. Redirects are not followed, because following one would resend
/// the prompt and the API key to another address.
pub(crate) fn build_client(timeout: Duration) -> Result<reqwest::Client, LlmSetupError> {
    if timeout.is_zero() {
        return Err(LlmSetupError::InvalidSetting {
            key: "timeout_seconds",
            reason: "must be more than zero".into(),
        });
    }
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(Policy::none())
        .user_agent(concat!("rekindle/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| LlmSetupError::HttpClient {
            reason: error.to_string(),
        })
}

/// Joins `path` to the base URL, keeping the base's own path (`/v1`).
///
/// The base must be `https`, or `http` to a loopback host or when no API key
/// is sent (a model server on a private network), so that a key never
/// travels in clear text.
pub(crate) fn endpoint(base_url: &str, path: &str, sends_key: bool) -> Result<Url, LlmSetupError> {
    let invalid = |reason: &str| LlmSetupError::InvalidBaseUrl {
        url: base_url.to_owned(),
        reason: reason.to_owned(),
    };
    let base = Url::parse(base_url).map_err(|error| invalid(&error.to_string()))?;
    let host = base.host_str().ok_or_else(|| invalid("it has no host"))?;

    match base.scheme() {
        "https" => {}
        "http" if !sends_key || is_loopback(host) => {}
        "http" => {
            return Err(invalid(
                "http sends the API key in clear text; use https, or http only to a loopback host",
            ));
        }
        _ => return Err(invalid("the scheme must be https or http")),
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(invalid("it must not contain credentials"));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }

    let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
    Url::parse(&joined).map_err(|error| invalid(&error.to_string()))
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// Sends a request and returns the parsed JSON body of a successful
/// response, or the classified error.
pub(crate) async fn send_json(
    provider: &'static str,
    request: RequestBuilder,
    timeout: Duration,
) -> Result<Value, LlmError> {
    let response = request
        .send()
        .await
        .map_err(|error| request_error(provider, &error, timeout))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = read_body_capped(response)
        .await
        .map_err(|error| request_error(provider, &error, timeout))?;

    if !status.is_success() {
        return Err(status_error(provider, status, &headers, &body));
    }
    serde_json::from_slice(&body).map_err(|error| LlmError::InvalidResponse {
        provider,
        message: format!("body is not JSON: {error}"),
    })
}

async fn read_body_capped(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_BODY_BYTES {
            break;
        }
    }
    Ok(body)
}

/// Classifies a failure to send or to read the response.
fn request_error(provider: &'static str, error: &reqwest::Error, timeout: Duration) -> LlmError {
    if error.is_timeout() {
        return LlmError::Timeout { provider, timeout };
    }
    // The error's text names the URL but never the headers, so no key leaks.
    LlmError::Connection {
        provider,
        message: error.to_string(),
    }
}

/// Classifies an unsuccessful status. 429 is rate limited. 408, 409 and
/// every 5xx (Anthropic's 529 "overloaded" included) are transient. Any
/// other 4xx is permanent, because the same request would fail again.
pub(crate) fn status_error(
    provider: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> LlmError {
    let retry_after = retry_after(headers);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return LlmError::RateLimited {
            provider,
            retry_after,
        };
    }
    let class = match status.as_u16() {
        408 | 409 | 500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    };
    LlmError::Status {
        provider,
        status: status.as_u16(),
        message: error_message(body),
        class,
        retry_after,
    }
}

/// Extracts `error.message` from both providers' error bodies, else the
/// start of the body.
fn error_message(body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| {
            value
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let single_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if single_line.is_empty() {
        return "no error message".into();
    }
    single_line.chars().take(MAX_ERROR_MESSAGE_CHARS).collect()
}

/// Reads `Retry-After` (RFC 9110, section 10.2.3): seconds, or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn joins_paths_and_keeps_prefix() {
        let url = endpoint("https://api.openai.com/v1/", "/chat/completions", true).unwrap();
        assert_eq!(url.as_str(), "https://api.openai.com/v1/chat/completions");
        let url = endpoint("http://127.0.0.1:11434/v1", "/chat/completions", true).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:11434/v1/chat/completions");
    }

    #[test]
    fn http_without_key_is_allowed() {
        assert!(endpoint("http://vllm.internal:8000/v1", "/chat/completions", false).is_ok());
    }

    #[test]
    fn rejects_unsafe_bases() {
        for base in [
            "http://api.openai.com/v1",
            "ftp://api.openai.com",
            "https://user:pass@api.openai.com",
            "https://api.openai.com/v1?key=x",
            "not a url",
        ] {
            let error = endpoint(base, "/chat/completions", true).unwrap_err();
            assert!(
                matches!(error, LlmSetupError::InvalidBaseUrl { .. }),
                "{base}: {error}"
            );
        }
    }

    #[test]
    fn classifies_statuses() {
        let headers = HeaderMap::new();
        let class = |status: u16| {
            status_error(
                "openai",
                StatusCode::from_u16(status).unwrap(),
                &headers,
                b"",
            )
            .class()
        };
        assert_eq!(class(429), ErrorClass::RateLimited);
        for status in [408, 500, 502, 503, 504, 529] {
            assert_eq!(class(status), ErrorClass::Transient, "{status}");
        }
        for status in [400, 401, 403, 404, 422] {
            assert_eq!(class(status), ErrorClass::Permanent, "{status}");
        }
    }

    #[test]
    fn reads_retry_after_and_message() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        let body =
            br#"{"type":"error","error":{"type":"rate_limit_error","message":"Slow   down"}}"#;
        let error = status_error("anthropic", StatusCode::TOO_MANY_REQUESTS, &headers, body);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));

        let error = status_error("anthropic", StatusCode::BAD_REQUEST, &headers, body);
        assert!(error.to_string().contains("HTTP 400: Slow down"), "{error}");
    }

    #[test]
    fn retry_after_accepts_dates() {
        let mut headers = HeaderMap::new();
        let later = SystemTime::now() + Duration::from_secs(120);
        let value = HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap();
        headers.insert(RETRY_AFTER, value);
        let wait = retry_after(&headers).unwrap();
        assert!((Duration::from_secs(100)..=Duration::from_secs(120)).contains(&wait));
    }

    #[test]
    fn zero_timeout_rejected() {
        assert!(build_client(Duration::ZERO).is_err());
    }
}
