//! The reactivation crew: the stages in order for each lead of a batch, with
//! per-lead isolation. A lead that fails a stage is reported with the stage and
//! the reason; the other leads go on. Nothing here touches the database: the
//! caller stores the returned outcomes and stage records.
//!
//! A batch runs in two phases. The scorer, researcher, writer and subject
//! optimizer run for up to [`CrewConfig::lead_concurrency`] leads at once,
//! each lead in its own task, because the researcher and the writer may wait
//! on an LLM. The scheduler, compliance gate and quality gate then run lead
//! by lead in input order, so the send stagger follows the input order.

mod drafting;
mod inputs;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rekindle_domain::campaign::SendingWindow;
use rekindle_domain::lead::{LeadSnapshot, SignalInput};
use rekindle_domain::{Channel, ConsentBasis, LeadId, Tone};
use serde::Serialize;
use tokio::time::Instant;

use crate::compliance::{ComplianceGate, CompliantMessage};
use crate::engagement::EngagementContext;
use crate::quality::{QualityGate, QualityInput, QualityReport};
use crate::researcher::{LeadResearcher, Research, Researcher};
use crate::scheduler::{ScheduledSend, Scheduler};
use crate::scorer::LeadScore;
use crate::sender::SenderIdentity;
use crate::stage::{Stage, StageError, StageRecord, run_stage};
use crate::subject_optimizer::SubjectVariants;
use crate::writer::{Draft, MessageWriter, OfflineWriter};
use drafting::Drafted;
use inputs::{compliance_input, schedule_input};

/// Name recorded for a lead that never started because the run budget was spent.
pub const CREW_STAGE_NAME: &str = "crew";

/// Time limits and concurrency of a crew run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrewConfig {
    /// Limit for one stage of one lead; expiry is a transient error.
    pub stage_timeout: Duration,
    /// Limit for the whole batch. Leads not started when it is spent fail with
    /// a transient error, so the worker can retry them in a later run.
    pub run_budget: Duration,
    /// Leads of one batch drafted at the same time. An LLM researcher or
    /// writer waits on the provider, so this bounds one batch's calls in
    /// flight; the LLM
    /// client's own caps bound them across batches. Zero counts as one.
    pub lead_concurrency: usize,
}

