//! The subject-line optimizer: two subject variants for an A/B test and the
//! stable assignment of each lead to one of them.

use async_trait::async_trait;
use rekindle_domain::LeadId;
use rekindle_domain::lead::LeadFields;
use serde::{Deserialize, Serialize};

use crate::engagement::{EngagementContext, FollowUpSubjectInput, follow_up_subject_variants};
use crate::researcher::Hook;
use crate::stage::{Stage, StageError};
use crate::text::{PLACEHOLDER_CHARS, char_count, find_links};
use crate::variety::stable_hash;
use crate::writer::subjects::{SubjectFacts, question_subject, statement_subject};
use crate::writer::{SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectVariant {
    A,
    B,
}

impl SubjectVariant {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectVariant::A => "a",
            SubjectVariant::B => "b",
        }
    }
}

/// Assigns a lead to a variant. The assignment depends only on the lead id, so
/// it is the same on every run and splits leads about evenly.
pub fn assign_variant(lead_id: LeadId) -> SubjectVariant {
    let hash = stable_hash(&[b"subject-variant", lead_id.as_uuid().as_bytes()]);
    if hash.is_multiple_of(2) {
        SubjectVariant::A
    } else {
        SubjectVariant::B
    }
}

/// Input of the subject optimizer stage.
#[derive(Debug, Clone)]
pub struct SubjectInput {
    pub lead_id: LeadId,
    pub fields: LeadFields,
    pub hook: Hook,
    pub step_index: u32,
    /// The writer's subject, kept as variant A when it meets the limits.
    pub draft_subject: Option<String>,
    /// The lead's actions after the previous step. A follow-up with them
    /// gets subjects that refer to the lead's click or question.
    pub engagement: Option<EngagementContext>,
}

/// Two subject variants and the one this lead receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectVariants {
    /// Statement style; the writer's own subject when it is usable.
    pub a: String,
    /// Question style.
    pub b: String,
    pub assigned: SubjectVariant,
}

impl SubjectVariants {
    /// Returns the subject this lead receives.
    pub fn subject(&self) -> &str {
        match self.assigned {
            SubjectVariant::A => &self.a,
            SubjectVariant::B => &self.b,
        }
    }
}

/// Builds the variants for one lead. A follow-up after a click, a bounce or
/// a question gets subjects that refer to it. Other messages get the general
/// ones, which keep the writer's subject.
pub fn subject_variants(input: &SubjectInput) -> SubjectVariants {
    let notable = |engagement: &&EngagementContext| {
        engagement.clicked.is_some() || engagement.previous_bounced || engagement.question.is_some()
    };
    let follow_up = input.engagement.as_ref().filter(notable);
    if let Some(engagement) = follow_up.filter(|_| input.step_index > 0) {
        return follow_up_subject_variants(&FollowUpSubjectInput {
            lead_id: input.lead_id,
            fields: input.fields.clone(),
            hook: input.hook.clone(),
            step_index: input.step_index,
            engagement: engagement.clone(),
        });
    }
    let facts = SubjectFacts::new(input.lead_id, &input.fields, &input.hook, input.step_index);
    let a = input
        .draft_subject
        .as_deref()
        .map(str::trim)
        .filter(|subject| is_usable_subject(subject))
        .map_or_else(|| statement_subject(&facts), str::to_owned);
    SubjectVariants {
        a,
        b: question_subject(&facts),
        assigned: assign_variant(input.lead_id),
    }
}

fn is_usable_subject(subject: &str) -> bool {
    (SUBJECT_MIN_CHARS..=SUBJECT_MAX_CHARS).contains(&char_count(subject))
        && !subject.contains(PLACEHOLDER_CHARS)
        && find_links(subject).is_empty()
}

/// Rule-based subject optimizer stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubjectOptimizer;

#[async_trait]
impl Stage for SubjectOptimizer {
    type Input = SubjectInput;
    type Output = SubjectVariants;

    fn name(&self) -> &'static str {
        "subject_optimizer"
    }

    fn input_summary(&self, input: &SubjectInput) -> String {
        format!(
            "lead {}: step {}, draft subject {}",
            input.lead_id,
            input.step_index,
            if input.draft_subject.is_some() {
                "present"
            } else {
                "absent"
            },
        )
    }

    async fn run(&self, input: SubjectInput) -> Result<SubjectVariants, StageError> {
        Ok(subject_variants(&input))
    }
}
