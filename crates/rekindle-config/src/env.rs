//! The `REKINDLE_*` environment variables and how each one sets a key.

use std::path::PathBuf;
use std::str::FromStr;

use crate::llm::{self, LlmProviderKind, StructuredOutput};
use crate::{Config, ConfigError, LogFormat, RunMode, Secret};

type Setter = fn(&mut Config, &str) -> Result<(), ConfigError>;

/// Every environment variable the program reads, with the key it sets. A
/// variable with the `REKINDLE_` prefix that is not listed here gets a warning.
pub const ENV_KEYS: &[(&str, Setter)] = &[
    ("REKINDLE_ENV", |c, v| {
        c.env = match v {
            "production" => RunMode::Production,
            "development" => RunMode::Development,
            _ => return Err(invalid("REKINDLE_ENV", v, "development or production")),
        };
        Ok(())
    }),
    ("REKINDLE_DATA_DIR", |c, v| {
        c.data_dir = PathBuf::from(v);
        Ok(())
    }),
    ("REKINDLE_DATABASE_URL", |c, v| {
        c.database.url = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_DATABASE_ADMIN_URL", |c, v| {
        c.database.admin_url = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_DATABASE_MAX_CONNECTIONS", |c, v| {
        c.database.max_connections = number("REKINDLE_DATABASE_MAX_CONNECTIONS", v, 1, 1000)?;
        Ok(())
    }),
    ("REKINDLE_MASTER_KEY", |c, v| {
        c.secrets.master_key = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_PUBLIC_BASE_URL", |c, v| {
        url::Url::parse(v).map_err(|_| {
            invalid(
                "REKINDLE_PUBLIC_BASE_URL",
                v,
                "an absolute URL such as https://rekindle.example.com",
            )
        })?;
        c.server.public_base_url = v.trim_end_matches('/').to_owned();
        Ok(())
    }),
    ("REKINDLE_LISTEN", |c, v| {
        v.parse::<std::net::SocketAddr>().map_err(|_| {
            invalid(
                "REKINDLE_LISTEN",
                v,
                "an address and port such as 127.0.0.1:8080 or [::]:8080",
            )
        })?;
        c.server.listen = v.to_owned();
        Ok(())
    }),
    ("REKINDLE_CORS_ORIGINS", |c, v| {
        c.server.cors_origins = list(v);
        Ok(())
    }),
    ("REKINDLE_REQUEST_TIMEOUT_SECONDS", |c, v| {
        c.server.request_timeout_seconds = number("REKINDLE_REQUEST_TIMEOUT_SECONDS", v, 1, 3600)?;
        Ok(())
    }),
    ("REKINDLE_BODY_LIMIT_BYTES", |c, v| {
        c.server.body_limit_bytes = number("REKINDLE_BODY_LIMIT_BYTES", v, 1024, 64 * 1024 * 1024)?;
        Ok(())
    }),
    ("REKINDLE_TRUSTED_PROXIES", |c, v| {
        c.server.trusted_proxies = list(v);
        Ok(())
    }),
    ("REKINDLE_OPERATOR_TOKEN", |c, v| {
        c.server.operator_token = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_REDIS_URL", |c, v| {
        c.server.redis_url = (!v.trim().is_empty()).then(|| Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_ACCESS_TOKEN_MINUTES", |c, v| {
        c.server.access_token_minutes = number("REKINDLE_ACCESS_TOKEN_MINUTES", v, 1, 1440)?;
        Ok(())
    }),
    ("REKINDLE_REFRESH_TOKEN_DAYS", |c, v| {
        c.server.refresh_token_days = number("REKINDLE_REFRESH_TOKEN_DAYS", v, 1, 365)?;
        Ok(())
    }),
    ("REKINDLE_RATE_LIMIT_PUBLIC_PER_MINUTE", |c, v| {
        c.server.rate_limits.public_per_minute =
            number("REKINDLE_RATE_LIMIT_PUBLIC_PER_MINUTE", v, 1, 1_000_000)?;
        Ok(())
    }),
    ("REKINDLE_RATE_LIMIT_LOGIN_PER_MINUTE", |c, v| {
        c.server.rate_limits.login_per_minute =
            number("REKINDLE_RATE_LIMIT_LOGIN_PER_MINUTE", v, 1, 1_000_000)?;
        Ok(())
    }),
    ("REKINDLE_RATE_LIMIT_USER_PER_MINUTE", |c, v| {
        c.server.rate_limits.user_per_minute =
            number("REKINDLE_RATE_LIMIT_USER_PER_MINUTE", v, 1, 10_000_000)?;
        Ok(())
    }),
    ("REKINDLE_RATE_LIMIT_ACCOUNT_PER_MINUTE", |c, v| {
        c.server.rate_limits.account_per_minute =
            number("REKINDLE_RATE_LIMIT_ACCOUNT_PER_MINUTE", v, 1, 10_000_000)?;
        Ok(())
    }),
    ("REKINDLE_RATE_LIMIT_AI_USER_PER_MINUTE", |c, v| {
        c.server.rate_limits.ai_user_per_minute =
            number("REKINDLE_RATE_LIMIT_AI_USER_PER_MINUTE", v, 1, 100_000)?;
        Ok(())
    }),
    ("REKINDLE_RATE_LIMIT_AI_ACCOUNT_PER_MINUTE", |c, v| {
        c.server.rate_limits.ai_account_per_minute =
            number("REKINDLE_RATE_LIMIT_AI_ACCOUNT_PER_MINUTE", v, 1, 100_000)?;
        Ok(())
    }),
    ("REKINDLE_RATE_LIMIT_AI_CONCURRENCY", |c, v| {
        c.server.rate_limits.ai_concurrency =
            number("REKINDLE_RATE_LIMIT_AI_CONCURRENCY", v, 1, 1000)?;
        Ok(())
    }),
    ("REKINDLE_AUTH_EXTERNAL_HS256_SECRET", |c, v| {
        c.auth.external_hs256_secret = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_AUTH_EXTERNAL_JWKS_URL", |c, v| {
        url::Url::parse(v).map_err(|_| {
            invalid(
                "REKINDLE_AUTH_EXTERNAL_JWKS_URL",
                v,
                "an absolute URL such as https://example.eu.auth0.com/.well-known/jwks.json",
            )
        })?;
        c.auth.external_jwks_url = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_AUTH_EXTERNAL_AUDIENCE", |c, v| {
        c.auth.external_audience = v.to_owned();
        Ok(())
    }),
    ("REKINDLE_AUTH_EXTERNAL_ISSUER", |c, v| {
        c.auth.external_issuer = (!v.trim().is_empty()).then(|| v.to_owned());
        Ok(())
    }),
    ("REKINDLE_EMAIL_PROVIDER", |c, v| {
        if !matches!(v, "outbox" | "smtp" | "sendgrid") {
            return Err(invalid(
                "REKINDLE_EMAIL_PROVIDER",
                v,
                "outbox, smtp or sendgrid",
            ));
        }
        c.email.provider = v.to_owned();
        Ok(())
    }),
    ("REKINDLE_SMTP_HOST", |c, v| {
        c.email.smtp_host = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_SMTP_PORT", |c, v| {
        c.email.smtp_port = Some(number("REKINDLE_SMTP_PORT", v, 1, 65_535)?);
        Ok(())
    }),
    ("REKINDLE_SMTP_SECURITY", |c, v| {
        if !matches!(v, "starttls" | "tls" | "plaintext") {
            return Err(invalid(
                "REKINDLE_SMTP_SECURITY",
                v,
                "starttls, tls or plaintext",
            ));
        }
        c.email.smtp_security = v.to_owned();
        Ok(())
    }),
    ("REKINDLE_SMTP_USERNAME", |c, v| {
        c.email.smtp_username = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_SMTP_PASSWORD", |c, v| {
        c.email.smtp_password = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_SENDGRID_API_KEY", |c, v| {
        c.email.sendgrid_api_key = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_SENDGRID_BASE_URL", |c, v| {
        c.email.sendgrid_base_url = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_EMAIL_TIMEOUT_SECONDS", |c, v| {
        c.email.timeout_seconds = number("REKINDLE_EMAIL_TIMEOUT_SECONDS", v, 1, 300)?;
        Ok(())
    }),
    ("REKINDLE_SENDING_IDENTITY_HOURLY_CAP", |c, v| {
        c.sending.identity_hourly_cap =
            number("REKINDLE_SENDING_IDENTITY_HOURLY_CAP", v, 1, 1_000_000)?;
        Ok(())
    }),
    ("REKINDLE_SENDING_IDENTITY_DAILY_CAP", |c, v| {
        c.sending.identity_daily_cap =
            number("REKINDLE_SENDING_IDENTITY_DAILY_CAP", v, 1, 10_000_000)?;
        Ok(())
    }),
    ("REKINDLE_SENDING_DOMAIN_HOURLY_CAP", |c, v| {
        c.sending.domain_hourly_cap =
            number("REKINDLE_SENDING_DOMAIN_HOURLY_CAP", v, 1, 1_000_000)?;
        Ok(())
    }),
    ("REKINDLE_SENDING_DOMAIN_DAILY_CAP", |c, v| {
        c.sending.domain_daily_cap = number("REKINDLE_SENDING_DOMAIN_DAILY_CAP", v, 1, 10_000_000)?;
        Ok(())
    }),
    ("REKINDLE_SENDING_WARM_UP_DAILY_CAPS", |c, v| {
        let caps: Result<Vec<u32>, _> = list(v)
            .iter()
            .map(|cap| number("REKINDLE_SENDING_WARM_UP_DAILY_CAPS", cap, 1, 10_000_000))
            .collect();
        c.sending.warm_up_daily_caps = caps?;
        Ok(())
    }),
    ("REKINDLE_SMS_PROVIDER", |c, v| {
        if !matches!(v, "outbox" | "twilio") {
            return Err(invalid("REKINDLE_SMS_PROVIDER", v, "outbox or twilio"));
        }
        c.sms.provider = v.to_owned();
        Ok(())
    }),
    ("REKINDLE_TWILIO_ACCOUNT_SID", |c, v| {
        c.sms.twilio_account_sid = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_TWILIO_AUTH_TOKEN", |c, v| {
        c.sms.twilio_auth_token = Some(Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_TWILIO_FROM", |c, v| {
        c.sms.twilio_from = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_TWILIO_MESSAGING_SERVICE_SID", |c, v| {
        c.sms.twilio_messaging_service_sid = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_TWILIO_WHATSAPP_FROM", |c, v| {
        c.sms.twilio_whatsapp_from = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_TWILIO_BASE_URL", |c, v| {
        c.sms.twilio_base_url = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_SMS_TIMEOUT_SECONDS", |c, v| {
        c.sms.timeout_seconds = number("REKINDLE_SMS_TIMEOUT_SECONDS", v, 1, 300)?;
        Ok(())
    }),
    ("REKINDLE_OUTBOX_DIR", |c, v| {
        c.outbox.dir = Some(PathBuf::from(v));
        Ok(())
    }),
    ("REKINDLE_WORKER_CONCURRENCY", |c, v| {
        c.worker.concurrency = number("REKINDLE_WORKER_CONCURRENCY", v, 1, 64)?;
        Ok(())
    }),
    ("REKINDLE_WORKER_SCHEDULER_INTERVAL_SECONDS", |c, v| {
        c.worker.scheduler_interval_seconds =
            number("REKINDLE_WORKER_SCHEDULER_INTERVAL_SECONDS", v, 1, 86_400)?;
        Ok(())
    }),
    ("REKINDLE_WORKER_BATCH_SIZE", |c, v| {
        c.worker.batch_size = number("REKINDLE_WORKER_BATCH_SIZE", v, 1, 1000)?;
        Ok(())
    }),
    ("REKINDLE_WORKER_POLL_INTERVAL_MS", |c, v| {
        c.worker.poll_interval_ms = number("REKINDLE_WORKER_POLL_INTERVAL_MS", v, 10, 600_000)?;
        Ok(())
    }),
    ("REKINDLE_WORKER_LEASE_SECONDS", |c, v| {
        c.worker.lease_seconds = number("REKINDLE_WORKER_LEASE_SECONDS", v, 10, 86_400)?;
        Ok(())
    }),
    ("REKINDLE_WORKER_SEND_SPACING_SECONDS", |c, v| {
        c.worker.send_spacing_seconds = number("REKINDLE_WORKER_SEND_SPACING_SECONDS", v, 0, 3600)?;
        Ok(())
    }),
    ("REKINDLE_WORKER_MAX_ATTEMPTS", |c, v| {
        c.worker.max_attempts = number("REKINDLE_WORKER_MAX_ATTEMPTS", v, 1, 100)?;
        Ok(())
    }),
    ("REKINDLE_IMPORT_MAX_FILE_BYTES", |c, v| {
        c.import.max_file_bytes = number("REKINDLE_IMPORT_MAX_FILE_BYTES", v, 1024, u64::MAX)?;
        Ok(())
    }),
    ("REKINDLE_IMPORT_MAX_COLUMNS", |c, v| {
        c.import.max_columns = number("REKINDLE_IMPORT_MAX_COLUMNS", v, 1, 10_000)?;
        Ok(())
    }),
    ("REKINDLE_IMPORT_MAX_FIELD_CHARS", |c, v| {
        c.import.max_field_chars = number("REKINDLE_IMPORT_MAX_FIELD_CHARS", v, 16, 1_000_000)?;
        Ok(())
    }),
    ("REKINDLE_IMPORT_DEFAULT_REGION", |c, v| {
        c.import.default_region = (!v.trim().is_empty()).then(|| v.trim().to_ascii_uppercase());
        Ok(())
    }),
    ("REKINDLE_LOG_FORMAT", |c, v| {
        c.log.format = match v {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(invalid("REKINDLE_LOG_FORMAT", v, "text or json")),
        };
        Ok(())
    }),
    ("REKINDLE_LOG_LEVEL", |c, v| {
        c.log.level = v.to_owned();
        Ok(())
    }),
    ("REKINDLE_LLM_PROVIDER", |c, v| {
        c.llm.provider = match v {
            "offline" => LlmProviderKind::Offline,
            "openai" => LlmProviderKind::Openai,
            "anthropic" => LlmProviderKind::Anthropic,
            _ => {
                return Err(invalid(
                    "REKINDLE_LLM_PROVIDER",
                    v,
                    "offline, openai or anthropic",
                ));
            }
        };
        Ok(())
    }),
    ("REKINDLE_LLM_BASE_URL", |c, v| {
        url::Url::parse(v).map_err(|_| {
            invalid(
                "REKINDLE_LLM_BASE_URL",
                v,
                "an absolute URL such as https://api.openai.com/v1 or http://127.0.0.1:11434/v1",
            )
        })?;
        c.llm.base_url = Some(v.to_owned());
        Ok(())
    }),
    ("REKINDLE_LLM_API_KEY", |c, v| {
        c.llm.api_key = (!v.trim().is_empty()).then(|| Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_LLM_MODEL", |c, v| {
        c.llm.model = optional_text(v);
        Ok(())
    }),
    ("REKINDLE_LLM_WRITER_MODEL", |c, v| {
        c.llm.writer_model = optional_text(v);
        Ok(())
    }),
    ("REKINDLE_LLM_RESEARCHER_MODEL", |c, v| {
        c.llm.researcher_model = optional_text(v);
        Ok(())
    }),
    ("REKINDLE_LLM_CLASSIFIER_MODEL", |c, v| {
        c.llm.classifier_model = optional_text(v);
        Ok(())
    }),
    ("REKINDLE_LLM_TIMEOUT_SECONDS", |c, v| {
        c.llm.timeout_seconds = number("REKINDLE_LLM_TIMEOUT_SECONDS", v, 1, 600)?;
        Ok(())
    }),
    ("REKINDLE_LLM_MAX_RETRIES", |c, v| {
        c.llm.max_retries = number("REKINDLE_LLM_MAX_RETRIES", v, 0, 10)?;
        Ok(())
    }),
    ("REKINDLE_LLM_MAX_TOKENS", |c, v| {
        c.llm.max_tokens = number("REKINDLE_LLM_MAX_TOKENS", v, 16, 100_000)?;
        Ok(())
    }),
    ("REKINDLE_LLM_STRUCTURED_OUTPUT", |c, v| {
        c.llm.structured_output = match v {
            "json_schema" => StructuredOutput::JsonSchema,
            "json_object" => StructuredOutput::JsonObject,
            "none" => StructuredOutput::None,
            _ => {
                return Err(invalid(
                    "REKINDLE_LLM_STRUCTURED_OUTPUT",
                    v,
                    "json_schema, json_object or none",
                ));
            }
        };
        Ok(())
    }),
    ("REKINDLE_LLM_PRICES", |c, v| {
        c.llm.prices = llm::parse_prices(v).map_err(|reason| {
            invalid(
                "REKINDLE_LLM_PRICES",
                v,
                &format!(
                    "comma-separated MODEL=INPUT:OUTPUT in US dollars per million tokens, such as gpt-4o-mini=0.15:0.60 ({reason})"
                ),
            )
        })?;
        Ok(())
    }),
    ("REKINDLE_LLM_DAILY_BUDGET_USD_STARTER", |c, v| {
        c.llm.daily_budget_usd.starter = usd("REKINDLE_LLM_DAILY_BUDGET_USD_STARTER", v)?;
        Ok(())
    }),
    ("REKINDLE_LLM_DAILY_BUDGET_USD_PRO", |c, v| {
        c.llm.daily_budget_usd.pro = usd("REKINDLE_LLM_DAILY_BUDGET_USD_PRO", v)?;
        Ok(())
    }),
    ("REKINDLE_LLM_DAILY_BUDGET_USD_ENTERPRISE", |c, v| {
        c.llm.daily_budget_usd.enterprise = usd("REKINDLE_LLM_DAILY_BUDGET_USD_ENTERPRISE", v)?;
        Ok(())
    }),
    ("REKINDLE_LLM_ACCOUNT_CONCURRENCY", |c, v| {
        c.llm.account_concurrency = number("REKINDLE_LLM_ACCOUNT_CONCURRENCY", v, 1, 1000)?;
        Ok(())
    }),
    ("REKINDLE_LLM_GLOBAL_CONCURRENCY", |c, v| {
        c.llm.global_concurrency = number("REKINDLE_LLM_GLOBAL_CONCURRENCY", v, 1, 10_000)?;
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_SENDGRID_VERIFICATION_KEY", |c, v| {
        c.webhooks.sendgrid_verification_key = (!v.trim().is_empty()).then(|| v.trim().to_owned());
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_SENDGRID_MAX_EVENTS", |c, v| {
        c.webhooks.sendgrid_max_events =
            number("REKINDLE_WEBHOOK_SENDGRID_MAX_EVENTS", v, 1, 1_000_000)?;
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_SENDGRID_MAX_BODY_BYTES", |c, v| {
        c.webhooks.sendgrid_max_body_bytes = number(
            "REKINDLE_WEBHOOK_SENDGRID_MAX_BODY_BYTES",
            v,
            1024,
            512 * 1024 * 1024,
        )?;
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_SENDGRID_TOLERANCE_SECONDS", |c, v| {
        c.webhooks.sendgrid_tolerance_seconds = number(
            "REKINDLE_WEBHOOK_SENDGRID_TOLERANCE_SECONDS",
            v,
            1,
            30 * 86_400,
        )?;
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_TWILIO_STATUS_URL", |c, v| {
        c.webhooks.twilio_status_url = Some(absolute_url("REKINDLE_WEBHOOK_TWILIO_STATUS_URL", v)?);
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_TWILIO_INBOUND_URL", |c, v| {
        c.webhooks.twilio_inbound_url =
            Some(absolute_url("REKINDLE_WEBHOOK_TWILIO_INBOUND_URL", v)?);
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_TWILIO_AUTH_TOKENS", |c, v| {
        c.webhooks.twilio_auth_tokens = (!v.trim().is_empty()).then(|| Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_STRIPE_SIGNING_SECRET", |c, v| {
        c.webhooks.stripe_signing_secret = (!v.trim().is_empty()).then(|| Secret::new(v.trim()));
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_STRIPE_TOLERANCE_SECONDS", |c, v| {
        c.webhooks.stripe_tolerance_seconds =
            number("REKINDLE_WEBHOOK_STRIPE_TOLERANCE_SECONDS", v, 1, 86_400)?;
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_INBOUND_URL_SECRET", |c, v| {
        c.webhooks.inbound_url_secret = (!v.trim().is_empty()).then(|| Secret::new(v.trim()));
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_INBOUND_USER", |c, v| {
        c.webhooks.inbound_user = (!v.trim().is_empty()).then(|| v.trim().to_owned());
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_INBOUND_PASSWORD", |c, v| {
        c.webhooks.inbound_password = (!v.is_empty()).then(|| Secret::new(v));
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_INBOUND_MAX_BODY_BYTES", |c, v| {
        c.webhooks.inbound_max_body_bytes = number(
            "REKINDLE_WEBHOOK_INBOUND_MAX_BODY_BYTES",
            v,
            1024,
            512 * 1024 * 1024,
        )?;
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_INBOUND_MAX_ATTACHMENT_BYTES", |c, v| {
        c.webhooks.inbound_max_attachment_bytes = number(
            "REKINDLE_WEBHOOK_INBOUND_MAX_ATTACHMENT_BYTES",
            v,
            0,
            512 * 1024 * 1024,
        )?;
        Ok(())
    }),
    (
        "REKINDLE_WEBHOOK_INBOUND_MAX_TOTAL_ATTACHMENT_BYTES",
        |c, v| {
            c.webhooks.inbound_max_total_attachment_bytes = number(
                "REKINDLE_WEBHOOK_INBOUND_MAX_TOTAL_ATTACHMENT_BYTES",
                v,
                0,
                512 * 1024 * 1024,
            )?;
            Ok(())
        },
    ),
    ("REKINDLE_WEBHOOK_INBOUND_DOMAIN", |c, v| {
        let domain = v.trim().trim_start_matches('@').to_ascii_lowercase();
        if domain.is_empty() {
            c.webhooks.inbound_domain = None;
            return Ok(());
        }
        if !domain.contains('.') || domain.contains(['@', '/', ' ']) {
            return Err(invalid(
                "REKINDLE_WEBHOOK_INBOUND_DOMAIN",
                v,
                "a mail domain such as reply.example.com",
            ));
        }
        c.webhooks.inbound_domain = Some(domain);
        Ok(())
    }),
    ("REKINDLE_WEBHOOK_RATE_LIMIT_PER_MINUTE", |c, v| {
        c.webhooks.per_provider_per_minute =
            number("REKINDLE_WEBHOOK_RATE_LIMIT_PER_MINUTE", v, 1, 10_000_000)?;
        Ok(())
    }),
    ("REKINDLE_TRACKING_RATE_LIMIT_PER_MINUTE", |c, v| {
        c.webhooks.tracking_per_ip_per_minute =
            number("REKINDLE_TRACKING_RATE_LIMIT_PER_MINUTE", v, 1, 1_000_000)?;
        Ok(())
    }),
    ("REKINDLE_TRACKING_MACHINE_OPEN_SECONDS", |c, v| {
        c.webhooks.machine_open_seconds =
            number("REKINDLE_TRACKING_MACHINE_OPEN_SECONDS", v, 0, 3600)?;
        Ok(())
    }),
];

/// Secrets that may be given as a file path in `<NAME>_FILE`.
const FILE_SECRETS: &[&str] = &[
    "REKINDLE_MASTER_KEY",
    "REKINDLE_DATABASE_URL",
    "REKINDLE_DATABASE_ADMIN_URL",
    "REKINDLE_OPERATOR_TOKEN",
    "REKINDLE_REDIS_URL",
    "REKINDLE_AUTH_EXTERNAL_HS256_SECRET",
    "REKINDLE_SMTP_PASSWORD",
    "REKINDLE_SENDGRID_API_KEY",
    "REKINDLE_TWILIO_AUTH_TOKEN",
    "REKINDLE_LLM_API_KEY",
    "REKINDLE_WEBHOOK_TWILIO_AUTH_TOKENS",
    "REKINDLE_WEBHOOK_STRIPE_SIGNING_SECRET",
    "REKINDLE_WEBHOOK_INBOUND_URL_SECRET",
    "REKINDLE_WEBHOOK_INBOUND_PASSWORD",
];

/// Applies the environment on top of `config`.
pub(crate) fn apply(
    config: &mut Config,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(name, _)| name.starts_with("REKINDLE_"))
        .collect();

    for (name, value) in &vars {
        if let Some(base) = name
            .strip_suffix("_FILE")
            .filter(|base| FILE_SECRETS.contains(base))
        {
            let text = std::fs::read_to_string(value).map_err(|e| {
                invalid(
                    name,
                    value,
                    &format!("a readable file containing the secret ({e})"),
                )
            })?;
            set(config, base, text.trim())?;
        } else if let Some((_, setter)) = ENV_KEYS.iter().find(|(key, _)| key == name) {
            setter(config, value)?;
        } else if !name.starts_with("REKINDLE_TEST_") {
            tracing::warn!(variable = %name, "unknown configuration variable ignored");
        }
    }
    Ok(())
}

fn set(config: &mut Config, name: &str, value: &str) -> Result<(), ConfigError> {
    match ENV_KEYS.iter().find(|(key, _)| *key == name) {
        Some((_, setter)) => setter(config, value),
        None => Err(invalid(name, value, "a known configuration variable")),
    }
}

/// Checks that `value` is an absolute `http` or `https` URL and returns it trimmed.
fn absolute_url(key: &str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    let parsed = url::Url::parse(value).map_err(|_| {
        invalid(
            key,
            value,
            "an absolute URL such as https://rekindle.example.com/webhooks/twilio/status",
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(key, value, "an http or https URL"));
    }
    Ok(value.to_owned())
}

/// Splits a comma-separated list, dropping empty items.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn invalid(key: &str, value: &str, expected: &str) -> ConfigError {
    // Values of secrets are never echoed back.
    let shown = if FILE_SECRETS.contains(&key) {
        "[redacted]"
    } else {
        value
    };
    ConfigError::InvalidValue {
        key: key.to_owned(),
        value: shown.to_owned(),
        expected: expected.to_owned(),
    }
}

fn number<T>(key: &str, value: &str, min: T, max: T) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let parsed = value
        .trim()
        .parse::<T>()
        .map_err(|_| invalid(key, value, &format!("a whole number from {min} to {max}")))?;
    if parsed < min || parsed > max {
        return Err(invalid(
            key,
            value,
            &format!("a whole number from {min} to {max}"),
        ));
    }
    Ok(parsed)
}

/// Returns `None` for an empty or blank value.
fn optional_text(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Parses an amount of US dollars.
fn usd(key: &str, value: &str) -> Result<f64, ConfigError> {
    llm::parse_usd(value).map_err(|reason| {
        invalid(
            key,
            value,
            &format!("an amount of US dollars such as 2.50 ({reason})"),
        )
    })
}
