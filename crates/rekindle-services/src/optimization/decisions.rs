//! A/B decisions: the two-proportion z-test of `rekindle_crews::optimizer`
//! on each email step's sends and positive replies, stored on the step once
//! there is a winner. The same transaction moves the step's still-scheduled
//! messages of the losing variant to the winner's subject, and later
//! preparations of the step give every lead the winner.

use chrono::{DateTime, Duration, Utc};
use rekindle_crews::optimizer::{AbDecision, AbSettings, VariantCounts, decide_ab};
use rekindle_domain::*;
use rekindle_store::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::jobs::unique_key;
use crate::{App, ServiceError};

/// Job that decides the A/B test of one campaign step.
pub const DECIDE_AB_JOB: &str = "decide_ab";
/// Minutes between a positive reply and the decision it triggers, so that a
/// burst of replies leads to one decision (the job's unique key collapses
/// them while it is queued).
pub const DECIDE_AB_DELAY_MINUTES: i64 = 5;

/// The two variants a step's email subjects are tested with.
const VARIANTS: [&str; 2] = ["A", "B"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecideAbPayload {
    pub campaign_id: CampaignId,
    pub step_id: StepId,
}

/// The A/B test of one email step.
#[derive(Debug, Clone, Serialize)]
pub struct StepAbStatus {
    pub step_id: StepId,
    pub position: i32,
    /// The decision stored on the step, when it has one.
    pub decision: Option<StepAbDecision>,
    /// The test on the step's current counts, with the reason when it names
    /// no winner. A decided step keeps its stored winner whatever this test
    /// returns.
    pub current: AbDecision,
    /// Scheduled messages this call moved to the winner, 0 unless this call
    /// decided the step.
    pub switched_messages: u64,
}

/// Builds the job that a positive reply to `message` enqueues.
pub fn decide_ab_job_for(account: AccountId, message: &Message, now: DateTime<Utc>) -> NewJob {
    let payload = DecideAbPayload {
        campaign_id: message.campaign_id,
        step_id: message.step_id,
    };
    let mut job = NewJob::now(DECIDE_AB_JOB, json!(payload));
    job.run_at = now + Duration::minutes(DECIDE_AB_DELAY_MINUTES);
    job.unique_key = Some(unique_key(
        account,
        DECIDE_AB_JOB,
        format!("{}:{}", message.campaign_id, message.step_id),
    ));
    job
}

/// Runs the job: decides the one step it names.
pub async fn decide_ab_job(
    app: &App,
    account: AccountId,
    payload: DecideAbPayload,
) -> Result<(), ServiceError> {
    let actor = Actor::system("optimizer");
    decide_steps(
        app,
        account,
        &actor,
        payload.campaign_id,
        Some(payload.step_id),
        Utc::now(),
    )
    .await?;
    Ok(())
}

/// Decides every undecided email step of a campaign now and returns each
/// email step's status, in step order.
pub async fn decide_campaign(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign: CampaignId,
) -> Result<Vec<StepAbStatus>, ServiceError> {
    decide_steps(app, account, actor, campaign, None, Utc::now()).await
}

async fn decide_steps(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign: CampaignId,
    only: Option<StepId>,
    now: DateTime<Utc>,
) -> Result<Vec<StepAbStatus>, ServiceError> {
    let mut tx = app.store.begin(account).await?;
    let mut statuses = step_statuses(&mut *tx, campaign).await?;
    statuses.retain(|status| only.is_none_or(|step| step == status.step_id));

    for status in &mut statuses {
        if status.decision.is_some() {
            continue;
        }
        let Some(winner) = status.current.winner() else {
            continue;
        };
        let decision = StepAbDecision {
            winner: winner.to_owned(),
            decided_at: now,
            figures: serde_json::to_value(&status.current).unwrap_or_default(),
        };
        let Some(switched) = tx
            .record_ab_decision(status.step_id, &decision, now)
            .await?
        else {
            continue;
        };
        audit_decision(&mut *tx, actor, campaign, status, &decision, switched, now).await?;
        tracing::info!(account_id = %account, campaign_id = %campaign, position = status.position, winner = %decision.winner, switched, "A/B test decided");
        status.decision = Some(decision);
        status.switched_messages = switched;
    }
    tx.commit().await?;
    Ok(statuses)
}

/// Reads each email step's stored decision and runs the test on its current
/// counts, without storing anything.
pub(super) async fn step_statuses(
    tx: &mut dyn TenantTx,
    campaign: CampaignId,
) -> Result<Vec<StepAbStatus>, ServiceError> {
    tx.get_campaign(campaign)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign))?;
    let steps = tx.list_steps(campaign).await?;
    let counts = tx.count_ab_outcomes(campaign).await?;

    // Only email steps carry two subject variants.
    steps
        .into_iter()
        .filter(|step| step.spec.channel == Channel::Email)
        .map(|step| {
            let [a, b] = VARIANTS.map(|variant| variant_counts(&counts, step.id, variant));
            let current = decide_ab(&a, &b, &AbSettings::default())
                .map_err(|error| ServiceError::Invalid(error.to_string()))?;
            Ok(StepAbStatus {
                step_id: step.id,
                position: step.position,
                decision: step.ab_decision,
                current,
                switched_messages: 0,
            })
        })
        .collect()
}

fn variant_counts(counts: &[AbVariantCount], step: StepId, variant: &str) -> VariantCounts {
    let row = counts
        .iter()
        .find(|row| row.step_id == step && row.variant == variant);
    VariantCounts {
        label: variant.to_owned(),
        sends: row.map_or(0, |row| u64::try_from(row.sends).unwrap_or(0)),
        positive_replies: row.map_or(0, |row| u64::try_from(row.positive_replies).unwrap_or(0)),
    }
}

async fn audit_decision(
    tx: &mut dyn TenantTx,
    actor: &Actor,
    campaign: CampaignId,
    status: &StepAbStatus,
    decision: &StepAbDecision,
    switched: u64,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.ab_decided",
            "campaign",
            Some(campaign.to_string()),
        )
        .with_changes(json!({
            "step_id": status.step_id,
            "position": status.position,
            "winner": decision.winner,
            "switched_messages": switched,
            "figures": decision.figures,
        })),
        now,
    )
    .await?;
    Ok(())
}
