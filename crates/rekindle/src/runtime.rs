//! Start-up shared by the commands: configuration, logging, store, services.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rekindle_channels::{CircuitConfig, CircuitRegistry};
use rekindle_config::{Config, LogFormat};
use rekindle_crews::{CrewConfig, ReactivationCrew};
use rekindle_domain::Phone;
use rekindle_domain::throttle::ThrottleSettings;
use rekindle_llm::{AgentRole, LlmClient};
use rekindle_services::ai::AiAgents;
use rekindle_services::ai_ledger::StoreLedger;
use rekindle_services::circuit_alerts::AlertingObserver;
use rekindle_services::{App, AppSettings};
use rekindle_store::Store;
use rekindle_store_postgres::PostgresStore;
use rekindle_store_sqlite::SqliteStore;
use tracing_subscriber::EnvFilter;

pub fn init_logging(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Err(error) = result {
        eprintln!("warning: logging already initialised: {error}");
    }
}

/// Opens the configured database. SQLite is migrated on open; PostgreSQL needs
/// `rekindle migrate` first, because only the owner role may change the schema.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    let url = url.expose();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(url, config.database.max_connections)
            .await
            .context("cannot connect to PostgreSQL (set REKINDLE_DATABASE_URL to the application role's URL)")?;
        return Ok(Arc::new(store));
    }
    // A plain file URL opens through the path, which also creates the data directory.
    if let Some(path) = url.strip_prefix("sqlite://") {
        let store = SqliteStore::open(std::path::Path::new(path))
            .await
            .with_context(|| format!("cannot open the SQLite database at {path}"))?;
        return Ok(Arc::new(store));
    }
    let store = SqliteStore::open_url(url)
        .await
        .with_context(|| format!("cannot open the SQLite database at {url}"))?;
    Ok(Arc::new(store))
}

pub fn settings(config: &Config) -> AppSettings {
    AppSettings {
        public_base_url: config.server.public_base_url.clone(),
        send_spacing: Duration::from_secs(config.worker.send_spacing_seconds),
        max_attempts: config.worker.max_attempts,
        job_lease: Duration::from_secs(config.worker.lease_seconds),
        batch_size: config.worker.batch_size,
        send_concurrency: config.worker.concurrency as usize,
        throttle: throttle_settings(config),
        reply_domain: config.webhooks.inbound_domain.clone(),
        machine_open_seconds: config.webhooks.machine_open_seconds,
        default_sms_from: twilio_number(config, config.sms.twilio_from.as_deref()),
        default_whatsapp_from: twilio_number(config, config.sms.twilio_whatsapp_from.as_deref()),
        ..AppSettings::default()
    }
}

fn throttle_settings(config: &Config) -> ThrottleSettings {
    let sending = &config.sending;
    ThrottleSettings {
        identity_hourly_cap: sending.identity_hourly_cap,
        identity_daily_cap: sending.identity_daily_cap,
        domain_hourly_cap: sending.domain_hourly_cap,
        domain_daily_cap: sending.domain_daily_cap,
        warm_up_daily_caps: sending.warm_up_daily_caps.clone(),
    }
}

/// Returns a configured Twilio sender number. Only Twilio sends from it, and
/// building the Twilio transport rejects an invalid one with its variable's
/// name, so an invalid number is simply left out here.
fn twilio_number(config: &Config, number: Option<&str>) -> Option<Phone> {
    if config.sms.provider != "twilio" {
        return None;
    }
    number.and_then(|number| Phone::parse(number, None).ok())
}

pub fn build_app(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let key = config.master_key();
    let mut app = App::with_outbox(
        store,
        config.outbox_dir(),
        key.expose().as_bytes(),
        settings(config),
    )
    .context("cannot set up the services")?;
    let circuits = Arc::new(CircuitRegistry::new(
        CircuitConfig::default(),
        Arc::new(AlertingObserver::new(app.store.clone())),
    ));
    app.email = crate::transports::email_transport(config, &circuits)?;
    app.sms = crate::transports::sms_transport(config, &circuits)?;
    app.whatsapp = crate::transports::whatsapp_transport(config, &circuits)?;
    set_up_ai(config, &mut app)?;
    Ok(app)
}

/// Builds the LLM client of `config.llm`, with its budget ledger in the
/// database, and the crew that uses it. With the `offline` provider the app
/// keeps its offline agents.
fn set_up_ai(config: &Config, app: &mut App) -> anyhow::Result<()> {
    let ledger = Arc::new(StoreLedger::new(app.store.clone()));
    let client = LlmClient::from_config(&config.llm, ledger)
        .context("invalid LLM configuration (see the REKINDLE_LLM_* variables)")?;
    let Some(client) = client else {
        tracing::info!("no LLM configured; the crews write and classify offline");
        return Ok(());
    };

    tracing::info!(
        provider = client.provider_name(),
        writer_model = client.model(AgentRole::Writer),
        classifier_model = client.model(AgentRole::Classifier),
        "LLM client ready"
    );
    // A batch drafts as many leads at once as one account may have LLM
    // calls in flight; more would only wait for the account's slots.
    let crew = CrewConfig {
        lead_concurrency: config.llm.account_concurrency.max(1) as usize,
        ..CrewConfig::default()
    };
    app.crew = Arc::new(ReactivationCrew::offline(crew));
    app.ai = AiAgents::with_client(Arc::new(client));
    Ok(())
}
