//! `rekindle demo`: the whole flow on a fresh SQLite file, with a printed report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use rekindle_channels::ClickClaims;
use rekindle_config::Config;
use rekindle_domain::campaign::{CampaignSpec, SendingWindow, StepSpec};
use rekindle_domain::{
    AccountId, CampaignId, Channel, EnrollmentStatus, MessageStatus, ReplyLabel, Tier, Tone,
};
use rekindle_services::crew::{ADDRESS_STAGE_NAME, NEXT_STEP_STAGE_NAME};
use rekindle_services::replies::{InboundReply, ingest_reply};
use rekindle_services::worker::Worker;
use rekindle_services::{App, accounts, campaigns, report, tracking};
use rekindle_store::{Actor, CrewRunFilter, Lead, LeadFilter, Message, NewAccount, PageRequest};
use rekindle_store_sqlite::SqliteStore;
use url::Url;

use crate::cli::DemoArgs;
use crate::commands::{import_options, import_with_progress, print_import_report};
use crate::runtime;

/// The sample shipped with the program, used when no `--csv` is given.
const SAMPLE_CSV: &str = include_str!("../samples/dormant_leads.csv");
/// Days without contact after which a lead counts as dormant.
const DORMANT_AFTER_DAYS: i64 = 30;
/// Batches the worker runs before the demo gives up on an idle queue.
const MAX_WORKER_ROUNDS: usize = 1000;
/// Days from now the demo runs the queue on to. Sends are recorded at the
/// time the demo runs, so the second step falls due 3 days from now. It is
/// sent within the next window day, weekends included. The SMS step falls
/// due 7 days from now, after the horizon.
const FOLLOW_UP_HORIZON_DAYS: i64 = 6;

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
    if let Some(path) = &args.csv {
        std::fs::File::open(path).with_context(|| {
            format!(
                "cannot open --csv {}: check the path and that the file is readable",
                path.display()
            )
        })?;
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
    if summary.error.is_some() || summary.counts.imported == 0 {
        println!(
            "\nThe import stored no lead, so the demo stops here. Fix the file and run it again."
        );
        return Ok(ExitCode::FAILURE);
    }
    worker.run_due(Utc::now(), MAX_WORKER_ROUNDS).await?;
    print_scores(&app, account.id).await?;

    let campaign = create_and_launch(&app, account.id, &actor).await?;
    println!(
        "\n4. Campaign \"Win-back\" ({campaign}) launched: an email, an email follow-up 3 days later, an SMS 7 days after that"
    );

    worker.run_due(Utc::now(), MAX_WORKER_ROUNDS).await?;
    let first_step = latest_first_step_send(&app, account.id, campaign).await?;
    println!(
        "  Each first email is scheduled in its lead's sending window (Monday to Friday, 09:00 to 17:00 in the lead's time zone), {}s apart; the last one is due {}.",
        config.worker.send_spacing_seconds,
        first_step.format("%Y-%m-%d %H:%M UTC")
    );
    println!(
        "  The demo does not wait: it runs the queue up to that time now, so the files carry today's Date header."
    );
    worker.run_due(first_step, MAX_WORKER_ROUNDS).await?;

    println!("\n5. Simulated replies and a click, fed through the paths real ones take");
    feed_replies(&app, account.id, campaign).await?;

    let horizon = Utc::now() + chrono::Duration::days(FOLLOW_UP_HORIZON_DAYS);
    println!("\n6. Follow-ups, written when due from what each lead did since the first email");
    println!(
        "  The demo runs the queue on to {}, past the second step's due time.",
        horizon.format("%Y-%m-%d %H:%M UTC")
    );
    worker.run_due(horizon, MAX_WORKER_ROUNDS).await?;
    print_follow_up_decisions(&app, account.id, campaign).await?;

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

    let mut skipped = 0;
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let mut tx = app.store.begin(account).await?;
        let leads = tx.list_leads(&LeadFilter::default(), page).await?;
        tx.commit().await?;
        // Leads contacted in the last 30 days are not dormant yet.
        let recent_cutoff = Utc::now() - chrono::Duration::days(DORMANT_AFTER_DAYS);
        let (dormant, recent): (Vec<_>, Vec<_>) = leads.items.iter().partition(|lead| {
            lead.fields
                .last_contacted_at
                .is_none_or(|at| at <= recent_cutoff)
        });
        skipped += recent.len();
        let ids: Vec<_> = dormant.iter().map(|lead| lead.id).collect();
        campaigns::enroll_leads(app, account, actor, campaign.id, &ids).await?;
        match leads.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    if skipped > 0 {
        println!(
            "\n  {skipped} leads were contacted in the last {DORMANT_AFTER_DAYS} days, so they are not enrolled"
        );
    }
    campaigns::launch_campaign(app, account, actor, campaign.id).await?;
    Ok(campaign.id)
}

