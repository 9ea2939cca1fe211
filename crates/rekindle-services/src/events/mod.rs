//! Provider events about sent messages (SendGrid events, Twilio status
//! callbacks, our own open pixel and click redirects), applied once each.
//!
//! Every event with a provider key gets a receipt, deduplicated by the
//! provider's event id and by a composite key, so a redelivered event is
//! applied once even when the provider gave it a new id. The receipts of one
//! account, the status changes, the event history, the counters and the
//! suppressions commit in one transaction.

mod effects;
mod plan;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;
use uuid::Uuid;

use crate::{App, ServiceError};

pub use plan::{Effect, MessagePlan, plan_message};

/// Origin of an event, which is also the `provider` of its history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventSource {
    Sendgrid,
    Twilio,
    /// Our own open pixel and click redirects.
    Tracking,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Sendgrid => "sendgrid",
            EventSource::Twilio => "twilio",
            EventSource::Tracking => "tracking",
        }
    }

    /// Provider of the receipts; tracking events have none.
    fn receipt_provider(self) -> Option<WebhookProvider> {
        match self {
            EventSource::Sendgrid => Some(WebhookProvider::Sendgrid),
            EventSource::Twilio => Some(WebhookProvider::Twilio),
            EventSource::Tracking => None,
        }
    }
}

/// Reference from an event to its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageRef {
    /// Our message id (SendGrid custom argument, tracking token).
    Id(MessageId),
    /// The provider's message id (Twilio `MessageSid`, SendGrid `X-Message-Id`).
    Provider(String),
}

/// Kind of a provider event about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The provider accepted the message for delivery.
    Processed,
    Delivered,
    /// Delivery is being retried; nothing changes.
    Deferred,
    Open,
    /// A read receipt (WhatsApp), counted as an open by a person.
    Read,
    Click {
        url: Option<String>,
    },
    /// `hard` for a permanent rejection of the address, which suppresses it.
    Bounce {
        hard: bool,
        reason: Option<String>,
    },
    /// The provider did not send the message.
    Dropped {
        reason: Option<String>,
    },
    SpamReport,
    /// An unsubscribe, from the provider's link or a group unsubscribe.
    Unsubscribe,
    /// A text message that failed, with the provider's error.
    Failed {
        error: String,
        /// The recipient had replied STOP to the sender (Twilio error 21610).
        recipient_opted_out: bool,
    },
    /// An event kind we store a receipt for and otherwise ignore.
    Ignored(String),
}

impl EventKind {
    /// Order of events with the same timestamp: delivery before engagement,
    /// engagement before complaints.
    fn order(&self) -> u8 {
        match self {
            EventKind::Processed => 0,
            EventKind::Deferred => 1,
            EventKind::Delivered => 2,
            EventKind::Open | EventKind::Read => 3,
            EventKind::Click { .. } => 4,
            EventKind::Bounce { .. } | EventKind::Dropped { .. } | EventKind::Failed { .. } => 5,
            EventKind::SpamReport | EventKind::Unsubscribe => 6,
            EventKind::Ignored(_) => 7,
        }
    }

    /// Short name used in composite keys and logs.
    pub fn name(&self) -> &str {
        match self {
            EventKind::Processed => "processed",
            EventKind::Delivered => "delivered",
            EventKind::Deferred => "deferred",
            EventKind::Open => "open",
            EventKind::Read => "read",
            EventKind::Click { .. } => "click",
            EventKind::Bounce { .. } => "bounce",
            EventKind::Dropped { .. } => "dropped",
            EventKind::SpamReport => "spamreport",
            EventKind::Unsubscribe => "unsubscribe",
            EventKind::Failed { .. } => "failed",
            EventKind::Ignored(name) => name,
        }
    }
}

/// One event, as the provider reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub source: EventSource,
    /// The provider's id of the event, its first deduplication key. Required
    /// for a receipt; tracking events have none and are never deduplicated.
    pub event_id: Option<String>,
    /// Composite key (message, event, timestamp, recipient), the second one.
    pub event_key: Option<String>,
    pub message: MessageRef,
    pub kind: EventKind,
    pub recipient: String,
    pub occurred_at: DateTime<Utc>,
}

