//! Rekindle's configuration, read in layers: built-in defaults, then an optional
//! TOML file, then `REKINDLE_*` environment variables. Any secret can also be
//! read from a file named by the same variable with a `_FILE` suffix. Every key
//! is documented in `docs/configuration.md`.

mod env;
mod llm;
mod secret;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use env::ENV_KEYS;
pub use llm::{LlmConfig, LlmModelPrice, LlmPlanBudgets, LlmProviderKind, StructuredOutput};
pub use secret::Secret;

/// Minimum length of the master key in production, in characters.
pub const MIN_MASTER_KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("invalid value for {key}: {value:?}: {expected}")]
    InvalidValue {
        key: String,
        value: String,
        expected: String,
    },
    #[error("{key} is required in production: {hint}")]
    MissingSecret { key: String, hint: String },
    #[error("{key} is too short for production: {length} characters, at least {minimum} required")]
    WeakSecret {
        key: String,
        length: usize,
        minimum: usize,
    },
    #[error("{key} must use https in production, got {value:?}")]
    InsecureUrl { key: String, value: String },
}

/// Whether the program runs for development or production. Production refuses
/// to start with a missing or weak secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    #[default]
    Development,
    Production,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub env: RunMode,
    /// Directory for the SQLite file and the local outbox.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub secrets: SecretsConfig,
    pub server: ServerConfig,
    pub outbox: OutboxConfig,
    pub worker: WorkerConfig,
    pub import: ImportConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub email: EmailConfig,
    pub sms: SmsConfig,
    pub sending: SendingConfig,
    pub llm: LlmConfig,
    pub webhooks: WebhookConfig,
}

/// Send caps that protect the customer's domain reputation: per sending
/// identity, per recipient domain, and the warm-up ramp of new identities.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendingConfig {
    /// Sends per identity per UTC hour, unless the identity sets its own.
    pub identity_hourly_cap: u32,
    /// Sends per identity per UTC day after warm-up, unless the identity sets
    /// its own.
    pub identity_daily_cap: u32,
    /// Email sends per recipient domain per UTC hour, across identities.
    pub domain_hourly_cap: u32,
    /// Email sends per recipient domain per UTC day, across identities.
    pub domain_daily_cap: u32,
    /// Daily cap of a new identity in its first, second, ... week.
    pub warm_up_daily_caps: Vec<u32>,
}

impl Default for SendingConfig {
    fn default() -> Self {
        Self {
            identity_hourly_cap: 1_000,
            identity_daily_cap: 10_000,
            domain_hourly_cap: 100,
            domain_daily_cap: 1_000,
            warm_up_daily_caps: vec![20, 50, 100, 200, 500],
        }
    }
}

