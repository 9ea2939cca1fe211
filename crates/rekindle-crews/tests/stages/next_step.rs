//! The engagement crew's next-best-step table, and the context it hands to
//! the writer.

use chrono::{DateTime, NaiveDate, Utc};
use rekindle_crews::engagement::{
    EngagementContext, EngagementInput, EngagementSettings, LastReply, LinkClick, NextAction,
    NextStepReason, PlannedStep, PreviousMessage, next_best_step,
};
use rekindle_domain::{Channel, ReplyLabel};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant is RFC 3339")
        .with_timezone(&Utc)
}

/// Returns an email sent on Monday 2025-03-03 at 10:00 UTC to a lead in London,
/// with an email step planned 3 days later, seen on Thursday at 12:00.
fn base() -> EngagementInput {
    EngagementInput {
        previous: PreviousMessage {
            channel: Channel::Email,
            sent_at: at("2025-03-03T10:00:00Z"),
            opened: false,
            clicks: Vec::new(),
            bounced: false,
        },
        reply: None,
        next_step: Some(PlannedStep {
            channel: Channel::Email,
            delay_days: 3,
        }),
        reachable: vec![Channel::Email, Channel::Sms],
        unopened_emails_in_a_row: 1,
        lead_zone: chrono_tz::Europe::London,
        now: at("2025-03-06T12:00:00Z"),
    }
}

fn reply(label: ReplyLabel) -> LastReply {
    LastReply {
        label,
        received_at: at("2025-03-04T09:00:00Z"),
        return_date: None,
        text: None,
    }
}

fn with_reply(label: ReplyLabel) -> EngagementInput {
    EngagementInput {
        reply: Some(reply(label)),
        ..base()
    }
}

fn click(at_text: &str, is_compliance_link: bool) -> LinkClick {
    LinkClick {
        at: at(at_text),
        label: Some("the pricing page".into()),
        is_compliance_link,
    }
}

fn with_click(click: LinkClick, now: &str) -> EngagementInput {
    let mut input = base();
    input.previous.opened = true;
    input.previous.clicks.push(click);
    input.now = at(now);
    input
}

#[test]
fn next_step_table() {
    let stop = NextAction::Stop;
    let follow_up_email = NextAction::FollowUpNow {
        channel: Channel::Email,
    };
    let switch_to_sms = NextAction::SwitchChannel { to: Channel::Sms };

    let cases: Vec<(&str, EngagementInput, NextAction, NextStepReason)> = vec![
        (
            "opt-out reply",
            with_reply(ReplyLabel::OptOut),
            stop,
            NextStepReason::OptedOut,
        ),
        (
            "not interested",
            with_reply(ReplyLabel::NotInterested),
            stop,
            NextStepReason::NotInterested,
        ),
        (
            "interested",
            with_reply(ReplyLabel::Interested),
            stop,
            NextStepReason::PositiveReply,
        ),
        (
            "meeting request",
            with_reply(ReplyLabel::MeetingRequest),
            stop,
            NextStepReason::PositiveReply,
        ),
        (
            "objection",
            with_reply(ReplyLabel::Objection),
            stop,
            NextStepReason::Objection,
        ),
        (
            "referral",
            with_reply(ReplyLabel::Referral),
            stop,
            NextStepReason::Referral,
        ),
        (
            "bounce reply",
            with_reply(ReplyLabel::Bounce),
            switch_to_sms,
            NextStepReason::Bounced,
        ),
        (
            "question",
            with_reply(ReplyLabel::Question),
            follow_up_email,
            NextStepReason::Question,
        ),
        (
            "automatic reply counts as silence",
            with_reply(ReplyLabel::AutoReply),
            follow_up_email,
            NextStepReason::Silent { days: 3 },
        ),
        (
            "silent, step due",
            base(),
            follow_up_email,
            NextStepReason::Silent { days: 3 },
        ),
        (
            "silent, step not due",
            EngagementInput {
                now: at("2025-03-05T12:00:00Z"),
                ..base()
            },
            NextAction::Wait {
                until: at("2025-03-06T10:00:00Z"),
            },
            NextStepReason::NotDueYet,
        ),
        (
            "no step left",
            EngagementInput {
                next_step: None,
                ..base()
            },
            stop,
            NextStepReason::SequenceFinished,
        ),
        (
            "second unopened email",
            EngagementInput {
                unopened_emails_in_a_row: 2,
                ..base()
            },
            switch_to_sms,
            NextStepReason::NotOpened { emails_in_a_row: 2 },
        ),
        (
            "second unopened email, no phone",
            EngagementInput {
                unopened_emails_in_a_row: 2,
                reachable: vec![Channel::Email],
                ..base()
            },
            follow_up_email,
            NextStepReason::Silent { days: 3 },
        ),
        (
            "opened but silent",
            EngagementInput {
                unopened_emails_in_a_row: 0,
                previous: PreviousMessage {
                    opened: true,
                    ..base().previous
                },
                ..base()
            },
            follow_up_email,
            NextStepReason::Silent { days: 3 },
        ),
        (
            "clicked a day ago",
            with_click(click("2025-03-04T09:00:00Z", false), "2025-03-05T09:30:00Z"),
            follow_up_email,
            NextStepReason::Clicked,
        ),
        (
            "clicked an hour ago",
            with_click(click("2025-03-04T09:00:00Z", false), "2025-03-04T10:00:00Z"),
            NextAction::Wait {
                until: at("2025-03-05T09:00:00Z"),
            },
            NextStepReason::Clicked,
        ),
        (
            "clicked only unsubscribe",
            with_click(click("2025-03-04T09:00:00Z", true), "2025-03-05T09:30:00Z"),
            NextAction::Wait {
                until: at("2025-03-06T10:00:00Z"),
            },
            NextStepReason::NotDueYet,
        ),
        (
            "bounced, no other channel",
            EngagementInput {
                previous: PreviousMessage {
                    bounced: true,
                    ..base().previous
                },
                reachable: vec![Channel::Email],
                ..base()
            },
            stop,
            NextStepReason::Bounced,
        ),
        (
            "planned SMS step, no phone",
            EngagementInput {
                next_step: Some(PlannedStep {
                    channel: Channel::Sms,
                    delay_days: 3,
                }),
                reachable: vec![Channel::Email],
                ..base()
            },
            NextAction::SwitchChannel { to: Channel::Email },
            NextStepReason::ChannelUnreachable {
                channel: Channel::Sms,
            },
        ),
        (
            "planned SMS step, unreachable everywhere",
            EngagementInput {
                next_step: Some(PlannedStep {
                    channel: Channel::Sms,
                    delay_days: 3,
                }),
                reachable: Vec::new(),
                ..base()
            },
            stop,
            NextStepReason::ChannelUnreachable {
                channel: Channel::Sms,
            },
        ),
    ];

    let settings = EngagementSettings::default();
    for (name, input, action, reason) in cases {
        let step = next_best_step(&input, &settings);
        assert_eq!(step.action, action, "{name}");
        assert_eq!(step.reason, reason, "{name}");
        assert_eq!(
            step.review_before_sending,
            reason == NextStepReason::Question,
            "{name}"
        );
    }
}

