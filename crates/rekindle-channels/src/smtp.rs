//! Email through an SMTP relay with lettre's tokio transport over rustls.
//!
//! Each send opens a connection, upgrades it to TLS (STARTTLS or implicit
//! TLS), authenticates, sends one message and closes. SMTP has no idempotency
//! key: a job retried after the relay accepted the message sends it again,
//! with the same `Message-ID`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::email::{build_message, provider_html};
use crate::provider_text::{is_loopback_host, sanitise_provider_text};
use crate::transport::log_email_outcome;
use crate::{
    ChannelError, EmailOptions, EmailTransport, OutboundEmail, SendReceipt, TransportConfigError,
};

/// Name reported in `SendReceipt::provider`.
pub const SMTP_PROVIDER: &str = "smtp";
/// Default deadline for one whole send: connect, TLS, authentication and the
/// message. It leaves room for a relay that scans content before it replies
/// to the end of the data.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection security of the SMTP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (RFC 3207), usually port 587.
    /// The send fails if the server does not offer STARTTLS.
    StartTls,
    /// TLS from the first byte (RFC 8314), usually port 465.
    ImplicitTls,
    /// No encryption. Allowed only to a loopback host, such as a local relay
    /// or a test server.
    Plaintext,
}

impl SmtpSecurity {
    /// Returns the usual port of the mode: 587, 465 or 25.
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::ImplicitTls => 465,
            Self::Plaintext => 25,
        }
    }
}

/// SASL mechanisms the transport may use, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMechanism {
    Plain,
    Login,
}

/// A user name and password. `Debug` shows the password as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: SecretString,
}

/// Settings of the SMTP transport.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name of the relay, also the name its certificate must carry.
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Credentials for SMTP AUTH, or `None` for a relay that needs none.
    pub credentials: Option<SmtpCredentials>,
    /// Mechanisms to offer, in order of preference. Empty is invalid when
    /// credentials are set.
    pub mechanisms: Vec<SmtpMechanism>,
    /// Deadline for one whole send, and for each SMTP reply within it.
    pub timeout: Duration,
    /// A PEM certificate trusted as a root besides the built-in web roots,
    /// for a relay with a private CA or a self-signed certificate.
    pub extra_root_certificate_pem: Option<Vec<u8>>,
    /// The name sent with `EHLO`. `None` sends lettre's default, the address
    /// literal `[127.0.0.1]` while lettre's `hostname` feature is off; relays
    /// that check the name need this machine's public host name.
    pub hello_name: Option<String>,
}

impl SmtpConfig {
    /// Returns the settings for `host` with PLAIN then LOGIN, no credentials,
    /// no extra root certificate and `DEFAULT_SMTP_TIMEOUT`.
    pub fn new(host: impl Into<String>, port: u16, security: SmtpSecurity) -> Self {
        Self {
            host: host.into(),
            port,
            security,
            credentials: None,
            mechanisms: vec![SmtpMechanism::Plain, SmtpMechanism::Login],
            timeout: DEFAULT_SMTP_TIMEOUT,
            extra_root_certificate_pem: None,
            hello_name: None,
        }
    }

    pub fn with_credentials(self, username: impl Into<String>, password: SecretString) -> Self {
        Self {
            credentials: Some(SmtpCredentials {
                username: username.into(),
                password,
            }),
            ..self
        }
    }
}

/// Sends each email as a `multipart/alternative` message (plain text, then
/// HTML). The receipt's provider id is the `Message-ID` without brackets.
#[derive(Clone)]
pub struct SmtpTransport {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    port: u16,
    security: SmtpSecurity,
    timeout: Duration,
}

impl SmtpTransport {
    pub fn new(config: SmtpConfig) -> Result<Self, TransportConfigError> {
        validate_config(&config)?;
        let tls = tls_mode(&config)?;

        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(credentials) = &config.credentials {
            builder = builder
                .credentials(Credentials::new(
                    credentials.username.clone(),
                    credentials.password.expose_secret().to_owned(),
                ))
                .authentication(config.mechanisms.iter().map(|m| mechanism(*m)).collect());
        }
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }

