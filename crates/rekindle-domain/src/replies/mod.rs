//! Reply classification: offline and rule based.
//!
//! [`classify`] reads a reply to one of our messages and labels it with a
//! [`ReplyLabel`], the [`ObjectionKind`] for an objection, and the return date
//! of an absence notice. It works in four steps:
//!
//! 1. For email, [`strip_quoted`] removes the quoted earlier messages and the
//!    signature, so our own words ("book a call", "reply STOP") never count.
//! 2. The text and subject are normalised: lower case, accents folded, one
//!    space between words.
//! 3. Cues (regular expressions, one table per label in `cues/`) are matched.
//!    A cue is strong (it decides the label) or weak (it only suggests it).
//!    A meeting or interest cue right after a negator ("don't call me", "no
//!    need to book anything") becomes a weak not-interested cue.
//! 4. The label is the first label in the precedence order below that has a
//!    strong cue, else the first that has a weak cue, else `question`.
//!
//! # Precedence, highest first
//!
//! 1. `opt_out`: a request to stop outranks everything, because missing one
//!    breaks the law (CAN-SPAM, GDPR, carrier rules for SMS) while a wrong one
//!    only ends the outreach to one lead. Opt-out cues are all strong and never
//!    negated, so a request to stop is never labelled a meeting request.
//! 2. `bounce`: a delivery failure comes from a mail server, not the lead, so
//!    no human cue in it means anything.
//! 3. `out_of_office`: an absence notice often names other people and dates
//!    ("contact support@...", "back on Monday"), which would otherwise read as
//!    a referral or a meeting time. It outranks `auto_reply` because it also
//!    carries a return date.
//! 4. `auto_reply`: other automatic responses, for the same reason.
//! 5. `not_interested`: an explicit decline ends the campaign for the lead,
//!    even when the reply also gives a reason ("No thanks, too expensive").
//! 6. `referral`: the lead points to someone else, which matters more than the
//!    reasons they give, because the reasons are about a role they no longer
//!    have.
//! 7. `objection`: a stated reason not to buy now outranks a meeting cue in
//!    the same reply ("too expensive, but call me in Q3" reschedules).
//! 8. `meeting_request`: a concrete ask for a call or demo.
//! 9. `interested`: positive without a concrete request for a meeting. It
//!    outranks `question`, because a positive reply with a question in it is
//!    still positive.
//! 10. `question`: a question mark or question phrase, and the fallback for a
//!     reply without any cue.
//!
//! An absence cue that a person could also write ("I'm on holiday next week")
//! is weak, so a strong meeting cue in the same reply wins; when the subject
//! marks the reply as automatic ("Automatic reply: ..."), the absence cues
//! count as strong.
//!
//! # Confidence
//!
//! `confidence` is a heuristic for sorting replies for human review, not a
//! calibrated probability: 0.9 for a strong cue, 0.6 for a weak one, 0.2 for
//! the fallback, and 0.2 less when another label also had a cue at least as
//! strong as the winner's.

mod cues;
mod dates;
mod decide;
mod quoted;
mod text;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{Channel, ObjectionKind, ReplyLabel};

pub use decide::{FALLBACK_LABEL, PRECEDENCE};
pub use quoted::strip_quoted;
pub use text::MAX_ANALYSED_CHARS;

/// The result of classifying one reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub label: ReplyLabel,
    /// Set only when `label` is `objection`.
    pub objection: Option<ObjectionKind>,
    /// The day the sender expects to be back, set only when `label` is
    /// `out_of_office` and the notice names a day.
    pub return_date: Option<NaiveDate>,
    /// Heuristic from 0.0 to 1.0 for ordering replies for review; see the
    /// module documentation.
    pub confidence: f32,
    /// Names of every cue that matched, for every label, in precedence order
    /// (`opt_out.stop_contact`, `negated:meeting_request.call_me`). They explain
    /// the decision and are stable enough to store.
    pub cues: Vec<String>,
}

/// Classifies a reply received on `received_on` over `channel`.
///
/// `text` is the reply's plain-text body as received, quotes included: for
/// email, quoted earlier messages are removed here. `received_on` is the date
/// the reply arrived, in the recipient's time zone; return dates without a
/// year, and relative ones ("back on Monday"), are resolved against it.
pub fn classify(
    channel: Channel,
    subject: Option<&str>,
    text: &str,
    received_on: NaiveDate,
) -> Classification {
    let own_text = match channel {
        Channel::Email => strip_quoted(text),
        Channel::Sms | Channel::Whatsapp => text.trim().to_owned(),
    };
    let body = text::normalize(&own_text);
    let subject = subject.map(text::normalize).unwrap_or_default();

    let mut hits = cues::find_hits(channel, &body, &subject);
    let decision = decide::decide(&hits);

    let return_date = if decision.label == ReplyLabel::OutOfOffice {
        dates::find_return_date(&body, received_on)
            .or_else(|| dates::find_return_date(&subject, received_on))
    } else {
        None
    };

    hits.sort_by_key(|hit| (decide::precedence_rank(hit.label), hit.position));
    Classification {
        label: decision.label,
        objection: decision.objection,
        return_date,
        confidence: decision.confidence,
        cues: hits.iter().map(|hit| hit.display_name()).collect(),
    }
}
