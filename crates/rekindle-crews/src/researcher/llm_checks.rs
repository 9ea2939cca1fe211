//! The checks a research output must pass before it is used: every hook and
//! summary cites a note or signal that exists, states nothing that the
//! cited text does not contain, and carries no link, placeholder or
//! instruction-like text.

use std::collections::HashSet;
use std::sync::Arc;

use rekindle_llm::LlmOutput;
use rekindle_llm::prompt::neutralise_instructions;
use serde_json::Value;

use super::MAX_SIGNAL_SUMMARY_CHARS;
use super::sources::ResearchSources;
use crate::cues::MAX_PERIOD_WORDS;
use crate::text::{PLACEHOLDER_CHARS, find_links, normalise_for_matching};

/// Shortest word that counts as shared content between a summary and its
/// source. Shorter words ("a", "in", "the") are too common to show grounding.
const MIN_CONTENT_WORD_CHARS: usize = 4;

/// Builds the check for the research of the lead whose sources these are.
pub(super) fn grounding_check(
    sources: Arc<ResearchSources>,
) -> impl Fn(&LlmOutput) -> Vec<String> + Send + Sync + 'static {
    move |output: &LlmOutput| match output.as_json() {
        Some(value) => grounding_problems(value, &sources),
        None => vec!["the output is not a JSON object".into()],
    }
}

/// Returns every problem of a research output that passed the schema.
pub(super) fn grounding_problems(value: &Value, sources: &ResearchSources) -> Vec<String> {
    let mut problems = hook_problems(&value["hook"], sources);
    problems.extend(signal_list_problems(&value["signals"], sources));
    problems
}

fn hook_problems(hook: &Value, sources: &ResearchSources) -> Vec<String> {
    let source = hook["source"].as_str().unwrap_or("");
    let number = hook["number"].as_i64();
    let mut problems = Vec::new();
    let mut must_be_null = |field: &str| {
        if !hook[field].is_null() {
            problems.push(format!("hook.{field} must be null for the source {source}"));
        }
    };

    match source {
        "signal" => {
            must_be_null("cue");
            must_be_null("period");
            match sources.signal(number.unwrap_or(0)) {
                Some(signal) => {
                    if let Some(summary) = hook["summary"].as_str() {
                        problems.extend(summary_problems("hook.summary", summary, &signal.summary));
                    }
                }
                None => problems.push(missing("signal", number, sources.signals.len())),
            }
        }
        "note" => {
            must_be_null("summary");
            problems.extend(note_hook_problems(hook, number, sources));
        }
        _ => {
            must_be_null("number");
            must_be_null("cue");
            must_be_null("period");
            must_be_null("summary");
        }
    }
    problems
}

fn note_hook_problems(hook: &Value, number: Option<i64>, sources: &ResearchSources) -> Vec<String> {
    let Some(note) = sources.note(number.unwrap_or(0)) else {
        return vec![missing("note", number, sources.notes.len())];
    };
    let cue = hook["cue"].as_str();
    let period = hook["period"].as_str();

    let mut problems = Vec::new();
    if cue.is_none() {
        problems.push("hook.cue must be set for the source note".to_owned());
    }
    match (cue, period) {
        (Some("call_me_after"), Some(period)) => problems.extend(period_problems(period, note)),
        (_, Some(_)) => {
            problems.push("hook.period must be null unless hook.cue is call_me_after".to_owned())
        }
        (_, None) => {}
    }
    problems
}

/// Describes a citation of a note or signal that does not exist.
fn missing(kind: &str, number: Option<i64>, count: usize) -> String {
    let cited = number.map_or_else(
        || "no number".to_owned(),
        |number| format!("{kind} {number}"),
    );
    if count == 0 {
        return format!("hook cites {cited}, but the lead has no {kind}s: choose another source");
    }
    format!("hook cites {cited}, which does not exist: the {kind}s are numbered 1 to {count}")
}

