//! Settings of the HTTP API, mapped from the configuration by the binary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rekindle_auth::ExternalConfig;
use rekindle_ratelimit::Quota;
use rekindle_webhooks::inbound::InboundLimits;

use crate::middleware::client_ip::TrustedProxies;

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Origins allowed by CORS, exactly as browsers send them
    /// (`https://app.example.com`). Empty allows no cross-origin request.
    pub cors_origins: Vec<String>,
    /// Deadline of a request, uploads excepted.
    pub request_timeout: Duration,
    /// Deadline of a CSV upload, which streams up to `upload_limit_bytes`.
    pub upload_timeout: Duration,
    /// Largest JSON body.
    pub body_limit_bytes: usize,
    /// Largest CSV upload.
    pub upload_limit_bytes: u64,
    /// Directory where uploads wait for the import job.
    pub upload_dir: PathBuf,
    pub trusted_proxies: TrustedProxies,
    /// Issuer and audience of our access tokens.
    pub token_issuer: String,
    pub token_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Bearer token for `/readyz`; readiness is refused without it.
    pub operator_token: Option<String>,
    pub limits: RateLimits,
    /// Tokens of an external identity provider (Supabase, Auth0, Keycloak...)
    /// accepted next to our own; `None` accepts only ours.
    pub external_identity: Option<ExternalConfig>,
    pub webhooks: WebhookSettings,
}

/// The clock that webhook signature timestamps are checked against.
#[derive(Clone)]
pub struct WebhookClock(pub Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl WebhookClock {
    /// Returns the system clock.
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    /// Returns a clock stopped at `at`, for tests that replay recorded requests.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Arc::new(move || at))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl std::fmt::Debug for WebhookClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookClock")
    }
}

/// Secrets, public URLs and limits of the provider webhooks and of tracking.
/// A provider whose secret is `None` has its webhook rejected with 503.
/// `Debug` leaves the secrets out.
#[derive(Clone)]
pub struct WebhookSettings {
    /// SendGrid Event Webhook verification key, base64 DER.
    pub sendgrid_key: Option<String>,
    pub sendgrid_max_events: usize,
    pub sendgrid_body_limit: usize,
    /// How far the signed SendGrid timestamp may be from the clock.
    pub sendgrid_tolerance: Duration,
    /// Public URLs Twilio calls, which its signatures cover.
    pub twilio_status_url: String,
    pub twilio_inbound_url: String,
    /// Auth tokens by Twilio account SID. A request without an `AccountSid`
    /// (or with an unknown one) is checked with the first.
    pub twilio_tokens: Vec<(String, String)>,
    /// Our Twilio numbers (E.164) that every account sends from, for routing
    /// inbound messages that no sending identity claims.
    pub twilio_shared_numbers: Vec<String>,
    pub stripe_secret: Option<String>,
    pub stripe_tolerance: Duration,
    pub inbound_url_secret: Option<String>,
    pub inbound_user: Option<String>,
    pub inbound_password: Option<String>,
    pub inbound_body_limit: usize,
    pub inbound_limits: InboundLimits,
    /// Requests per provider, across all of the provider's addresses.
    pub per_provider: Quota,
    /// Open-pixel and click requests per client IP.
    pub tracking_per_ip: Quota,
    pub clock: WebhookClock,
}

/// Largest Twilio request body: a form with a 1,600-character message and
/// Twilio's few dozen parameters fits many times over.
pub const TWILIO_BODY_LIMIT: usize = 64 * 1024;
/// Largest Stripe event body. Stripe events are JSON documents of a few KiB.
pub const STRIPE_BODY_LIMIT: usize = 1024 * 1024;

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            sendgrid_key: None,
            sendgrid_max_events: 10_000,
            sendgrid_body_limit: 16 * 1024 * 1024,
            sendgrid_tolerance: Duration::from_secs(3 * 86_400),
            twilio_status_url: "https://localhost:8080/webhooks/twilio/status".into(),
            twilio_inbound_url: "https://localhost:8080/webhooks/twilio/inbound".into(),
            twilio_tokens: Vec::new(),
            twilio_shared_numbers: Vec::new(),
            stripe_secret: None,
            stripe_tolerance: Duration::from_secs(300),
            inbound_url_secret: None,
            inbound_user: None,
            inbound_password: None,
            inbound_body_limit: 32 * 1024 * 1024,
            inbound_limits: InboundLimits::default(),
            per_provider: quota(6000, 60),
            tracking_per_ip: quota(600, 60),
            clock: WebhookClock::system(),
        }
    }
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("sendgrid_key_set", &self.sendgrid_key.is_some())
            .field("twilio_status_url", &self.twilio_status_url)
            .field("twilio_inbound_url", &self.twilio_inbound_url)
            .field("twilio_accounts", &self.twilio_tokens.len())
            .field("stripe_secret_set", &self.stripe_secret.is_some())
            .field("inbound_url_secret_set", &self.inbound_url_secret.is_some())
            .finish_non_exhaustive()
    }
}

/// Request budgets. Each is a number of requests per period, refilled
/// smoothly (GCRA), so a client that waits the `Retry-After` time gets through.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Per client IP on routes without authentication (health, sign-up, OpenAPI).
    pub public_per_ip: Quota,
    /// Per client IP on login and refresh, which guess passwords and tokens.
    pub login_per_ip: Quota,
    /// Per user or API key.
    pub per_user: Quota,
    /// Per account, across its users and keys.
    pub per_account: Quota,
    /// Operations that call an LLM (preview, launch, rescore), per user.
    pub ai_per_user: Quota,
    /// Operations that call an LLM, per account.
    pub ai_per_account: Quota,
    /// LLM operations running at once, per account.
    pub ai_concurrency: u32,
}

fn quota(limit: u32, seconds: u64) -> Quota {
    // The arguments are constants below, always valid.
    Quota::new(limit, Duration::from_secs(seconds)).unwrap_or_else(|_| unreachable!())
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            public_per_ip: quota(120, 60),
            login_per_ip: quota(10, 60),
            per_user: quota(1200, 60),
            per_account: quota(6000, 60),
            ai_per_user: quota(10, 60),
            ai_per_account: quota(30, 60),
            ai_concurrency: 2,
        }
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(600),
            body_limit_bytes: 1024 * 1024,
            upload_limit_bytes: 512 * 1024 * 1024,
            upload_dir: PathBuf::from("rekindle-data/uploads"),
            trusted_proxies: TrustedProxies::default(),
            token_issuer: "rekindle".into(),
            token_audience: "rekindle-api".into(),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            operator_token: None,
            limits: RateLimits::default(),
            external_identity: None,
            webhooks: WebhookSettings::default(),
        }
    }
}