        Ok(Self {
            transport: builder.build(),
            host: config.host,
            port: config.port,
            security: config.security,
            timeout: config.timeout,
        })
    }

    async fn send(
        &self,
        email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        email.validate()?;
        options.validate()?;
        let html = provider_html(email);
        let message = build_message(email, options, Some(&html), Utc::now())?;

        let sending = self.transport.send(message);
        match tokio::time::timeout(self.timeout, sending).await {
            Err(_) => Err(ChannelError::transient(format!(
                "SMTP send to {}:{} timed out after {} ms",
                self.host,
                self.port,
                self.timeout.as_millis()
            ))),
            Ok(Err(error)) => Err(classify_smtp_error(&error)),
            Ok(Ok(_response)) => Ok(SendReceipt {
                provider: SMTP_PROVIDER,
                provider_message_id: email.internet_message_id.as_str().to_owned(),
                accepted_at: Utc::now(),
            }),
        }
    }
}

fn validate_config(config: &SmtpConfig) -> Result<(), TransportConfigError> {
    if config.host.trim().is_empty() {
        return Err(TransportConfigError::invalid_setting(
            SMTP_PROVIDER,
            "host",
            "is empty",
        ));
    }
    if config.security == SmtpSecurity::Plaintext && !is_loopback_host(&config.host) {
        return Err(TransportConfigError::PlaintextToRemoteHost {
            host: config.host.clone(),
        });
    }
    if config.timeout.is_zero() {
        return Err(TransportConfigError::invalid_setting(
            SMTP_PROVIDER,
            "timeout",
            "must be more than zero",
        ));
    }
    if config.credentials.is_some() && config.mechanisms.is_empty() {
        return Err(TransportConfigError::invalid_setting(
            SMTP_PROVIDER,
            "mechanisms",
            "is empty, so the credentials could never be used; allow PLAIN or LOGIN",
        ));
    }
    if let Some(name) = &config.hello_name {
        let valid = !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_graphic());
        if !valid {
            return Err(TransportConfigError::invalid_setting(
                SMTP_PROVIDER,
                "hello_name",
                "must be a host name of visible ASCII characters",
            ));
        }
    }
    Ok(())
}

