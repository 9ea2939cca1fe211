//! The reactivation crew: the stages in order for each lead of a batch, with
//! per-lead isolation. A lead that fails a stage is reported with the stage and
//! the reason; the other leads go on. Nothing here touches the database: the
//! caller stores the returned outcomes and stage records.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rekindle_domain::campaign::SendingWindow;
use rekindle_domain::lead::{LeadSnapshot, SignalInput};
use rekindle_domain::scheduling::effective_zone;
use rekindle_domain::{Channel, ConsentBasis, LeadId, LeadStatus, Tone};
use serde::Serialize;
use tokio::time::Instant;

use crate::compliance::{ComplianceGate, ComplianceInput, CompliantMessage};
use crate::lead_text::SafeLead;
use crate::quality::{QualityGate, QualityInput, QualityReport};
use crate::researcher::{Research, Researcher, ResearcherInput};
use crate::scheduler::{ScheduleInput, ScheduledSend, Scheduler};
use crate::scorer::{LeadScore, Scorer, ScorerInput};
use crate::sender::SenderIdentity;
use crate::stage::{Stage, StageError, StageRecord, run_stage};
use crate::subject_optimizer::{SubjectInput, SubjectOptimizer, SubjectVariants};
use crate::writer::{Draft, MessageWriter, OfflineWriter, WriterRequest, WriterStage};

/// Name recorded for a lead that never started because the run budget was spent.
pub const CREW_STAGE_NAME: &str = "crew";

/// Time limits of a crew run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrewConfig {
    /// Limit for one stage of one lead; expiry is a transient error.
    pub stage_timeout: Duration,
    /// Limit for the whole batch. Leads not started when it is spent fail with
    /// a transient error, so the worker can retry them in a later run.
    pub run_budget: Duration,
}

impl Default for CrewConfig {
    /// 30 s per stage, which leaves room for an LLM call, and 10 minutes per
    /// batch of 50 leads.
    fn default() -> Self {
        Self {
            stage_timeout: Duration::from_secs(30),
            run_budget: Duration::from_secs(600),
        }
    }
}

/// The campaign step the batch is prepared for.
#[derive(Debug, Clone)]
pub struct CampaignStep {
    pub now: DateTime<Utc>,
    pub channel: Channel,
    pub tone: Tone,
    /// 0 for the first message, then 1, 2, ... for follow-ups.
    pub step_index: u32,
    pub delay_days: u32,
    pub window: SendingWindow,
    pub account_zone: Tz,
    pub sender: SenderIdentity,
    /// Time between two consecutive sends of the campaign.
    pub send_spacing: Duration,
    /// Campaign-wide send position of this batch's first scheduled lead, so that
    /// consecutive batches continue the stagger.
    pub first_send_index: u32,
}

/// One lead of the batch with the facts the caller read from the store.
#[derive(Debug, Clone)]
pub struct LeadTask {
    pub lead: LeadSnapshot,
    pub signals: Vec<SignalInput>,
    /// The lead's email or phone is on a suppression list.
    pub suppressed: bool,
    pub consent: Option<ConsentBasis>,
    /// Signed unsubscribe link for this lead.
    pub unsubscribe_url: String,
    /// When the previous step was sent to this lead. A follow-up's delay counts
    /// from it; without it the delay counts from the step's `now`.
    pub previous_sent_at: Option<DateTime<Utc>>,
}

/// A message ready to be stored and sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreparedMessage {
    pub score: LeadScore,
    pub research: Research,
    /// Present for email.
    pub subject_variants: Option<SubjectVariants>,
    pub message: CompliantMessage,
    pub schedule: ScheduledSend,
    pub quality: QualityReport,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum LeadOutcome {
    Prepared(Box<PreparedMessage>),
    /// The lead stopped at `stage`, the stage to retry it from.
    Failed {
        stage: &'static str,
        error: StageError,
    },
}

/// The result for one lead, with a record of each stage it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadRun {
    pub lead_id: LeadId,
    pub outcome: LeadOutcome,
    pub stages: Vec<StageRecord>,
}

