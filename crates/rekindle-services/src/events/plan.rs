//! Effects of new provider events on one message: its next status, its
//! counters, the history rows to store and the rare effects (suppression,
//! stopped sequences). Pure functions, so the rules are tested without a
//! database.

use chrono::{DateTime, Duration, Utc};
use rekindle_domain::{MessageEventKind, MessageStatus, SuppressionReason};
use rekindle_store::{Engagement, EventTarget, NewMessageEvent, StatusChange};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{EventKind, ProviderEvent};

/// Effect of an event beyond the message itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Suppresses the message's recipient, stops the lead's sequences and,
    /// when `suppress_lead` is set, marks the lead suppressed.
    Suppress {
        reason: SuppressionReason,
        suppress_lead: bool,
    },
    /// Brings the lead's next step forward after a click on the message,
    /// as the engagement crew follows up a day after a click.
    FollowUpSooner { clicked_at: DateTime<Utc> },
}

/// Everything the events of one message change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessagePlan {
    pub status_change: Option<StatusChange>,
    /// The new counters, when an event changed them.
    pub engagement: Option<Engagement>,
    pub history: Vec<NewMessageEvent>,
    pub effects: Vec<Effect>,
    /// Opens counted as likely machine opens.
    pub machine_opens: u32,
}

/// Plans the effect of `events` on `target`. The events are applied in the
/// order they happened, each status move only when the status vocabulary
/// allows it, so a late or repeated event never moves a status back.
/// An open within `machine_window` after delivery (or after sending, when no
/// delivery was reported) counts as a likely machine open: it is counted and
/// stored, but does not mark the message opened.
pub fn plan_message(
    target: &EventTarget,
    events: &[&ProviderEvent],
    machine_window: Duration,
) -> MessagePlan {
    let mut ordered: Vec<&ProviderEvent> = events.to_vec();
    ordered.sort_by_key(|event| (event.occurred_at, event.kind.order()));

    let mut state = State {
        status: target.status,
        error: None,
        engagement: target.engagement.clone().unwrap_or_default(),
        engagement_changed: false,
        plan: MessagePlan::default(),
    };
    for event in ordered {
        state.apply(target, event, machine_window);
    }
    state.finish(target)
}

struct State {
    status: MessageStatus,
    error: Option<String>,
    engagement: Engagement,
    engagement_changed: bool,
    plan: MessagePlan,
}

impl State {
    fn apply(&mut self, target: &EventTarget, event: &ProviderEvent, machine_window: Duration) {
        let at = event.occurred_at;
        match &event.kind {
            EventKind::Processed => {
                self.advance(MessageStatus::Sent, None);
                self.record(target, event, MessageEventKind::Sent, json!({}));
            }
            EventKind::Delivered => {
                self.advance(MessageStatus::Delivered, None);
                self.engagement.delivered_at = Some(earliest(self.engagement.delivered_at, at));
                self.engagement_changed = true;
                self.record(target, event, MessageEventKind::Delivered, json!({}));
            }
            EventKind::Open => self.open(target, event, machine_window),
            EventKind::Read => {
                self.count_open(at);
                self.record(
                    target,
                    event,
                    MessageEventKind::Opened,
                    json!({ "read": true }),
                );
            }
            EventKind::Click { url } => {
                self.engagement.clicks += 1;
                self.engagement.first_clicked_at =
                    Some(earliest(self.engagement.first_clicked_at, at));
                self.engagement.last_clicked_at = Some(latest(self.engagement.last_clicked_at, at));
                self.engagement_changed = true;
                self.effect(Effect::FollowUpSooner { clicked_at: at });
                self.advance(MessageStatus::Clicked, None);
                self.record(
                    target,
                    event,
                    MessageEventKind::Clicked,
                    json!({ "url": url }),
                );
            }
            EventKind::Bounce { hard, reason } => {
                let error = format!(
                    "bounced: {}",
                    reason.as_deref().unwrap_or("no reason given")
                );
                self.advance(MessageStatus::Bounced, Some(error));
                self.record(
                    target,
                    event,
                    MessageEventKind::Bounced,
                    json!({ "hard": hard, "reason": reason }),
                );
                if *hard {
                    self.effect(Effect::Suppress {
                        reason: SuppressionReason::HardBounce,
                        suppress_lead: false,
                    });
                }
            }
            EventKind::Dropped { reason } => {
                let error = format!(
                    "dropped: {}",
                    reason.as_deref().unwrap_or("no reason given")
                );
                self.advance(MessageStatus::Bounced, Some(error));
                self.record(
                    target,
                    event,
                    MessageEventKind::Dropped,
                    json!({ "reason": reason }),
                );
            }
            EventKind::SpamReport => {
                self.record(target, event, MessageEventKind::SpamReport, json!({}));
                self.effect(Effect::Suppress {
                    reason: SuppressionReason::SpamComplaint,
                    suppress_lead: true,
                });
            }
            EventKind::Unsubscribe => {
                self.record(target, event, MessageEventKind::Unsubscribed, json!({}));
                self.effect(Effect::Suppress {
                    reason: SuppressionReason::Unsubscribed,
                    suppress_lead: true,
                });
            }
            EventKind::Failed {
                error,
                recipient_opted_out,
            } => self.fail(target, event, error, *recipient_opted_out),
            EventKind::Deferred | EventKind::Ignored(_) => {}
        }
    }

