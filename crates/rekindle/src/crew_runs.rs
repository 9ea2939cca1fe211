//! `rekindle crew-runs`: list and show crew runs, and retry a run's failed
//! leads, from the command line.

use std::process::ExitCode;

use anyhow::{Context, bail};
use rekindle_config::Config;
use rekindle_domain::{AccountId, CampaignId, CrewRunId, LeadId, RunStatus};
use rekindle_services::App;
use rekindle_services::crew_runs::retry_failed_leads;
use rekindle_store::{Actor, CrewRun, CrewRunFilter, PageRequest, StageRun};

use crate::cli::{AccountArg, CrewRunsCommand};
use crate::runtime;

pub async fn run(config: &Config, command: CrewRunsCommand) -> anyhow::Result<ExitCode> {
    let store = runtime::open_store(config).await?;
    let app = runtime::build_app(config, store)?;
    match command {
        CrewRunsCommand::List {
            account,
            campaign,
            status,
            limit,
        } => {
            let account = account_of(&app, &account).await?;
            list(&app, account, campaign.as_deref(), status.as_deref(), limit).await
        }
        CrewRunsCommand::Show { id, account } => {
            let account = account_of(&app, &account).await?;
            show(&app, account, parse_run_id(&id)?).await
        }
        CrewRunsCommand::Retry { id, leads, account } => {
            let account = account_of(&app, &account).await?;
            retry(&app, account, parse_run_id(&id)?, &leads).await
        }
    }
}

/// Returns the named account, or the only account of the database.
async fn account_of(app: &App, arg: &AccountArg) -> anyhow::Result<AccountId> {
    if let Some(text) = &arg.account {
        return text
            .parse()
            .with_context(|| format!("invalid --account {text:?}: use the account id (a UUID)"));
    }
    let mut tx = app.store.begin_system("cli").await?;
    let ids = tx.list_account_ids().await?;
    tx.commit().await?;
    match ids.as_slice() {
        [only] => Ok(*only),
        [] => bail!("the database has no account yet"),
        _ => bail!(
            "the database has {} accounts: choose one with --account ID",
            ids.len()
        ),
    }
}

fn parse_run_id(text: &str) -> anyhow::Result<CrewRunId> {
    text.parse().with_context(|| {
        format!("invalid crew run id {text:?}: use an id printed by `rekindle crew-runs list`")
    })
}

async fn list(
    app: &App,
    account: AccountId,
    campaign: Option<&str>,
    status: Option<&str>,
    limit: u32,
) -> anyhow::Result<ExitCode> {
    let filter = CrewRunFilter {
        campaign_id: campaign
            .map(|text| text.parse::<CampaignId>())
            .transpose()
            .context("invalid --campaign: use the campaign id (a UUID)")?,
        status: status
            .map(|text| text.parse::<RunStatus>())
            .transpose()
            .context("invalid --status")?,
    };
    let mut tx = app.store.begin(account).await?;
    let page = tx
        .list_crew_runs(&filter, PageRequest::new(None, Some(limit)))
        .await?;
    tx.commit().await?;

    for run in &page.items {
        println!("{}", run_line(run));
    }
    println!("{} crew runs", page.items.len());
    Ok(ExitCode::SUCCESS)
}

async fn show(app: &App, account: AccountId, id: CrewRunId) -> anyhow::Result<ExitCode> {
    let mut tx = app.store.begin(account).await?;
    let run = tx.get_crew_run(id).await?;
    let stages = tx.list_stage_runs(id).await?;
    tx.commit().await?;
    let Some(run) = run else {
        bail!("crew run {id} not found in account {account}");
    };

    println!("{}", run_line(&run));
    for stage in &stages {
        println!("  {}", stage_line(stage));
    }
    Ok(ExitCode::SUCCESS)
}

async fn retry(
    app: &App,
    account: AccountId,
    id: CrewRunId,
    leads: &[String],
) -> anyhow::Result<ExitCode> {
    let leads = leads
        .iter()
        .map(|text| {
            text.parse::<LeadId>()
                .with_context(|| format!("invalid --lead {text:?}: use the lead id (a UUID)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let outcome = retry_failed_leads(app, account, &Actor::system("cli"), id, &leads).await?;
    for (lead, stage) in &outcome.queued {
        println!("queued lead {lead} (failed at {stage})");
    }
    for skipped in &outcome.skipped {
        println!("skipped lead {}: {}", skipped.lead_id, skipped.reason);
    }
    println!("job {} prepares the step again", outcome.job_id);
    Ok(ExitCode::SUCCESS)
}

/// Formats a run as one line: id, start, crew, campaign and step, status,
/// leads, tokens, fallbacks and duration.
fn run_line(run: &CrewRun) -> String {
    let campaign = run
        .campaign_id
        .map(|id| id.to_string())
        .unwrap_or_else(|| "-".into());
    let step = run
        .step_position
        .map(|position| format!(" step {position}"))
        .unwrap_or_default();
    let duration = run
        .finished_at
        .map(|finished| format!("{} ms", (finished - run.started_at).num_milliseconds()))
        .unwrap_or_else(|| "running".into());
    format!(
        "{} {} {} campaign {campaign}{step} {}: {} leads, {} failed, {} tokens, {} fallbacks, {duration}",
        run.id,
        run.started_at.format("%Y-%m-%d %H:%M:%S"),
        run.crew,
        run.status,
        run.leads_total,
        run.leads_failed,
        run.tokens,
        run.fallbacks,
    )
}

fn stage_line(stage: &StageRun) -> String {
    let lead = stage
        .lead_id
        .map(|id| id.to_string())
        .unwrap_or_else(|| "-".into());
    let mut line = format!(
        "lead {lead} {} {} {} ms, {} tokens",
        stage.stage, stage.status, stage.duration_ms, stage.tokens
    );
    if let Some(reason) = &stage.fallback {
        line.push_str(&format!(", fallback {reason}"));
    }
    if let Some(error) = &stage.error {
        let class = stage.error_class.map(|c| c.as_str()).unwrap_or("-");
        line.push_str(&format!(", {class}: {error}"));
    }
    line
}