#[test]
fn out_of_office_waits_past_return_date() {
    let mut input = with_reply(ReplyLabel::OutOfOffice);
    if let Some(reply) = input.reply.as_mut() {
        reply.return_date = NaiveDate::from_ymd_opt(2025, 3, 31);
    }

    let step = next_best_step(&input, &EngagementSettings::default());

    // The day after the return date starts at midnight in London, which is
    // British Summer Time (UTC+1) from 30 March 2025.
    assert_eq!(
        step.action,
        NextAction::Wait {
            until: at("2025-03-31T23:00:00Z"),
        }
    );
    assert_eq!(
        step.reason,
        NextStepReason::OutOfOffice {
            return_date: NaiveDate::from_ymd_opt(2025, 3, 31),
        }
    );
}

#[test]
fn out_of_office_without_date_waits_a_week() {
    let step = next_best_step(
        &with_reply(ReplyLabel::OutOfOffice),
        &EngagementSettings::default(),
    );

    assert_eq!(
        step.action,
        NextAction::Wait {
            until: at("2025-03-11T09:00:00Z"),
        }
    );
}

#[test]
fn out_of_office_over_continues_sequence() {
    let mut input = with_reply(ReplyLabel::OutOfOffice);
    input.now = at("2025-03-12T12:00:00Z");

    let step = next_best_step(&input, &EngagementSettings::default());

    assert_eq!(
        step.action,
        NextAction::FollowUpNow {
            channel: Channel::Email,
        }
    );
    assert_eq!(step.reason, NextStepReason::Silent { days: 9 });
}

#[test]
fn delay_counts_local_days_across_dst() {
    // Sent Friday 28 March 2025 at 09:00 GMT. Three local days later is
    // Monday 31 March at 09:00 BST, which is 08:00 UTC.
    let mut input = base();
    input.previous.sent_at = at("2025-03-28T09:00:00Z");
    input.now = at("2025-03-30T12:00:00Z");

    let step = next_best_step(&input, &EngagementSettings::default());

    assert_eq!(
        step.action,
        NextAction::Wait {
            until: at("2025-03-31T08:00:00Z"),
        }
    );
}

#[test]
fn explanations_name_the_reason() {
    let cases = [
        (NextStepReason::Silent { days: 4 }, "4 days"),
        (NextStepReason::NotOpened { emails_in_a_row: 2 }, "2 emails"),
        (
            NextStepReason::ChannelUnreachable {
                channel: Channel::Sms,
            },
            "sms",
        ),
        (
            NextStepReason::OutOfOffice {
                return_date: NaiveDate::from_ymd_opt(2025, 3, 31),
            },
            "2025-03-31",
        ),
    ];
    for (reason, expected) in cases {
        let explanation = reason.explanation();
        assert!(explanation.contains(expected), "{explanation}");
    }
}

#[test]
fn context_lists_content_click_and_question() {
    let mut input = with_click(click("2025-03-04T09:00:00Z", false), "2025-03-05T09:30:00Z");
    input.previous.clicks.push(LinkClick {
        at: at("2025-03-04T11:00:00Z"),
        label: Some("unsubscribe".into()),
        is_compliance_link: true,
    });
    input.reply = Some(LastReply {
        text: Some("Does it integrate with HubSpot?".into()),
        ..reply(ReplyLabel::Question)
    });

    let context = EngagementContext::from_input(&input);

    assert_eq!(context.previous_channel, Channel::Email);
    assert_eq!(context.days_since_previous, 1);
    assert!(context.opened);
    assert_eq!(
        context.clicked.and_then(|click| click.label).as_deref(),
        Some("the pricing page")
    );
    assert_eq!(
        context.question.as_deref(),
        Some("Does it integrate with HubSpot?")
    );
}

#[test]
fn context_ignores_compliance_click_and_other_replies() {
    let mut input = with_click(click("2025-03-04T09:00:00Z", true), "2025-03-05T09:30:00Z");
    input.reply = Some(LastReply {
        text: Some("Sounds good, let's talk".into()),
        ..reply(ReplyLabel::Interested)
    });

    let context = EngagementContext::from_input(&input);

    assert_eq!(context.clicked, None);
    assert_eq!(context.question, None);
}
