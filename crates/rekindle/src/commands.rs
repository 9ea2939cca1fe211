//! The subcommands.

use std::collections::BTreeMap;
use std::fs::File;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use rekindle_config::Config;
use rekindle_domain::{AccountId, JobId, JobStatus, Plan};
use rekindle_import::ImportOptions;
use rekindle_services::App;
use rekindle_services::import::{ImportRequest, ImportSummary, import_csv};
use rekindle_services::worker::Worker;
use rekindle_store::{Actor, AuditRecord, NewAccount, PageRequest, Store};
use rekindle_store_postgres::PostgresStore;

use crate::cli::{AuditCommand, Cli, Command, ImportArgs, ImportOptionsArgs, JobsCommand};
use crate::{crew_runs, demo, runtime, server};

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    // The demo, the import and the crew-run commands print their own report,
    // so their logs stay quiet unless asked for.
    let reports = matches!(
        cli.command,
        Command::Demo(_) | Command::Import(_) | Command::CrewRuns(_)
    );
    if reports && std::env::var_os("REKINDLE_LOG_LEVEL").is_none() {
        config.log.level = "error".into();
    }
    runtime::init_logging(&config);

    match cli.command {
        Command::Serve(args) => serve(&config, !args.no_workers).await,
        Command::Worker(args) => {
            let name = args.name.unwrap_or_else(default_worker_name);
            run_worker(&config, name).await
        }
        Command::Migrate => migrate(&config).await,
        Command::Import(args) => import(&config, args).await,
        Command::Demo(args) => demo::run(&config, args).await,
        Command::Audit(AuditCommand::Verify) => audit_verify(&config).await,
        Command::Jobs(command) => jobs(&config, command).await,
        Command::CrewRuns(command) => crew_runs::run(&config, command).await,
    }
}

fn default_worker_name() -> String {
    format!("worker-{}", std::process::id())
}

async fn serve(config: &Config, workers: bool) -> anyhow::Result<ExitCode> {
    let store = runtime::open_store(config).await?;
    let app = runtime::build_app(config, store)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = Arc::new(stop);
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested");
            let _ = stop.send(true);
        });
    }

    // If the API fails or panics, the whole process stops instead of running
    // workers behind a port that answers nothing.
    let api = {
        let (config, app, stop) = (config.clone(), app.clone(), stop.clone());
        let mut api_stopped = stopped.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = api_stopped.wait_for(|stop| *stop).await;
            };
            let served =
                tokio::spawn(async move { server::serve_api(&config, app, shutdown).await });
            let result = match served.await {
                Ok(result) => result,
                Err(error) => Err(anyhow::anyhow!("the HTTP server panicked: {error}")),
            };
            if let Err(error) = &result {
                tracing::error!(error = %format!("{error:#}"), "the HTTP API stopped; stopping the workers too");
                let _ = stop.send(true);
            }
            result
        })
    };
    if workers {
        run_worker_tasks(config, app, default_worker_name(), true, stopped).await?;
    }
    api.await.context("the HTTP server task panicked")?
}

async fn run_worker(config: &Config, name: String) -> anyhow::Result<ExitCode> {
    run_workers(config, name, false).await
}

/// Runs the worker loops, and the scheduler when asked, until
/// Ctrl-C or SIGTERM; each loop finishes its current job before stopping.
async fn run_workers(config: &Config, name: String, scheduler: bool) -> anyhow::Result<ExitCode> {
    let store = runtime::open_store(config).await?;
    let app = runtime::build_app(config, store)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested");
        let _ = stop.send(true);
    });
    run_worker_tasks(config, app, name, scheduler, stopped).await
}

