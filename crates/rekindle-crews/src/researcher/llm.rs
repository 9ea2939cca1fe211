//! The LLM researcher requests the research from the configured LLM. When
//! the call fails, is refused or returns output that fails the checks, it
//! uses the rule-based [`research`] and records the reason in the stage
//! run's notes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rekindle_domain::lead::{LeadFields, SignalInput};
use rekindle_llm::{AccountScope, LlmClient, LlmError, LlmOutput};
use serde_json::Value;

use super::agent::LeadResearcher;
use super::llm_checks::grounding_check;
use super::llm_prompt::researcher_request;
use super::sources::ResearchSources;
use super::{Hook, Research, ResearcherInput, Signal, clean_summary, research};
use crate::cues::NoteCue;
use crate::stage::{Fallback, RunNotes, StageError};

/// Time the LLM part of one lead's research may take, retries included,
/// before the rules take over. It stays below the crew's default stage
/// timeout of 30 s, so a slow provider leads to a fallback rather than a
/// failed stage.
pub const DEFAULT_LLM_RESEARCHER_DEADLINE: Duration = Duration::from_secs(20);

/// A researcher backed by an LLM, for one account. Build one per account and
/// crew run from the shared [`LlmClient`], like the LLM writer.
pub struct LlmResearcher {
    client: Arc<LlmClient>,
    account: AccountScope,
    deadline: Duration,
}

impl LlmResearcher {
    pub fn new(client: Arc<LlmClient>, account: AccountScope) -> Self {
        Self {
            client,
            account,
            deadline: DEFAULT_LLM_RESEARCHER_DEADLINE,
        }
    }

    /// Sets the time the LLM part of one lead's research may take.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Researches one lead: the LLM's grounded research, or the rules'
    /// research with the reason in the notes. A lead without notes and
    /// imported signals gets the rules' research without an LLM call.
    pub async fn research(
        &self,
        fields: &LeadFields,
        imported: &[SignalInput],
    ) -> (Research, RunNotes) {
        let rules = research(fields, imported);
        let sources = Arc::new(ResearchSources::new(fields, imported));
        if sources.is_empty() {
            return (rules, RunNotes::default());
        }

        let request = researcher_request(fields, &sources, self.client.max_tokens());
        let checks = grounding_check(Arc::clone(&sources));
        let outcome = self
            .client
            .generate(self.account, request, &checks, self.deadline)
            .await;

        let mut notes = RunNotes {
            input_tokens: outcome.usage.input_tokens,
            output_tokens: outcome.usage.output_tokens,
            fallback: None,
        };
        let researched = outcome
            .result
            .and_then(|output| research_from_output(&output, &sources, &rules));
        match researched {
            Ok(research) => (research, notes),
            Err(error) => {
                tracing::warn!(
                    account_id = %self.account.account_id,
                    reason = error.code(),
                    error = %error,
                    "LLM researcher failed, using the rule-based researcher"
                );
                notes.fallback = Some(Fallback {
                    reason: error.code().to_owned(),
                    message: error.to_string(),
                });
                (rules, notes)
            }
        }
    }
}

#[async_trait]
impl LeadResearcher for LlmResearcher {
    fn name(&self) -> &'static str {
        "llm"
    }

    async fn research_noted(
        &self,
        input: &ResearcherInput,
    ) -> (Result<Research, StageError>, RunNotes) {
        let (research, notes) = self.research(&input.fields, &input.signals).await;
        (Ok(research), notes)
    }
}

/// Builds the research from checked output. The imported signals keep the
/// rules' kind and source, with the LLM's summary where it gave one. The
/// signals the rules take from the lead's own fields follow unchanged. An
/// opt-out the rules found stays set whatever the LLM returns.
fn research_from_output(
    output: &LlmOutput,
    sources: &ResearchSources,
    rules: &Research,
) -> Result<Research, LlmError> {
    let value = output
        .as_json()
        .ok_or_else(|| invalid("the output is not JSON"))?;

    let mut signals = sources.signals.clone();
    for entry in value["signals"].as_array().into_iter().flatten() {
        let number = entry["number"].as_i64().unwrap_or(0);
        let summary = clean_summary(entry["summary"].as_str().unwrap_or(""));
        let index = usize::try_from(number).ok().and_then(|n| n.checked_sub(1));
        if let Some(signal) = index.and_then(|index| signals.get_mut(index))
            && !summary.is_empty()
        {
            signal.summary = summary;
        }
    }
    let own_signals = rules.signals.iter().skip(sources.signals.len()).cloned();
    signals.extend(own_signals);

    let hook = match hook_from(&value["hook"], sources, &signals)? {
        Some(hook) => hook.sanitised(),
        None => rules.hook.clone(),
    };
    let llm_opt_out = value["opt_out_noted"].as_bool().unwrap_or(false);

    Ok(Research {
        signals,
        hook,
        opt_out_noted: rules.opt_out_noted || llm_opt_out,
    })
}

