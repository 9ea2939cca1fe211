//! `rekindle demo`: the whole flow on a fresh SQLite file, with a printed report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use rekindle_config::Config;
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::{AccountId, CampaignId, Channel, MessageStatus, Tone};
use rekindle_services::replies::{InboundReply, ingest_reply};
use rekindle_services::worker::Worker;
use rekindle_services::{App, accounts, campaigns, report};
use rekindle_store::{Actor, LeadFilter, Message, NewAccount, PageRequest};
use rekindle_store_sqlite::SqliteStore;

use crate::cli::DemoArgs;
use crate::commands::{import_options, import_with_progress, print_import_report};
use crate::runtime;

/// The sample shipped with the program, used when no `--csv` is given.
const SAMPLE_CSV: &str = include_str!("../samples/dormant_leads.csv");
/// Batches the worker runs before the demo gives up on an idle queue.
const MAX_WORKER_ROUNDS: usize = 1000;

pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        config
            .data_dir
            .join(format!("demo-{}", Utc::now().format("%Y%m%d-%H%M%S")))
    });
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the demo directory {}", dir.display()))?;
    let database = dir.join("rekindle.sqlite");
    if database.exists() {
        anyhow::bail!(
            "{} already exists: the demo needs a fresh database, so pass another --dir",
            database.display()
        );
    }
    let csv_path = match &args.csv {
        Some(path) => path.clone(),
        None => write_sample(&dir)?,
    };

    println!("Rekindle demo in {}", dir.display());
    let store = Arc::new(SqliteStore::open(&database).await?);
    let mut settings = runtime::settings(config);
    settings.send_spacing = Duration::from_secs(config.worker.send_spacing_seconds);
    let outbox = dir.join("outbox");
    let app = App::with_outbox(
        store,
        outbox.clone(),
        config.master_key().expose().as_bytes(),
        settings,
    )?;
    let worker = Worker::new(app.clone(), "demo", Duration::from_millis(100));
    let actor = Actor::system("demo");

    let account = accounts::create_account(&app, &demo_account(), &actor).await?;
    println!("\n1. Account {} ({})", account.name, account.id);

    println!("\n2. Import {}", csv_path.display());
    let options = import_options(config, &args.options)?;
    let summary = import_with_progress(&app, account.id, &csv_path, options).await?;
    print_import_report(&app, account.id, &summary).await?;
    worker.run_due(Utc::now(), MAX_WORKER_ROUNDS).await?;

    let campaign = create_and_launch(&app, account.id, &actor).await?;
    println!(
        "\n3. Campaign \"Win-back\" ({campaign}) launched: email now, email follow-up after 3 days, SMS after 7"
    );

    worker.run_due(Utc::now(), MAX_WORKER_ROUNDS).await?;
    let first_step = latest_first_step_send(&app, account.id, campaign).await?;
    worker.run_due(first_step, MAX_WORKER_ROUNDS).await?;

    println!("\n4. Replies");
    feed_replies(&app, account.id, campaign).await?;

    print_report(&app, account.id, campaign, &outbox).await?;
    Ok(ExitCode::SUCCESS)
}