    fn open(&mut self, target: &EventTarget, event: &ProviderEvent, machine_window: Duration) {
        let reference = self.engagement.delivered_at.or(target.sent_at);
        let machine = reference.is_some_and(|delivered| {
            event.occurred_at >= delivered && event.occurred_at - delivered <= machine_window
        });
        if machine {
            self.engagement.machine_opens += 1;
            self.engagement_changed = true;
            self.plan.machine_opens += 1;
        } else {
            self.count_open(event.occurred_at);
        }
        self.record(
            target,
            event,
            MessageEventKind::Opened,
            json!({ "machine": machine }),
        );
    }

    fn count_open(&mut self, at: DateTime<Utc>) {
        self.engagement.opens += 1;
        self.engagement.first_opened_at = Some(earliest(self.engagement.first_opened_at, at));
        self.engagement.last_opened_at = Some(latest(self.engagement.last_opened_at, at));
        self.engagement_changed = true;
        self.advance(MessageStatus::Opened, None);
    }

    /// Moves a failed text message to `failed` while it was still being sent,
    /// else to `bounced`, because `failed` only follows `sending` in the vocabulary.
    fn fail(&mut self, target: &EventTarget, event: &ProviderEvent, error: &str, opted_out: bool) {
        let next = if self.status.can_advance_to(MessageStatus::Failed) {
            MessageStatus::Failed
        } else {
            MessageStatus::Bounced
        };
        self.advance(next, Some(error.to_owned()));
        self.record(
            target,
            event,
            MessageEventKind::Failed,
            json!({ "error": error }),
        );
        if opted_out {
            self.effect(Effect::Suppress {
                reason: SuppressionReason::Unsubscribed,
                suppress_lead: true,
            });
        }
    }

    fn advance(&mut self, next: MessageStatus, error: Option<String>) {
        if self.status.can_advance_to(next) {
            self.status = next;
            if error.is_some() {
                self.error = error;
            }
        }
    }

    fn record(
        &mut self,
        target: &EventTarget,
        event: &ProviderEvent,
        kind: MessageEventKind,
        payload: Value,
    ) {
        let id = Uuid::now_v7();
        self.plan.history.push(NewMessageEvent {
            id,
            message_id: target.id,
            kind,
            provider: event.source.as_str(),
            provider_event_id: event.history_id().unwrap_or_else(|| id.to_string()),
            occurred_at: event.occurred_at,
            payload,
        });
    }

    fn effect(&mut self, effect: Effect) {
        if !self.plan.effects.contains(&effect) {
            self.plan.effects.push(effect);
        }
    }

    fn finish(mut self, target: &EventTarget) -> MessagePlan {
        if self.status != target.status {
            self.plan.status_change = Some(StatusChange {
                message_id: target.id,
                from: target.status,
                to: self.status,
                error: self.error,
            });
        }
        if self.engagement_changed {
            self.plan.engagement = Some(self.engagement);
        }
        self.plan
    }
}

fn earliest(current: Option<DateTime<Utc>>, at: DateTime<Utc>) -> DateTime<Utc> {
    current.map_or(at, |current| current.min(at))
}

fn latest(current: Option<DateTime<Utc>>, at: DateTime<Utc>) -> DateTime<Utc> {
    current.map_or(at, |current| current.max(at))
}

