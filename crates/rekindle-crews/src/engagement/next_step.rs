//! The next best step for a lead after the previous message of a sequence.
//!
//! The rules, first match wins:
//!
//! | what the lead did | next step |
//! | --- | --- |
//! | replied: opt-out | stop |
//! | replied: not interested | stop |
//! | replied: interested or meeting request | stop, and the revenue crew takes over |
//! | replied: objection | stop, and the user replies in person |
//! | replied: referral | stop, and the user contacts the person named |
//! | replied: bounce, or the message bounced | switch channel, else stop |
//! | replied: out of office, still away | wait until the day after the return date (or 7 days) |
//! | replied: question | follow up now on the same channel, reviewed by the user |
//! | replied: automatic reply | as if silent |
//! | no step left | stop |
//! | next step's channel unreachable | switch channel, else stop |
//! | clicked a link (not unsubscribe) | follow up 24 hours after the click, or at the planned time if sooner |
//! | silent, step not yet due | wait until it is due |
//! | silent, 2 or more emails in a row unopened, next step by email | switch to SMS or WhatsApp when reachable |
//! | silent, step due | follow up now |

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use rekindle_domain::scheduling::{add_local_days, resolve_local};
use rekindle_domain::{Channel, ReplyLabel};
use serde::{Deserialize, Serialize};

use super::activity::{EngagementInput, LastReply, PlannedStep};

/// Settings of the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementSettings {
    /// Hours between a click and the follow-up, so the follow-up does not
    /// arrive while the lead is still reading.
    pub click_follow_up_hours: u32,
    /// Emails in a row without a recorded open before the sequence moves to
    /// a text channel.
    pub unopened_before_switch: u32,
    /// Days to wait after an out-of-office reply that names no return date.
    pub out_of_office_days: u32,
    /// Days after the return date before following up, so the message does
    /// not land in the pile of the first day back.
    pub days_after_return: u32,
}

impl Default for EngagementSettings {
    /// 24 hours after a click, 2 unopened emails, 7 days without a return
    /// date, 1 day after the return date.
    fn default() -> Self {
        Self {
            click_follow_up_hours: 24,
            unopened_before_switch: 2,
            out_of_office_days: 7,
            days_after_return: 1,
        }
    }
}

/// The next action for the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NextAction {
    /// Write and schedule the follow-up now, on `channel`. The scheduler
    /// still places it in the sending window.
    FollowUpNow { channel: Channel },
    /// Decide again at `until`.
    Wait { until: DateTime<Utc> },
    /// Write the follow-up now, on a different channel than planned.
    SwitchChannel { to: Channel },
    /// End the automated sequence for this lead.
    Stop,
}

/// The reason for the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NextStepReason {
    OptedOut,
    NotInterested,
    PositiveReply,
    Objection,
    Referral,
    Bounced,
    OutOfOffice { return_date: Option<NaiveDate> },
    Question,
    SequenceFinished,
    ChannelUnreachable { channel: Channel },
    Clicked,
    NotDueYet,
    NotOpened { emails_in_a_row: u32 },
    Silent { days: u32 },
}

impl NextStepReason {
    /// Describes the reason for the user.
    pub fn explanation(&self) -> String {
        match self {
            Self::OptedOut => "The lead asked not to be contacted again.".into(),
            Self::NotInterested => "The lead declined.".into(),
            Self::PositiveReply => {
                "The lead replied positively, so meeting booking takes over.".into()
            }
            Self::Objection => {
                "The lead raised an objection, which is better answered in person.".into()
            }
            Self::Referral => "The lead referred us to someone else.".into(),
            Self::Bounced => "The previous message bounced.".into(),
            Self::OutOfOffice {
                return_date: Some(date),
            } => format!("The lead is out of office until {date}."),
            Self::OutOfOffice { return_date: None } => {
                "The lead is out of office and gave no return date.".into()
            }
            Self::Question => "The lead asked a question, so the follow-up answers it and \
                 should be reviewed before it is sent."
                .into(),
            Self::SequenceFinished => "The sequence has no step left.".into(),
            Self::ChannelUnreachable { channel } => {
                format!("The lead cannot be reached by {channel}.")
            }
            Self::Clicked => "The lead clicked a link in the previous message.".into(),
            Self::NotDueYet => "The next step is not due yet.".into(),
            Self::NotOpened { emails_in_a_row } => {
                format!("{emails_in_a_row} emails in a row show no open.")
            }
            Self::Silent { days } => format!("No reply {days} days after the previous message."),
        }
    }
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStep {
    pub action: NextAction,
    pub reason: NextStepReason,
    /// The user should review the follow-up before it is sent, because it
    /// responds to the lead's own words.
    pub review_before_sending: bool,
}

impl NextStep {
    fn new(action: NextAction, reason: NextStepReason) -> Self {
        Self {
            action,
            reason,
            review_before_sending: false,
        }
    }