/// Builds lettre's TLS mode, with the certificate checked against `host` and
/// the web roots plus the extra root, if any.
fn tls_mode(config: &SmtpConfig) -> Result<Tls, TransportConfigError> {
    if config.security == SmtpSecurity::Plaintext {
        return Ok(Tls::None);
    }

    let mut builder = TlsParameters::builder(config.host.clone());
    if let Some(pem) = &config.extra_root_certificate_pem {
        let certificate = Certificate::from_pem(pem).map_err(|error| {
            TransportConfigError::invalid_setting(
                SMTP_PROVIDER,
                "extra_root_certificate_pem",
                format!("is not a PEM certificate: {error}"),
            )
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    let parameters = builder.build_rustls().map_err(|error| {
        TransportConfigError::invalid_setting(SMTP_PROVIDER, "tls", error.to_string())
    })?;

    Ok(match config.security {
        SmtpSecurity::StartTls => Tls::Required(parameters),
        _ => Tls::Wrapper(parameters),
    })
}

fn mechanism(mechanism: SmtpMechanism) -> Mechanism {
    match mechanism {
        SmtpMechanism::Plain => Mechanism::Plain,
        SmtpMechanism::Login => Mechanism::Login,
    }
}

/// Classifies an SMTP failure. A 4xx reply is transient and a 5xx reply is
/// permanent (RFC 5321 section 4.2.1), and 550 to 553 reject the mailbox
/// itself. A timeout, a TLS failure and a lost connection are transient. A
/// client error, such as a server without STARTTLS or without any allowed
/// mechanism, is permanent, because only a configuration change fixes it.
fn classify_smtp_error(error: &SmtpError) -> ChannelError {
    if let Some(code) = error.status() {
        let code = u16::from(code);

        // The source of a reply error is the server's reply text; lettre's
        // own message would repeat the code.
        let reply = std::error::Error::source(error)
            .map(ToString::to_string)
            .unwrap_or_default();
        let detail = sanitise_provider_text(&reply);
        return match code {
            400..=499 => ChannelError::transient(format!(
                "SMTP server deferred the email with {code}: {detail}"
            )),
            // RFC 4954 section 6: authentication required, mechanism too
            // weak, or invalid credentials.
            530 | 534 | 535 => ChannelError::permanent(format!(
                "SMTP server rejected the login with {code}: {detail}. Check the SMTP user name and password"
            )),
            550..=553 => ChannelError::permanent(format!(
                "SMTP server rejected the mailbox with {code}: {detail}"
            )),
            _ => ChannelError::permanent(format!(
                "SMTP server rejected the email with {code}: {detail}"
            )),
        };
    }

    let detail = sanitise_provider_text(&error.to_string());
    if error.is_timeout() {
        return ChannelError::transient(format!("SMTP server timed out: {detail}"));
    }
    if error.is_tls() {
        return ChannelError::transient(format!("SMTP TLS handshake failed: {detail}"));
    }
    if error.is_client() {
        return ChannelError::permanent(format!(
            "SMTP client could not proceed with this server: {detail}"
        ));
    }
    ChannelError::transient(format!("SMTP connection failed: {detail}"))
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl EmailTransport for SmtpTransport {
    async fn send_email(&self, email: &OutboundEmail) -> Result<SendReceipt, ChannelError> {
        self.send_email_with(email, &EmailOptions::default()).await
    }

    async fn send_email_with(
        &self,
        email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        let result = self.send(email, options).await;
        log_email_outcome(SMTP_PROVIDER, email, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_only_to_loopback() {
        for host in ["smtp.example.com", "10.0.0.5", "192.168.1.10"] {
            let config = SmtpConfig::new(host, 25, SmtpSecurity::Plaintext);
            let error = SmtpTransport::new(config).unwrap_err();
            assert_eq!(
                error,
                TransportConfigError::PlaintextToRemoteHost {
                    host: host.to_owned()
                }
            );
        }
        for host in ["127.0.0.1", "::1", "localhost"] {
            let config = SmtpConfig::new(host, 2525, SmtpSecurity::Plaintext);
            assert!(SmtpTransport::new(config).is_ok(), "{host}");
        }
    }

    #[test]
    fn bad_root_certificate_rejected() {
        let mut config = SmtpConfig::new("smtp.example.com", 587, SmtpSecurity::StartTls);
        config.extra_root_certificate_pem =
            Some(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec());
        let error = SmtpTransport::new(config).unwrap_err();
        assert!(
            error.to_string().contains("extra_root_certificate_pem"),
            "{error}"
        );
    }

    #[test]
    fn credentials_need_mechanism() {
        let mut config = SmtpConfig::new("smtp.example.com", 587, SmtpSecurity::StartTls)
            .with_credentials("user", SecretString::from("pw"));
        config.mechanisms.clear();
        assert!(SmtpTransport::new(config).is_err());
    }

    #[test]
    fn debug_redacts_password() {
        let config = SmtpConfig::new("smtp.example.com", 587, SmtpSecurity::StartTls)
            .with_credentials("user", SecretString::from("very-secret-password"));
        let text = format!("{config:?}");
        assert!(!text.contains("very-secret"), "{text}");

        let transport = SmtpTransport::new(config).unwrap();
        let text = format!("{transport:?}");
        assert!(!text.contains("very-secret"), "{text}");
        assert!(text.contains("smtp.example.com"), "{text}");
    }
}
