//! Offline opening sentences of a follow-up that refer to what the lead did
//! after the previous message. Each sentence states only an action listed
//! in the engagement context, and none states an open.

use rekindle_domain::Channel;

use super::WriterRequest;
use super::facts::MessageFacts;
use crate::lead_text::safe_phrase;

/// Maximum characters of a link label in a message.
const MAX_LINK_LABEL_CHARS: usize = 40;

/// Cleaned engagement facts of a follow-up.
pub(crate) struct FollowUpFacts {
    pub previous_channel: Channel,
    pub channel: Channel,
    pub days: u32,
    pub bounced: bool,
    pub opened: bool,
    pub clicked: bool,
    /// Cleaned label of the clicked link, when it has a usable one.
    pub click_label: Option<String>,
    pub has_question: bool,
}

impl FollowUpFacts {
    /// Returns the facts of a follow-up with engagement, else `None`.
    pub fn from_request(request: &WriterRequest) -> Option<Self> {
        if request.step_index == 0 {
            return None;
        }
        let engagement = request.engagement.as_ref()?;
        let click_label = engagement
            .clicked
            .as_ref()
            .and_then(|click| click.label.as_deref())
            .and_then(|label| safe_phrase(label, MAX_LINK_LABEL_CHARS));

        Some(Self {
            previous_channel: engagement.previous_channel,
            channel: request.channel,
            days: engagement.days_since_previous,
            bounced: engagement.previous_bounced,
            opened: engagement.opened,
            clicked: engagement.clicked.is_some(),
            click_label,
            has_question: engagement.question.is_some(),
        })
    }
}

/// Writes the first sentence of a follow-up email, or `None` to use the
/// general follow-up sentences.
pub(crate) fn email_opener(facts: &MessageFacts) -> Option<String> {
    let follow_up = facts.follow_up.as_ref()?;
    let previous = message_noun(follow_up.previous_channel);
    let when = days_ago(follow_up.days);

    let options: Vec<String> = if follow_up.has_question {
        vec![
            "Thank you for your reply and for your question, which deserves a proper answer."
                .into(),
            "Thanks for getting back to me with a question, and I would like to answer it properly."
                .into(),
        ]
    } else if follow_up.bounced {
        vec![format!(
            "I tried to reach you by {} {when}, but it did not get through.",
            channel_noun(follow_up.previous_channel)
        )]
    } else if follow_up.clicked {
        let link = link_phrase(follow_up, previous);
        vec![
            format!(
                "I noticed you had a look at {link}, so I thought a little more context might help."
            ),
            format!("Thank you for taking a look at {link}, and here is a little more background."),
        ]
    } else if follow_up.previous_channel != follow_up.channel {
        vec![format!(
            "I sent you {} {when}, and thought an email might be an easier place for the details.",
            article_noun(follow_up.previous_channel)
        )]
    } else if follow_up.opened {
        vec![
            format!(
                "My last {previous} may have arrived at a busy moment, so here is the short version of why I got in touch."
            ),
            format!(
                "I know my last {previous} may have come at a busy time, so I will keep this one brief."
            ),
        ]
    } else {
        vec![
            format!(
                "In case my last {previous} got buried in a busy inbox, here is the short version of why I got in touch."
            ),
            format!(
                "It has been {} since my last {previous}, so I wanted to follow up briefly.",
                days_phrase(follow_up.days)
            ),
        ]
    };
    Some(facts.choose("engagement_opener", &options).to_owned())
}

/// Writes the sentence of a follow-up text message that takes the place of
/// the general follow-up sentence, or `None` to use the general one.
pub(crate) fn text_opener(facts: &MessageFacts) -> Option<String> {
    let follow_up = facts.follow_up.as_ref()?;
    let previous = message_noun(follow_up.previous_channel);
    let when = days_ago(follow_up.days);

    let sentence = if follow_up.has_question {
        "Thanks for your question.".to_owned()
    } else if follow_up.bounced {
        format!("My earlier {previous} did not reach you.")
    } else if follow_up.clicked {
        format!(
            "Saw you had a look at {}.",
            link_phrase(follow_up, previous)
        )
    } else if follow_up.previous_channel != follow_up.channel {
        format!(
            "I sent you {} {when}.",
            article_noun(follow_up.previous_channel)
        )
    } else {
        return None;
    };
    Some(sentence)
}

fn link_phrase(follow_up: &FollowUpFacts, previous: &str) -> String {
    match &follow_up.click_label {
        Some(label) => label.clone(),
        None => format!("the link in my last {previous}"),
    }
}

fn message_noun(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "text",
        Channel::Whatsapp => "WhatsApp message",
    }
}

fn channel_noun(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "text message",
        Channel::Whatsapp => "WhatsApp",
    }
}

fn article_noun(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "an email",
        Channel::Sms => "a text",
        Channel::Whatsapp => "a WhatsApp message",
    }
}

fn days_ago(days: u32) -> String {
    match days {
        0 => "earlier today".into(),
        1 => "yesterday".into(),
        _ => format!("{days} days ago"),
    }
}

fn days_phrase(days: u32) -> String {
    match days {
        0 => "a few hours".into(),
        1 => "a day".into(),
        _ => format!("{days} days"),
    }
}
