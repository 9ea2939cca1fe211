use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Rekindle revives dormant sales leads: it imports a CRM export, scores the
/// leads, writes each one a personal message, sends within safe limits, reads
/// the replies and reports the funnel.
///
/// Configuration comes from REKINDLE_* environment variables and an optional
/// TOML file (see docs/configuration.md). Without a database URL, everything is
/// stored in an SQLite file under the data directory.
#[derive(Debug, Parser)]
#[command(name = "rekindle", version, propagate_version = true)]
pub struct Cli {
    /// TOML configuration file; environment variables override its values.
    #[arg(long, global = true, env = "REKINDLE_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: the HTTP API (on REKINDLE_LISTEN, default 127.0.0.1:8080)
    /// with the job workers and schedulers. Stops cleanly on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Run only the job workers, for a fleet where other processes serve HTTP.
    Worker(WorkerArgs),
    /// Create or update the database schema. On PostgreSQL this runs as the
    /// owner role (database.admin_url) and grants the application role.
    Migrate,
    /// Import leads from a CSV export into an account.
    Import(ImportArgs),
    /// Run the whole flow on a fresh SQLite file: import, score, write, send to
    /// a local outbox, read sample replies, report.
    Demo(DemoArgs),
    /// Audit log commands.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Job queue commands: list and retry dead jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Crew runs: what the AI crews did per batch and per lead, with tokens,
    /// fallbacks and errors; retry a run's failed leads.
    #[command(subcommand, name = "crew-runs")]
    CrewRuns(CrewRunsCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve only the HTTP API; run the workers with `rekindle worker` elsewhere.
    #[arg(long)]
    pub no_workers: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Name of this worker in job leases and logs (default: host name and process id).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ImportOptionsArgs {
    /// ISO 3166 region for phone numbers without a country code, e.g. GB or DE.
    #[arg(long)]
    pub default_region: Option<String>,
    /// Force the file's encoding (e.g. utf-8, windows-1252) instead of detecting it.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Force the delimiter: ',', ';', 'tab' or '|'.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Map a column to a field: --map "Mobile=phone"; repeat for more. Fields:
    /// email, phone, first_name, last_name, company, job_title, notes, ... or
    /// custom, signal, ignore.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    pub mappings: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV file exported from a CRM or spreadsheet.
    pub file: PathBuf,
    /// Account to import into; created as "Default account" when absent and
    /// the database has no account yet.
    #[arg(long)]
    pub account: Option<String>,
    #[command(flatten)]
    pub options: ImportOptionsArgs,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Your own CSV file instead of the built-in sample.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Directory for the demo's database and outbox (default: a new folder
    /// under the data directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub options: ImportOptionsArgs,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every account's hash chain; exits 1 when an entry was modified or deleted.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List dead-lettered jobs.
    Dead,
    /// Put a dead job back in the queue.
    Retry {
        /// Job id.
        id: String,
    },
    /// Delete a dead job for good, when retrying it would not help.
    Discard {
        /// Job id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct AccountArg {
    /// Account id (a UUID); may be left out when the database has one account.
    #[arg(long)]
    pub account: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CrewRunsCommand {
    /// List crew runs, newest first.
    List {
        #[command(flatten)]
        account: AccountArg,
        /// Only the runs of this campaign (its id).
        #[arg(long)]
        campaign: Option<String>,
        /// Only runs with this status: running, succeeded, failed or skipped.
        #[arg(long)]
        status: Option<String>,
        /// Runs to list, 1 to 200.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: u32,
    },
    /// Show one crew run with the stage runs of each lead.
    Show {
        /// Crew run id.
        id: String,
        #[command(flatten)]
        account: AccountArg,
    },
    /// Queue a run's failed leads again; every failed lead without --lead.
    Retry {
        /// Crew run id.
        id: String,
        /// A failed lead of the run to retry (its id); repeat for more.
        #[arg(long = "lead", value_name = "LEAD_ID")]
        leads: Vec<String>,
        #[command(flatten)]
        account: AccountArg,
    },
}
