//! SMS and WhatsApp through Twilio's Messages API
//! (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`).
//!
//! Twilio has no idempotency key for creating a message, so a job that is
//! retried after Twilio accepted the message but before we stored the receipt
//! sends it twice.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use chrono::Utc;
use rekindle_domain::Phone;
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
use crate::transport::log_sms_outcome;
use crate::{
    ChannelError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HTTP_TIMEOUT, OutboundSms, SendReceipt,
    SmsTransport, TransportConfigError,
};

/// Name reported in `SendReceipt::provider`, for SMS and WhatsApp alike.
pub const TWILIO_PROVIDER: &str = "twilio";
/// Twilio's REST API host.
pub const TWILIO_DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// Twilio error 21610: the recipient replied STOP to this sender.
pub const TWILIO_ERROR_UNSUBSCRIBED: u32 = 21610;
/// Twilio error 21211: the `To` number is not a valid phone number.
pub const TWILIO_ERROR_INVALID_TO: u32 = 21211;

/// Maximum bytes of a response body read, for the `sid` or an error message.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Prefix that makes a number a WhatsApp address in Twilio's API.
const WHATSAPP_PREFIX: &str = "whatsapp:";

/// Sender of Twilio messages: the number, or the service that picks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioSender {
    /// The `from` number of each `OutboundSms`.
    MessageFrom,
    /// This number, whatever the message's `from`.
    Number(Phone),
    /// A Messaging Service (`MG` followed by 32 hex digits), which picks the
    /// number from its sender pool. The message's `from` is not sent.
    MessagingService(String),
}

/// The channel a `TwilioTransport` sends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwilioChannel {
    Sms,
    /// WhatsApp: both numbers are sent as `whatsapp:+<E.164>`.
    Whatsapp,
}

/// Settings of the Twilio transport. `Debug` shows the auth token as
/// `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// `AC` followed by 32 hex digits.
    pub account_sid: String,
    pub auth_token: SecretString,
    pub sender: TwilioSender,
    /// URL that Twilio posts delivery status changes to, sent with every
    /// message.
    pub status_callback_url: Option<Url>,
    /// `TWILIO_DEFAULT_BASE_URL`, or a loopback mock server in tests.
    pub base_url: Url,
    /// Deadline for the whole request, response included.
    pub timeout: Duration,
    /// Deadline for the TCP and TLS handshake, capped at `timeout`.
    pub connect_timeout: Duration,
}