/// Runs the worker loops, and the scheduler when asked, until `stopped` turns true.
async fn run_worker_tasks(
    config: &Config,
    app: rekindle_services::App,
    name: String,
    scheduler: bool,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<ExitCode> {
    let mut tasks = tokio::task::JoinSet::new();
    if scheduler {
        let interval = Duration::from_secs(config.worker.scheduler_interval_seconds);
        let (app, stopped) = (app.clone(), stopped.clone());
        tasks.spawn(async move {
            rekindle_services::scheduler::run(app, interval, stopped).await;
            Ok(())
        });
    }
    // Twice as many loops as provider calls in flight, so one loop's database
    // work overlaps another's provider call (`App::send_slots` caps the calls).
    for index in 0..config.worker.concurrency * 2 {
        let worker = Worker::new(
            app.clone(),
            format!("{name}-{index}"),
            Duration::from_millis(config.worker.poll_interval_ms),
        );
        let stopped = stopped.clone();
        tasks.spawn(async move { worker.run(stopped).await.map(|_| ()) });
    }
    while let Some(result) = tasks.join_next().await {
        result.context("a worker task panicked")??;
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let url = config.database_url();
    if url.expose().starts_with("postgres") {
        let admin = config.database.admin_url.clone().unwrap_or(url);
        PostgresStore::migrate(admin.expose())
            .await
            .context("PostgreSQL migration failed")?;
    } else {
        runtime::open_store(config).await?;
    }
    println!("database schema is up to date");
    Ok(ExitCode::SUCCESS)
}

/// Names the database for a message: the SQLite path, or the PostgreSQL host
/// and database without credentials.
fn redacted_location(url: &rekindle_config::Secret) -> String {
    let text = url.expose();
    if let Some(path) = text.strip_prefix("sqlite://") {
        return path.to_owned();
    }
    match url::Url::parse(text) {
        Ok(parsed) => format!(
            "PostgreSQL database {} on {}",
            parsed.path().trim_start_matches('/'),
            parsed.host_str().unwrap_or("?")
        ),
        Err(_) => "the configured database".to_owned(),
    }
}

/// Builds parser options from the command line and configuration.
pub fn import_options(config: &Config, args: &ImportOptionsArgs) -> anyhow::Result<ImportOptions> {
    let mut options = ImportOptions {
        default_region: args
            .default_region
            .clone()
            .or_else(|| config.import.default_region.clone()),
        encoding: args.encoding.clone(),
        ..ImportOptions::default()
    };
    options.limits.max_file_bytes = config.import.max_file_bytes;
    options.limits.max_columns = config.import.max_columns;
    options.limits.max_field_chars = config.import.max_field_chars;
    options.delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t") => Some(b'\t'),
        Some(text) if text.len() == 1 => Some(text.as_bytes()[0]),
        Some(other) => bail!("invalid --delimiter {other:?}: use ',', ';', 'tab' or '|'"),
    };
    let mut mapping = BTreeMap::new();
    for entry in &args.mappings {
        let Some((column, field)) = entry.split_once('=') else {
            bail!("invalid --map {entry:?}: write COLUMN=FIELD, e.g. --map \"Mobile=phone\"");
        };
        mapping.insert(column.trim().to_owned(), field.trim().to_owned());
    }
    options.mapping = mapping;
    Ok(options)
}

/// Finds the account named `name`, or the only account, creating a default one
/// in an empty database.
async fn resolve_account(app: &App, name: Option<&str>) -> anyhow::Result<AccountId> {
    if let Some(text) = name {
        return text
            .parse()
            .with_context(|| format!("invalid --account {text:?}: use the account id (a UUID)"));
    }
    let mut tx = app.store.begin_system("cli").await?;
    let ids = tx.list_account_ids().await?;
    tx.commit().await?;
    match ids.as_slice() {
        [] => {
            let account = rekindle_services::accounts::create_account(
                app,
                &default_account(),
                &Actor::system("cli"),
            )
            .await?;
            eprintln!("created account {} ({})", account.name, account.id);
            Ok(account.id)
        }
        [only] => Ok(*only),
        _ => bail!(
            "the database has {} accounts: choose one with --account ID",
            ids.len()
        ),
    }
}

pub fn default_account() -> NewAccount {
    NewAccount {
        name: "Default account".into(),
        sender_name: "Sales team".into(),
        sender_email: "sales@rekindle.localhost".into(),
        postal_address: "1 Example Street, London EC1A 1AA, United Kingdom".into(),
        time_zone: "Europe/London".into(),
        acv_minor: 250_000,
        currency: "GBP".into(),
        plan: Plan::Pro,
    }
}

async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = runtime::open_store(config).await?;
    let app = runtime::build_app(config, store)?;
    let account = resolve_account(&app, args.account.as_deref()).await?;
    let options = import_options(config, &args.options)?;
    let summary = import_with_progress(&app, account, &args.file, options).await?;

    if args.json {
        print_json_report(&app, account, &summary).await?;
    } else {
        print_import_report(&app, account, &summary).await?;
        println!("  stored in {}", redacted_location(&config.database_url()));
    }
    Ok(if summary.error.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Imports a file, with a progress bar when standard error is a terminal.
pub async fn import_with_progress(
    app: &App,
    account: AccountId,
    path: &std::path::Path,
    options: ImportOptions,
) -> anyhow::Result<ImportSummary> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bytes = Arc::new(AtomicU64::new(0));
    let bar = progress_bar(size);
    let ticker = bar.clone().map(|bar| {
        let bytes = bytes.clone();
        tokio::spawn(async move {
            loop {
                bar.set_position(bytes.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });

    let request = ImportRequest {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        options,
        bytes_read: Some(bytes.clone()),
    };
    let result = import_csv(app, account, &Actor::system("cli"), file, request).await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let Some(bar) = bar {
        bar.set_position(bytes.load(Ordering::Relaxed));
        bar.finish_and_clear();
    }
    Ok(result?)
}

fn progress_bar(size: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || size == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
    .map(|style| style.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

pub async fn print_import_report(
    app: &App,
    account: AccountId,
    summary: &ImportSummary,
) -> anyhow::Result<()> {
    let c = &summary.counts;
    println!("Import {} ({})", summary.import_id, summary.status);
    if let (Some(encoding), Some(delimiter)) = (&summary.encoding, &summary.delimiter) {
        println!("  file: encoding {encoding}, delimiter {delimiter}");
    }
    println!(
        "  records {}: imported {}, merged into existing leads {}, duplicates {}, rejected {}, suppressed {}; {} with warnings",
        c.records, c.imported, c.merged, c.duplicates, c.rejected, c.suppressed, c.warnings
    );
    let mut tx = app.store.begin(account).await?;
    let rows = tx.list_import_rows(summary.import_id, 0, 200).await?;
    tx.commit().await?;
    for row in &rows {
        let who = row.identifier.as_deref().unwrap_or("-");
        let field = row.field.as_deref().unwrap_or("-");
        let duplicate = row
            .duplicate_of
            .as_deref()
            .map(|d| format!(" (first seen as {d})"))
            .unwrap_or_default();
        println!(
            "  record {} line {} [{who}] {}: {field}: {}{duplicate}",
            row.record_number, row.line, row.outcome, row.reason
        );
    }
    if rows.len() == 200 {
        println!("  ... more rows in the import report");
    }
    if let Some(error) = &summary.error {
        println!("  stopped: {error}");
    }
    Ok(())
}

async fn print_json_report(
    app: &App,
    account: AccountId,
    summary: &ImportSummary,
) -> anyhow::Result<()> {
    let mut tx = app.store.begin(account).await?;
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let page = tx.list_import_rows(summary.import_id, after, 200).await?;
        let Some(last) = page.last() else { break };
        after = last.record_number;
        rows.extend(page);
    }
    tx.commit().await?;
    let report = serde_json::json!({
        "import_id": summary.import_id,
        "status": summary.status,
        "counts": summary.counts,
        "encoding": summary.encoding,
        "delimiter": summary.delimiter,
        "error": summary.error,
        "rows": rows,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

async fn audit_verify(config: &Config) -> anyhow::Result<ExitCode> {
    let store = runtime::open_store(config).await?;
    let report = rekindle_store::audit::verify_all(&*store).await?;
    for chain_break in &report.breaks {
        println!("BROKEN: {chain_break}");
    }
    println!(
        "checked {} entries in {} accounts: {} broken chains",
        report.entries,
        report.accounts,
        report.breaks.len()
    );
    Ok(if report.breaks.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn jobs(config: &Config, command: JobsCommand) -> anyhow::Result<ExitCode> {
    let store: Arc<dyn Store> = runtime::open_store(config).await?;
    let mut tx = store.begin_system("cli").await?;
    match command {
        JobsCommand::Dead => {
            let page = tx
                .list_jobs(Some(JobStatus::Dead), PageRequest::new(None, Some(200)))
                .await?;
            for job in &page.items {
                println!(
                    "{} {} attempts {} {}: {}",
                    job.id,
                    job.kind,
                    job.attempts,
                    job.error_class.map(|c| c.as_str()).unwrap_or("-"),
                    job.last_error.as_deref().unwrap_or("-")
                );
            }
            println!("{} dead jobs", page.items.len());
        }
        JobsCommand::Retry { id } => {
            let id: JobId = id.parse().with_context(|| {
                format!("invalid job id {id:?}: use the id printed by `rekindle jobs dead`")
            })?;
            if !tx.retry_dead_job(id, Utc::now()).await? {
                bail!("job {id} is not dead (or does not exist)");
            }
            println!("job {id} queued again");
        }
        JobsCommand::Discard { id } => {
            let id: JobId = id.parse().with_context(|| {
                format!("invalid job id {id:?}: use the id printed by `rekindle jobs dead`")
            })?;
            let Some(discarded) = tx.discard_dead_job(id).await? else {
                bail!("job {id} is not dead (or does not exist)");
            };
            if let Some(account) = discarded.account_id {
                let record = AuditRecord::new(
                    Actor::system("cli"),
                    "job.discard",
                    "job",
                    Some(id.to_string()),
                );
                tx.append_audit(account, &record, Utc::now()).await?;
            }
            println!("job {id} discarded");
        }
    }
    tx.commit().await?;
    Ok(ExitCode::SUCCESS)
}
