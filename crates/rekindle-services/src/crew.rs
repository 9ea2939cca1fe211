//! The reactivation crew as jobs: scoring imported leads, and preparing one
//! campaign step for a batch of enrollments. The crew runs outside any
//! transaction; its results are then stored in one transaction together with
//! the crew run, the stage runs, the messages, the send jobs and the audit entry.

use chrono::{DateTime, Utc};
use rekindle_channels::LinkTarget;
use rekindle_crews::{
    CampaignStep, LeadOutcome, LeadRun, LeadTask, PreparedMessage, SenderIdentity,
};
use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::lead::LeadSnapshot;
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use crate::jobs::{
    PrepareStepPayload, SEND_MESSAGE_JOB, ScoreImportPayload, SendMessagePayload, unique_key,
};
use crate::{App, ServiceError};

/// Leads scored per transaction.
const SCORE_BATCH: u32 = 200;
/// Leads per crew batch (the dormant-lead scan size).
pub const CREW_BATCH: usize = 50;

/// Scores every lead an import created or merged.
pub async fn score_import(
    app: &App,
    account: AccountId,
    payload: ScoreImportPayload,
) -> Result<(), ServiceError> {
    let filter = LeadFilter {
        import_id: Some(payload.import_id),
        ..LeadFilter::default()
    };
    let mut page = PageRequest::new(None, Some(SCORE_BATCH));
    let mut scored = 0;
    loop {
        let now = Utc::now();
        let mut tx = app.store.begin(account).await?;
        let leads = tx.list_leads(&filter, page).await?;
        for lead in &leads.items {
            let score = rekindle_crews::score_lead(&lead.fields, now);
            let reasons = serde_json::to_value(&score.reasons).unwrap_or_default();
            tx.set_lead_score(lead.id, score.score, score.tier, &reasons, now)
                .await?;
        }
        scored += leads.items.len();
        tx.commit().await?;
        match leads.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(SCORE_BATCH)),
            None => break,
        }
    }
    tracing::info!(account_id = %account, import_id = %payload.import_id, scored, "import scored");
    Ok(())
}

/// Store data for one crew batch, read in one short transaction.
struct StepContext {
    account: Account,
    campaign: Campaign,
    step: Step,
    tasks: Vec<(Enrollment, LeadTask)>,
}

/// Writes and schedules step `position` for a batch of enrollments.
pub async fn prepare_step(
    app: &App,
    account_id: AccountId,
    payload: PrepareStepPayload,
) -> Result<(), ServiceError> {
    let now = Utc::now();
    let Some(context) = load_step_context(app, account_id, &payload, now).await? else {
        return Ok(());
    };
    let crew_step = CampaignStep {
        now,
        channel: context.step.spec.channel,
        tone: context.campaign.tone,
        step_index: (context.step.position - 1) as u32,
        delay_days: context.step.spec.delay_days,
        window: context.campaign.window.clone(),
        account_zone: parse_time_zone(&context.account.time_zone).unwrap_or(chrono_tz::UTC),
        sender: SenderIdentity {
            name: context.account.sender_name.clone(),
            company: context.account.name.clone(),
            postal_address: context.account.postal_address.clone(),
        },
        send_spacing: app.settings.send_spacing,
        first_send_index: payload.first_send_index,
    };

    let (enrollments, tasks): (Vec<Enrollment>, Vec<LeadTask>) = context.tasks.into_iter().unzip();
    let report = app.crew.run(&crew_step, tasks).await;
    store_step_results(
        app,
        account_id,
        &context.campaign,
        &context.step,
        &enrollments,
        &report.leads,
        now,
    )
    .await
}

