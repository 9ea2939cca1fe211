//! The email and SMS transports the configuration names: the local outbox by
//! default, or SMTP, SendGrid and Twilio. A missing setting is an error that
//! names its variable, found at start-up instead of at the first send. Real
//! providers go through a circuit breaker (per provider for email, per
//! provider and sending number for SMS), so an outage is not hammered.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rekindle_channels::{
    CircuitEmailTransport, CircuitRegistry, CircuitScope, CircuitSmsTransport, EmailTransport,
    EmailTransportConfig, SecretString, SendgridConfig, SmsTransport, SmsTransportConfig,
    SmtpConfig, SmtpSecurity, TwilioConfig, TwilioSender, build_email_transport,
    build_sms_transport,
};
use rekindle_config::{Config, Secret};
use rekindle_domain::Phone;

/// Builds the email transport of `config.email.provider`.
pub fn email_transport(
    config: &Config,
    circuits: &Arc<CircuitRegistry>,
) -> anyhow::Result<Arc<dyn EmailTransport>> {
    let email = &config.email;
    let timeout = Duration::from_secs(email.timeout_seconds);
    let selected = match email.provider.as_str() {
        "outbox" => EmailTransportConfig::Outbox {
            directory: config.outbox_dir().join("email"),
        },
        "smtp" => {
            let host = required(
                &email.smtp_host,
                "REKINDLE_SMTP_HOST",
                "the SMTP relay's host name",
            )?;
            let security = match email.smtp_security.as_str() {
                "tls" => SmtpSecurity::ImplicitTls,
                "plaintext" => SmtpSecurity::Plaintext,
                _ => SmtpSecurity::StartTls,
            };
            let port = email.smtp_port.unwrap_or(security.default_port());
            let mut smtp = SmtpConfig::new(host, port, security);
            smtp.timeout = timeout;
            let smtp = match (&email.smtp_username, &email.smtp_password) {
                (Some(user), Some(password)) => {
                    smtp.with_credentials(user.clone(), secret(password))
                }
                (None, None) => smtp,
                _ => {
                    bail!("set both REKINDLE_SMTP_USERNAME and REKINDLE_SMTP_PASSWORD, or neither")
                }
            };
            EmailTransportConfig::Smtp(smtp)
        }
        "sendgrid" => {
            let key = email.sendgrid_api_key.as_ref().context(
                "REKINDLE_SENDGRID_API_KEY is required with REKINDLE_EMAIL_PROVIDER=sendgrid (an API key with Mail Send permission)",
            )?;
            let mut sendgrid = SendgridConfig::new(secret(key));
            sendgrid.timeout = timeout;
            if let Some(url) = &email.sendgrid_base_url {
                sendgrid.base_url = url.parse().context("invalid REKINDLE_SENDGRID_BASE_URL")?;
            }
            EmailTransportConfig::Sendgrid(sendgrid)
        }
        other => bail!("unknown REKINDLE_EMAIL_PROVIDER {other:?}: use outbox, smtp or sendgrid"),
    };
    let provider = selected.provider();
    let local = matches!(selected, EmailTransportConfig::Outbox { .. });
    let transport = build_email_transport(selected)
        .with_context(|| format!("cannot set up the {provider} email transport"))?;
    tracing::info!(provider, "email transport ready");
    if local {
        return Ok(transport);
    }
    Ok(Arc::new(CircuitEmailTransport::new(
        transport,
        provider,
        circuits.clone(),
    )))
}

