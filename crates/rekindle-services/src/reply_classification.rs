//! Reply classification on the replies path: the account's LLM classifier
//! when an LLM is configured (the rules still decide opt-outs and bounces),
//! the rule-based classifier otherwise, and the crew run that records which
//! one decided, its tokens and any fallback.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rekindle_crews::{ClassifiedReply, ReplyInput};
use rekindle_domain::*;
use rekindle_llm::AccountScope;
use rekindle_store::*;
use serde_json::json;

use crate::replies::InboundReply;
use crate::{App, ServiceError};

/// Name of the crew run recorded for each reply.
pub const REPLY_CREW: &str = "reply_classification";
/// Name of its one stage.
pub const CLASSIFIER_STAGE: &str = "classifier";

/// A classification and the time it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub classified: ClassifiedReply,
    pub duration: Duration,
}

/// Classifies `inbound` for `account`. Call it outside any transaction: with
/// an LLM configured it waits on the provider.
pub async fn classify(
    app: &App,
    account: AccountId,
    inbound: &InboundReply,
) -> Result<Verdict, ServiceError> {
    let started = Instant::now();
    let input = ReplyInput {
        channel: inbound.channel,
        subject: inbound.subject.clone(),
        text: inbound.text.clone(),
        received_on: inbound.received_at.date_naive(),
    };
    let scope = match app.ai.client() {
        Some(_) => account_scope(app, account).await?,
        // The offline classifier costs nothing, so the plan is not read.
        None => AccountScope {
            account_id: account,
            plan: Plan::Starter,
        },
    };
    let classified = app.ai.classify_reply(scope, &input).await;
    Ok(Verdict {
        classified,
        duration: started.elapsed(),
    })
}

async fn account_scope(app: &App, account: AccountId) -> Result<AccountScope, ServiceError> {
    let mut tx = app.store.begin(account).await?;
    let plan = tx.account().await?.plan;
    tx.commit().await?;
    Ok(AccountScope {
        account_id: account,
        plan,
    })
}

/// Stores the classification as a crew run with one stage run, in the
/// transaction that stores the reply.
pub async fn record_run(
    tx: &mut dyn TenantTx,
    verdict: &Verdict,
    lead_id: LeadId,
    campaign_id: Option<CampaignId>,
    inbound: &InboundReply,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let took = chrono::Duration::from_std(verdict.duration).unwrap_or_default();
    let run = NewCrewRun {
        id: CrewRunId::new(),
        crew: REPLY_CREW.into(),
        campaign_id,
        step_position: None,
        leads_total: 1,
        started_at: now - took,
    };
    tx.insert_crew_run(&run).await?;
    tx.insert_stage_runs(&[stage_run(run.id, verdict, lead_id, inbound)], now)
        .await?;
    tx.finish_crew_run(run.id, RunStatus::Succeeded, 0, now)
        .await?;
    Ok(())
}

fn stage_run(
    crew_run: CrewRunId,
    verdict: &Verdict,
    lead_id: LeadId,
    inbound: &InboundReply,
) -> NewStageRun {
    let classified = &verdict.classified;
    let notes = &classified.notes;
    let classification = &classified.classification;
    NewStageRun {
        crew_run_id: crew_run,
        lead_id: Some(lead_id),
        stage: CLASSIFIER_STAGE.into(),
        status: RunStatus::Succeeded,
        // Counts only: a reply's text is the lead's and stays out of run records.
        input_summary: format!(
            "{} reply of {} characters, classifier {}",
            inbound.channel,
            inbound.text.chars().count(),
            classified.classifier
        ),
        output: json!({
            "label": classification.label,
            "objection": classification.objection,
            "return_date": classification.return_date,
            "classifier": classified.classifier,
        }),
        duration_ms: i64::try_from(verdict.duration.as_millis()).unwrap_or(i64::MAX),
        tokens: i64::try_from(notes.total_tokens()).unwrap_or(i64::MAX),
        error_class: None,
        error: None,
        fallback: notes
            .fallback
            .as_ref()
            .map(|fallback| fallback.reason.clone()),
        fallback_detail: notes
            .fallback
            .as_ref()
            .map(|fallback| fallback.message.clone()),
    }
}
