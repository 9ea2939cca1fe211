//! The researcher: signals about a lead from its own record and from imported
//! signal columns, and the best hook for the writer to open with.
//!
//! [`research`] applies rules and calls no outside service. [`LlmResearcher`]
//! requests from an LLM the hook, chosen from the lead's numbered notes and
//! signals, and summaries of the signals. It checks that every citation
//! exists and that summaries stay within the cited text, and uses
//! [`research`] when the call or the checks fail. [`LeadResearcher`] is the
//! contract the crew's [`ResearcherStage`] runs.

mod agent;
mod llm;
mod llm_checks;
mod llm_prompt;
mod sources;

use async_trait::async_trait;
use rekindle_domain::LeadId;
use rekindle_domain::lead::{LeadFields, SignalInput};
use serde::{Deserialize, Serialize};

use crate::cues::{NoteCue, call_back_period, find_cues};
use crate::lead_text::{MAX_JOB_TITLE_CHARS, SafeLead, safe_phrase};
use crate::stage::{Stage, StageError};
use crate::text::{clean_text, find_links, remove_links};

pub use agent::{LeadResearcher, ResearcherStage};
pub use llm::{DEFAULT_LLM_RESEARCHER_DEADLINE, LlmResearcher};

/// Maximum characters of an imported signal summary that the writer may quote.
pub const MAX_SIGNAL_SUMMARY_CHARS: usize = 90;
/// Maximum characters of a call-back period ("after Q3 planning").
const MAX_PERIOD_CHARS: usize = 40;
/// Maximum imported signals read per lead; more are ignored.
pub const MAX_IMPORTED_SIGNALS: usize = 20;

/// Imported signal kinds that make a fresh reason to talk, strongest first.
const TRIGGER_KINDS: &[&str] = &[
    "funding",
    "job_change",
    "hiring",
    "expansion",
    "acquisition",
    "product_launch",
    "news",
];

/// A signal the researcher found, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// Short machine name: `funding`, `note_cue`, `crm_status`, `role`, `company`.
    pub kind: String,
    /// Cleaned, link-free text, safe to show to the user and to quote.
    pub summary: String,
    pub source: String,
}

/// Opening point for the writer, chosen by relevance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hook {
    /// An imported trigger event, such as funding or hiring.
    Trigger {
        signal_kind: String,
        summary: String,
    },
    /// A cue from the notes, with the call-back period when the lead gave one.
    NoteCue {
        cue: NoteCue,
        period: Option<String>,
    },
    /// The deal stalled on timing ("Bad timing", "Not now").
    Timing,
    /// A deal was lost earlier.
    LostDeal,
    /// An open opportunity went quiet.
    StalledOpportunity,
    /// Only the lead's role is known.
    Role { title: String },
    /// Nothing specific is known.
    General,
}

impl Hook {
    /// Cleans the free text in a hook again, for a writer that receives a hook
    /// from a researcher other than this crate's.
    pub fn sanitised(&self) -> Hook {
        match self {
            Hook::Trigger {
                signal_kind,
                summary,
            } => {
                let summary = clean_summary(summary);
                if summary.is_empty() {
                    Hook::General
                } else {
                    Hook::Trigger {
                        signal_kind: signal_kind.clone(),
                        summary,
                    }
                }
            }
            Hook::NoteCue { cue, period } => Hook::NoteCue {
                cue: *cue,
                period: period
                    .as_deref()
                    .and_then(|text| safe_phrase(text, MAX_PERIOD_CHARS)),
            },
            Hook::Role { title } => match safe_phrase(title, MAX_JOB_TITLE_CHARS) {
                Some(title) => Hook::Role { title },
                None => Hook::General,
            },
            other => other.clone(),
        }
    }
}

/// The researcher's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Research {
    pub signals: Vec<Signal>,
    pub hook: Hook,
    /// The notes record a request not to be contacted, which the compliance
    /// gate turns into a block.
    pub opt_out_noted: bool,
}

/// Collects signals and picks the hook.
pub fn research(fields: &LeadFields, imported: &[SignalInput]) -> Research {
    let safe = SafeLead::from_fields(fields);
    let cues = fields.notes.as_deref().map(find_cues).unwrap_or_default();
    let period = fields.notes.as_deref().and_then(call_back_period);

    let mut signals = imported_signals(imported);
    signals.extend(cues.iter().map(|cue| Signal {
        kind: "note_cue".into(),
        summary: cue.label().into(),
        source: "notes".into(),
    }));
    if let Some(status) = safe.crm_status.as_ref() {
        signals.push(signal("crm_status", status, "crm_status"));
    }
    if let Some(title) = safe.job_title.as_ref() {
        signals.push(signal("role", title, "job_title"));
    }
    if let Some(company) = safe.company.as_ref() {
        signals.push(signal("company", company, "company"));
    }

    let hook = pick_hook(&signals, &cues, period, &safe);
    Research {
        signals,
        hook,
        opt_out_noted: cues.contains(&NoteCue::Unsubscribe),
    }
}