/// The result of a crew run, one entry per lead in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrewReport {
    pub leads: Vec<LeadRun>,
    pub duration: Duration,
}

impl CrewReport {
    /// Iterates over every stage record with its lead, in run order.
    pub fn stage_records(&self) -> impl Iterator<Item = (LeadId, &StageRecord)> {
        self.leads
            .iter()
            .flat_map(|run| run.stages.iter().map(move |record| (run.lead_id, record)))
    }

    pub fn prepared_count(&self) -> usize {
        self.leads
            .iter()
            .filter(|run| matches!(run.outcome, LeadOutcome::Prepared(_)))
            .count()
    }

    pub fn failed_count(&self) -> usize {
        self.leads.len() - self.prepared_count()
    }
}

/// Scorer, researcher, writer, subject optimizer, scheduler, compliance gate
/// and quality gate, run for each lead of a batch.
pub struct ReactivationCrew {
    writer: Arc<dyn MessageWriter>,
    config: CrewConfig,
}

impl ReactivationCrew {
    pub fn new(writer: Arc<dyn MessageWriter>, config: CrewConfig) -> Self {
        Self { writer, config }
    }

    /// Creates a crew that writes with the [`OfflineWriter`].
    pub fn offline(config: CrewConfig) -> Self {
        Self::new(Arc::new(OfflineWriter), config)
    }

    /// Runs the crew for a batch. Leads run one after another, so the stagger
    /// order follows the input order.
    // NOTE: leads run sequentially; an LLM writer will want bounded concurrency here.
    pub async fn run(&self, step: &CampaignStep, leads: Vec<LeadTask>) -> CrewReport {
        let started = Instant::now();
        let mut next_send_index = step.first_send_index;
        let mut runs = Vec::with_capacity(leads.len());

        for task in leads {
            let lead_id = task.lead.id;
            if started.elapsed() >= self.config.run_budget {
                runs.push(budget_spent(lead_id, self.config.run_budget));
                continue;
            }

            let mut pipeline = LeadPipeline::new(self.config.stage_timeout);
            let outcome = match self
                .prepare(&mut pipeline, step, &task, &mut next_send_index)
                .await
            {
                Ok(prepared) => LeadOutcome::Prepared(Box::new(prepared)),
                Err((stage, error)) => {
                    tracing::warn!(lead_id = %lead_id, stage, class = %error.class, "crew stage failed for lead");
                    LeadOutcome::Failed { stage, error }
                }
            };
            runs.push(LeadRun {
                lead_id,
                outcome,
                stages: pipeline.records,
            });
        }

        CrewReport {
            leads: runs,
            duration: started.elapsed(),
        }
    }

    /// Runs the stages for one lead. The scheduler runs before the compliance
    /// gate because quiet hours are judged at the planned send time.
    async fn prepare(
        &self,
        pipeline: &mut LeadPipeline,
        step: &CampaignStep,
        task: &LeadTask,
        next_send_index: &mut u32,
    ) -> Result<PreparedMessage, (&'static str, StageError)> {
        let lead = &task.lead;
        let score = pipeline.run(&Scorer, scorer_input(lead, step)).await?;
        let research = pipeline.run(&Researcher, researcher_input(task)).await?;

        let writer = WriterStage::new(self.writer.as_ref());
        let mut draft = pipeline
            .run(&writer, writer_request(task, &research, step))
            .await?;

        let subject_variants = if draft.channel == Channel::Email {
            let variants = pipeline
                .run(
                    &SubjectOptimizer,
                    subject_input(task, &research, &draft, step),
                )
                .await?;
            draft.subject = Some(variants.subject().to_owned());
            Some(variants)
        } else {
            None
        };

        let schedule = pipeline
            .run(&Scheduler, schedule_input(task, step, *next_send_index))
            .await?;
        *next_send_index = next_send_index.saturating_add(1);

        let compliance = compliance_input(task, &research, draft, step, &schedule);
        let message = pipeline.run(&ComplianceGate, compliance).await?;
        let quality_input = QualityInput {
            lead_id: lead.id,
            message: message.clone(),
            unsubscribe_url: task.unsubscribe_url.clone(),
        };
        let quality = pipeline.run(&QualityGate, quality_input).await?;

        Ok(PreparedMessage {
            score,
            research,
            subject_variants,
            message,
            schedule,
            quality,
        })
    }
}