impl ProviderEvent {
    /// Id of the event's history row, unique per provider.
    fn history_id(&self) -> Option<String> {
        self.event_id.clone()
    }

    fn receipt(&self) -> Option<NewReceipt> {
        let provider = self.source.receipt_provider()?;
        Some(NewReceipt {
            id: Uuid::now_v7(),
            provider,
            dedup_key: self.event_id.clone()?,
            event_key: self.event_key.clone(),
        })
    }
}

/// Builds the composite key of an event: message, event, timestamp and recipient.
pub fn composite_key(message: &str, event: &str, at: DateTime<Utc>, recipient: &str) -> String {
    format!(
        "{message}|{event}|{}|{}",
        at.timestamp(),
        recipient.trim().to_lowercase()
    )
}

/// Counts of one application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Events applied for the first time.
    pub applied: u64,
    /// Events whose receipt was already stored.
    pub duplicates: u64,
    /// Events whose message was not found in any account.
    pub unmatched: u64,
    /// Messages whose status moved.
    pub status_changes: u64,
    pub machine_opens: u64,
}

impl ApplyReport {
    fn add(&mut self, other: ApplyReport) {
        self.applied += other.applied;
        self.duplicates += other.duplicates;
        self.unmatched += other.unmatched;
        self.status_changes += other.status_changes;
        self.machine_opens += other.machine_opens;
    }
}

/// Applies provider events: finds each event's message in whichever account
/// it belongs to, then applies each account's events in one transaction of
/// that account. `now` stamps receipts and changes.
pub async fn apply_events(
    app: &App,
    events: &[ProviderEvent],
    now: DateTime<Utc>,
) -> Result<ApplyReport, ServiceError> {
    let located = locate(app, events).await?;
    let mut by_account: BTreeMap<AccountId, Vec<(&ProviderEvent, MessageId)>> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for (event, location) in events.iter().zip(located) {
        match location {
            Some((account, message)) => by_account
                .entry(account)
                .or_default()
                .push((event, message)),
            None => unmatched.push(event),
        }
    }

    let mut report = record_unmatched(app, &unmatched, now).await?;
    for (account, events) in by_account {
        report.add(apply_for_account(app, account, &events, now).await?);
    }
    Ok(report)
}

/// Returns the account and message of each event, or `None` when no account
/// has its message.
async fn locate(
    app: &App,
    events: &[ProviderEvent],
) -> Result<Vec<Option<(AccountId, MessageId)>>, ServiceError> {
    let mut ids = Vec::new();
    let mut provider_ids = Vec::new();
    for event in events {
        match &event.message {
            MessageRef::Id(id) => ids.push(*id),
            MessageRef::Provider(id) => provider_ids.push(id.clone()),
        }
    }
    ids.sort();
    ids.dedup();
    provider_ids.sort();
    provider_ids.dedup();

    let mut tx = app.store.begin_system("webhook events").await?;
    let locations = tx.locate_messages(&ids, &provider_ids).await?;
    tx.commit().await?;

    let mut by_id = HashMap::new();
    let mut by_provider_id = HashMap::new();
    for location in locations {
        if let Some(provider_id) = &location.provider_message_id {
            by_provider_id.insert(
                provider_id.clone(),
                (location.account_id, location.message_id),
            );
        }
        by_id.insert(
            location.message_id,
            (location.account_id, location.message_id),
        );
    }
    Ok(events
        .iter()
        .map(|event| match &event.message {
            MessageRef::Id(id) => by_id.get(id).copied(),
            MessageRef::Provider(id) => by_provider_id.get(id).copied(),
        })
        .collect())
}

/// Stores receipts of events whose message is unknown, so a redelivery is
/// recognised, and logs how many there were.
async fn record_unmatched(
    app: &App,
    events: &[&ProviderEvent],
    now: DateTime<Utc>,
) -> Result<ApplyReport, ServiceError> {
    if events.is_empty() {
        return Ok(ApplyReport::default());
    }
    let receipts: Vec<NewReceipt> = events.iter().filter_map(|event| event.receipt()).collect();
    let mut tx = app.store.begin_system("webhook events").await?;
    let new = tx.insert_system_receipts(&receipts, now).await?;
    tx.commit().await?;

    let duplicates = (receipts.len() - new.len()) as u64;
    let unmatched = events.len() as u64 - duplicates;
    if unmatched > 0 {
        tracing::warn!(
            unmatched,
            source = events[0].source.as_str(),
            "provider events name messages that no account has; receipts stored, nothing applied"
        );
    }
    Ok(ApplyReport {
        unmatched,
        duplicates,
        ..ApplyReport::default()
    })
}

