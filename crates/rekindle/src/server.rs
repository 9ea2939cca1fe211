//! `rekindle serve`: the HTTP API, and unless `--no-workers`, the job workers
//! and the scheduler in the same process.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use rekindle_api::middleware::client_ip::{IpNet, TrustedProxies};
use rekindle_api::settings::{WebhookClock, WebhookSettings};
use rekindle_api::{ApiSettings, ApiState, RateLimits};
use rekindle_auth::{ExternalConfig, JwksAlgorithm};
use rekindle_config::Config;
use rekindle_ratelimit::{Limiters, Quota, RedisConfig};
use rekindle_services::App;

/// Builds the API settings from the configuration.
pub fn api_settings(config: &Config) -> anyhow::Result<ApiSettings> {
    let server = &config.server;
    let proxies = server
        .trusted_proxies
        .iter()
        .map(|text| IpNet::parse(text).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("invalid REKINDLE_TRUSTED_PROXIES")?;
    let per_minute = |limit: u32| {
        Quota::new(limit, Duration::from_secs(60))
            .context("a rate limit must be at least 1 per minute")
    };
    let limits = &server.rate_limits;
    let timeout = Duration::from_secs(server.request_timeout_seconds);
    Ok(ApiSettings {
        cors_origins: server.cors_origins.clone(),
        request_timeout: timeout,
        upload_timeout: timeout * 10,
        body_limit_bytes: server.body_limit_bytes,
        upload_limit_bytes: config.import.max_file_bytes,
        upload_dir: config.data_dir.join("uploads"),
        trusted_proxies: TrustedProxies(proxies),
        token_issuer: "rekindle".into(),
        token_audience: "rekindle-api".into(),
        access_token_ttl: Duration::from_secs(server.access_token_minutes * 60),
        refresh_token_ttl: Duration::from_secs(server.refresh_token_days * 86_400),
        operator_token: server
            .operator_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        external_identity: external_identity(config)?,
        webhooks: webhook_settings(config)?,
        limits: RateLimits {
            public_per_ip: per_minute(limits.public_per_minute)?,
            login_per_ip: per_minute(limits.login_per_minute)?,
            per_user: per_minute(limits.user_per_minute)?,
            per_account: per_minute(limits.account_per_minute)?,
            ai_per_user: per_minute(limits.ai_user_per_minute)?,
            ai_per_account: per_minute(limits.ai_account_per_minute)?,
            ai_concurrency: limits.ai_concurrency,
        },
    })
}

/// Builds the webhook settings: secrets, the public URLs Twilio signs, caps
/// and budgets.
fn webhook_settings(config: &Config) -> anyhow::Result<WebhookSettings> {
    let hooks = &config.webhooks;
    let per_minute = |limit: u32| {
        Quota::new(limit, Duration::from_secs(60))
            .context("a rate limit must be at least 1 per minute")
    };
    let expose = |secret: &Option<rekindle_config::Secret>| {
        secret.as_ref().map(|secret| secret.expose().to_owned())
    };
    let twilio_tokens = config
        .twilio_auth_tokens()?
        .into_iter()
        .map(|(sid, token)| (sid, token.expose().to_owned()))
        .collect();
    let twilio_shared_numbers = [&config.sms.twilio_from, &config.sms.twilio_whatsapp_from]
        .into_iter()
        .flatten()
        .filter_map(|number| rekindle_domain::Phone::parse(number, None).ok())
        .map(|phone| phone.as_str().to_owned())
        .collect();
    Ok(WebhookSettings {
        sendgrid_key: hooks.sendgrid_verification_key.clone(),
        sendgrid_max_events: hooks.sendgrid_max_events,
        sendgrid_body_limit: hooks.sendgrid_max_body_bytes,
        sendgrid_tolerance: Duration::from_secs(hooks.sendgrid_tolerance_seconds),
        twilio_status_url: config.twilio_status_url(),
        twilio_inbound_url: config.twilio_inbound_url(),
        twilio_tokens,
        twilio_shared_numbers,
        stripe_secret: expose(&hooks.stripe_signing_secret),
        stripe_tolerance: Duration::from_secs(hooks.stripe_tolerance_seconds),
        inbound_url_secret: expose(&hooks.inbound_url_secret),
        inbound_user: hooks.inbound_user.clone(),
        inbound_password: expose(&hooks.inbound_password),
        inbound_body_limit: hooks.inbound_max_body_bytes,
        inbound_limits: rekindle_webhooks::inbound::InboundLimits {
            max_attachment_bytes: hooks.inbound_max_attachment_bytes,
            max_total_attachment_bytes: hooks.inbound_max_total_attachment_bytes,
            ..Default::default()
        },
        per_provider: per_minute(hooks.per_provider_per_minute)?,
        tracking_per_ip: per_minute(hooks.tracking_per_ip_per_minute)?,
        clock: WebhookClock::system(),
    })
}

/// Reads the external identity provider's settings, if any.
fn external_identity(config: &Config) -> anyhow::Result<Option<ExternalConfig>> {
    let auth = &config.auth;
    let base = match (&auth.external_hs256_secret, &auth.external_jwks_url) {
        (Some(_), Some(_)) => anyhow::bail!(
            "set either REKINDLE_AUTH_EXTERNAL_HS256_SECRET or REKINDLE_AUTH_EXTERNAL_JWKS_URL, not both"
        ),
        (Some(secret), None) => ExternalConfig::shared_secret(secret.expose().as_bytes().to_vec()),
        (None, Some(url)) => {
            let url = url::Url::parse(url).context("invalid REKINDLE_AUTH_EXTERNAL_JWKS_URL")?;
            ExternalConfig::jwks(url, &[JwksAlgorithm::Rs256, JwksAlgorithm::Es256])
        }
        (None, None) => return Ok(None),
    };
    let mut external = base.with_audience(auth.external_audience.clone());
    if let Some(issuer) = &auth.external_issuer {
        external = external.with_issuer(issuer.clone());
    }
    Ok(Some(external))
}

/// Builds the API state: settings, token keys and the rate limiters.
pub fn api_state(config: &Config, app: App) -> anyhow::Result<ApiState> {
    let settings = api_settings(config)?;
    let redis_url = config
        .server
        .redis_url
        .as_ref()
        .map(|url| url.expose().to_owned());
    let limiters = Limiters::from_config(redis_url.as_deref(), RedisConfig::default())
        .context("cannot set up the rate limiters (check REKINDLE_REDIS_URL)")?;
    if redis_url.is_some() {
        tracing::info!("rate-limit counters are shared through Redis");
    }
    let key = config.master_key();
    ApiState::new(app, settings, key.expose().as_bytes(), limiters)
        .context("cannot set up access tokens")
}

/// Serves the API until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve_api(
    config: &Config,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<ExitCode> {
    let state = api_state(config, app)?;
    let address: SocketAddr = config.server.listen.parse().with_context(|| {
        format!(
            "REKINDLE_LISTEN {:?} is not an address and port",
            config.server.listen
        )
    })?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| {
            format!("cannot listen on {address} (is another process using it? set REKINDLE_LISTEN)")
        })?;
    let bound = listener.local_addr()?;
    tracing::info!(address = %bound, "HTTP API listening");
    eprintln!("Rekindle API listening on http://{bound} (OpenAPI at /api/v1/openapi.json)");
    axum::serve(
        listener,
        rekindle_api::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the HTTP server stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}