/// Provider webhooks, reply routing and open and click tracking. A provider
/// whose secret or key is unset has its webhook rejected with 503.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// SendGrid Event Webhook verification key: base64 DER, as SendGrid shows it.
    pub sendgrid_verification_key: Option<String>,
    /// Most events accepted in one SendGrid batch.
    pub sendgrid_max_events: usize,
    /// Largest SendGrid batch body, in bytes.
    pub sendgrid_max_body_bytes: usize,
    /// Seconds the signed SendGrid timestamp may be away from the clock.
    pub sendgrid_tolerance_seconds: u64,
    /// Public URL of the Twilio status callback endpoint, exactly as Twilio
    /// calls it; `<public_base_url>/webhooks/twilio/status` when unset.
    pub twilio_status_url: Option<String>,
    /// Public URL of the Twilio inbound message endpoint;
    /// `<public_base_url>/webhooks/twilio/inbound` when unset.
    pub twilio_inbound_url: Option<String>,
    /// Auth tokens of Twilio accounts besides `sms.twilio_account_sid`, as
    /// comma-separated `AccountSid:token` pairs.
    pub twilio_auth_tokens: Option<Secret>,
    /// Stripe webhook signing secret (`whsec_...`).
    pub stripe_signing_secret: Option<Secret>,
    /// Seconds a Stripe signature timestamp may be away from the clock.
    pub stripe_tolerance_seconds: u64,
    /// Secret path segment of the inbound email URL.
    pub inbound_url_secret: Option<Secret>,
    /// HTTP basic auth user of the inbound email URL.
    pub inbound_user: Option<String>,
    /// HTTP basic auth password of the inbound email URL.
    pub inbound_password: Option<Secret>,
    /// Largest inbound email request, in bytes.
    pub inbound_max_body_bytes: usize,
    /// Largest attachment of an inbound email, in bytes.
    pub inbound_max_attachment_bytes: u64,
    /// Largest total of an inbound email's attachments, in bytes.
    pub inbound_max_total_attachment_bytes: u64,
    /// Domain of the signed Reply-To addresses; its mail must reach the
    /// inbound email webhook. Emails carry no Reply-To when unset.
    pub inbound_domain: Option<String>,
    /// Requests per minute per provider, across all its addresses.
    pub per_provider_per_minute: u32,
    /// Open-pixel and click requests per minute per client IP.
    pub tracking_per_ip_per_minute: u32,
    /// Seconds after delivery within which an open counts as a likely machine open.
    pub machine_open_seconds: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            sendgrid_verification_key: None,
            sendgrid_max_events: 10_000,
            sendgrid_max_body_bytes: 16 * 1024 * 1024,
            sendgrid_tolerance_seconds: 3 * 86_400,
            twilio_status_url: None,
            twilio_inbound_url: None,
            twilio_auth_tokens: None,
            stripe_signing_secret: None,
            stripe_tolerance_seconds: 300,
            inbound_url_secret: None,
            inbound_user: None,
            inbound_password: None,
            inbound_max_body_bytes: 32 * 1024 * 1024,
            inbound_max_attachment_bytes: 10 * 1024 * 1024,
            inbound_max_total_attachment_bytes: 20 * 1024 * 1024,
            inbound_domain: None,
            per_provider_per_minute: 6000,
            tracking_per_ip_per_minute: 600,
            machine_open_seconds: 10,
        }
    }
}

/// Which provider sends email, and its settings. `outbox` writes `.eml` files.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// `outbox`, `smtp` or `sendgrid`.
    pub provider: String,
    pub smtp_host: Option<String>,
    /// 587 for STARTTLS, 465 for TLS when unset.
    pub smtp_port: Option<u16>,
    /// `starttls`, `tls`, or `plaintext` (loopback relays only).
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Secret>,
    pub sendgrid_api_key: Option<Secret>,
    /// SendGrid's API base URL; a loopback mock in tests.
    pub sendgrid_base_url: Option<String>,
    /// Seconds one send may take before it counts as failed.
    pub timeout_seconds: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            provider: "outbox".into(),
            smtp_host: None,
            smtp_port: None,
            smtp_security: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            sendgrid_api_key: None,
            sendgrid_base_url: None,
            timeout_seconds: 15,
        }
    }
}

/// Which provider sends SMS, and its settings. `outbox` writes JSON files.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// `outbox` or `twilio`.
    pub provider: String,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<Secret>,
    /// E.164 number messages are sent from, unless a messaging service is set.
    pub twilio_from: Option<String>,
    pub twilio_messaging_service_sid: Option<String>,
    /// WhatsApp sender number (E.164) on Twilio; WhatsApp messages go to the
    /// local outbox when unset.
    pub twilio_whatsapp_from: Option<String>,
    /// Twilio's API base URL; a loopback mock in tests.
    pub twilio_base_url: Option<String>,
    /// Seconds one send may take before it counts as failed.
    pub timeout_seconds: u64,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            provider: "outbox".into(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_from: None,
            twilio_messaging_service_sid: None,
            twilio_whatsapp_from: None,
            twilio_base_url: None,
            timeout_seconds: 15,
        }
    }
}

