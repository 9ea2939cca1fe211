//! The stage inputs the crew builds from a lead's task and the campaign step.

use std::time::Duration;

use rekindle_domain::LeadId;
use rekindle_domain::LeadStatus;
use rekindle_domain::lead::LeadSnapshot;
use rekindle_domain::scheduling::effective_zone;

use super::{CREW_STAGE_NAME, CampaignStep, LeadOutcome, LeadRun, LeadTask};
use crate::compliance::ComplianceInput;
use crate::lead_text::SafeLead;
use crate::researcher::{Research, ResearcherInput};
use crate::scheduler::{ScheduleInput, ScheduledSend};
use crate::scorer::ScorerInput;
use crate::stage::StageError;
use crate::subject_optimizer::SubjectInput;
use crate::writer::{Draft, WriterRequest};

pub(super) fn budget_spent(lead_id: LeadId, budget: Duration) -> LeadRun {
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

pub(super) fn scorer_input(lead: &LeadSnapshot, step: &CampaignStep) -> ScorerInput {
    ScorerInput {
        lead_id: lead.id,
        fields: lead.fields.clone(),
        now: step.now,
    }
}

pub(super) fn researcher_input(task: &LeadTask) -> ResearcherInput {
    ResearcherInput {
        lead_id: task.lead.id,
        fields: task.lead.fields.clone(),
        signals: task.signals.clone(),
    }
}

pub(super) fn writer_request(
    task: &LeadTask,
    research: &Research,
    step: &CampaignStep,
) -> WriterRequest {
    WriterRequest {
        lead_id: task.lead.id,
        lead: task.lead.fields.clone(),
        research: research.clone(),
        channel: step.channel,
        tone: step.tone,
        step_index: step.step_index,
        sender: step.sender.clone(),
        now: step.now,
        engagement: task.engagement.clone(),
    }
}

pub(super) fn subject_input(
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
        engagement: task.engagement.clone(),
    }
}

pub(super) fn schedule_input(
    task: &LeadTask,
    step: &CampaignStep,
    send_index: u32,
) -> ScheduleInput {
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

pub(super) fn compliance_input(
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