#[cfg(test)]
mod tests {
    use rekindle_domain::*;

    use super::*;
    use crate::events::{EventSource, MessageRef};

    fn target(status: MessageStatus, sent_at: DateTime<Utc>) -> EventTarget {
        EventTarget {
            id: MessageId::new(),
            lead_id: LeadId::new(),
            enrollment_id: EnrollmentId::new(),
            campaign_id: CampaignId::new(),
            channel: Channel::Email,
            status,
            to_address: "dana@acme.example".into(),
            sent_at: Some(sent_at),
            engagement: None,
        }
    }

    fn event(kind: EventKind, at: DateTime<Utc>) -> ProviderEvent {
        ProviderEvent {
            source: EventSource::Sendgrid,
            event_id: None,
            event_key: None,
            message: MessageRef::Id(MessageId::new()),
            kind,
            recipient: "dana@acme.example".into(),
            occurred_at: at,
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn out_of_order_events_end_at_furthest_status() {
        let message = target(MessageStatus::Sent, at(0));
        let click = event(EventKind::Click { url: None }, at(600));
        let delivered = event(EventKind::Delivered, at(5));
        let open = event(EventKind::Open, at(500));
        let plan = plan_message(
            &message,
            &[&click, &delivered, &open],
            Duration::seconds(10),
        );

        let change = plan.status_change.unwrap();
        assert_eq!(change.to, MessageStatus::Clicked);
        let counters = plan.engagement.unwrap();
        assert_eq!(counters.opens, 1);
        assert_eq!(counters.clicks, 1);
        assert_eq!(counters.delivered_at, Some(at(5)));
        assert_eq!(plan.history.len(), 3);
    }

    #[test]
    fn late_delivered_never_undoes_bounce() {
        let message = target(MessageStatus::Bounced, at(0));
        let delivered = event(EventKind::Delivered, at(30));
        let plan = plan_message(&message, &[&delivered], Duration::seconds(10));
        assert_eq!(plan.status_change, None);
    }

    #[test]
    fn open_right_after_delivery_is_machine_open() {
        let message = target(MessageStatus::Sent, at(0));
        let delivered = event(EventKind::Delivered, at(20));
        let scan = event(EventKind::Open, at(23));
        let person = event(EventKind::Open, at(3600));

        let plan = plan_message(&message, &[&delivered, &scan], Duration::seconds(10));
        assert_eq!(plan.machine_opens, 1);
        assert_eq!(plan.status_change.unwrap().to, MessageStatus::Delivered);
        let counters = plan.engagement.unwrap();
        assert_eq!((counters.opens, counters.machine_opens), (0, 1));

        let plan = plan_message(&message, &[&delivered, &person], Duration::seconds(10));
        assert_eq!(plan.machine_opens, 0);
        assert_eq!(plan.status_change.unwrap().to, MessageStatus::Opened);
    }

    #[test]
    fn hard_bounce_suppresses_soft_does_not() {
        let message = target(MessageStatus::Delivered, at(0));
        let hard = event(
            EventKind::Bounce {
                hard: true,
                reason: Some("550 5.1.1 unknown user".into()),
            },
            at(1),
        );
        let plan = plan_message(&message, &[&hard], Duration::seconds(10));
        let change = plan.status_change.unwrap();
        assert_eq!(change.to, MessageStatus::Bounced);
        assert!(change.error.unwrap().contains("5.1.1"));
        assert_eq!(plan.effects.len(), 1);

        let soft = event(
            EventKind::Bounce {
                hard: false,
                reason: None,
            },
            at(1),
        );
        let plan = plan_message(&message, &[&soft], Duration::seconds(10));
        assert!(plan.effects.is_empty());
    }

    #[test]
    fn segment_delivered_after_failure_keeps_error() {
        let message = target(MessageStatus::Sent, at(0));
        let failed = event(
            EventKind::Failed {
                error: "twilio error 30003".into(),
                recipient_opted_out: false,
            },
            at(10),
        );
        let delivered = event(EventKind::Delivered, at(11));
        let plan = plan_message(&message, &[&failed, &delivered], Duration::seconds(10));
        let change = plan.status_change.unwrap();
        assert_eq!(change.to, MessageStatus::Bounced);
        assert_eq!(change.error.as_deref(), Some("twilio error 30003"));
    }
}