/// Builds the SMS transport of `config.sms.provider`.
pub fn sms_transport(
    config: &Config,
    circuits: &Arc<CircuitRegistry>,
) -> anyhow::Result<Arc<dyn SmsTransport>> {
    let sms = &config.sms;
    let selected = match sms.provider.as_str() {
        "outbox" => SmsTransportConfig::Outbox {
            directory: config.outbox_dir().join("sms"),
        },
        "twilio" => {
            let sid = required(
                &sms.twilio_account_sid,
                "REKINDLE_TWILIO_ACCOUNT_SID",
                "the AC... account SID",
            )?;
            let token = sms.twilio_auth_token.as_ref().context(
                "REKINDLE_TWILIO_AUTH_TOKEN is required with REKINDLE_SMS_PROVIDER=twilio",
            )?;
            let sender = match (&sms.twilio_messaging_service_sid, &sms.twilio_from) {
                (Some(service), _) => TwilioSender::MessagingService(service.clone()),
                // Each message names its sender: the account's sending identity,
                // else this number (see `AppSettings::default_sms_from`).
                (None, Some(from)) => {
                    Phone::parse(from, None).map_err(|error| {
                        anyhow::anyhow!("invalid REKINDLE_TWILIO_FROM {from:?}: {error}; use E.164 such as +447700900123")
                    })?;
                    TwilioSender::MessageFrom
                }
                (None, None) => bail!(
                    "set REKINDLE_TWILIO_FROM (an E.164 number) or REKINDLE_TWILIO_MESSAGING_SERVICE_SID"
                ),
            };
            let mut twilio = TwilioConfig::new(sid, secret(token), sender);
            twilio.timeout = Duration::from_secs(sms.timeout_seconds);
            twilio.status_callback_url = status_callback(config)?;
            if let Some(url) = &sms.twilio_base_url {
                twilio.base_url = url.parse().context("invalid REKINDLE_TWILIO_BASE_URL")?;
            }
            SmsTransportConfig::Twilio(twilio)
        }
        other => bail!("unknown REKINDLE_SMS_PROVIDER {other:?}: use outbox or twilio"),
    };
    let local = matches!(selected, SmsTransportConfig::Outbox { .. });
    let transport = build_sms_transport(selected).context("cannot set up the SMS transport")?;
    tracing::info!(provider = %sms.provider, "SMS transport ready");
    if local {
        return Ok(transport);
    }
    Ok(Arc::new(
        CircuitSmsTransport::new(transport, sms.provider.clone(), circuits.clone())
            .with_scope(CircuitScope::ProviderAndSender),
    ))
}

/// Builds the WhatsApp transport: Twilio when the SMS provider is Twilio and a
/// WhatsApp sender number is set, else the local outbox.
pub fn whatsapp_transport(
    config: &Config,
    circuits: &Arc<CircuitRegistry>,
) -> anyhow::Result<Arc<dyn SmsTransport>> {
    let sms = &config.sms;
    let (true, Some(from)) = (sms.provider == "twilio", &sms.twilio_whatsapp_from) else {
        return Ok(build_sms_transport(SmsTransportConfig::Outbox {
            directory: config.outbox_dir().join("whatsapp"),
        })?);
    };
    let sid = required(
        &sms.twilio_account_sid,
        "REKINDLE_TWILIO_ACCOUNT_SID",
        "the AC... account SID",
    )?;
    let token = sms
        .twilio_auth_token
        .as_ref()
        .context("REKINDLE_TWILIO_AUTH_TOKEN is required for WhatsApp through Twilio")?;
    Phone::parse(from, None).map_err(|error| {
        anyhow::anyhow!("invalid REKINDLE_TWILIO_WHATSAPP_FROM {from:?}: {error}; use E.164 such as +14155238886")
    })?;
    let mut twilio = TwilioConfig::new(sid, secret(token), TwilioSender::MessageFrom);
    twilio.timeout = Duration::from_secs(sms.timeout_seconds);
    twilio.status_callback_url = status_callback(config)?;
    if let Some(url) = &sms.twilio_base_url {
        twilio.base_url = url.parse().context("invalid REKINDLE_TWILIO_BASE_URL")?;
    }
    let transport = build_sms_transport(SmsTransportConfig::TwilioWhatsapp(twilio))
        .context("cannot set up the WhatsApp transport")?;
    tracing::info!("WhatsApp transport ready");
    Ok(Arc::new(
        CircuitSmsTransport::new(transport, "twilio-whatsapp", circuits.clone())
            .with_scope(CircuitScope::ProviderAndSender),
    ))
}

fn required(value: &Option<String>, variable: &str, what: &str) -> anyhow::Result<String> {
    value
        .clone()
        .filter(|value| !value.trim().is_empty())
        .with_context(|| format!("{variable} is required: set it to {what}"))
}

fn secret(value: &Secret) -> SecretString {
    SecretString::from(value.expose().to_owned())
}