async fn load_step_context(
    app: &App,
    account_id: AccountId,
    payload: &PrepareStepPayload,
    now: DateTime<Utc>,
) -> Result<Option<StepContext>, ServiceError> {
    let mut tx = app.store.begin(account_id).await?;
    let account = tx.account().await?;
    let campaign = tx
        .get_campaign(payload.campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", payload.campaign_id))?;
    if campaign.status != CampaignStatus::Active {
        tracing::info!(account_id = %account_id, campaign_id = %campaign.id, status = %campaign.status, "campaign not active; step skipped");
        return Ok(None);
    }
    let steps = tx.list_steps(campaign.id).await?;
    let Some(step) = steps
        .into_iter()
        .find(|step| step.position == payload.position)
    else {
        return Ok(None);
    };

    let base = url::Url::parse(&app.settings.public_base_url).map_err(|e| {
        ServiceError::Invalid(format!(
            "invalid public base URL {:?}: {e}",
            app.settings.public_base_url
        ))
    })?;
    let mut tasks = Vec::new();
    for enrollment_id in &payload.enrollment_ids {
        let Some(enrollment) = tx.get_enrollment(*enrollment_id).await? else {
            continue;
        };
        let expected_step = payload.position - 1;
        let open = matches!(
            enrollment.status,
            EnrollmentStatus::Pending | EnrollmentStatus::Active
        );
        if !open || enrollment.current_step != expected_step {
            continue;
        }
        let Some(lead) = tx.get_lead(enrollment.lead_id).await? else {
            continue;
        };
        let signals = tx
            .list_signals(lead.id)
            .await?
            .into_iter()
            .map(|s| s.input)
            .collect();
        let suppressed = is_lead_suppressed(&mut *tx, &lead).await?;
        let target = match (&lead.fields.email, &lead.fields.phone) {
            (Some(email), _) => LinkTarget::Email(email.clone()),
            (None, Some(phone)) => LinkTarget::Phone(phone.clone()),
            (None, None) => continue,
        };
        let unsubscribe = app
            .links
            .unsubscribe_url(&base, account_id, lead.id, target, now)
            .map_err(|e| {
                ServiceError::Invalid(format!("cannot build the unsubscribe link: {e}"))
            })?;
        let snapshot = LeadSnapshot {
            id: lead.id,
            fields: lead.fields.clone(),
            status: lead.status,
            score: lead.score,
            tier: lead.tier,
        };
        let previous_sent_at = (payload.position > 1)
            .then_some(enrollment.next_run_at)
            .flatten();
        tasks.push((
            enrollment,
            LeadTask {
                lead: snapshot,
                signals,
                suppressed,
                // Imported B2B leads are contacted on legitimate interest unless a
                // consent record says otherwise; consent records come with the API.
                consent: Some(ConsentBasis::LegitimateInterest),
                unsubscribe_url: unsubscribe.to_string(),
                // After a send, the enrollment's next_run_at contains the send time.
                previous_sent_at,
            },
        ));
    }
    Ok(Some(StepContext {
        account,
        campaign,
        step,
        tasks,
    }))
}

/// Checks whether the lead's email or phone is on an account or global suppression list.
pub async fn is_lead_suppressed(tx: &mut dyn TenantTx, lead: &Lead) -> Result<bool, ServiceError> {
    let contacts = [
        (
            ContactKind::Email,
            lead.fields.email.as_ref().map(|e| e.as_str().to_owned()),
        ),
        (
            ContactKind::Phone,
            lead.fields.phone.as_ref().map(|p| p.as_str().to_owned()),
        ),
    ];
    for (kind, value) in contacts {
        let Some(value) = value else { continue };
        if !tx.suppressed_values(kind, &[value]).await?.is_empty() {
            return Ok(true);
        }
    }
    Ok(lead.status == LeadStatus::Suppressed)
}

async fn store_step_results(
    app: &App,
    account_id: AccountId,
    campaign: &Campaign,
    step: &Step,
    enrollments: &[Enrollment],
    runs: &[LeadRun],
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let crew_run = NewCrewRun {
        id: CrewRunId::new(),
        crew: "reactivation".into(),
        campaign_id: Some(campaign.id),
        leads_total: runs.len() as i32,
        started_at: now,
    };
    let mut tx = app.store.begin(account_id).await?;
    tx.insert_crew_run(&crew_run).await?;

    let mut failed = 0;
    let mut stage_runs = Vec::new();
    for (enrollment, run) in enrollments.iter().zip(runs) {
        stage_runs.extend(run.stages.iter().map(|record| NewStageRun {
            crew_run_id: crew_run.id,
            lead_id: Some(run.lead_id),
            stage: record.stage.to_owned(),
            status: if record.error.is_some() {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            },
            input_summary: record.input_summary.clone(),
            output: record.output.clone(),
            duration_ms: record.duration.as_millis() as i64,
            tokens: 0,
            error_class: record.error.as_ref().map(|e| e.class),
            error: record.error.as_ref().map(|e| e.message.clone()),
        }));
        match &run.outcome {
            LeadOutcome::Prepared(prepared) => {
                store_prepared(
                    app, &mut *tx, account_id, campaign, step, enrollment, prepared, now,
                )
                .await?;
            }
            LeadOutcome::Failed { stage, error } => {
                failed += 1;
                let reason = format!("{stage}: {}", error.message);
                tracing::warn!(account_id = %account_id, campaign_id = %campaign.id, lead_id = %run.lead_id, stage, class = %error.class, "lead failed in the crew");
                let status = if error.class.is_retryable() {
                    enrollment.status
                } else {
                    EnrollmentStatus::Failed
                };
                tx.update_enrollment(
                    enrollment.id,
                    status,
                    enrollment.current_step,
                    None,
                    Some(&reason),
                )
                .await?;
            }
        }
    }
    tx.insert_stage_runs(&stage_runs, now).await?;
    let status = if failed == runs.len() && !runs.is_empty() {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    };
    tx.finish_crew_run(crew_run.id, status, failed as i32, Utc::now())
        .await?;
    tx.append_audit(
        &AuditRecord::new(
            Actor::system("crew"),
            "campaign.step_prepared",
            "campaign",
            Some(campaign.id.to_string()),
        )
        .with_changes(
            json!({ "position": step.position, "prepared": runs.len() - failed, "failed": failed }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account_id = %account_id, campaign_id = %campaign.id, position = step.position, prepared = runs.len() - failed, failed, "campaign step prepared");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn store_prepared(
    app: &App,
    tx: &mut dyn TenantTx,
    account_id: AccountId,
    campaign: &Campaign,
    step: &Step,
    enrollment: &Enrollment,
    prepared: &PreparedMessage,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let lead = tx
        .get_lead(enrollment.lead_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("lead", enrollment.lead_id))?;
    let reasons = serde_json::to_value(&prepared.score.reasons).unwrap_or_default();
    tx.set_lead_score(
        lead.id,
        prepared.score.score,
        prepared.score.tier,
        &reasons,
        now,
    )
    .await?;

    let (subject, variant) = match &prepared.subject_variants {
        Some(variants) => match variants.assigned {
            rekindle_crews::SubjectVariant::A => (Some(variants.a.clone()), "A"),
            rekindle_crews::SubjectVariant::B => (Some(variants.b.clone()), "B"),
        },
        None => (prepared.message.subject.clone(), "A"),
    };
    let to_address = match step.spec.channel {
        Channel::Email => lead.fields.email.as_ref().map(|e| e.as_str().to_owned()),
        Channel::Sms | Channel::Whatsapp => {
            lead.fields.phone.as_ref().map(|p| p.as_str().to_owned())
        }
    };
    let Some(to_address) = to_address else {
        let reason = format!(
            "no {} address for step {}",
            step.spec.channel, step.position
        );
        tx.update_enrollment(
            enrollment.id,
            EnrollmentStatus::Stopped,
            enrollment.current_step,
            None,
            Some(&reason),
        )
        .await?;
        return Ok(());
    };

    let message_id = MessageId::new();
    let send_at = prepared.schedule.send_at;
    tx.insert_message(
        &NewMessage {
            id: message_id,
            campaign_id: campaign.id,
            step_id: step.id,
            enrollment_id: enrollment.id,
            lead_id: lead.id,
            channel: step.spec.channel,
            variant: variant.to_owned(),
            subject,
            body: prepared.message.full_text(),
            to_address,
            rfc_message_id: format!("{message_id}@{}", app.settings.message_id_domain),
            scheduled_at: send_at,
        },
        now,
    )
    .await?;
    tx.update_enrollment(
        enrollment.id,
        EnrollmentStatus::Active,
        step.position,
        Some(send_at),
        None,
    )
    .await?;

    let mut job =
        rekindle_store::NewJob::now(SEND_MESSAGE_JOB, json!(SendMessagePayload { message_id }));
    job.run_at = send_at;
    job.max_attempts = app.settings.max_attempts;
    job.unique_key = Some(unique_key(account_id, SEND_MESSAGE_JOB, message_id));
    tx.enqueue_job(&job, now).await?;
    Ok(())
}
