//! Settings of the HTTP API, mapped from the configuration by the binary.

use std::path::PathBuf;
use std::time::Duration;

use rekindle_auth::ExternalConfig;
use rekindle_ratelimit::Quota;

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
        }
    }
}