fn write_sample(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("sample-dormant-leads.csv");
    std::fs::write(&path, SAMPLE_CSV)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn demo_account() -> NewAccount {
    NewAccount {
        name: "Northwind Analytics".into(),
        sender_name: "Sam Carter".into(),
        sender_email: "sam@northwind.example".into(),
        postal_address: "1 Example Street, London EC1A 1AA, United Kingdom".into(),
        ..crate::commands::default_account()
    }
}

async fn create_and_launch(
    app: &App,
    account: AccountId,
    actor: &Actor,
) -> anyhow::Result<CampaignId> {
    let spec = CampaignSpec {
        name: "Win-back".into(),
        tone: Tone::Friendly,
        window: SendingWindow::default(),
        steps: vec![
            StepSpec {
                channel: Channel::Email,
                delay_days: 0,
            },
            StepSpec {
                channel: Channel::Email,
                delay_days: 3,
            },
            StepSpec {
                channel: Channel::Sms,
                delay_days: 7,
            },
        ],
    };
    let (campaign, _) = campaigns::create_campaign(app, account, actor, &spec).await?;

    let mut page = PageRequest::new(None, Some(200));
    loop {
        let mut tx = app.store.begin(account).await?;
        let leads = tx.list_leads(&LeadFilter::default(), page).await?;
        tx.commit().await?;
        let ids: Vec<_> = leads.items.iter().map(|lead| lead.id).collect();
        campaigns::enroll_leads(app, account, actor, campaign.id, &ids).await?;
        match leads.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    campaigns::launch_campaign(app, account, actor, campaign.id).await?;
    Ok(campaign.id)
}

/// The latest send time of the first step, so the worker can run up to it.
async fn latest_first_step_send(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
) -> anyhow::Result<chrono::DateTime<Utc>> {
    let messages = all_messages(app, account, campaign).await?;
    Ok(messages
        .iter()
        .map(|m| m.scheduled_at)
        .max()
        .unwrap_or_else(Utc::now))
}

async fn all_messages(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
) -> anyhow::Result<Vec<Message>> {
    let mut tx = app.store.begin(account).await?;
    let mut all = Vec::new();
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let messages = tx.list_messages(Some(campaign), page).await?;
        all.extend(messages.items);
        match messages.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    tx.commit().await?;
    Ok(all)
}

/// Replies written like real ones, one of each common kind.
const SAMPLE_REPLIES: &[&str] = &[
    "Happy to chat. Does Tuesday 10:30 your time work?",
    "Please remove me from your mailing list.",
    "I am out of the office until 15 January 2027 with limited access to email.",
    "We already use Outreach and are happy with it.",
];

async fn feed_replies(app: &App, account: AccountId, campaign: CampaignId) -> anyhow::Result<()> {
    let sent: Vec<Message> = all_messages(app, account, campaign)
        .await?
        .into_iter()
        .filter(|m| m.status == MessageStatus::Sent && m.channel == Channel::Email)
        .collect();
    for (message, text) in sent.iter().zip(SAMPLE_REPLIES) {
        let inbound = InboundReply {
            channel: Channel::Email,
            from: message.to_address.clone(),
            subject: message.subject.as_ref().map(|s| format!("Re: {s}")),
            text: (*text).to_owned(),
            in_reply_to: Some(message.rfc_message_id.clone()),
            received_at: Utc::now(),
        };
        let ingested = ingest_reply(app, account, &inbound).await?;
        println!(
            "  {} replied: \"{text}\" -> {}",
            message.to_address, ingested.classification.label
        );
    }
    if sent.is_empty() {
        println!("  no email was sent, so there is nothing to reply to");
    }
    Ok(())
}

async fn print_report(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
    outbox: &Path,
) -> anyhow::Result<()> {
    let report = report::campaign_report(app, account, campaign).await?;
    println!("\n5. Report");
    println!("  Lead tiers:");
    for (tier, count) in &report.tiers {
        let name = tier.map(|t| t.as_str()).unwrap_or("unscored");
        println!("    {name:<9} {count}");
    }
    println!("  Messages per step:");
    for row in &report.steps {
        println!(
            "    step {} {:<5} {:<10} {}",
            row.position,
            row.channel.as_str(),
            row.status.as_str(),
            row.count
        );
    }
    let f = &report.funnel;
    println!(
        "  Funnel: leads {} -> enrolled {} -> sent {} -> delivered {} -> opened {} -> replied {} -> positive {} -> meetings {} (opted out {})",
        f.leads,
        f.enrolled,
        f.sent,
        f.delivered,
        f.opened,
        f.replied,
        f.positive,
        f.meetings,
        f.opted_out
    );
    println!(
        "  Outbox: {} (one .eml file per email) and {}",
        outbox.join("email").display(),
        outbox.join("sms").display()
    );
    Ok(())
}
