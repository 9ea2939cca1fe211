//! The cleaned facts a message is written from.

use chrono::Datelike;
use rekindle_domain::Tone;

use super::WriterRequest;
use super::follow_up::FollowUpFacts;
use crate::lead_text::SafeLead;
use crate::researcher::Hook;
use crate::stage::StageError;
use crate::text::clean_text;
use crate::variety::Variety;

/// Maximum characters of the sender's name and company in a message.
const MAX_SENDER_CHARS: usize = 60;
/// Gaps of 45 to 300 days are named by month ("back in March"). A shorter gap
/// could name the current month, and a longer one would need the year.
const MONTH_NAME_DAYS: std::ops::RangeInclusive<i64> = 45..=300;

/// Facts for the phrase pools: every string here is clean and link-free.
pub(crate) struct MessageFacts {
    pub name: Option<String>,
    pub company: Option<String>,
    pub hook: Hook,
    /// Month of the last contact, when it is recent enough to name.
    pub last_month: Option<&'static str>,
    pub sender_name: String,
    pub sender_company: Option<String>,
    pub tone: Tone,
    pub step_index: u32,
    pub variety: Variety,
    /// The lead's actions after the previous message, only for follow-ups.
    pub follow_up: Option<FollowUpFacts>,
}

impl MessageFacts {
    pub fn from_request(request: &WriterRequest) -> Result<Self, StageError> {
        let safe = SafeLead::from_fields(&request.lead);
        let sender_name = clean_text(&request.sender.name, MAX_SENDER_CHARS);
        if sender_name.is_empty() {
            return Err(StageError::invalid_input(
                "sender name is missing: set the sender identity of the account",
            ));
        }
        // A sender named after the company signs once, not "Acme Ltd" twice.
        let sender_company = Some(clean_text(&request.sender.company, MAX_SENDER_CHARS))
            .filter(|company| !company.is_empty() && !company.eq_ignore_ascii_case(&sender_name));

        Ok(Self {
            name: safe.first_name,
            company: safe.company,
            hook: request.research.hook.sanitised(),
            last_month: last_month(request),
            sender_name,
            sender_company,
            tone: request.tone,
            step_index: request.step_index,
            variety: Variety::new(request.lead_id, request.step_index),
            follow_up: FollowUpFacts::from_request(request),
        })
    }

    /// Returns the company name, else the given stand-in ("your team").
    pub fn company_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        self.company.as_deref().unwrap_or(fallback)
    }

    pub fn is_follow_up(&self) -> bool {
        self.step_index > 0
    }

    /// Picks one phrasing for a slot.
    pub fn choose<'a>(&self, slot: &str, options: &'a [String]) -> &'a str {
        self.variety
            .choose(slot, options)
            .map_or("", String::as_str)
    }
}

fn last_month(request: &WriterRequest) -> Option<&'static str> {
    let last = request.lead.last_contacted_at?;
    let days = (request.now - last).num_days();
    if !MONTH_NAME_DAYS.contains(&days) {
        return None;
    }
    Some(crate::text::month_name(last.month()))
}

/// Words that often open an imported signal ("Raised a Series B in October")
/// and read as ordinary words after a colon, where they take a small letter.
/// Any other first word may be a name ("Acme opened...") and keeps its case.
const LOWERCASE_OPENERS: &[&str] = &[
    "acquired",
    "added",
    "announced",
    "appointed",
    "closed",
    "completed",
    "entered",
    "expanded",
    "grew",
    "hired",
    "hiring",
    "joined",
    "launched",
    "moved",
    "named",
    "new",
    "opened",
    "partnered",
    "posted",
    "promoted",
    "published",
    "raised",
    "received",
    "recently",
    "released",
    "secured",
    "signed",
    "started",
    "won",
];

/// Returns a signal summary ready for the middle of a sentence.
pub(crate) fn mid_sentence(summary: &str) -> String {
    let first_word: String = summary.chars().take_while(|c| c.is_alphabetic()).collect();
    let is_opener = LOWERCASE_OPENERS
        .iter()
        .any(|opener| first_word.eq_ignore_ascii_case(opener));
    let only_first_capital = first_word.chars().skip(1).all(|c| !c.is_uppercase());
    if !is_opener || !only_first_capital {
        return summary.to_owned();
    }
    let mut chars = summary.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod mid_sentence_tests {
    use super::mid_sentence;

    #[test]
    fn common_openers_take_a_small_letter() {
        assert_eq!(
            mid_sentence("Raised a Series B in October"),
            "raised a Series B in October"
        );
        assert_eq!(mid_sentence("New office in Leeds"), "new office in Leeds");
    }

    #[test]
    fn names_and_acronyms_keep_their_case() {
        assert_eq!(
            mid_sentence("Acme opened a Berlin office"),
            "Acme opened a Berlin office"
        );
        assert_eq!(mid_sentence("NEW CFO appointed"), "NEW CFO appointed");
        assert_eq!(mid_sentence(""), "");
    }
}
