//! The engagement crew's decision before a follow-up. From the lead's sent
//! messages and what the lead did with them, it chooses to follow up now (on
//! the planned channel or another one), wait, or stop, by
//! [`rekindle_crews::engagement::next_best_step`].
//!
//! Replies are not read here: the reply path has already stopped or paused
//! the enrollment for every label that changes the sequence, so a waiting
//! enrollment has at most automatic replies, which count as silence.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rekindle_crews::engagement::{
    EngagementContext, EngagementInput, EngagementSettings, LinkClick, NextAction, NextStep,
    PlannedStep, PreviousMessage, next_best_step,
};
use rekindle_domain::{Channel, CrewRunId, LeadId, MessageStatus, RunStatus};
use rekindle_store::{NewStageRun, SentActivity, Step};

/// Name of the stage run that records the decision for a lead.
pub const NEXT_STEP_STAGE_NAME: &str = "next_step";

/// The batch's action for one enrollment's follow-up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FollowUp {
    /// Write the follow-up now on `channel`, referring to `context`.
    Write {
        channel: Channel,
        context: EngagementContext,
        decision: NextStep,
    },
    /// Decide again at `until`.
    Wait {
        until: DateTime<Utc>,
        decision: NextStep,
    },
    /// End the sequence for this lead.
    Stop { decision: NextStep },
}

impl FollowUp {
    pub fn decision(&self) -> &NextStep {
        match self {
            Self::Write { decision, .. }
            | Self::Wait { decision, .. }
            | Self::Stop { decision } => decision,
        }
    }
}

/// One lead's facts for the decision, as the batch read them.
pub(crate) struct LeadActivity<'a> {
    /// The enrollment's sent messages, ordered by step position.
    pub sent: &'a [SentActivity],
    /// Channels the lead can receive now.
    pub reachable: Vec<Channel>,
    pub lead_zone: Tz,
}

/// Decides the follow-up for step `step`, or returns `None` when the lead
/// got no earlier message (every earlier step was skipped), so the step is
/// written as planned.
pub(crate) fn decide(
    step: &Step,
    activity: &LeadActivity<'_>,
    now: DateTime<Utc>,
) -> Option<FollowUp> {
    let input = engagement_input(step, activity, now)?;
    let decision = next_best_step(&input, &EngagementSettings::default());
    let follow_up = match decision.action {
        NextAction::FollowUpNow { channel } => FollowUp::Write {
            channel,
            context: EngagementContext::from_input(&input),
            decision,
        },
        NextAction::SwitchChannel { to } => FollowUp::Write {
            channel: to,
            context: EngagementContext::from_input(&input),
            decision,
        },
        NextAction::Wait { until } => FollowUp::Wait { until, decision },
        NextAction::Stop => FollowUp::Stop { decision },
    };
    Some(follow_up)
}

fn engagement_input(
    step: &Step,
    activity: &LeadActivity<'_>,
    now: DateTime<Utc>,
) -> Option<EngagementInput> {
    let earlier: Vec<&SentActivity> = activity
        .sent
        .iter()
        .filter(|message| message.position < step.position)
        .collect();
    let previous = earlier.last()?;
    Some(EngagementInput {
        previous: previous_message(previous),
        reply: None,
        next_step: Some(PlannedStep {
            channel: step.spec.channel,
            delay_days: step.spec.delay_days,
        }),
        reachable: activity.reachable.clone(),
        unopened_emails_in_a_row: unopened_emails_in_a_row(&earlier),
        lead_zone: activity.lead_zone,
        now,
    })
}

fn previous_message(sent: &SentActivity) -> PreviousMessage {
    let engagement = sent.engagement.as_ref();
    // Tracked links are the message's content links: the unsubscribe link
    // has its own endpoint and is never counted as a click.
    let clicks = engagement
        .and_then(|counters| counters.last_clicked_at)
        .map(|at| LinkClick {
            at,
            label: None,
            is_compliance_link: false,
        })
        .into_iter()
        .collect();
    PreviousMessage {
        channel: sent.channel,
        sent_at: sent.sent_at,
        opened: engagement.is_some_and(|counters| counters.opens > 0),
        clicks,
        bounced: sent.status == MessageStatus::Bounced,
    }
}

/// Counts the emails at the end of the sequence so far with no open by a
/// person. Opens likely made by a mail privacy proxy do not count.
fn unopened_emails_in_a_row(sent: &[&SentActivity]) -> u32 {
    let unopened = sent
        .iter()
        .rev()
        .take_while(|message| {
            message.channel == Channel::Email
                && message
                    .engagement
                    .as_ref()
                    .is_none_or(|counters| counters.opens == 0)
        })
        .count();
    u32::try_from(unopened).unwrap_or(u32::MAX)
}

/// Builds the stage run that records the decision, so the crew run of the
/// batch shows why a lead was written on another channel, waits or stopped.
pub(crate) fn decision_stage_run(
    crew_run: CrewRunId,
    lead_id: LeadId,
    follow_up: &FollowUp,
) -> NewStageRun {
    let decision = follow_up.decision();
    let mut output = serde_json::to_value(decision).unwrap_or_default();
    if let Some(fields) = output.as_object_mut() {
        fields.insert("explanation".into(), decision.reason.explanation().into());
    }
    NewStageRun {
        crew_run_id: crew_run,
        lead_id: Some(lead_id),
        stage: NEXT_STEP_STAGE_NAME.to_owned(),
        status: RunStatus::Succeeded,
        input_summary: format!(
            "lead {lead_id}: {}. {}",
            action_text(&decision.action),
            decision.reason.explanation()
        ),
        output,
        duration_ms: 0,
        tokens: 0,
        error_class: None,
        error: None,
        fallback: None,
        fallback_detail: None,
    }
}