/// Converts the output's hook, or returns `None` when the LLM chose no
/// source and the rules' hook stays.
fn hook_from(
    hook: &Value,
    sources: &ResearchSources,
    signals: &[Signal],
) -> Result<Option<Hook>, LlmError> {
    let number = hook["number"].as_i64().unwrap_or(0);
    match hook["source"].as_str() {
        Some("signal") => {
            let signal = sources
                .signal(number)
                .ok_or_else(|| invalid("the hook cites a signal that does not exist"))?;
            // The signal list contains the LLM's summary when it gave one.
            let listed = usize::try_from(number - 1)
                .ok()
                .and_then(|index| signals.get(index))
                .map_or(signal.summary.clone(), |listed| listed.summary.clone());
            let summary = hook["summary"]
                .as_str()
                .map(clean_summary)
                .filter(|summary| !summary.is_empty())
                .unwrap_or(listed);
            Ok(Some(Hook::Trigger {
                signal_kind: signal.kind.clone(),
                summary,
            }))
        }
        Some("note") => {
            if sources.note(number).is_none() {
                return Err(invalid("the hook cites a note that does not exist"));
            }
            let cue: NoteCue = serde_json::from_value(hook["cue"].clone())
                .map_err(|error| invalid(&format!("the hook's cue is invalid: {error}")))?;
            let period = match cue {
                NoteCue::CallMeAfter => hook["period"].as_str().map(str::to_owned),
                _ => None,
            };
            Ok(Some(Hook::NoteCue { cue, period }))
        }
        _ => Ok(None),
    }
}

fn invalid(reason: &str) -> LlmError {
    LlmError::InvalidOutput {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields() -> LeadFields {
        LeadFields {
            company: Some("Acme Ltd".into()),
            job_title: Some("Head of Sales".into()),
            notes: Some("Asked to be removed from all lists. Check back after the fair.".into()),
            ..LeadFields::default()
        }
    }

    fn imported() -> Vec<SignalInput> {
        vec![SignalInput {
            kind: "Funding".into(),
            summary: "Raised a Series B in May (see https://news.example/acme)".into(),
            source: "import".into(),
        }]
    }

    fn convert(value: Value) -> Research {
        let sources = ResearchSources::new(&fields(), &imported());
        let rules = research(&fields(), &imported());
        research_from_output(&LlmOutput::Json(value), &sources, &rules).unwrap()
    }

    #[test]
    fn note_hook_becomes_cue_with_period() {
        let research = convert(json!({
            "hook": {"source": "note", "number": 2, "cue": "call_me_after", "period": "the fair", "summary": null},
            "signals": [{"number": 1, "summary": "Closed a Series B in May"}],
            "opt_out_noted": false
        }));
        assert_eq!(
            research.hook,
            Hook::NoteCue {
                cue: NoteCue::CallMeAfter,
                period: Some("the fair".into())
            }
        );
        assert_eq!(research.signals[0].kind, "funding");
        assert_eq!(research.signals[0].summary, "Closed a Series B in May");
        let kinds: Vec<&str> = research.signals.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["funding", "note_cue", "role", "company"]);
    }

    #[test]
    fn signal_hook_uses_listed_summary() {
        let research = convert(json!({
            "hook": {"source": "signal", "number": 1, "cue": null, "period": null, "summary": null},
            "signals": [{"number": 1, "summary": "Closed a Series B in May"}],
            "opt_out_noted": false
        }));
        assert_eq!(
            research.hook,
            Hook::Trigger {
                signal_kind: "funding".into(),
                summary: "Closed a Series B in May".into()
            }
        );
    }

    #[test]
    fn no_source_keeps_rules_hook() {
        let research = convert(json!({
            "hook": {"source": "none", "number": null, "cue": null, "period": null, "summary": null},
            "signals": [],
            "opt_out_noted": true
        }));
        assert_eq!(research.hook, super::research(&fields(), &imported()).hook);
        assert!(research.opt_out_noted);
    }

    #[test]
    fn rules_opt_out_cannot_be_cleared() {
        let notes = LeadFields {
            notes: Some("Said: do not contact me again.".into()),
            ..fields()
        };
        let sources = ResearchSources::new(&notes, &[]);
        let rules = research(&notes, &[]);
        assert!(rules.opt_out_noted);
        let output = LlmOutput::Json(json!({
            "hook": {"source": "none", "number": null, "cue": null, "period": null, "summary": null},
            "signals": [],
            "opt_out_noted": false
        }));
        let research = research_from_output(&output, &sources, &rules).unwrap();
        assert!(research.opt_out_noted);
    }
}