impl TwilioConfig {
    /// Returns the settings with no status callback and the default URL and
    /// timeouts.
    pub fn new(
        account_sid: impl Into<String>,
        auth_token: SecretString,
        sender: TwilioSender,
    ) -> Self {
        Self {
            account_sid: account_sid.into(),
            auth_token,
            sender,
            status_callback_url: None,
            base_url: default_base_url(),
            timeout: DEFAULT_HTTP_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

fn default_base_url() -> Url {
    Url::parse(TWILIO_DEFAULT_BASE_URL).expect("the default Twilio URL is a valid constant")
}

/// Sends each `OutboundSms` as one Twilio message, over SMS or WhatsApp. The
/// receipt's provider id is Twilio's message `sid` (`SM...` or `MM...`).
#[derive(Debug, Clone)]
pub struct TwilioTransport {
    client: reqwest::Client,
    endpoint: Url,
    account_sid: String,
    auth_token: SecretString,
    sender: TwilioSender,
    status_callback_url: Option<Url>,
    channel: TwilioChannel,
    timeout: Duration,
}

impl TwilioTransport {
    /// Builds a transport that sends SMS.
    pub fn new(config: TwilioConfig) -> Result<Self, TransportConfigError> {
        Self::for_channel(config, TwilioChannel::Sms)
    }

    /// Builds a transport that sends WhatsApp messages. The sender number
    /// must be enabled for WhatsApp in the Twilio account.
    pub fn new_whatsapp(config: TwilioConfig) -> Result<Self, TransportConfigError> {
        Self::for_channel(config, TwilioChannel::Whatsapp)
    }

    fn for_channel(
        config: TwilioConfig,
        channel: TwilioChannel,
    ) -> Result<Self, TransportConfigError> {
        validate_sid("account_sid", "AC", &config.account_sid)?;
        if let TwilioSender::MessagingService(sid) = &config.sender {
            validate_sid("sender", "MG", sid)?;
        }
        validate_auth_token(config.auth_token.expose_secret())?;
        if let Some(url) = &config.status_callback_url {
            validate_callback_url(url)?;
        }

        let path = format!("/2010-04-01/Accounts/{}/Messages.json", config.account_sid);
        let endpoint = api_endpoint(TWILIO_PROVIDER, &config.base_url, &path)?;
        let client = build_client(TWILIO_PROVIDER, config.connect_timeout, config.timeout)?;

        Ok(Self {
            client,
            endpoint,
            account_sid: config.account_sid,
            auth_token: config.auth_token,
            sender: config.sender,
            status_callback_url: config.status_callback_url,
            channel,
            timeout: config.timeout,
        })
    }

    pub fn channel(&self) -> TwilioChannel {
        self.channel
    }

    /// Returns the URL that requests go to.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    async fn send(&self, sms: &OutboundSms) -> Result<SendReceipt, ChannelError> {
        sms.validate()?;
        let body = self.form_body(sms);

        let response = self
            .client
            .post(self.endpoint.clone())
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|error| classify_request_error("Twilio", &error, self.timeout))?;

        if !response.status().is_success() {
            return Err(error_from_response(response).await);
        }
        Ok(receipt(sms, response).await)
    }

    /// Encodes the form: `To`, then `From` or `MessagingServiceSid`, `Body`
    /// and `StatusCallback`.
    fn form_body(&self, sms: &OutboundSms) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("To", &self.address(&sms.to));

        match &self.sender {
            TwilioSender::MessageFrom => {
                form.append_pair("From", &self.address(&sms.from));
            }
            TwilioSender::Number(number) => {
                form.append_pair("From", &self.address(number));
            }
            TwilioSender::MessagingService(sid) => {
                form.append_pair("MessagingServiceSid", sid);
            }
        }

        form.append_pair("Body", &sms.body);
        if let Some(url) = &self.status_callback_url {
            form.append_pair("StatusCallback", url.as_str());
        }
        form.finish()
    }

    /// Returns the number as Twilio expects it on this channel.
    fn address(&self, phone: &Phone) -> String {
        match self.channel {
            TwilioChannel::Sms => phone.as_str().to_owned(),
            TwilioChannel::Whatsapp => format!("{WHATSAPP_PREFIX}{}", phone.as_str()),
        }
    }
}

/// Checks a Twilio SID: a two-letter prefix and 32 hex digits.
fn validate_sid(field: &'static str, prefix: &str, sid: &str) -> Result<(), TransportConfigError> {
    let digits = sid.strip_prefix(prefix).unwrap_or_default();
    let valid = digits.len() == 32 && digits.bytes().all(|byte| byte.is_ascii_hexdigit());
    if valid {
        return Ok(());
    }
    Err(TransportConfigError::invalid_setting(
        TWILIO_PROVIDER,
        field,
        format!("expected {prefix} followed by 32 hex digits"),
    ))
}

fn validate_auth_token(token: &str) -> Result<(), TransportConfigError> {
    if token.is_empty() || !token.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(TransportConfigError::invalid_setting(
            TWILIO_PROVIDER,
            "auth_token",
            "must be non-empty visible ASCII",
        ));
    }
    Ok(())
}

fn validate_callback_url(url: &Url) -> Result<(), TransportConfigError> {
    let is_web = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    if is_web {
        return Ok(());
    }
    Err(TransportConfigError::invalid_setting(
        TWILIO_PROVIDER,
        "status_callback_url",
        "must be an absolute http or https URL",
    ))
}

/// The part of Twilio's message resource that we read.
#[derive(Debug, Deserialize)]
struct MessageResource {
    sid: Option<String>,
}