/// Tokens of an external identity provider, accepted next to Rekindle's own.
/// Set either the HS256 secret (as Supabase issues tokens) or the JWKS URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Shared HS256 secret of the provider (Supabase's JWT secret).
    pub external_hs256_secret: Option<Secret>,
    /// URL of the provider's JSON Web Key Set, for RS256 and ES256 tokens.
    pub external_jwks_url: Option<String>,
    /// Required `aud` claim of external tokens.
    pub external_audience: String,
    /// Required `iss` claim of external tokens; any issuer when empty.
    pub external_issuer: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            external_hs256_secret: None,
            external_jwks_url: None,
            external_audience: "authenticated".into(),
            external_issuer: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://...` or `sqlite:...`; empty means `<data_dir>/rekindle.sqlite`.
    pub url: Option<Secret>,
    /// Owner URL used by `rekindle migrate` on PostgreSQL.
    pub admin_url: Option<Secret>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    /// Master key from which per-purpose keys (signed links, token encryption)
    /// are derived.
    pub master_key: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Base URL that recipients reach, used in unsubscribe links.
    pub public_base_url: String,
    /// Address and port the HTTP API listens on.
    pub listen: String,
    /// Origins allowed to call the API from a browser (CORS), such as
    /// `https://app.example.com`. Empty allows none.
    pub cors_origins: Vec<String>,
    /// Deadline of one request, in seconds (CSV uploads get ten times as long).
    pub request_timeout_seconds: u64,
    /// Largest JSON request body, in bytes.
    pub body_limit_bytes: usize,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Bearer token that unlocks `/readyz`; readiness is refused without one.
    pub operator_token: Option<Secret>,
    /// Redis URL for rate-limit counters shared by several API processes;
    /// counters stay in process when empty.
    pub redis_url: Option<Secret>,
    /// Lifetime of an access token, in minutes.
    pub access_token_minutes: u64,
    /// Lifetime of a refresh token, in days.
    pub refresh_token_days: u64,
    pub rate_limits: RateLimitConfig,
}

/// Request budgets per minute, and the cap on AI operations running at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Per client IP, on routes without authentication.
    pub public_per_minute: u32,
    /// Per client IP, on sign-up, login and token refresh.
    pub login_per_minute: u32,
    /// Per user or API key.
    pub user_per_minute: u32,
    /// Per account.
    pub account_per_minute: u32,
    /// Operations that call the AI crew, per user.
    pub ai_user_per_minute: u32,
    /// Operations that call the AI crew, per account.
    pub ai_account_per_minute: u32,
    /// AI operations running at once, per account.
    pub ai_concurrency: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            public_per_minute: 120,
            login_per_minute: 10,
            user_per_minute: 1200,
            account_per_minute: 6000,
            ai_user_per_minute: 10,
            ai_account_per_minute: 30,
            ai_concurrency: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Directory for `.eml` and SMS files; empty means `<data_dir>/outbox`.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Provider calls in flight at once in one process; it runs twice as many
    /// worker loops, so database work overlaps the calls.
    pub concurrency: u32,
    /// Seconds between two rounds of periodic jobs (resuming paused leads).
    pub scheduler_interval_seconds: u64,
    /// Jobs claimed per poll.
    pub batch_size: u32,
    /// Milliseconds between polls when the queue is empty.
    pub poll_interval_ms: u64,
    /// Seconds a claimed job stays leased before another worker may take it.
    pub lease_seconds: u64,
    /// Seconds between two scheduled sends of one campaign (staggering).
    pub send_spacing_seconds: u64,
    /// Attempts before a job goes to the dead-letter state.
    pub max_attempts: i32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportConfig {
    /// Largest accepted CSV file, in bytes.
    pub max_file_bytes: u64,
    /// Most columns accepted in one file.
    pub max_columns: usize,
    /// Longest accepted field, in characters.
    pub max_field_chars: usize,
    /// ISO 3166 region for phone numbers written without a country code.
    pub default_region: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// `tracing` filter, such as `info` or `rekindle=debug`; `RUST_LOG` wins.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            env: RunMode::Development,
            data_dir: PathBuf::from("rekindle-data"),
            database: DatabaseConfig::default(),
            secrets: SecretsConfig::default(),
            server: ServerConfig::default(),
            outbox: OutboxConfig::default(),
            worker: WorkerConfig::default(),
            import: ImportConfig::default(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            email: EmailConfig::default(),
            sms: SmsConfig::default(),
            sending: SendingConfig::default(),
            llm: LlmConfig::default(),
            webhooks: WebhookConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            admin_url: None,
            max_connections: 8,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            public_base_url: "https://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            cors_origins: Vec::new(),
            request_timeout_seconds: 30,
            body_limit_bytes: 1024 * 1024,
            trusted_proxies: Vec::new(),
            operator_token: None,
            redis_url: None,
            access_token_minutes: 15,
            refresh_token_days: 30,
            rate_limits: RateLimitConfig::default(),
        }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 2,
            scheduler_interval_seconds: 60,
            batch_size: 20,
            poll_interval_ms: 1000,
            lease_seconds: 300,
            send_spacing_seconds: 30,
            max_attempts: 5,
        }
    }
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 512 * 1024 * 1024,
            max_columns: 200,
            max_field_chars: 10_000,
            default_region: None,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Master key used in development when none is configured. Production refuses it.