/// Returns the status callback URL sent with every Twilio message, so that
/// delivery reports reach `POST /webhooks/twilio/status`.
fn status_callback(config: &Config) -> anyhow::Result<Option<url::Url>> {
    let url = url::Url::parse(&config.twilio_status_url())
        .context("invalid REKINDLE_WEBHOOK_TWILIO_STATUS_URL")?;
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circuits() -> Arc<CircuitRegistry> {
        Arc::new(CircuitRegistry::new(
            rekindle_channels::CircuitConfig::default(),
            Arc::new(rekindle_channels::NoopCircuitObserver),
        ))
    }

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::load_from(
            None,
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .unwrap()
    }

    #[test]
    fn outbox_is_the_default() {
        assert!(email_transport(&config(&[]), &circuits()).is_ok());
        assert!(sms_transport(&config(&[]), &circuits()).is_ok());
    }

    #[test]
    fn missing_provider_settings_name_their_variable() {
        let error = email_transport(
            &config(&[("REKINDLE_EMAIL_PROVIDER", "sendgrid")]),
            &circuits(),
        )
        .err()
        .unwrap();
        assert!(
            format!("{error:#}").contains("REKINDLE_SENDGRID_API_KEY"),
            "{error:#}"
        );
        let error = email_transport(&config(&[("REKINDLE_EMAIL_PROVIDER", "smtp")]), &circuits())
            .err()
            .unwrap();
        assert!(
            format!("{error:#}").contains("REKINDLE_SMTP_HOST"),
            "{error:#}"
        );
        let error = sms_transport(
            &config(&[
                ("REKINDLE_SMS_PROVIDER", "twilio"),
                (
                    "REKINDLE_TWILIO_ACCOUNT_SID",
                    "AC00000000000000000000000000000000",
                ),
                ("REKINDLE_TWILIO_AUTH_TOKEN", "token"),
            ]),
            &circuits(),
        )
        .err()
        .unwrap();
        assert!(
            format!("{error:#}").contains("REKINDLE_TWILIO_FROM"),
            "{error:#}"
        );
    }

    #[test]
    fn configured_providers_build() {
        let sendgrid = email_transport(
            &config(&[
                ("REKINDLE_EMAIL_PROVIDER", "sendgrid"),
                ("REKINDLE_SENDGRID_API_KEY", "SG.test-key.value"),
            ]),
            &circuits(),
        );
        assert!(sendgrid.is_ok(), "{:?}", sendgrid.err());
        let smtp = email_transport(
            &config(&[
                ("REKINDLE_EMAIL_PROVIDER", "smtp"),
                ("REKINDLE_SMTP_HOST", "smtp.example.com"),
                ("REKINDLE_SMTP_USERNAME", "apikey"),
                ("REKINDLE_SMTP_PASSWORD", "secret"),
            ]),
            &circuits(),
        );
        assert!(smtp.is_ok(), "{:?}", smtp.err());
        let twilio = sms_transport(
            &config(&[
                ("REKINDLE_SMS_PROVIDER", "twilio"),
                (
                    "REKINDLE_TWILIO_ACCOUNT_SID",
                    "AC00000000000000000000000000000000",
                ),
                ("REKINDLE_TWILIO_AUTH_TOKEN", "token"),
                ("REKINDLE_TWILIO_FROM", "+447700900123"),
            ]),
            &circuits(),
        );
        assert!(twilio.is_ok(), "{:?}", twilio.err());
        let whatsapp = whatsapp_transport(
            &config(&[
                ("REKINDLE_SMS_PROVIDER", "twilio"),
                (
                    "REKINDLE_TWILIO_ACCOUNT_SID",
                    "AC00000000000000000000000000000000",
                ),
                ("REKINDLE_TWILIO_AUTH_TOKEN", "token"),
                ("REKINDLE_TWILIO_FROM", "+447700900123"),
                ("REKINDLE_TWILIO_WHATSAPP_FROM", "not a number"),
            ]),
            &circuits(),
        );
        assert!(format!("{:#}", whatsapp.err().unwrap()).contains("REKINDLE_TWILIO_WHATSAPP_FROM"));
        // Plaintext SMTP to a remote host is rejected when the transport is built.
        let plaintext = email_transport(
            &config(&[
                ("REKINDLE_EMAIL_PROVIDER", "smtp"),
                ("REKINDLE_SMTP_HOST", "smtp.example.com"),
                ("REKINDLE_SMTP_SECURITY", "plaintext"),
            ]),
            &circuits(),
        );
        assert!(plaintext.is_err());
    }
}
