//! Email through SendGrid's v3 mail send API (`POST /v3/mail/send`).
//!
//! SendGrid has no idempotency key for mail send, so a job that is retried
//! after SendGrid accepted the message but before we stored the receipt sends
//! it twice. Both copies carry the same `Message-ID`, which lets some mailbox
//! providers collapse them.

mod request;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use chrono::Utc;
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tracing::warn;
use url::Url;

use crate::http::{
    ErrorResponse, api_endpoint, build_client, classify_request_error, classify_status,
    read_body_capped, retry_after,
};
use crate::provider_text::sanitise_provider_text;
use crate::transport::log_email_outcome;
use crate::{
    ChannelError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HTTP_TIMEOUT, EmailOptions, EmailTransport,
    OutboundEmail, SendReceipt, TransportConfigError,
};

pub use request::{CUSTOM_ARG_ACCOUNT_ID, CUSTOM_ARG_MESSAGE_ID};

/// Name reported in `SendReceipt::provider`.
pub const SENDGRID_PROVIDER: &str = "sendgrid";
/// SendGrid's API host for the global region.
pub const SENDGRID_DEFAULT_BASE_URL: &str = "https://api.sendgrid.com";

/// Path of the mail send endpoint under the base URL.
const MAIL_SEND_PATH: &str = "/v3/mail/send";
/// Response header with SendGrid's id of the accepted message. Event webhook
/// `sg_message_id` values start with it.
const MESSAGE_ID_HEADER: &str = "x-message-id";
/// Maximum bytes of an error body read for its message.
const MAX_ERROR_BODY_BYTES: usize = 16 * 1024;

/// Settings of the SendGrid transport. `Debug` shows the API key as
/// `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct SendgridConfig {
    /// API key with the "Mail Send" permission.
    pub api_key: SecretString,
    /// `SENDGRID_DEFAULT_BASE_URL`, or a loopback mock server in tests.
    pub base_url: Url,
    /// Deadline for the whole request, response included.
    pub timeout: Duration,
    /// Deadline for the TCP and TLS handshake, capped at `timeout`.
    pub connect_timeout: Duration,
}

impl SendgridConfig {
    /// Returns the settings for `api_key` with the default URL and timeouts.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            api_key,
            base_url: default_base_url(),
            timeout: DEFAULT_HTTP_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

fn default_base_url() -> Url {
    Url::parse(SENDGRID_DEFAULT_BASE_URL).expect("the default SendGrid URL is a valid constant")
}

/// Sends each email as one mail send request with a plain-text and an HTML
/// part. The receipt's provider id is SendGrid's `X-Message-Id`.
#[derive(Debug, Clone)]
pub struct SendgridTransport {
    client: reqwest::Client,
    endpoint: Url,
    api_key: SecretString,
    timeout: Duration,
}

impl SendgridTransport {
    pub fn new(config: SendgridConfig) -> Result<Self, TransportConfigError> {
        validate_api_key(config.api_key.expose_secret())?;
        let endpoint = api_endpoint(SENDGRID_PROVIDER, &config.base_url, MAIL_SEND_PATH)?;
        let client = build_client(SENDGRID_PROVIDER, config.connect_timeout, config.timeout)?;

        Ok(Self {
            client,
            endpoint,
            api_key: config.api_key,
            timeout: config.timeout,
        })
    }

    /// Returns the URL that requests go to.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    async fn send(
        &self,
        email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        email.validate()?;
        options.validate()?;
        let body = request::mail_send_body(email, options)?;

        let response = self
            .client
            .post(self.endpoint.clone())
            .bearer_auth(self.api_key.expose_secret())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| classify_request_error("SendGrid", &error, self.timeout))?;

        if !response.status().is_success() {
            return Err(error_from_response(response).await);
        }
        Ok(receipt(email, &response))
    }
}

