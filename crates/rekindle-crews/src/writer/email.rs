//! Offline email bodies: a greeting, a sentence that acknowledges the gap (or
//! refers to the earlier message), what we know about the lead, a fresh reason
//! to talk, a soft call to action and a signature.

use rekindle_domain::Tone;

use super::facts::{MessageFacts, mid_sentence};
use super::follow_up;
use super::{EMAIL_MAX_WORDS, EMAIL_MIN_WORDS};
use crate::cues::NoteCue;
use crate::researcher::Hook;
use crate::stage::StageError;
use crate::text::word_count;

/// Writes an email body of `EMAIL_MIN_WORDS` to `EMAIL_MAX_WORDS` words.
pub(crate) fn email_body(facts: &MessageFacts) -> Result<String, StageError> {
    let greeting = greeting(facts);
    let opening = format!("{} {}", opener(facts), context(facts));
    let mut middle = vec![reason(facts)];
    let closing = call_to_action(facts);
    let signature = signature(facts);

    let assemble = |middle: &[String]| {
        [
            greeting.as_str(),
            opening.as_str(),
            &middle.join(" "),
            closing.as_str(),
            signature.as_str(),
        ]
        .join("\n\n")
    };

    // Extra sentences are added in a lead-specific order until the body is
    // long enough. Each one is optional and true for any lead.
    let extras = EXTRAS;
    let first_extra = facts.variety.pick("extra", extras.len());
    let mut body = assemble(&middle);
    for offset in 0..extras.len() {
        if word_count(&body) >= EMAIL_MIN_WORDS {
            break;
        }
        middle.push(extras[(first_extra + offset) % extras.len()].to_owned());
        body = assemble(&middle);
    }

    let words = word_count(&body);
    if !(EMAIL_MIN_WORDS..=EMAIL_MAX_WORDS).contains(&words) {
        return Err(StageError::permanent(format!(
            "offline writer produced {words} words, outside {EMAIL_MIN_WORDS} to {EMAIL_MAX_WORDS}"
        )));
    }
    Ok(body)
}

fn greeting(facts: &MessageFacts) -> String {
    let options: Vec<String> = match (facts.tone, facts.name.as_deref()) {
        (Tone::Friendly, Some(name)) => vec![
            format!("Hi {name},"),
            format!("Hello {name},"),
            format!("Hey {name},"),
        ],
        (Tone::Friendly, None) => vec!["Hi there,".into(), "Hello there,".into()],
        (Tone::Professional, Some(name)) => vec![format!("Dear {name},"), format!("Hello {name},")],
        (Tone::Professional, None) => vec!["Hello,".into(), "Good day,".into()],
        (Tone::Direct, Some(name)) => vec![format!("{name},"), format!("Hi {name},")],
        (Tone::Direct, None) => vec!["Hello,".into()],
    };
    facts.choose("greeting", &options).to_owned()
}

/// Writes the first sentence. The first step acknowledges the gap, and later
/// steps refer to the earlier message and to what the lead did after it.
fn opener(facts: &MessageFacts) -> String {
    if facts.is_follow_up() {
        if let Some(sentence) = follow_up::email_opener(facts) {
            return sentence;
        }
        let options = [
            "I wanted to follow up on my earlier note, in case it got buried in a busy inbox.",
            "I am circling back on the message I sent you a little while ago.",
            "Just following up on my previous email, since I know how quickly these slip down the list.",
            "I sent you a short note recently and wanted to bring it back to the top of your inbox.",
            "A quick follow-up to my last message, in case the timing is better now.",
        ]
        .map(String::from);
        return facts.choose("follow_up", &options).to_owned();
    }

    let when = facts
        .last_month
        .map(|month| format!(" back in {month}"))
        .unwrap_or_default();
    let options = [
        format!("It's been a while since we last spoke{when}, so I wanted to reach out again."),
        format!(
            "I realise it has been some time since our last conversation{when}, and I have been meaning to check in."
        ),
        format!(
            "Quite a few months have passed since we were last in touch{when}, so I thought I would say hello."
        ),
        format!(
            "It has been a little while since we last connected{when}, and I hope things are going well on your side."
        ),
        format!(
            "I know it's been a long stretch since we last talked{when}, so I wanted to send you a short note."
        ),
        format!("Time flies, and it has been a good while since our last exchange{when}."),
        "We have not been in touch for a few months now, so I wanted to pick up the thread.".into(),
        format!(
            "Our last conversation{when} feels like a while ago now, so I thought it was time to reconnect."
        ),
    ];
    facts.choose("gap", &options).to_owned()
}

/// Writes what we know about the lead: the researcher's hook, in our own words.
fn context(facts: &MessageFacts) -> String {
    let company = facts.company_or("your team");
    let options: Vec<String> = match &facts.hook {
        Hook::Trigger { summary, .. } => {
            let summary = mid_sentence(summary);
            vec![
            format!("I came across a recent update about {}: {summary}.", facts.company_or("your company")),
            format!("I noticed some recent news on your side: {summary}. It made me think of our earlier conversation."),
            format!("Something caught my eye recently: {summary}. It seemed like a good reason to reconnect."),
        ]
        }
        Hook::NoteCue { cue, period } => cue_context(*cue, period.as_deref(), company),
        Hook::Timing => vec![
            format!("Last time the timing was not right for {company}, which was completely understandable."),
            "When we spoke, the timing did not work for you, and priorities may well have shifted since.".into(),
        ],
        Hook::LostDeal => vec![
            "We did not end up working together last time, and I understand why.".into(),
            "Things did not move forward between us last time, and I respect the decision you made then.".into(),
        ],
        Hook::StalledOpportunity => vec![
            format!("We had started looking at how we could help {company}, and then things went quiet."),
            format!("We were in the middle of exploring a project with {company} when things paused."),
        ],
        Hook::Role { title } => vec![
            format!("Given your role as {title}, I thought this might be relevant to you."),
            format!("As {title}, you are probably juggling many priorities, so I will keep this short."),
        ],
        Hook::General => vec![
            format!("I was reviewing conversations that ended too early, and {} came to mind.", facts.company.as_deref().unwrap_or("yours")),
            "Your name came up as I was looking back at conversations that deserved a second chapter.".into(),
        ],
    };
    facts.choose("context", &options).to_owned()
}

