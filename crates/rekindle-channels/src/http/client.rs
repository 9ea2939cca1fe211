//! The reqwest client of an HTTP provider and the URL of its endpoint.

use std::time::Duration;

use reqwest::redirect::Policy;
use url::Url;

use crate::TransportConfigError;
use crate::provider_text::is_loopback_host;

/// Default deadline for one provider API request, response body included.
/// It bounds how long a stuck provider blocks a sending job, and the retry
/// policy then decides when to try again.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// Default deadline for the TCP and TLS handshake with a provider API.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a client with both deadlines: `connect_timeout` for the TCP and TLS
/// handshake and `timeout` for the whole request, response body included.
///
/// Redirects are not followed: a provider API that redirects is
/// misconfigured, and following would resend the message and the credentials.
pub(crate) fn build_client(
    provider: &'static str,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, TransportConfigError> {
    if timeout.is_zero() {
        return Err(TransportConfigError::invalid_setting(
            provider,
            "timeout",
            "must be more than zero",
        ));
    }

    reqwest::Client::builder()
        .connect_timeout(connect_timeout.min(timeout))
        .timeout(timeout)
        .redirect(Policy::none())
        .user_agent(concat!("rekindle/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| TransportConfigError::HttpClient {
            provider,
            reason: error.to_string(),
        })
}

/// Joins `path` (which starts with `/`) to `base_url`, keeping any path
/// prefix of the base. The base must be `https`, or `http` to a loopback host
/// (a local mock server), because requests carry the API credentials.
pub(crate) fn api_endpoint(
    provider: &'static str,
    base_url: &Url,
    path: &str,
) -> Result<Url, TransportConfigError> {
    let invalid = |reason: &str| TransportConfigError::InvalidBaseUrl {
        provider,
        url: base_url.to_string(),
        reason: reason.to_owned(),
    };

    let host = base_url
        .host_str()
        .ok_or_else(|| invalid("it has no host"))?;
    match base_url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(invalid(
                "http is allowed only for a loopback host; use https",
            ));
        }
        _ => return Err(invalid("the scheme must be https")),
    }
    if !base_url.username().is_empty() || base_url.password().is_some() {
        return Err(invalid("it must not contain credentials"));
    }
    if base_url.query().is_some() || base_url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }

    let joined = format!("{}{path}", base_url.as_str().trim_end_matches('/'));
    Url::parse(&joined).map_err(|error| invalid(&error.to_string()))
}

/// Reads at most `max_bytes` of the response body, so that an error page of
/// any size costs bounded memory. The client's timeout still applies.
pub(crate) async fn read_body_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = max_bytes - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == max_bytes {
            break;
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(base: &str) -> Result<String, TransportConfigError> {
        api_endpoint("test", &Url::parse(base).unwrap(), "/v3/mail/send").map(String::from)
    }

    #[test]
    fn joins_paths() {
        assert_eq!(
            endpoint("https://api.sendgrid.com").unwrap(),
            "https://api.sendgrid.com/v3/mail/send"
        );
        assert_eq!(
            endpoint("https://proxy.example/sendgrid/").unwrap(),
            "https://proxy.example/sendgrid/v3/mail/send"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8025").unwrap(),
            "http://127.0.0.1:8025/v3/mail/send"
        );
    }

    #[test]
    fn rejects_unsafe_bases() {
        for base in [
            "http://api.sendgrid.com",
            "ftp://api.sendgrid.com",
            "https://user:pass@api.sendgrid.com",
            "https://api.sendgrid.com/?key=x",
        ] {
            let error = endpoint(base).unwrap_err();
            assert!(
                matches!(error, TransportConfigError::InvalidBaseUrl { .. }),
                "{base}: {error}"
            );
        }
    }

    #[test]
    fn zero_timeout_rejected() {
        let error = build_client("test", Duration::from_secs(1), Duration::ZERO).unwrap_err();
        assert!(error.to_string().contains("timeout"), "{error}");
    }
}