pub(crate) async fn apply_for_account(
    app: &App,
    account: AccountId,
    events: &[(&ProviderEvent, MessageId)],
    now: DateTime<Utc>,
) -> Result<ApplyReport, ServiceError> {
    let mut tx = app.store.begin(account).await?;
    let fresh = new_events(&mut *tx, events, now).await?;
    let mut report = ApplyReport {
        duplicates: (events.len() - fresh.len()) as u64,
        ..ApplyReport::default()
    };
    if fresh.is_empty() {
        tx.commit().await?;
        return Ok(report);
    }

    let mut by_message: BTreeMap<MessageId, Vec<&ProviderEvent>> = BTreeMap::new();
    for (event, message) in &fresh {
        by_message.entry(*message).or_default().push(event);
    }
    let ids: Vec<MessageId> = by_message.keys().copied().collect();
    let targets = tx.lock_event_targets(&ids).await?;

    let window = Duration::seconds(app.settings.machine_open_seconds as i64);
    let mut changes = Vec::new();
    let mut history = Vec::new();
    let mut counters = Vec::new();
    let mut effects = Vec::new();
    for target in &targets {
        let plan = plan_message(target, &by_message[&target.id], window);
        report.machine_opens += u64::from(plan.machine_opens);
        changes.extend(plan.status_change);
        history.extend(plan.history);
        if let Some(engagement) = plan.engagement {
            counters.push((target.id, engagement));
        }
        effects.extend(plan.effects.into_iter().map(|effect| (target, effect)));
    }

    report.status_changes = tx.apply_status_changes(&changes, now).await?;
    tx.insert_message_events(&history).await?;
    tx.save_engagement(&counters, now).await?;
    effects::apply(&mut *tx, account, &effects, now).await?;
    report.applied = fresh.len() as u64;
    audit_application(&mut *tx, &fresh, &report, now).await?;
    tx.commit().await?;
    Ok(report)
}

/// Inserts the receipts of the account's events and keeps the events whose
/// receipt is new, plus those that take no receipt (tracking).
async fn new_events<'a>(
    tx: &mut dyn TenantTx,
    events: &[(&'a ProviderEvent, MessageId)],
    now: DateTime<Utc>,
) -> Result<Vec<(&'a ProviderEvent, MessageId)>, ServiceError> {
    let receipts: Vec<Option<NewReceipt>> =
        events.iter().map(|(event, _)| event.receipt()).collect();
    let to_insert: Vec<NewReceipt> = receipts.iter().flatten().cloned().collect();
    let inserted: std::collections::HashSet<Uuid> = if to_insert.is_empty() {
        Default::default()
    } else {
        tx.insert_receipts(&to_insert, now)
            .await?
            .into_iter()
            .collect()
    };

    Ok(events
        .iter()
        .zip(receipts)
        .filter(|(_, receipt)| match receipt {
            Some(receipt) => inserted.contains(&receipt.id),
            None => true,
        })
        .map(|(event, _)| *event)
        .collect())
}

/// Appends one audit entry for the provider events applied to the account,
/// because they were received on the cross-tenant path. Tracking events come
/// from a link signed for this account and are not audited one by one.
async fn audit_application(
    tx: &mut dyn TenantTx,
    events: &[(&ProviderEvent, MessageId)],
    report: &ApplyReport,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some((first, _)) = events.first() else {
        return Ok(());
    };
    if first.source == EventSource::Tracking {
        return Ok(());
    }
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    for (event, _) in events {
        *kinds.entry(event.kind.name()).or_default() += 1;
    }
    tx.append_audit(
        &AuditRecord::new(
            Actor::system(&format!("webhook:{}", first.source.as_str())),
            "message_events.apply",
            "account",
            Some(tx.account_id().to_string()),
        )
        .with_changes(json!({
            "events": kinds,
            "status_changes": report.status_changes,
            "machine_opens": report.machine_opens,
        })),
        now,
    )
    .await?;
    Ok(())
}