/// Returns the latest send time of the first step, so the worker can run up to it.
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
            "  {}: \"{text}\"\n    -> {}",
            message.to_address,
            reply_label_text(ingested.classification.label)
        );
    }
    if sent.is_empty() {
        println!("  no email was sent, so there is nothing to reply to");
    }

    // The next lead clicks a link, as a tracked redirect would report it.
    if let Some(message) = sent.get(SAMPLE_REPLIES.len()) {
        let claims = ClickClaims {
            account_id: account,
            message_id: message.id,
            url: Url::parse(DEMO_CLICKED_URL)?,
        };
        tracking::record_click(app, &claims, Utc::now()).await?;
        println!(
            "  {} clicks the link in the email\n    -> the follow-up is brought forward to a day after the click",
            message.to_address
        );
    }
    Ok(())
}

/// The link the demo's clicking lead follows.
const DEMO_CLICKED_URL: &str = "https://northwind.example/case-studies";

/// Leads shown with their score reasons in the demo report.
const TOP_LEADS: usize = 5;

/// Prints the score tiers and the best leads with the reasons for their scores.
async fn print_scores(app: &App, account: AccountId) -> anyhow::Result<()> {
    let mut tx = app.store.begin(account).await?;
    let tiers = tx.count_leads_by_tier().await?;
    let mut leads = Vec::new();
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let batch = tx.list_leads(&LeadFilter::default(), page).await?;
        leads.extend(batch.items);
        match batch.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    tx.commit().await?;

    println!("\n3. Scores (0 to 100: how worth another try each lead is)");
    print_tiers(&tiers);
    leads.sort_by_key(|lead| std::cmp::Reverse(lead.score));
    println!(
        "  Best leads, each with the three reasons that weigh most (the full list is in the API):"
    );
    for lead in leads.iter().take(TOP_LEADS) {
        let name = [
            lead.fields.first_name.as_deref(),
            lead.fields.last_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let company = lead.fields.company.as_deref().unwrap_or("-");
        println!("    {:>3}  {name} ({company})", lead.score.unwrap_or(0));
        for reason in top_reasons(&lead.score_reasons) {
            println!("         {reason}");
        }
    }
    Ok(())
}

fn print_tiers(tiers: &[(Option<Tier>, i64)]) {
    let count = |tier: Option<Tier>| {
        tiers
            .iter()
            .find(|(t, _)| *t == tier)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    println!(
        "  hot (80 to 100): {}   warm (60 to 79): {}   cold (below 60): {}",
        count(Some(Tier::Hot)),
        count(Some(Tier::Warm)),
        count(Some(Tier::Cold))
    );
    let unscored = count(None);
    if unscored > 0 {
        println!("  not scored: {unscored}");
    }
}

/// Formats the stored reasons with the largest effect as `+20 detail` lines.
fn top_reasons(reasons: &serde_json::Value) -> Vec<String> {
    let mut items: Vec<(i64, String)> = reasons
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|reason| {
                    let points = reason.get("points")?.as_i64()?;
                    let detail = reason.get("detail")?.as_str()?.to_owned();
                    Some((points, detail))
                })
                .collect()
        })
        .unwrap_or_default();
    items.sort_by_key(|(points, _)| std::cmp::Reverse(points.abs()));
    items
        .into_iter()
        .filter(|(points, _)| *points != 0)
        .take(3)
        .map(|(points, detail)| format!("{points:+} {detail}"))
        .collect()
}

/// Prints the enrollments that failed in the crew, with the lead and the reason.
async fn print_stopped_leads(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
) -> anyhow::Result<()> {
    let mut tx = app.store.begin(account).await?;
    let enrollments = tx
        .list_enrollments(campaign, PageRequest::new(None, Some(200)))
        .await?;
    let mut lines = Vec::new();
    for enrollment in enrollments
        .items
        .iter()
        .filter(|e| e.status == EnrollmentStatus::Failed)
    {
        let Some(lead) = tx.get_lead(enrollment.lead_id).await? else {
            continue;
        };
        let name = lead_name(&lead);
        let reason = enrollment
            .stop_reason
            .as_deref()
            .unwrap_or("no reason recorded");
        lines.push(format!("    {name}: {reason}"));
    }
    tx.commit().await?;
    if !lines.is_empty() {
        println!("  Leads the crew could not prepare a message for:");
        for line in lines {
            println!("{line}");
        }
    }
    Ok(())
}