    fn stop(reason: NextStepReason) -> Self {
        Self::new(NextAction::Stop, reason)
    }
}

/// Chooses the next step by the rules in the module documentation.
pub fn next_best_step(input: &EngagementInput, settings: &EngagementSettings) -> NextStep {
    if let Some(step) = input
        .reply
        .as_ref()
        .and_then(|reply| step_for_reply(input, reply, settings))
    {
        return step;
    }
    if input.previous.bounced {
        return switch_or_stop(input, input.previous.channel, NextStepReason::Bounced);
    }

    let Some(planned) = input.next_step else {
        return NextStep::stop(NextStepReason::SequenceFinished);
    };
    if !input.reachable.contains(&planned.channel) {
        let reason = NextStepReason::ChannelUnreachable {
            channel: planned.channel,
        };
        return switch_or_stop(input, planned.channel, reason);
    }

    let due = planned_due(input, planned);
    if let Some(click) = input.latest_content_click() {
        let after_click = click.at + TimeDelta::hours(i64::from(settings.click_follow_up_hours));
        return follow_up_at(
            input,
            planned,
            due.min(after_click),
            NextStepReason::Clicked,
        );
    }
    if due > input.now {
        return NextStep::new(NextAction::Wait { until: due }, NextStepReason::NotDueYet);
    }
    silent_step(input, planned, settings)
}

/// Applies the reply rows of the table. `None` lets the silent rows decide.
fn step_for_reply(
    input: &EngagementInput,
    reply: &LastReply,
    settings: &EngagementSettings,
) -> Option<NextStep> {
    let step = match reply.label {
        ReplyLabel::OptOut => NextStep::stop(NextStepReason::OptedOut),
        ReplyLabel::NotInterested => NextStep::stop(NextStepReason::NotInterested),
        ReplyLabel::Interested | ReplyLabel::MeetingRequest => {
            NextStep::stop(NextStepReason::PositiveReply)
        }
        ReplyLabel::Objection => NextStep::stop(NextStepReason::Objection),
        ReplyLabel::Referral => NextStep::stop(NextStepReason::Referral),
        ReplyLabel::Bounce => {
            switch_or_stop(input, input.previous.channel, NextStepReason::Bounced)
        }
        ReplyLabel::OutOfOffice => return out_of_office_step(input, reply, settings),
        ReplyLabel::Question => NextStep {
            action: NextAction::FollowUpNow {
                channel: input.previous.channel,
            },
            reason: NextStepReason::Question,
            review_before_sending: true,
        },
        ReplyLabel::AutoReply => return None,
    };
    Some(step)
}

/// Waits while the lead is away. Once the wait is over, the reply no longer
/// decides and the silent rows apply.
fn out_of_office_step(
    input: &EngagementInput,
    reply: &LastReply,
    settings: &EngagementSettings,
) -> Option<NextStep> {
    let until = match reply.return_date {
        Some(date) => {
            let resume = date.checked_add_days(Days::new(u64::from(settings.days_after_return)))?;
            let midnight = resume.and_hms_opt(0, 0, 0)?;
            resolve_local(input.lead_zone, midnight).with_timezone(&Utc)
        }
        None => reply.received_at + TimeDelta::days(i64::from(settings.out_of_office_days)),
    };
    (until > input.now).then(|| {
        NextStep::new(
            NextAction::Wait { until },
            NextStepReason::OutOfOffice {
                return_date: reply.return_date,
            },
        )
    })
}

fn silent_step(
    input: &EngagementInput,
    planned: PlannedStep,
    settings: &EngagementSettings,
) -> NextStep {
    let emails_in_a_row = input.unopened_emails_in_a_row;
    let ignoring_email = planned.channel == Channel::Email
        && input.previous.channel == Channel::Email
        && !input.previous.opened
        && emails_in_a_row >= settings.unopened_before_switch;
    if ignoring_email && let Some(to) = text_channel(input) {
        return NextStep::new(
            NextAction::SwitchChannel { to },
            NextStepReason::NotOpened { emails_in_a_row },
        );
    }

    let days = (input.now - input.previous.sent_at).num_days().max(0);
    NextStep::new(
        NextAction::FollowUpNow {
            channel: planned.channel,
        },
        NextStepReason::Silent {
            days: u32::try_from(days).unwrap_or(u32::MAX),
        },
    )
}

fn follow_up_at(
    input: &EngagementInput,
    planned: PlannedStep,
    at: DateTime<Utc>,
    reason: NextStepReason,
) -> NextStep {
    if at > input.now {
        return NextStep::new(NextAction::Wait { until: at }, reason);
    }
    NextStep::new(
        NextAction::FollowUpNow {
            channel: planned.channel,
        },
        reason,
    )
}

/// Returns when the planned step is due: its delay in local days after the
/// previous message, as the scheduler counts it.
fn planned_due(input: &EngagementInput, planned: PlannedStep) -> DateTime<Utc> {
    let sent_at = input.previous.sent_at;
    add_local_days(input.lead_zone, sent_at, planned.delay_days)
        .unwrap_or_else(|_| sent_at + TimeDelta::days(i64::from(planned.delay_days)))
}

fn switch_or_stop(input: &EngagementInput, failed: Channel, reason: NextStepReason) -> NextStep {
    match alternative_channel(failed, &input.reachable) {
        Some(to) => NextStep::new(NextAction::SwitchChannel { to }, reason),
        None => NextStep::stop(reason),
    }
}

/// Picks another reachable channel: email first after a text channel, SMS
/// first after email.
fn alternative_channel(failed: Channel, reachable: &[Channel]) -> Option<Channel> {
    let preference = match failed {
        Channel::Email => [Channel::Sms, Channel::Whatsapp],
        Channel::Sms => [Channel::Email, Channel::Whatsapp],
        Channel::Whatsapp => [Channel::Email, Channel::Sms],
    };
    preference
        .into_iter()
        .find(|channel| reachable.contains(channel))
}

fn text_channel(input: &EngagementInput) -> Option<Channel> {
    [Channel::Sms, Channel::Whatsapp]
        .into_iter()
        .find(|channel| input.reachable.contains(channel))
}
