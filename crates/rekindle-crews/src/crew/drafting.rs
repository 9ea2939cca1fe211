//! The first phase of a crew run: scorer, researcher, writer and subject
//! optimizer for up to `lead_concurrency` leads at once, each lead in its own
//! task.

use std::collections::HashMap;
use std::sync::Arc;

use rekindle_domain::{Channel, LeadId};
use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;

use super::inputs::{budget_spent, researcher_input, scorer_input, subject_input, writer_request};
use super::{
    CREW_STAGE_NAME, CampaignStep, CrewAgents, CrewConfig, LeadOutcome, LeadPipeline, LeadRun,
    LeadTask,
};
use crate::optimizer::personalisation_elements;
use crate::researcher::{Research, ResearcherStage};
use crate::scorer::{LeadScore, Scorer};
use crate::stage::StageError;
use crate::subject_optimizer::{SubjectOptimizer, SubjectVariants};
use crate::writer::{Draft, WriterStage};

/// The outputs of the first phase for one lead.
pub(super) struct Drafting {
    pub score: LeadScore,
    pub research: Research,
    /// The draft, with the chosen subject line for email.
    pub draft: Draft,
    pub subject_variants: Option<SubjectVariants>,
    /// Report keys of the personalisation in the draft.
    pub personalisation_elements: Vec<String>,
}

/// A lead that passed the first phase, with the records of its stages.
pub(super) struct ReadyLead {
    pub task: LeadTask,
    pub pipeline: LeadPipeline,
    pub drafting: Drafting,
}

pub(super) enum Drafted {
    Ready(Box<ReadyLead>),
    /// The lead failed, or never started: its run is complete.
    Stopped(LeadRun),
}

/// Drafts every lead and returns the results in input order. Leads not
/// started when the run budget is spent stop with a transient error.
pub(super) async fn draft_all(
    agents: CrewAgents,
    step: &Arc<CampaignStep>,
    leads: Vec<LeadTask>,
    config: CrewConfig,
    started: Instant,
) -> Vec<Drafted> {
    let lead_ids: Vec<LeadId> = leads.iter().map(|task| task.lead.id).collect();
    let mut slots: Vec<Option<Drafted>> = lead_ids.iter().map(|_| None).collect();
    let mut running = JoinSet::new();
    let mut spawned: HashMap<Id, usize> = HashMap::new();
    let mut queue = leads.into_iter().enumerate();

    loop {
        while running.len() < config.lead_concurrency.max(1) {
            let Some((index, task)) = queue.next() else {
                break;
            };
            if started.elapsed() >= config.run_budget {
                slots[index] = Some(Drafted::Stopped(budget_spent(
                    task.lead.id,
                    config.run_budget,
                )));
                continue;
            }
            let (agents, step) = (agents.clone(), Arc::clone(step));
            let handle = running.spawn(draft_lead(task, agents, step, config));
            spawned.insert(handle.id(), index);
        }

        let Some(joined) = running.join_next_with_id().await else {
            break;
        };
        match joined {
            Ok((id, drafted)) => {
                if let Some(index) = spawned.remove(&id) {
                    slots[index] = Some(drafted);
                }
            }
            Err(error) => {
                if let Some(index) = spawned.remove(&error.id()) {
                    slots[index] = Some(Drafted::Stopped(lost(lead_ids[index], Some(&error))));
                }
            }
        }
    }

    // Every spawned task reported above; the fallback only keeps the output
    // aligned with the input if that ever changes.
    slots
        .into_iter()
        .zip(lead_ids)
        .map(|(slot, lead_id)| slot.unwrap_or_else(|| Drafted::Stopped(lost(lead_id, None))))
        .collect()
}

/// Runs the first-phase stages of one lead.
async fn draft_lead(
    task: LeadTask,
    agents: CrewAgents,
    step: Arc<CampaignStep>,
    config: CrewConfig,
) -> Drafted {
    let mut pipeline = LeadPipeline::new(config.stage_timeout);
    match first_stages(&mut pipeline, &task, &agents, &step).await {
        Ok(drafting) => Drafted::Ready(Box::new(ReadyLead {
            task,
            pipeline,
            drafting,
        })),
        Err(failure) => Drafted::Stopped(super::lead_run(task.lead.id, Err(failure), pipeline)),
    }
}

async fn first_stages(
    pipeline: &mut LeadPipeline,
    task: &LeadTask,
    agents: &CrewAgents,
    step: &CampaignStep,
) -> Result<Drafting, (&'static str, StageError)> {
    let earlier = &task.earlier;
    let source = earlier.source.as_str();
    let score = pipeline
        .run_or_reuse(&Scorer, earlier.score.as_ref(), source, || {
            scorer_input(&task.lead, step)
        })
        .await?;
    let researcher = ResearcherStage::new(agents.researcher.as_ref());
    let research = pipeline
        .run_or_reuse(&researcher, earlier.research.as_ref(), source, || {
            researcher_input(task)
        })
        .await?;

    let writer = WriterStage::new(agents.writer.as_ref());
    let request = writer_request(task, &research, step);
    let mut draft = pipeline
        .run_or_reuse(&writer, earlier.draft.as_ref(), source, || request.clone())
        .await?;

    let subject_variants = if draft.channel == Channel::Email {
        let variants = pipeline
            .run_or_reuse(
                &SubjectOptimizer,
                earlier.subject_variants.as_ref(),
                source,
                || subject_input(task, &research, &draft, step),
            )
            .await?;
        draft.subject = Some(variants.subject().to_owned());
        Some(variants)
    } else {
        None
    };

    // Found in the text the lead receives, so with the assigned subject.
    let personalisation_elements = personalisation_elements(&request, &draft);
    Ok(Drafting {
        score,
        research,
        draft,
        subject_variants,
        personalisation_elements,
    })
}

/// Builds the run of a lead whose task ended without a result because it
/// panicked, which a stage never should. The failure is permanent, because
/// running the lead again would panic again.
fn lost(lead_id: LeadId, error: Option<&JoinError>) -> LeadRun {
    let detail = error.map(|error| format!(": {error}")).unwrap_or_default();
    tracing::error!(lead_id = %lead_id, error = ?error, "the crew task of a lead ended without a result");
    LeadRun {
        lead_id,
        outcome: LeadOutcome::Failed {
            stage: CREW_STAGE_NAME,
            error: StageError::permanent(format!(
                "the crew task for this lead ended without a result{detail}"
            )),
        },
        stages: Vec::new(),
    }
}