/// An API key goes into the `Authorization` header, so it must be visible
/// ASCII. SendGrid keys look like `SG.<id>.<secret>`.
fn validate_api_key(api_key: &str) -> Result<(), TransportConfigError> {
    if api_key.is_empty() {
        return Err(TransportConfigError::invalid_setting(
            SENDGRID_PROVIDER,
            "api_key",
            "is empty",
        ));
    }
    if !api_key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(TransportConfigError::invalid_setting(
            SENDGRID_PROVIDER,
            "api_key",
            "contains a space, control character or non-ASCII character",
        ));
    }
    Ok(())
}

/// Builds the receipt from an accepted response. SendGrid has accepted the
/// message at this point, so a missing `X-Message-Id` must not fail the send
/// (a retry would send it again): the receipt then carries our message id,
/// which the events still quote in `custom_args`.
fn receipt(email: &OutboundEmail, response: &reqwest::Response) -> SendReceipt {
    let header = response
        .headers()
        .get(MESSAGE_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty());

    let provider_message_id = match header {
        Some(id) => id.to_owned(),
        None => {
            warn!(
                message_id = %email.message_id,
                status = response.status().as_u16(),
                "SendGrid accepted the email without an X-Message-Id header; storing our message id"
            );
            email.message_id.to_string()
        }
    };

    SendReceipt {
        provider: SENDGRID_PROVIDER,
        provider_message_id,
        accepted_at: Utc::now(),
    }
}

/// SendGrid's error body: `{"errors": [{"message": ..., "field": ...}]}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
struct ErrorItem {
    message: Option<String>,
    field: Option<String>,
}

async fn error_from_response(response: reqwest::Response) -> ChannelError {
    let status = response.status();
    let wait = retry_after(response.headers(), SystemTime::now());

    // A body that cannot be read in time leaves the status to decide.
    let body = read_body_capped(response, MAX_ERROR_BODY_BYTES)
        .await
        .unwrap_or_default();

    let error = ErrorResponse {
        status,
        retry_after: wait,
        detail: error_detail(&body),
    };
    classify_status("SendGrid", &error)
}

/// Joins SendGrid's error messages, each with the field it names. Only the
/// parsed messages are kept, never the raw body.
fn error_detail(body: &[u8]) -> String {
    let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
        return String::new();
    };

    let messages: Vec<String> = parsed
        .errors
        .iter()
        .filter_map(|item| {
            let message = item.message.as_deref()?;
            Some(match item.field.as_deref() {
                Some(field) => format!("{message} (field {field})"),
                None => message.to_owned(),
            })
        })
        .collect();
    sanitise_provider_text(&messages.join("; "))
}

#[async_trait]
impl EmailTransport for SendgridTransport {
    async fn send_email(&self, email: &OutboundEmail) -> Result<SendReceipt, ChannelError> {
        self.send_email_with(email, &EmailOptions::default()).await
    }

    async fn send_email_with(
        &self,
        email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        let result = self.send(email, options).await;
        log_email_outcome(SENDGRID_PROVIDER, email, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_detail_keeps_messages_and_fields() {
        let body = br#"{"errors":[{"message":"The from email does not contain a valid address.","field":"from.email","help":null},{"message":"Bad header"}]}"#;
        assert_eq!(
            error_detail(body),
            "The from email does not contain a valid address. (field from.email); Bad header"
        );
    }

    #[test]
    fn error_detail_of_non_json_is_empty() {
        assert_eq!(error_detail(b"<html>Bad Gateway</html>"), "");
        assert_eq!(error_detail(b""), "");
    }

    #[test]
    fn api_key_checked() {
        assert!(validate_api_key("").is_err());
        assert!(validate_api_key("SG.abc def").is_err());
        assert!(validate_api_key("SG.abc\n").is_err());
        assert!(validate_api_key("SG.abc.def").is_ok());
    }

    #[test]
    fn debug_redacts_api_key() {
        let config = SendgridConfig::new(SecretString::from("SG.very-secret-key"));
        let text = format!("{config:?}");
        assert!(!text.contains("very-secret"), "{text}");

        let transport = SendgridTransport::new(config).unwrap();
        let text = format!("{transport:?}");
        assert!(!text.contains("very-secret"), "{text}");
    }
}
