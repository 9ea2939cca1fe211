//! Offline SMS and WhatsApp messages: short, with room left for the opt-out
//! text that the compliance gate appends.

use rekindle_domain::Tone;

use super::TEXT_MESSAGE_MAX_CHARS;
use super::facts::{MessageFacts, mid_sentence};
use super::follow_up;
use crate::compliance::TEXT_OPT_OUT;
use crate::cues::NoteCue;
use crate::researcher::Hook;
use crate::stage::StageError;
use crate::text::char_count;

/// Characters left for the body once the compliance gate appends a space and
/// the opt-out text.
pub const TEXT_BODY_MAX_CHARS: usize = TEXT_MESSAGE_MAX_CHARS - TEXT_OPT_OUT.len() - 1;

/// Writes a text message of at most [`TEXT_BODY_MAX_CHARS`] characters. The
/// optional sentences are dropped, context first, when the names are long.
pub(crate) fn text_body(facts: &MessageFacts) -> Result<String, StageError> {
    let required_start = format!("{} {}", greeting(facts), introduction(facts));
    let gap = gap(facts);
    let context = context(facts);
    let reason = reason(facts);
    let ask = ask(facts);

    let candidates = [
        [
            Some(gap.as_str()),
            context.as_deref(),
            Some(reason.as_str()),
        ],
        [Some(gap.as_str()), None, Some(reason.as_str())],
        [Some(gap.as_str()), None, None],
        [None, None, None],
    ];
    for optional in candidates {
        let mut parts = vec![required_start.as_str()];
        parts.extend(optional.into_iter().flatten());
        parts.push(ask.as_str());
        let body = parts.join(" ");
        if char_count(&body) <= TEXT_BODY_MAX_CHARS {
            return Ok(body);
        }
    }
    Err(StageError::permanent(format!(
        "offline writer could not fit a text message in {TEXT_BODY_MAX_CHARS} characters"
    )))
}

fn greeting(facts: &MessageFacts) -> String {
    let options: Vec<String> = match facts.name.as_deref() {
        Some(name) => vec![
            format!("Hi {name},"),
            format!("Hello {name},"),
            format!("Hey {name},"),
        ],
        None => vec!["Hi there,".into(), "Hello there,".into(), "Hello,".into()],
    };
    facts.choose("text_greeting", &options).to_owned()
}

/// Introduces the sender, because text messages have no signature line.
fn introduction(facts: &MessageFacts) -> String {
    let name = &facts.sender_name;
    let options: Vec<String> = match &facts.sender_company {
        Some(company) => vec![
            format!("it's {name} from {company}."),
            format!("this is {name} at {company}."),
            format!("{name} from {company} here."),
        ],
        None => vec![
            format!("it's {name}."),
            format!("this is {name}."),
            format!("{name} here."),
        ],
    };
    facts.choose("text_intro", &options).to_owned()
}

fn gap(facts: &MessageFacts) -> String {
    if let Some(sentence) = follow_up::text_opener(facts) {
        return sentence;
    }
    let options: Vec<String> = if facts.is_follow_up() {
        [
            "Following up on my last message.",
            "Just circling back on my earlier text.",
            "A quick nudge on my last message.",
            "Checking in once more after my last text.",
        ]
        .map(String::from)
        .to_vec()
    } else {
        [
            "It's been a while since we last spoke.",
            "It has been some time since our last chat.",
            "We have not spoken in a while.",
            "It's been a few months since we were in touch.",
            "It feels like ages since we last talked.",
        ]
        .map(String::from)
        .to_vec()
    };
    facts.choose("text_gap", &options).to_owned()
}

fn context(facts: &MessageFacts) -> Option<String> {
    let sentence = match &facts.hook {
        Hook::Trigger { summary, .. } => {
            format!("I saw the recent news: {}.", mid_sentence(summary))
        }
        Hook::NoteCue { cue, period } => match (cue, period) {
            (NoteCue::CallMeAfter, Some(period)) => {
                format!("You asked me to check back after {period}.")
            }
            (NoteCue::CallMeAfter, None) => "You asked me to check back later.".into(),
            (NoteCue::AskedForPricing, _) => {
                "You had asked about pricing, and our options have changed.".into()
            }
            (NoteCue::NextYear, _) => "You mentioned the new year might suit you better.".into(),
            (NoteCue::CaseStudy, _) => "I now have the case studies you asked about.".into(),
            (NoteCue::ReEvaluating, _) => "You were re-evaluating your options back then.".into(),
            (NoteCue::Budget, _) => "Budget was the open question last time.".into(),
            _ => "You had shown interest, but the timing was off.".into(),
        },
        Hook::Timing => "Last time the timing was not right.".into(),
        Hook::StalledOpportunity => "We had started exploring a project together.".into(),
        Hook::LostDeal | Hook::Role { .. } | Hook::General => return None,
    };
    Some(sentence)
}

fn reason(facts: &MessageFacts) -> String {
    let options = [
        "We have made changes that may suit you better now.",
        "A lot has improved on our side since then.",
        "We have helped several similar teams since.",
        "Things have moved on a lot at our end.",
        "We have a few new ideas that could help you.",
    ]
    .map(String::from);
    facts.choose("text_reason", &options).to_owned()
}

fn ask(facts: &MessageFacts) -> String {
    let options = match facts.tone {
        Tone::Friendly => [
            "Up for a quick call this month?",
            "Fancy a short chat soon?",
            "Free for a quick catch-up soon?",
        ],
        Tone::Professional => [
            "Would a short call this month be useful?",
            "Could we find 15 minutes soon?",
            "Would a brief call be worthwhile?",
        ],
        Tone::Direct => [
            "Worth a 15-minute call?",
            "Open to a quick call?",
            "Quick call this week?",
        ],
    }
    .map(String::from);
    facts.choose("text_ask", &options).to_owned()
}