fn signal(kind: &str, summary: &str, source: &str) -> Signal {
    Signal {
        kind: kind.into(),
        summary: summary.into(),
        source: source.into(),
    }
}

/// Imported signals, cleaned: the kind becomes a short snake_case name and the
/// summary loses links, placeholders and control characters.
fn imported_signals(imported: &[SignalInput]) -> Vec<Signal> {
    imported
        .iter()
        .take(MAX_IMPORTED_SIGNALS)
        .filter_map(|input| {
            let kind = signal_kind(&input.kind);
            let summary = clean_summary(&input.summary);
            if kind.is_empty() || summary.is_empty() {
                return None;
            }
            Some(Signal {
                kind,
                summary,
                source: clean_text(&input.source, 40),
            })
        })
        .collect()
}

fn signal_kind(raw: &str) -> String {
    let lower = clean_text(raw, 32).to_lowercase();
    lower
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_owned()
}

/// Shortens a summary so that it can be quoted in a sentence. A clause that
/// contains a link is dropped whole ("details at https://..."), because a
/// clause without its link no longer makes sense.
fn clean_summary(raw: &str) -> String {
    let text = clean_text(raw, 500);
    let clauses: Vec<&str> = text
        .split([',', ';', '(', ')', '|'])
        .flat_map(|part| part.split(". "))
        .map(str::trim)
        .filter(|clause| {
            !clause.is_empty() && find_links(clause).is_empty() && !clause.contains('@')
        })
        .collect();
    let cleaned = clean_text(&remove_links(&clauses.join(", ")), MAX_SIGNAL_SUMMARY_CHARS);
    cleaned
        .trim_end_matches(['.', ',', ';', ':', '!', '?', '-'])
        .trim()
        .to_owned()
}

/// Picks the hook: an imported trigger first, then a positive note cue, then the
/// CRM status, then the role.
fn pick_hook(
    signals: &[Signal],
    cues: &[NoteCue],
    period: Option<String>,
    safe: &SafeLead,
) -> Hook {
    let trigger = TRIGGER_KINDS
        .iter()
        .find_map(|kind| signals.iter().find(|signal| signal.kind == *kind));
    if let Some(signal) = trigger {
        return Hook::Trigger {
            signal_kind: signal.kind.clone(),
            summary: signal.summary.clone(),
        };
    }

    if let Some(cue) = strongest_positive_cue(cues) {
        let period = if cue == NoteCue::CallMeAfter {
            period
        } else {
            None
        };
        return Hook::NoteCue { cue, period };
    }

    if let Some(hook) = crm_hook(safe.crm_status.as_deref()) {
        return hook;
    }
    match &safe.job_title {
        Some(title) => Hook::Role {
            title: title.clone(),
        },
        None => Hook::General,
    }
}

/// Positive cues in the order a writer should use them.
const CUE_PRIORITY: &[NoteCue] = &[
    NoteCue::CallMeAfter,
    NoteCue::AskedForPricing,
    NoteCue::ReEvaluating,
    NoteCue::NextYear,
    NoteCue::CaseStudy,
    NoteCue::Budget,
    NoteCue::Interested,
];

fn strongest_positive_cue(cues: &[NoteCue]) -> Option<NoteCue> {
    CUE_PRIORITY.iter().copied().find(|cue| cues.contains(cue))
}

fn crm_hook(status: Option<&str>) -> Option<Hook> {
    let normalised = crate::text::normalise_for_matching(status?);
    let has = |phrase: &str| crate::text::contains_phrase(&normalised, phrase);
    if has("bad timing") || has("not now") {
        Some(Hook::Timing)
    } else if has("opportunity") || has("proposal") || has("negotiation") {
        Some(Hook::StalledOpportunity)
    } else if has("lost") {
        Some(Hook::LostDeal)
    } else {
        None
    }
}

/// Input of the researcher stage.
#[derive(Debug, Clone)]
pub struct ResearcherInput {
    pub lead_id: LeadId,
    pub fields: LeadFields,
    pub signals: Vec<SignalInput>,
}

/// Offline researcher stage: reads only data the account already has.
#[derive(Debug, Clone, Copy, Default)]
pub struct Researcher;

#[async_trait]
impl Stage for Researcher {
    type Input = ResearcherInput;
    type Output = Research;

    fn name(&self) -> &'static str {
        "researcher"
    }

    fn input_summary(&self, input: &ResearcherInput) -> String {
        format!(
            "lead {}: {} imported signals, notes {}",
            input.lead_id,
            input.signals.len(),
            if input.fields.notes.is_some() {
                "present"
            } else {
                "absent"
            },
        )
    }

    async fn run(&self, input: ResearcherInput) -> Result<Research, StageError> {
        Ok(research(&input.fields, &input.signals))
    }
}