/// Prints the engagement crew's decisions for the second step, counted by
/// what was decided and why.
async fn print_follow_up_decisions(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
) -> anyhow::Result<()> {
    let mut tx = app.store.begin(account).await?;
    let filter = CrewRunFilter {
        campaign_id: Some(campaign),
        status: None,
    };
    let runs = tx
        .list_crew_runs(&filter, PageRequest::new(None, Some(200)))
        .await?;
    let mut decisions: std::collections::BTreeMap<String, usize> = Default::default();
    let mut without_address = Vec::new();
    for run in &runs.items {
        for stage in tx.list_stage_runs(run.id).await? {
            if stage.stage == ADDRESS_STAGE_NAME {
                let name = match stage.lead_id {
                    Some(id) => tx.get_lead(id).await?.map(|lead| lead_name(&lead)),
                    None => None,
                };
                // The summary reads "lead <id>: <reason>".
                let reason = stage
                    .input_summary
                    .split_once(": ")
                    .map_or(stage.input_summary.as_str(), |(_, rest)| rest);
                let name = name.unwrap_or_else(|| "a deleted lead".to_owned());
                without_address.push(format!("{name}: {reason}"));
                continue;
            }
            if stage.stage != NEXT_STEP_STAGE_NAME || run.step_position != Some(2) {
                continue;
            }
            // The summary reads "lead <id>: <action>. <reason>".
            let decision = stage
                .input_summary
                .split_once(": ")
                .map_or(stage.input_summary.as_str(), |(_, rest)| rest);
            *decisions.entry(decision.to_owned()).or_default() += 1;
        }
    }
    tx.commit().await?;
    if decisions.is_empty() {
        println!("  no follow-up fell due: every lead replied, stopped or has no address");
    }
    for (decision, leads) in decisions {
        let noun = if leads == 1 { "lead" } else { "leads" };
        println!("    {leads:>3} {noun}: {decision}");
    }
    if !without_address.is_empty() {
        println!("  Leads that skipped a step for want of an address:");
        without_address.sort();
        for summary in without_address {
            println!("    {summary}");
        }
    }
    Ok(())
}

/// Returns the lead's first and last name, as far as they are known.
fn lead_name(lead: &Lead) -> String {
    [
        lead.fields.first_name.as_deref(),
        lead.fields.last_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// Words a sales team uses for each reply label.
fn reply_label_text(label: ReplyLabel) -> &'static str {
    match label {
        ReplyLabel::MeetingRequest => "asks for a meeting: sequence stopped, ready to book",
        ReplyLabel::Interested => "interested: sequence stopped, follow up by hand",
        ReplyLabel::Question => "asks a question: sequence paused",
        ReplyLabel::Objection => "objection: sequence stopped",
        ReplyLabel::NotInterested => "not interested: sequence stopped",
        ReplyLabel::OptOut => "opt-out: contact suppressed, nothing more is sent",
        ReplyLabel::OutOfOffice => "out of office: paused until the return date",
        ReplyLabel::AutoReply => "automatic reply: ignored",
        ReplyLabel::Referral => "refers to someone else: sequence stopped",
        ReplyLabel::Bounce => "bounce: address suppressed",
    }
}

async fn print_report(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
    outbox: &Path,
) -> anyhow::Result<()> {
    let report = report::campaign_report(app, account, campaign).await?;
    println!("\n7. Report");
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
    println!(
        "    (the SMS step is prepared 7 days after the second email, after this demo's horizon)"
    );
    let f = &report.funnel;
    println!(
        "  Funnel: leads {} -> enrolled {} -> sent {} -> replied {} -> positive {} -> meetings {}; opted out {}",
        f.leads, f.enrolled, f.sent, f.replied, f.positive, f.meetings, f.opted_out
    );
    println!(
        "    replied counts people, so an out-of-office notice is not a reply. The local outbox reports no deliveries or opens, so delivered ({}) and opened ({}) count only the messages that got a reply or a click, which prove both.",
        f.delivered, f.opened
    );
    println!(
        "  Outbox: {} (one .eml file per email)",
        outbox.join("email").display()
    );
    print_stopped_leads(app, account, campaign).await?;
    if outbox.join("sms").exists() {
        println!(
            "          {} (one JSON file per SMS)",
            outbox.join("sms").display()
        );
    }
    println!(
        "  Unsubscribe links point at {} (REKINDLE_PUBLIC_BASE_URL); the page that serves them is not built yet.",
        app.settings.public_base_url
    );
    Ok(())
}