/// Runs one lead's stages and keeps their records.
struct LeadPipeline {
    timeout: Duration,
    records: Vec<StageRecord>,
}

impl LeadPipeline {
    fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            records: Vec::new(),
        }
    }

    async fn run<S: Stage>(
        &mut self,
        stage: &S,
        input: S::Input,
    ) -> Result<S::Output, (&'static str, StageError)> {
        let (result, record) = run_stage(stage, input, self.timeout).await;
        self.records.push(record);
        result.map_err(|error| (stage.name(), error))
    }
}

fn budget_spent(lead_id: LeadId, budget: Duration) -> LeadRun {
    let error = StageError::transient(format!(
        "crew run budget of {} s was spent before this lead started: retry it in a later run",
        budget.as_secs()
    ));
    LeadRun {
        lead_id,
        outcome: LeadOutcome::Failed {
            stage: CREW_STAGE_NAME,
            error,
        },
        stages: Vec::new(),
    }
}

fn scorer_input(lead: &LeadSnapshot, step: &CampaignStep) -> ScorerInput {
    ScorerInput {
        lead_id: lead.id,
        fields: lead.fields.clone(),
        now: step.now,
    }
}

fn researcher_input(task: &LeadTask) -> ResearcherInput {
    ResearcherInput {
        lead_id: task.lead.id,
        fields: task.lead.fields.clone(),
        signals: task.signals.clone(),
    }
}

fn writer_request(task: &LeadTask, research: &Research, step: &CampaignStep) -> WriterRequest {
    WriterRequest {
        lead_id: task.lead.id,
        lead: task.lead.fields.clone(),
        research: research.clone(),
        channel: step.channel,
        tone: step.tone,
        step_index: step.step_index,
        sender: step.sender.clone(),
        now: step.now,
        engagement: None,
    }
}

fn subject_input(
    task: &LeadTask,
    research: &Research,
    draft: &Draft,
    step: &CampaignStep,
) -> SubjectInput {
    SubjectInput {
        lead_id: task.lead.id,
        fields: task.lead.fields.clone(),
        hook: research.hook.clone(),
        step_index: step.step_index,
        draft_subject: draft.subject.clone(),
    }
}

fn schedule_input(task: &LeadTask, step: &CampaignStep, send_index: u32) -> ScheduleInput {
    ScheduleInput {
        lead_id: task.lead.id,
        channel: step.channel,
        lead_time_zone: task.lead.fields.time_zone.clone(),
        account_zone: step.account_zone,
        window: step.window.clone(),
        delay_from: task.previous_sent_at.unwrap_or(step.now),
        delay_days: step.delay_days,
        not_before: step.now,
        send_index,
        spacing: step.send_spacing,
    }
}

fn compliance_input(
    task: &LeadTask,
    research: &Research,
    draft: Draft,
    step: &CampaignStep,
    schedule: &ScheduledSend,
) -> ComplianceInput {
    let fields = &task.lead.fields;
    let (lead_zone, _) = effective_zone(fields.time_zone.as_deref(), step.account_zone);
    ComplianceInput {
        lead_id: task.lead.id,
        draft,
        email: fields.email.clone(),
        phone: fields.phone.clone(),
        suppressed: task.suppressed || task.lead.status == LeadStatus::Suppressed,
        consent: task.consent,
        business_contact: SafeLead::from_fields(fields).company.is_some(),
        opt_out_noted: research.opt_out_noted,
        unsubscribe_url: task.unsubscribe_url.clone(),
        sender: step.sender.clone(),
        send_at: schedule.send_at,
        lead_zone,
    }
}