/// Describes the action for the user, as shown with the stage run.
pub fn action_text(action: &NextAction) -> String {
    match action {
        NextAction::FollowUpNow { channel } => format!("follow up by {channel}"),
        NextAction::SwitchChannel { to } => format!("switch to {to}"),
        NextAction::Wait { until } => format!("wait until {}", until.format("%Y-%m-%d %H:%M UTC")),
        NextAction::Stop => "stop the sequence".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use rekindle_domain::campaign::StepSpec;
    use rekindle_domain::{CampaignId, EnrollmentId, MessageId, StepId};
    use rekindle_store::Engagement;

    use super::*;

    fn step(position: i32, channel: Channel, delay_days: u32) -> Step {
        Step {
            id: StepId::new(),
            campaign_id: CampaignId::new(),
            position,
            spec: StepSpec {
                channel,
                delay_days,
            },
            ab_decision: None,
        }
    }

    fn sent(position: i32, at: DateTime<Utc>, engagement: Option<Engagement>) -> SentActivity {
        SentActivity {
            enrollment_id: EnrollmentId::new(),
            message_id: MessageId::new(),
            position,
            channel: Channel::Email,
            status: MessageStatus::Sent,
            sent_at: at,
            engagement,
        }
    }

    fn opened() -> Engagement {
        Engagement {
            opens: 1,
            ..Engagement::default()
        }
    }

    #[test]
    fn silent_lead_follows_up_when_due() {
        let now = Utc::now();
        let history = [sent(1, now - TimeDelta::days(4), Some(opened()))];
        let activity = LeadActivity {
            sent: &history,
            reachable: vec![Channel::Email],
            lead_zone: chrono_tz::UTC,
        };
        let follow_up = decide(&step(2, Channel::Email, 3), &activity, now).unwrap();
        let FollowUp::Write {
            channel, context, ..
        } = follow_up
        else {
            panic!("expected a follow-up, got {follow_up:?}");
        };
        assert_eq!(channel, Channel::Email);
        assert_eq!(context.days_since_previous, 4);
        assert!(context.clicked.is_none());
    }

    #[test]
    fn lead_waits_until_the_step_is_due() {
        let now = Utc::now();
        let history = [sent(1, now - TimeDelta::days(1), None)];
        let activity = LeadActivity {
            sent: &history,
            reachable: vec![Channel::Email],
            lead_zone: chrono_tz::UTC,
        };
        let follow_up = decide(&step(2, Channel::Email, 3), &activity, now).unwrap();
        let FollowUp::Wait { until, .. } = follow_up else {
            panic!("expected a wait, got {follow_up:?}");
        };
        assert_eq!(until, history[0].sent_at + TimeDelta::days(3));
    }

    #[test]
    fn two_unopened_emails_switch_to_text_when_reachable() {
        let now = Utc::now();
        let history = [
            sent(1, now - TimeDelta::days(8), None),
            sent(2, now - TimeDelta::days(4), None),
        ];
        let activity = LeadActivity {
            sent: &history,
            reachable: vec![Channel::Email, Channel::Sms],
            lead_zone: chrono_tz::UTC,
        };
        let follow_up = decide(&step(3, Channel::Email, 3), &activity, now).unwrap();
        assert!(
            matches!(
                follow_up,
                FollowUp::Write {
                    channel: Channel::Sms,
                    ..
                }
            ),
            "{follow_up:?}"
        );
    }

    #[test]
    fn machine_opens_do_not_count_as_opens() {
        let now = Utc::now();
        let machine = Engagement {
            machine_opens: 3,
            ..Engagement::default()
        };
        let history = [
            sent(1, now - TimeDelta::days(8), Some(machine.clone())),
            sent(2, now - TimeDelta::days(4), Some(machine)),
        ];
        let refs: Vec<&SentActivity> = history.iter().collect();
        assert_eq!(unopened_emails_in_a_row(&refs), 2);
    }

    #[test]
    fn bounce_without_another_channel_stops() {
        let now = Utc::now();
        let mut bounced = sent(1, now - TimeDelta::days(4), None);
        bounced.status = MessageStatus::Bounced;
        let history = [bounced];
        let activity = LeadActivity {
            sent: &history,
            reachable: Vec::new(),
            lead_zone: chrono_tz::UTC,
        };
        let follow_up = decide(&step(2, Channel::Email, 3), &activity, now).unwrap();
        assert!(matches!(follow_up, FollowUp::Stop { .. }), "{follow_up:?}");
    }

    #[test]
    fn no_earlier_message_leaves_the_step_as_planned() {
        let activity = LeadActivity {
            sent: &[],
            reachable: vec![Channel::Email],
            lead_zone: chrono_tz::UTC,
        };
        assert!(decide(&step(2, Channel::Email, 3), &activity, Utc::now()).is_none());
    }
}
