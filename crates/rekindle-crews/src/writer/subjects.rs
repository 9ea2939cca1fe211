//! Subject lines of 40 to 60 characters in two styles: statements (variant A)
//! and questions (variant B). Each pool ends with lines that use no lead data
//! and fit the limits on their own, so a subject always exists.

use rekindle_domain::LeadId;
use rekindle_domain::lead::LeadFields;

use super::{SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS};
use crate::cues::NoteCue;
use crate::lead_text::SafeLead;
use crate::researcher::Hook;
use crate::text::char_count;
use crate::variety::Variety;

/// Lead facts a subject line may use.
pub(crate) struct SubjectFacts {
    pub name: Option<String>,
    pub company: Option<String>,
    pub hook: Hook,
    pub follow_up: bool,
    pub variety: Variety,
}

impl SubjectFacts {
    pub fn new(lead_id: LeadId, fields: &LeadFields, hook: &Hook, step_index: u32) -> Self {
        let safe = SafeLead::from_fields(fields);
        Self {
            name: safe.first_name,
            company: safe.company,
            hook: hook.sanitised(),
            follow_up: step_index > 0,
            variety: Variety::new(lead_id, step_index),
        }
    }
}

/// Writes a statement-style subject (variant A).
pub(crate) fn statement_subject(facts: &SubjectFacts) -> String {
    let mut options = Vec::new();
    if facts.follow_up {
        push_with_name(&mut options, facts, |name| {
            format!("{name}, following up on my earlier note")
        });
        push_with_company(&mut options, facts, |company| {
            format!("Following up on my last note to {company}")
        });
        options.push("Following up on my earlier note, in case it slipped by".into());
        options.push("A short follow-up to my previous message".into());
    } else {
        options.extend(hook_statement(facts));
        push_with_name(&mut options, facts, |name| {
            format!("{name}, picking up where we left off last time")
        });
        push_with_name(&mut options, facts, |name| {
            format!("A quick hello since we last spoke, {name}")
        });
        push_with_company(&mut options, facts, |company| {
            format!("Revisiting our conversation about {company}")
        });
        push_with_company(&mut options, facts, |company| {
            format!("A fresh idea for {company} since we last spoke")
        });
        options.push("Picking up our conversation where we left off".into());
        options.push("It has been a while, so here is a quick update".into());
    }
    pick_fitting(facts, "subject_a", options)
}

/// Writes a question-style subject (variant B).
pub(crate) fn question_subject(facts: &SubjectFacts) -> String {
    let mut options = Vec::new();
    if facts.follow_up {
        push_with_name(&mut options, facts, |name| {
            format!("{name}, did my last note get buried?")
        });
        push_with_company(&mut options, facts, |company| {
            format!("Still worth a conversation with {company}?")
        });
        options.push("Did my last note get lost in your inbox?".into());
        options.push("Is it worth a short call after my last note?".into());
    } else {
        push_with_name(&mut options, facts, |name| {
            format!("{name}, is now a better time to reconnect?")
        });
        push_with_name(&mut options, facts, |name| {
            format!("Worth revisiting our conversation, {name}?")
        });
        push_with_company(&mut options, facts, |company| {
            format!("Could {company} use a fresh look at this?")
        });
        push_with_company(&mut options, facts, |company| {
            format!("Has anything changed at {company} since we spoke?")
        });
        options.push("Is now a better time to pick up our conversation?".into());
        options.push("Has anything changed on your side since we spoke?".into());
        options.push("Would a fresh look at this be useful right now?".into());
    }
    pick_fitting(facts, "subject_b", options)
}

fn hook_statement(facts: &SubjectFacts) -> Vec<String> {
    let with_name = |text: &str| match &facts.name {
        Some(name) => format!("{name}, {text}"),
        None => capitalise(text),
    };
    match &facts.hook {
        Hook::NoteCue {
            cue: NoteCue::AskedForPricing,
            ..
        } => vec!["Updated pricing options since we last spoke".into()],
        Hook::NoteCue {
            cue: NoteCue::CaseStudy,
            ..
        } => vec![with_name("the case studies you asked about")],
        Hook::NoteCue {
            cue: NoteCue::CallMeAfter,
            period: Some(period),
        } => {
            vec![format!("Checking back after {period}, as you suggested")]
        }
        Hook::NoteCue {
            cue: NoteCue::NextYear,
            ..
        } => vec![with_name("a new year and a fresh look at our talk")],
        Hook::Trigger { .. } => match &facts.company {
            Some(company) => vec![format!("Saw the recent news about {company}")],
            None => vec![],
        },
        _ => vec![],
    }
}

fn push_with_name(options: &mut Vec<String>, facts: &SubjectFacts, line: impl Fn(&str) -> String) {
    if let Some(name) = &facts.name {
        options.push(line(name));
    }
}

fn push_with_company(
    options: &mut Vec<String>,
    facts: &SubjectFacts,
    line: impl Fn(&str) -> String,
) {
    if let Some(company) = &facts.company {
        options.push(line(company));
    }
}

/// Picks one of the lines that fit the length limits.
fn pick_fitting(facts: &SubjectFacts, slot: &str, options: Vec<String>) -> String {
    let fitting: Vec<String> = options
        .into_iter()
        .filter(|line| (SUBJECT_MIN_CHARS..=SUBJECT_MAX_CHARS).contains(&char_count(line)))
        .collect();
    facts
        .variety
        .choose(slot, &fitting)
        .cloned()
        .unwrap_or_default()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