fn cue_context(cue: NoteCue, period: Option<&str>, company: &str) -> Vec<String> {
    match (cue, period) {
        (NoteCue::CallMeAfter, Some(period)) => vec![
            format!("You asked me to get back in touch after {period}, so here I am."),
            format!("You mentioned that after {period} would be a better time to talk, and that time has come."),
        ],
        (NoteCue::CallMeAfter, None) => vec![
            "You asked me to check back later, and this felt like the right moment.".into(),
            "You suggested I get back in touch at a later date, so I am doing just that.".into(),
        ],
        (NoteCue::AskedForPricing, _) => vec![
            "When we last spoke, you asked about pricing, and I am not sure my answer came at the right moment.".into(),
            "You had asked about pricing back then, and our options have changed since.".into(),
        ],
        (NoteCue::NextYear, _) => vec![
            "You mentioned that the new year might be a better time to look at this again.".into(),
            "Last time you pointed to the next year as the right moment to revisit this.".into(),
        ],
        (NoteCue::CaseStudy, _) => vec![
            format!("You had asked for a case study, and we now have a few good ones from teams similar to {company}."),
            "Last time you asked for a case study, and I finally have some strong examples to share.".into(),
        ],
        (NoteCue::ReEvaluating, _) => vec![
            format!("You mentioned that {company} was re-evaluating its options, and I wondered how that went."),
            "When we spoke, you were reviewing your setup, so I wanted to see where things landed.".into(),
        ],
        (NoteCue::Budget, _) => vec![
            "Last time, budget was the open question on your side.".into(),
            "When we spoke, the timing of the budget was the main hurdle.".into(),
        ],
        _ => vec![
            "You seemed interested when we spoke, but the timing did not quite line up.".into(),
            "You showed interest back then, even though the timing was not right.".into(),
        ],
    }
}

/// Writes a fresh reason to talk.
fn reason(facts: &MessageFacts) -> String {
    let audience = facts.company_or("you");
    let options = [
        "Since then, we have made several improvements that came straight from conversations like ours, and a few of them may address the points you raised.".to_owned(),
        "A lot has changed on our side: setup is simpler, and most teams now see results within their first few weeks.".to_owned(),
        format!("Over the past months we have helped similar teams save real time every week, and I think the same could work for {audience}."),
        "We recently gathered results from customers in a similar position, and the numbers were better than I expected.".to_owned(),
        "Our pricing and onboarding have both become more flexible, which removes some of the hurdles that usually slow things down.".to_owned(),
        "We have added a few features that make it easier to start small, without a big upfront commitment.".to_owned(),
    ];
    facts.choose("reason", &options).to_owned()
}

/// Optional sentences that pad a short body; each fits any lead.
const EXTRAS: [&str; 5] = [
    "I would be happy to share what has worked for others, and also where it has not been a good fit.",
    "Even if the answer is no, a quick reply helps me know whether to check back later.",
    "There is nothing to prepare, because a short conversation is enough to see whether it makes sense.",
    "If someone else on your team is better placed for this, I would be grateful for a pointer.",
    "I will keep it practical and focused on what matters to you right now.",
];

/// Writes a soft call to action in the campaign's tone.
fn call_to_action(facts: &MessageFacts) -> String {
    let options = match facts.tone {
        Tone::Friendly => [
            "Would you be open to a quick 15-minute chat sometime in the next couple of weeks? No pressure either way.",
            "If the timing works better now, would a short call next week be useful?",
            "Fancy a quick catch-up? Just reply with a day that suits you, and I will work around it.",
        ],
        Tone::Professional => [
            "Would you be open to a brief call in the coming weeks to see whether this is relevant?",
            "If it would be useful, I would be glad to arrange a short call at a time that suits you.",
            "Would a 20-minute conversation later this month be worthwhile for you?",
        ],
        Tone::Direct => [
            "Worth a 15-minute call next week?",
            "Open to a short call this month? A one-line reply is enough.",
            "Is this worth a quick call? A simple yes or no helps.",
        ],
    }
    .map(String::from);
    facts.choose("cta", &options).to_owned()
}

fn signature(facts: &MessageFacts) -> String {
    let closings = match facts.tone {
        Tone::Friendly => ["Cheers,", "Best,", "Warm regards,"],
        Tone::Professional => ["Kind regards,", "Best regards,", "Sincerely,"],
        Tone::Direct => ["Thanks,", "Best,", "Regards,"],
    }
    .map(String::from);
    let closing = facts.choose("closing", &closings);

    match &facts.sender_company {
        Some(company) => format!("{closing}\n{}\n{company}", facts.sender_name),
        None => format!("{closing}\n{}", facts.sender_name),
    }
}
