//! Subject variants of a follow-up email for an A/B test: a statement (A)
//! and a question (B) that refer to the lead's click or question when there
//! was one. Without a line that fits 40 to 60 characters, the general
//! follow-up subjects of the subject optimizer are used.

use rekindle_domain::LeadId;
use rekindle_domain::lead::LeadFields;

use super::context::EngagementContext;
use crate::lead_text::{SafeLead, safe_phrase};
use crate::researcher::Hook;
use crate::subject_optimizer::{SubjectVariants, assign_variant};
use crate::text::char_count;
use crate::variety::Variety;
use crate::writer::subjects::{SubjectFacts, question_subject, statement_subject};
use crate::writer::{SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS};

/// Maximum characters of a link label in a subject.
const MAX_LABEL_CHARS: usize = 30;

/// Input of the follow-up subject variants.
#[derive(Debug, Clone)]
pub struct FollowUpSubjectInput {
    pub lead_id: LeadId,
    pub fields: LeadFields,
    pub hook: Hook,
    /// 1 or more: the position of the follow-up in the sequence.
    pub step_index: u32,
    pub engagement: EngagementContext,
}

/// Builds both variants and the one this lead receives. The assignment is
/// the lead's usual one, so a lead keeps its variant across steps.
pub fn follow_up_subject_variants(input: &FollowUpSubjectInput) -> SubjectVariants {
    let safe = SafeLead::from_fields(&input.fields);
    let name = safe.first_name.as_deref();
    let label = clicked_label(&input.engagement);
    let variety = Variety::new(input.lead_id, input.step_index);
    // A follow-up has step index 1 or more, and 0 would pick first-message lines.
    let facts = SubjectFacts::new(
        input.lead_id,
        &input.fields,
        &input.hook,
        input.step_index.max(1),
    );

    let a = pick(
        &variety,
        "follow_up_subject_a",
        statements(&input.engagement, name, label.as_deref()),
    )
    .unwrap_or_else(|| statement_subject(&facts));
    let b = pick(
        &variety,
        "follow_up_subject_b",
        questions(&input.engagement, name, label.as_deref()),
    )
    .unwrap_or_else(|| question_subject(&facts));
    SubjectVariants {
        a,
        b,
        assigned: assign_variant(input.lead_id),
    }
}

fn clicked_label(engagement: &EngagementContext) -> Option<String> {
    engagement
        .clicked
        .as_ref()
        .and_then(|click| click.label.as_deref())
        .and_then(|label| safe_phrase(label, MAX_LABEL_CHARS))
}

/// Statement lines (variant A) for the lead's engagement.
fn statements(
    engagement: &EngagementContext,
    name: Option<&str>,
    label: Option<&str>,
) -> Vec<String> {
    let mut lines = Vec::new();
    if engagement.previous_bounced {
        lines.push("Trying again, as my earlier message did not get through".to_owned());
    } else if engagement.question.is_some() {
        lines.push("Thanks for your question, happy to answer it on a call".to_owned());
        if let Some(name) = name {
            lines.push(format!(
                "{name}, thank you for your reply and your question"
            ));
        }
    } else if engagement.clicked.is_some() {
        match label {
            Some(label) => {
                lines.push(format!("A little more background on {label}"));
                if let Some(name) = name {
                    lines.push(format!("{name}, a little more on {label}"));
                }
            }
            None => lines.push("A little more background on the link I shared".to_owned()),
        }
    }
    lines
}

/// Question lines (variant B) for the lead's engagement.
fn questions(
    engagement: &EngagementContext,
    name: Option<&str>,
    label: Option<&str>,
) -> Vec<String> {
    let mut lines = Vec::new();
    if engagement.previous_bounced {
        lines.push("Is this a better way to reach you than my last try?".to_owned());
    } else if engagement.question.is_some() {
        lines.push("Could a short call answer your question properly?".to_owned());
        if let Some(name) = name {
            lines.push(format!(
                "{name}, shall we go through your question on a call?"
            ));
        }
    } else if engagement.clicked.is_some() {
        match label {
            Some(label) => {
                lines.push(format!("Would more detail on {label} be useful?"));
                if let Some(name) = name {
                    lines.push(format!("{name}, was {label} useful to you?"));
                }
            }
            None => lines.push("Was the link in my last email useful to you?".to_owned()),
        }
    }
    lines
}

/// Picks one of the lines that fit the subject length limits.
fn pick(variety: &Variety, slot: &str, lines: Vec<String>) -> Option<String> {
    let fitting: Vec<String> = lines
        .into_iter()
        .filter(|line| (SUBJECT_MIN_CHARS..=SUBJECT_MAX_CHARS).contains(&char_count(line)))
        .collect();
    variety.choose(slot, &fitting).cloned()
}
