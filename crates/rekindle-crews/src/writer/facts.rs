//! The cleaned facts a message is written from.

use chrono::Datelike;
use rekindle_domain::Tone;

use super::WriterRequest;
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

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

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
    MONTHS.get(last.month0() as usize).copied()
}
