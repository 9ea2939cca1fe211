//! Cues found in a lead's free-text CRM notes, shared by the scorer, the
//! researcher and the writer.

use serde::{Deserialize, Serialize};

use crate::text::{blank_phrase, contains_phrase, normalise_for_matching};

/// A cue in the notes. Positive cues make a lead worth another try; negative
/// ones argue against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteCue {
    AskedForPricing,
    Interested,
    CallMeAfter,
    Budget,
    NextYear,
    CaseStudy,
    ReEvaluating,
    NotInterested,
    Unsubscribe,
    LeftCompany,
    TooRecent,
    NoBudget,
}

/// Negative cues first: their phrases are blanked before the positive search,
/// so `not interested` never also counts as `interested`.
const NEGATIVE_PHRASES: &[(NoteCue, &[&str])] = &[
    (
        NoteCue::Unsubscribe,
        &[
            "unsubscribe",
            "unsubscribed",
            "opt out",
            "opted out",
            "remove me",
            "do not contact",
            "don't contact",
            "do not email",
            "stop emailing",
        ],
    ),
    (
        NoteCue::NotInterested,
        &[
            "not interested",
            "no longer interested",
            "not really interested",
            "wasn't interested",
            "isn't interested",
            "no interest",
            "never interested",
        ],
    ),
    (
        NoteCue::LeftCompany,
        &[
            "left the company",
            "no longer with",
            "no longer at",
            "has left",
            "moved to another company",
        ],
    ),
    (
        NoteCue::TooRecent,
        &["too recent", "just signed", "just bought"],
    ),
    (
        NoteCue::NoBudget,
        &[
            "no budget",
            "budget cut",
            "budget cuts",
            "budget freeze",
            "without budget",
        ],
    ),
];

const POSITIVE_PHRASES: &[(NoteCue, &[&str])] = &[
    (
        NoteCue::AskedForPricing,
        &[
            "asked for pricing",
            "asked about pricing",
            "requested pricing",
            "pricing request",
            "asked for a quote",
            "wanted pricing",
            "send pricing",
        ],
    ),
    (NoteCue::CallMeAfter, CALL_ME_AFTER_PHRASES),
    (
        NoteCue::NextYear,
        &["next year", "next fiscal year", "new fiscal year"],
    ),
    (NoteCue::CaseStudy, &["case study", "case studies"]),
    (
        NoteCue::ReEvaluating,
        &[
            "re-evaluating",
            "reevaluating",
            "re-evaluate",
            "evaluating alternatives",
            "reviewing vendors",
        ],
    ),
    (NoteCue::Budget, &["budget"]),
    (
        NoteCue::Interested,
        &["interested", "keen", "liked the demo"],
    ),
];

const CALL_ME_AFTER_PHRASES: &[&str] = &[
    "call me after",
    "call back after",
    "contact me after",
    "follow up after",
    "check back after",
    "get back after",
    "reach out after",
];

/// Maximum words kept from the period after "call me after".
pub(crate) const MAX_PERIOD_WORDS: usize = 4;

/// Words that end the period phrase ("after Q3 when the budget is set").
const PERIOD_STOP_WORDS: &[&str] = &[
    "and", "or", "but", "when", "because", "as", "is", "are", "if", "so", "then", "to",
];

impl NoteCue {
    pub fn is_positive(self) -> bool {
        POSITIVE_PHRASES.iter().any(|(cue, _)| *cue == self)
    }

    /// Short English label, used in score reasons and signal summaries.
    pub fn label(self) -> &'static str {
        match self {
            NoteCue::AskedForPricing => "asked for pricing",
            NoteCue::Interested => "showed interest",
            NoteCue::CallMeAfter => "asked to be called back later",
            NoteCue::Budget => "discussed budget",
            NoteCue::NextYear => "pointed to next year",
            NoteCue::CaseStudy => "asked for a case study",
            NoteCue::ReEvaluating => "was re-evaluating options",
            NoteCue::NotInterested => "said not interested",
            NoteCue::Unsubscribe => "asked not to be contacted",
            NoteCue::LeftCompany => "left the company",
            NoteCue::TooRecent => "contact was too recent",
            NoteCue::NoBudget => "had no budget",
        }
    }
}

/// Finds the cues in notes, each at most once, negative cues first.
pub fn find_cues(notes: &str) -> Vec<NoteCue> {
    let mut normalised = normalise_for_matching(notes);
    let mut cues = Vec::new();

    for (cue, phrases) in NEGATIVE_PHRASES {
        let mut found = false;
        for phrase in phrases.iter() {
            found |= blank_phrase(&mut normalised, phrase);
        }
        if found {
            cues.push(*cue);
        }
    }

    for (cue, phrases) in POSITIVE_PHRASES {
        if phrases
            .iter()
            .any(|phrase| contains_phrase(&normalised, phrase))
        {
            cues.push(*cue);
        }
    }
    cues
}

/// Extracts the period a lead asked to be called back after ("Q3", "the summer")
/// from the words that follow the phrase up to the next punctuation. Only words
/// of letters, digits and hyphens are kept, so no link or markup can pass.
pub fn call_back_period(notes: &str) -> Option<String> {
    let lower = notes.to_ascii_lowercase();
    let start = CALL_ME_AFTER_PHRASES
        .iter()
        .filter_map(|phrase| lower.find(phrase).map(|at| at + phrase.len()))
        .min()?;

    let rest = &notes[start..];
    let clause = rest
        .split(['.', ',', ';', '!', '?', '\n', '(', ')'])
        .next()
        .unwrap_or("");
    let words: Vec<&str> = clause
        .split_whitespace()
        .take_while(|word| word.chars().all(|c| c.is_alphanumeric() || c == '-'))
        .take_while(|word| !PERIOD_STOP_WORDS.contains(&word.to_lowercase().as_str()))
        .take(MAX_PERIOD_WORDS)
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_positive_cues() {
        let cues = find_cues(
            "Asked for pricing in May; re-evaluating vendors next year. Wants a case study.",
        );
        assert!(cues.contains(&NoteCue::AskedForPricing));
        assert!(cues.contains(&NoteCue::ReEvaluating));
        assert!(cues.contains(&NoteCue::NextYear));
        assert!(cues.contains(&NoteCue::CaseStudy));
        assert!(!cues.contains(&NoteCue::Interested));
    }

    #[test]
    fn negation_is_not_interest() {
        let cues = find_cues("Was not interested at the time.");
        assert_eq!(cues, vec![NoteCue::NotInterested]);
    }

    #[test]
    fn no_budget_is_not_budget() {
        let cues = find_cues("No budget this year");
        assert_eq!(cues, vec![NoteCue::NoBudget]);
    }

    #[test]
    fn unsubscribe_and_left_company() {
        let cues = find_cues("Asked to UNSUBSCRIBE. Left the company in 2023.");
        assert_eq!(cues, vec![NoteCue::Unsubscribe, NoteCue::LeftCompany]);
    }

    #[test]
    fn call_back_period_is_extracted() {
        assert_eq!(
            call_back_period("Said: call me after Q3 planning."),
            Some("Q3 planning".into())
        );
        assert_eq!(
            call_back_period("Please follow up after the summer holidays are over and done"),
            Some("the summer holidays".into())
        );
    }

    #[test]
    fn call_back_period_drops_links() {
        assert_eq!(
            call_back_period("call me after https://evil.example now"),
            None
        );
        assert_eq!(call_back_period("call me after"), None);
    }

    #[test]
    fn call_back_period_keeps_unicode() {
        assert_eq!(
            call_back_period("Call me after Ostern, danke"),
            Some("Ostern".into())
        );
    }
}