const DEVELOPMENT_MASTER_KEY: &str = "rekindle-development-master-key-not-for-production";

impl Config {
    /// Loads the configuration from `file` (if given) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Loads from `file` and the given environment, then validates.
    pub fn load_from(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        env::apply(&mut config, vars)?;
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::ParseFile {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Checks what production needs; development only gets warnings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.env != RunMode::Production {
            if self.secrets.master_key.is_none() {
                tracing::warn!(
                    "REKINDLE_MASTER_KEY is not set: using the built-in development key, which production refuses"
                );
            }
            return Ok(());
        }

        let key = self
            .secrets
            .master_key
            .as_ref()
            .ok_or_else(|| ConfigError::MissingSecret {
                key: "REKINDLE_MASTER_KEY".into(),
                hint: format!(
                    "set it (or REKINDLE_MASTER_KEY_FILE) to a random string of at least {MIN_MASTER_KEY_LEN} characters, e.g. from `openssl rand -base64 48`"
                ),
            })?;
        let length = key.expose().chars().count();
        if length < MIN_MASTER_KEY_LEN || key.expose() == DEVELOPMENT_MASTER_KEY {
            return Err(ConfigError::WeakSecret {
                key: "REKINDLE_MASTER_KEY".into(),
                length,
                minimum: MIN_MASTER_KEY_LEN,
            });
        }
        if !self.server.public_base_url.starts_with("https://") {
            return Err(ConfigError::InsecureUrl {
                key: "REKINDLE_PUBLIC_BASE_URL".into(),
                value: self.server.public_base_url.clone(),
            });
        }
        Ok(())
    }

    /// Returns the master key, or the development key outside production.
    pub fn master_key(&self) -> Secret {
        self.secrets
            .master_key
            .clone()
            .unwrap_or_else(|| Secret::new(DEVELOPMENT_MASTER_KEY))
    }

    /// Returns the database URL: the configured one, else the SQLite file in the data directory.
    pub fn database_url(&self) -> Secret {
        match &self.database.url {
            Some(url) if !url.expose().is_empty() => url.clone(),
            _ => Secret::new(format!(
                "sqlite://{}",
                self.data_dir.join("rekindle.sqlite").display()
            )),
        }
    }

    /// Returns the public URL Twilio calls for status callbacks.
    pub fn twilio_status_url(&self) -> String {
        self.webhooks
            .twilio_status_url
            .clone()
            .unwrap_or_else(|| format!("{}/webhooks/twilio/status", self.server.public_base_url))
    }

    /// Returns the public URL Twilio calls for inbound messages.
    pub fn twilio_inbound_url(&self) -> String {
        self.webhooks
            .twilio_inbound_url
            .clone()
            .unwrap_or_else(|| format!("{}/webhooks/twilio/inbound", self.server.public_base_url))
    }

    /// Returns the Twilio auth tokens by account SID: the sending account's,
    /// then those of `webhooks.twilio_auth_tokens`.
    pub fn twilio_auth_tokens(&self) -> Result<Vec<(String, Secret)>, ConfigError> {
        let mut tokens = Vec::new();
        if let (Some(sid), Some(token)) =
            (&self.sms.twilio_account_sid, &self.sms.twilio_auth_token)
        {
            tokens.push((sid.clone(), token.clone()));
        }
        let Some(extra) = &self.webhooks.twilio_auth_tokens else {
            return Ok(tokens);
        };
        for pair in extra
            .expose()
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let (sid, token) = pair
                .split_once(':')
                .ok_or_else(|| ConfigError::InvalidValue {
                    key: "REKINDLE_WEBHOOK_TWILIO_AUTH_TOKENS".into(),
                    value: "[redacted]".into(),
                    expected: "comma-separated AccountSid:token pairs".into(),
                })?;
            tokens.push((sid.trim().to_owned(), Secret::new(token.trim())));
        }
        Ok(tokens)
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.outbox
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("outbox"))
    }
}

#[cfg(test)]
mod tests;