impl Default for CrewConfig {
    /// 30 s per stage, which leaves room for an LLM call, 10 minutes per
    /// batch of 50 leads, and 8 leads at once.
    fn default() -> Self {
        Self {
            stage_timeout: Duration::from_secs(30),
            run_budget: Duration::from_secs(600),
            lead_concurrency: 8,
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
    /// The lead's actions after the previous step, for a follow-up the
    /// engagement crew decided to send. `None` for a first message.
    pub engagement: Option<EngagementContext>,
    /// Outputs of stages the lead passed in an earlier run of this step,
    /// reused when the lead is retried from the stage it failed.
    pub earlier: EarlierOutputs,
}

/// Outputs of the scorer, researcher, writer and subject optimizer from an
/// earlier run, each used in place of running its stage again. The later
/// stages always run again, because they depend on the time and on the
/// lead's consent and suppression.
#[derive(Debug, Clone, Default)]
pub struct EarlierOutputs {
    /// The earlier run, named in the records of reused stages.
    pub source: String,
    pub score: Option<LeadScore>,
    pub research: Option<Research>,
    /// The writer's draft, before the subject optimizer chose its subject.
    pub draft: Option<Draft>,
    pub subject_variants: Option<SubjectVariants>,
}

/// A message ready to be stored and sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreparedMessage {
    pub score: LeadScore,
    pub research: Research,
    /// Present for email.
    pub subject_variants: Option<SubjectVariants>,
    /// Personalisation element keys of the message, as from
    /// [`personalisation_elements`](crate::optimizer::personalisation_elements).
    pub personalisation_elements: Vec<String>,
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

/// The agents of a crew run that may call an LLM, chosen per account.
#[derive(Clone)]
pub struct CrewAgents {
    pub researcher: Arc<dyn LeadResearcher>,
    pub writer: Arc<dyn MessageWriter>,
}

impl CrewAgents {
    /// Agents that call no outside service: [`Researcher`] and [`OfflineWriter`].
    pub fn offline() -> Self {
        Self {
            researcher: Arc::new(Researcher),
            writer: Arc::new(OfflineWriter),
        }
    }
}

/// Scorer, researcher, writer, subject optimizer, scheduler, compliance gate
/// and quality gate, run for each lead of a batch.
pub struct ReactivationCrew {
    agents: CrewAgents,
    config: CrewConfig,
}

impl ReactivationCrew {
    /// Creates a crew that writes with `writer` and researches with the
    /// rule-based [`Researcher`].
    pub fn new(writer: Arc<dyn MessageWriter>, config: CrewConfig) -> Self {
        let agents = CrewAgents {
            writer,
            ..CrewAgents::offline()
        };
        Self { agents, config }
    }

    /// Creates a crew that writes with the [`OfflineWriter`].
    pub fn offline(config: CrewConfig) -> Self {
        Self::new(Arc::new(OfflineWriter), config)
    }

    /// Replaces the crew's own researcher.
    pub fn with_researcher(mut self, researcher: Arc<dyn LeadResearcher>) -> Self {
        self.agents.researcher = researcher;
        self
    }

    pub fn config(&self) -> CrewConfig {
        self.config
    }

    /// Runs the crew for a batch with the crew's own agents.
    pub async fn run(&self, step: &CampaignStep, leads: Vec<LeadTask>) -> CrewReport {
        self.run_with_agents(self.agents.clone(), step, leads).await
    }

    /// Runs the crew for a batch with `writer` and the crew's own
    /// researcher.
    pub async fn run_with(
        &self,
        writer: Arc<dyn MessageWriter>,
        step: &CampaignStep,
        leads: Vec<LeadTask>,
    ) -> CrewReport {
        let agents = CrewAgents {
            writer,
            researcher: Arc::clone(&self.agents.researcher),
        };
        self.run_with_agents(agents, step, leads).await
    }

    /// Runs the crew for a batch with `agents`, such as the LLM researcher
    /// and writer of the batch's account. Returns one run per lead, in
    /// input order.
    pub async fn run_with_agents(
        &self,
        agents: CrewAgents,
        step: &CampaignStep,
        leads: Vec<LeadTask>,
    ) -> CrewReport {
        let started = Instant::now();
        let step = Arc::new(step.clone());
        let drafted = drafting::draft_all(agents, &step, leads, self.config, started).await;

        let mut next_send_index = step.first_send_index;
        let mut runs = Vec::with_capacity(drafted.len());
        for lead in drafted {
            let run = match lead {
                Drafted::Ready(ready) => finish(*ready, &step, &mut next_send_index).await,
                Drafted::Stopped(run) => run,
            };
            runs.push(run);
        }

        CrewReport {
            leads: runs,
            duration: started.elapsed(),
        }
    }
}

/// Runs the last stages for one drafted lead. The scheduler runs before the
/// compliance gate because quiet hours are judged at the planned send time.
/// A lead that failed before the scheduler took no send slot, so the stagger
/// stays dense.
async fn finish(
    ready: drafting::ReadyLead,
    step: &CampaignStep,
    next_send_index: &mut u32,
) -> LeadRun {
    let drafting::ReadyLead {
        task,
        mut pipeline,
        drafting,
    } = ready;
    let result = last_stages(&mut pipeline, &task, drafting, step, next_send_index).await;
    lead_run(task.lead.id, result, pipeline)
}

async fn last_stages(
    pipeline: &mut LeadPipeline,
    task: &LeadTask,
    drafting: drafting::Drafting,
    step: &CampaignStep,
    next_send_index: &mut u32,
) -> Result<PreparedMessage, (&'static str, StageError)> {
    let schedule = pipeline
        .run(&Scheduler, schedule_input(task, step, *next_send_index))
        .await?;
    *next_send_index = next_send_index.saturating_add(1);

    let compliance = compliance_input(task, &drafting.research, drafting.draft, step, &schedule);
    let message = pipeline.run(&ComplianceGate, compliance).await?;
    let quality_input = QualityInput {
        lead_id: task.lead.id,
        message: message.clone(),
        unsubscribe_url: task.unsubscribe_url.clone(),
    };
    let quality = pipeline.run(&QualityGate, quality_input).await?;

    Ok(PreparedMessage {
        score: drafting.score,
        research: drafting.research,
        subject_variants: drafting.subject_variants,
        personalisation_elements: drafting.personalisation_elements,
        message,
        schedule,
        quality,
    })
}

/// Turns a lead's result into its run, logging a failure.
fn lead_run(
    lead_id: LeadId,
    result: Result<PreparedMessage, (&'static str, StageError)>,
    pipeline: LeadPipeline,
) -> LeadRun {
    let outcome = match result {
        Ok(prepared) => LeadOutcome::Prepared(Box::new(prepared)),
        Err((stage, error)) => {
            tracing::warn!(lead_id = %lead_id, stage, class = %error.class, error = %error.message, "crew stage failed for lead");
            LeadOutcome::Failed { stage, error }
        }
    };
    LeadRun {
        lead_id,
        outcome,
        stages: pipeline.records,
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

    /// Returns `earlier` and records it as reused, or runs the stage on the
    /// input `input` builds when there is no earlier output.
    async fn run_or_reuse<S: Stage>(
        &mut self,
        stage: &S,
        earlier: Option<&S::Output>,
        source: &str,
        input: impl FnOnce() -> S::Input,
    ) -> Result<S::Output, (&'static str, StageError)>
    where
        S::Output: Clone,
    {
        match earlier {
            Some(output) => {
                self.records
                    .push(StageRecord::reused(stage.name(), output, source));
                Ok(output.clone())
            }
            None => self.run(stage, input()).await,
        }
    }
}
