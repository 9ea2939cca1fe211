//! The engagement part of the LLM writer's request. It adds a data block
//! with the lead's actions after the previous message and the rule for
//! using it, and checks that the draft claims no open and no click that the
//! lead did not make.

use rekindle_llm::LlmOutput;
use rekindle_llm::prompt::{DataBlock, LinkPolicy};

use super::WriterRequest;
use crate::engagement::EngagementContext;

/// Most characters of the lead's question sent to the model.
const MAX_QUESTION_CHARS: usize = 600;
/// Most characters of a clicked link's label.
const MAX_LINK_LABEL_CHARS: usize = 80;

/// Phrases that state an open or a read, which tracking cannot prove.
const OPEN_CLAIMS: &[&str] = &[
    "you opened",
    "you've opened",
    "you have opened",
    "saw you open",
    "noticed you open",
    "you read my",
    "you've read my",
    "you have read my",
];

/// Phrases that state a click.
const CLICK_CLAIMS: &[&str] = &[
    "you clicked",
    "you've clicked",
    "you have clicked",
    "clicked on",
    "clicking on",
    "you had a look at",
    "you took a look at",
    "for taking a look at",
    "you followed the link",
    "you visited",
];

/// Returns the engagement of a follow-up, or `None` for a first message.
fn follow_up_engagement(request: &WriterRequest) -> Option<&EngagementContext> {
    if request.step_index == 0 {
        return None;
    }
    request.engagement.as_ref()
}

/// Builds the `engagement` data block. It leaves out the open flag, so the
/// model has no open to mention.
pub(super) fn engagement_block(request: &WriterRequest) -> Option<DataBlock> {
    let engagement = follow_up_engagement(request)?;
    let clicked = engagement.clicked.as_ref().map(|click| {
        click
            .label
            .clone()
            .unwrap_or_else(|| "a link in the previous message".to_owned())
    });

    let block = DataBlock::new("engagement")
        .field(
            "previous_message_channel",
            engagement.previous_channel.as_str(),
            20,
        )
        .field(
            "days_since_previous_message",
            engagement.days_since_previous.to_string(),
            10,
        )
        .optional_field(
            "previous_message_bounced",
            engagement.previous_bounced.then_some("yes"),
            10,
            LinkPolicy::Keep,
        )
        .optional_field(
            "clicked_link",
            clicked.as_deref(),
            MAX_LINK_LABEL_CHARS,
            LinkPolicy::Remove,
        )
        .optional_field(
            "lead_question",
            engagement.question.as_deref(),
            MAX_QUESTION_CHARS,
            LinkPolicy::Remove,
        );
    Some(block)
}

/// Writes the rule for the engagement block, when the request has one.
pub(super) fn engagement_rule(request: &WriterRequest) -> Option<String> {
    follow_up_engagement(request)?;
    Some(
        "The engagement block lists what the lead did after the previous message. Refer to it \
         briefly and mention only actions it lists: mention a click on a link only when it has \
         clicked_link, and never say that the lead opened, read or saw a message. When it has \
         lead_question, thank the lead for the question and offer a short call to answer it, \
         without inventing an answer. When previous_message_bounced is yes, say that the earlier \
         message did not get through. This rule takes precedence over the follow-up rule above."
            .to_owned(),
    )
}

/// Builds the check that rejects a draft stating an open, or a click when
/// the lead clicked nothing.
// NOTE: the phrase lists cover common English wording only, so a draft that
// words a claim differently passes this check.
pub(super) fn claim_check(
    request: &WriterRequest,
) -> impl Fn(&LlmOutput) -> Vec<String> + Send + Sync + 'static {
    let clicked =
        follow_up_engagement(request).is_some_and(|engagement| engagement.clicked.is_some());
    move |output: &LlmOutput| {
        let Some(value) = output.as_json() else {
            return Vec::new();
        };
        let text = format!(
            "{}\n{}",
            value["subject"].as_str().unwrap_or(""),
            value["body"].as_str().unwrap_or("")
        )
        .to_lowercase()
        .replace('\u{2019}', "'");

        let mut problems = Vec::new();
        if let Some(phrase) = find_phrase(&text, OPEN_CLAIMS) {
            problems.push(format!(
                "the draft says {phrase:?}, but an open cannot be known: do not mention opening or reading"
            ));
        }
        if !clicked && let Some(phrase) = find_phrase(&text, CLICK_CLAIMS) {
            problems.push(format!(
                "the draft says {phrase:?}, but the lead clicked no link: do not mention clicks or visits"
            ));
        }
        problems
    }
}

fn find_phrase(text: &str, phrases: &[&'static str]) -> Option<&'static str> {
    phrases.iter().copied().find(|phrase| text.contains(phrase))
}
