//! The engagement a follow-up may refer to, as handed to the writer in
//! [`WriterRequest::engagement`](crate::writer::WriterRequest::engagement).

use rekindle_domain::{Channel, ReplyLabel};
use serde::{Deserialize, Serialize};

use super::activity::EngagementInput;

/// A click a follow-up may mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickedLink {
    /// The link's name in a message, such as "the pricing page", or `None`
    /// to say "the link". Untrusted, so writers clean it before use.
    pub label: Option<String>,
}

/// The lead's actions after the previous message. Writers refer only to the
/// actions listed here and never state an open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementContext {
    pub previous_channel: Channel,
    /// Whole days between the previous message and now.
    pub days_since_previous: u32,
    /// The previous message bounced, so the lead never received it.
    pub previous_bounced: bool,
    /// An open was recorded. Mail privacy features record opens that no
    /// person made, so writers never mention it. It only chooses between
    /// phrasings that are true either way.
    pub opened: bool,
    /// The latest click on a link other than the unsubscribe link.
    pub clicked: Option<ClickedLink>,
    /// The lead's words, when the last reply was classified as a question.
    /// Untrusted.
    pub question: Option<String>,
}

impl EngagementContext {
    /// Builds the context from the same input as the next-best-step decision.
    pub fn from_input(input: &EngagementInput) -> Self {
        let previous = &input.previous;
        let days = (input.now - previous.sent_at).num_days().max(0);
        let question = input
            .reply
            .as_ref()
            .filter(|reply| reply.label == ReplyLabel::Question)
            .and_then(|reply| reply.text.clone());

        Self {
            previous_channel: previous.channel,
            days_since_previous: u32::try_from(days).unwrap_or(u32::MAX),
            previous_bounced: previous.bounced,
            opened: previous.opened,
            clicked: input.latest_content_click().map(|click| ClickedLink {
                label: click.label.clone(),
            }),
            question,
        }
    }
}