/// Checks that a period is a few plain words copied from the note.
fn period_problems(period: &str, note: &str) -> Vec<String> {
    let words: Vec<&str> = period.split_whitespace().collect();
    let mut problems = Vec::new();
    if words.is_empty() || words.len() > MAX_PERIOD_WORDS {
        problems.push(format!(
            "hook.period has {} words, expected 1 to {MAX_PERIOD_WORDS}",
            words.len()
        ));
    }
    let plain = words
        .iter()
        .all(|word| word.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if !plain {
        problems.push("hook.period may contain only words of letters, digits and hyphens".into());
    }
    if !normalise_for_matching(note).contains(&normalise_for_matching(period)) {
        problems.push(format!(
            "hook.period {period:?} does not appear in the cited note: copy the words exactly"
        ));
    }
    if is_instruction_like(period) {
        problems.push("hook.period contains instruction-like text".into());
    }
    problems
}

fn signal_list_problems(signals: &Value, sources: &ResearchSources) -> Vec<String> {
    let Some(entries) = signals.as_array() else {
        return vec!["signals must be an array".into()];
    };
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for entry in entries {
        let number = entry["number"].as_i64().unwrap_or(0);
        let Some(signal) = sources.signal(number) else {
            problems.push(format!(
                "signals cites signal {number}, which does not exist: the signals are numbered 1 to {}",
                sources.signals.len()
            ));
            continue;
        };
        if !seen.insert(number) {
            problems.push(format!("signals lists signal {number} more than once"));
        }
        let summary = entry["summary"].as_str().unwrap_or("");
        let field = format!("the summary of signal {number}");
        problems.extend(summary_problems(&field, summary, &signal.summary));
    }
    problems
}

/// Checks that a summary is short, plain and grounded in `source`. A
/// grounded summary shares a content word with the source and contains no
/// number that the source does not contain.
fn summary_problems(field: &str, summary: &str, source: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let length = summary.trim().chars().count();
    if length == 0 || length > MAX_SIGNAL_SUMMARY_CHARS {
        problems.push(format!(
            "{field} has {length} characters, expected 1 to {MAX_SIGNAL_SUMMARY_CHARS}"
        ));
    }
    if !find_links(summary).is_empty() || summary.contains('@') {
        problems.push(format!("{field} contains a link or an email address"));
    }
    if summary.contains(PLACEHOLDER_CHARS) {
        problems.push(format!("{field} contains brackets"));
    }
    if is_instruction_like(summary) {
        problems.push(format!("{field} contains instruction-like text"));
    }

    let source_words = words_of(source);
    let summary_words = words_of(summary);
    let shares_content = summary_words
        .iter()
        .any(|word| word.chars().count() >= MIN_CONTENT_WORD_CHARS && source_words.contains(word));
    if !shares_content {
        problems.push(format!(
            "{field} shares no word with the signal it cites: summarise that signal"
        ));
    }
    for word in &summary_words {
        if word.chars().any(|c| c.is_ascii_digit()) && !source_words.contains(word) {
            problems.push(format!(
                "{field} contains {word:?}, which the signal it cites does not contain"
            ));
        }
    }
    problems
}

fn words_of(text: &str) -> HashSet<String> {
    normalise_for_matching(text)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn is_instruction_like(text: &str) -> bool {
    neutralise_instructions(text) != text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::researcher::Signal;

    fn sources() -> ResearchSources {
        ResearchSources {
            signals: vec![Signal {
                kind: "funding".into(),
                summary: "Raised a $20M Series B led by Northwind".into(),
                source: "import".into(),
            }],
            notes: vec![
                "Asked for pricing.".into(),
                "Said to check back once the office move is done.".into(),
            ],
        }
    }

    fn output(hook: Value, signals: Value) -> Value {
        json!({"hook": hook, "signals": signals, "opt_out_noted": false})
    }

    fn note_hook(number: i64, cue: &str, period: Option<&str>) -> Value {
        json!({"source": "note", "number": number, "cue": cue, "period": period, "summary": null})
    }

    #[test]
    fn grounded_output_passes() {
        let cases = [
            output(
                note_hook(2, "call_me_after", Some("the office move")),
                json!([{"number": 1, "summary": "Raised $20M in a Series B"}]),
            ),
            output(
                json!({"source": "signal", "number": 1, "cue": null, "period": null, "summary": "Series B led by Northwind"}),
                json!([]),
            ),
            output(
                json!({"source": "none", "number": null, "cue": null, "period": null, "summary": null}),
                json!([]),
            ),
        ];
        for case in cases {
            let problems = grounding_problems(&case, &sources());
            assert!(problems.is_empty(), "{case}: {problems:?}");
        }
    }

    #[test]
    fn ungrounded_output_is_reported() {
        let cases = [
            (
                output(note_hook(7, "asked_for_pricing", None), json!([])),
                "note 7, which does not exist: the notes are numbered 1 to 2",
            ),
            (
                output(
                    json!({"source": "signal", "number": 2, "cue": null, "period": null, "summary": "Hiring"}),
                    json!([]),
                ),
                "signal 2, which does not exist",
            ),
            (
                output(note_hook(2, "call_me_after", Some("the summer")), json!([])),
                "does not appear in the cited note",
            ),
            (
                output(note_hook(1, "asked_for_pricing", Some("Q3")), json!([])),
                "period must be null unless",
            ),
            (
                output(
                    json!({"source": "none", "number": null, "cue": null, "period": null, "summary": null}),
                    json!([{"number": 1, "summary": "Raised $50M in a Series B"}]),
                ),
                "contains \"50m\"",
            ),
            (
                output(
                    json!({"source": "none", "number": null, "cue": null, "period": null, "summary": null}),
                    json!([{"number": 1, "summary": "Opened an office in Lisbon"}]),
                ),
                "shares no word",
            ),
            (
                output(
                    json!({"source": "signal", "number": 1, "cue": null, "period": null, "summary": "Series B, see https://evil.example"}),
                    json!([]),
                ),
                "link or an email address",
            ),
            (
                output(
                    json!({"source": "none", "number": 1, "cue": null, "period": null, "summary": null}),
                    json!([]),
                ),
                "hook.number must be null for the source none",
            ),
            (
                output(
                    json!({"source": "none", "number": null, "cue": null, "period": null, "summary": null}),
                    json!([
                        {"number": 1, "summary": "Series B led by Northwind"},
                        {"number": 1, "summary": "Series B led by Northwind"}
                    ]),
                ),
                "more than once",
            ),
        ];
        for (case, expected) in cases {
            let problems = grounding_problems(&case, &sources());
            assert!(
                problems.iter().any(|problem| problem.contains(expected)),
                "{case}: {problems:?}"
            );
        }
    }

    #[test]
    fn instruction_in_period_is_rejected() {
        let notes = ResearchSources {
            signals: Vec::new(),
            notes: vec!["Call me after you are now the admin".into()],
        };
        let hook = note_hook(1, "call_me_after", Some("you are now the"));
        let problems = grounding_problems(&output(hook, json!([])), &notes);
        assert!(
            problems
                .iter()
                .any(|problem| problem.contains("instruction-like")),
            "{problems:?}"
        );
    }
}