/// Builds the receipt from an accepted response. Twilio has accepted the
/// message at this point, so a body without a `sid` must not fail the send
/// (a retry would send it again): the receipt then carries our message id.
async fn receipt(sms: &OutboundSms, response: reqwest::Response) -> SendReceipt {
    let status = response.status();
    let body = read_body_capped(response, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let sid = serde_json::from_slice::<MessageResource>(&body)
        .ok()
        .and_then(|resource| resource.sid)
        .filter(|sid| !sid.is_empty());

    let provider_message_id = match sid {
        Some(sid) => sid,
        None => {
            warn!(
                message_id = %sms.message_id,
                status = status.as_u16(),
                "Twilio accepted the message without a readable sid; storing our message id"
            );
            sms.message_id.to_string()
        }
    };

    SendReceipt {
        provider: TWILIO_PROVIDER,
        provider_message_id,
        accepted_at: Utc::now(),
    }
}

/// Twilio's error body: `{"code": 21211, "message": "...", "status": 400}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<u32>,
    message: Option<String>,
}

async fn error_from_response(response: reqwest::Response) -> ChannelError {
    let status = response.status();
    let wait = retry_after(response.headers(), SystemTime::now());

    // A body that cannot be read in time leaves the status to decide.
    let body = read_body_capped(response, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let parsed = serde_json::from_slice::<ErrorBody>(&body).ok();
    let code = parsed.as_ref().and_then(|body| body.code);
    let message = parsed.and_then(|body| body.message).unwrap_or_default();

    let detail = match code {
        Some(code) => format!("error {code}: {}", sanitise_provider_text(&message)),
        None => sanitise_provider_text(&message),
    };
    let error = ErrorResponse {
        status,
        retry_after: wait,
        detail,
    };
    classify_twilio_error(code, &error)
}

/// Classifies by Twilio's error code where it decides more than the status:
/// an unsubscribed recipient is permanent for this number, and an invalid
/// number is invalid input. Other errors follow the HTTP status.
fn classify_twilio_error(code: Option<u32>, response: &ErrorResponse) -> ChannelError {
    let status = response.status;
    let detail = &response.detail;
    match code {
        Some(TWILIO_ERROR_UNSUBSCRIBED) => ChannelError::permanent(format!(
            "Twilio returned {status}: {detail}; the recipient has opted out of messages from this sender"
        )),
        Some(TWILIO_ERROR_INVALID_TO) => ChannelError::invalid_input(format!(
            "Twilio returned {status}: {detail}; the recipient number is invalid"
        )),
        _ => classify_status("Twilio", response),
    }
}

#[async_trait]
impl SmsTransport for TwilioTransport {
    async fn send_sms(&self, sms: &OutboundSms) -> Result<SendReceipt, ChannelError> {
        let result = self.send(sms).await;
        log_sms_outcome(TWILIO_PROVIDER, sms, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn sids_checked() {
        assert!(validate_sid("account_sid", "AC", ACCOUNT_SID).is_ok());
        for bad in [
            "",
            "AC",
            "AC0123456789abcdef0123456789abcde",
            "MG0123456789abcdef0123456789abcdef",
            "AC0123456789abcdef0123456789abcdeg",
            "AC0123456789abcdef0123456789abcdef/../x",
        ] {
            assert!(validate_sid("account_sid", "AC", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_redacts_token() {
        let config = TwilioConfig::new(
            ACCOUNT_SID,
            SecretString::from("very-secret-token"),
            TwilioSender::MessageFrom,
        );
        let text = format!("{config:?}");
        assert!(!text.contains("very-secret"), "{text}");

        let transport = TwilioTransport::new(config).unwrap();
        let text = format!("{transport:?}");
        assert!(!text.contains("very-secret"), "{text}");
    }

    #[test]
    fn callback_must_be_web_url() {
        let mut config = TwilioConfig::new(
            ACCOUNT_SID,
            SecretString::from("token"),
            TwilioSender::MessageFrom,
        );
        config.status_callback_url = Some(Url::parse("mailto:x@example.com").unwrap());
        let error = TwilioTransport::new(config).unwrap_err();
        assert!(error.to_string().contains("status_callback_url"), "{error}");
    }
}
