//! Verified provider webhooks after the HTTP layer accepted them: SendGrid
//! event batches are stored and applied by a job, Twilio status callbacks are
//! applied at once, and Stripe events are stored and recorded by a job.

use chrono::{DateTime, Utc};
use rekindle_domain::{ErrorClass, MessageId};
use rekindle_store::{NewJob, NewReceipt, NewWebhookPayload, WebhookProvider};
use rekindle_webhooks::sendgrid::{BounceType, SendgridEvent, SendgridEventKind, parse_events};
use rekindle_webhooks::twilio::{StatusCallback, TwilioMessageStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::{ApplyReport, EventKind, EventSource, MessageRef, ProviderEvent, apply_events};
use crate::{App, ServiceError};

/// System job that applies a stored SendGrid event batch.
pub const APPLY_SENDGRID_BATCH_JOB: &str = "apply_sendgrid_batch";
/// System job that records a stored Stripe event.
pub const RECORD_STRIPE_EVENT_JOB: &str = "record_stripe_event";
/// Twilio error of a message to a recipient who replied STOP to the sender.
const TWILIO_ERROR_UNSUBSCRIBED: u32 = 21610;

/// Payload of the jobs that work on a stored webhook body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPayloadJob {
    pub payload_id: Uuid,
}

/// Stores a verified SendGrid batch and enqueues the job that applies it, in
/// one transaction, and returns the stored body's id. The HTTP layer responds
/// as soon as this commits, so SendGrid's retries do not pile up behind the
/// work of applying the events.
pub async fn accept_sendgrid_batch(
    app: &App,
    body: &str,
    event_count: usize,
) -> Result<Uuid, ServiceError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut tx = app.store.begin_system("webhook sendgrid").await?;
    tx.insert_webhook_payload(
        &NewWebhookPayload {
            id,
            provider: WebhookProvider::Sendgrid,
            event_id: None,
            event_type: None,
            body: body.to_owned(),
        },
        now,
    )
    .await?;
    let job = NewJob {
        max_attempts: app.settings.max_attempts,
        ..NewJob::now(
            APPLY_SENDGRID_BATCH_JOB,
            serde_json::json!(StoredPayloadJob { payload_id: id }),
        )
    };
    tx.enqueue_system_job(None, &job, now).await?;
    tx.commit().await?;
    tracing::info!(payload_id = %id, events = event_count, "SendGrid event batch stored");
    Ok(id)
}

/// Applies a stored SendGrid batch. Applying it again (a retried job) finds
/// every receipt stored and changes nothing.
pub async fn apply_sendgrid_batch(
    app: &App,
    payload_id: Uuid,
) -> Result<ApplyReport, ServiceError> {
    let mut tx = app.store.begin_system("webhook sendgrid").await?;
    let payload = tx
        .get_webhook_payload(payload_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook payload", payload_id))?;
    tx.commit().await?;

    // The body was checked when it was received; a failure here is permanent.
    let batch = parse_events(payload.body.as_bytes(), usize::MAX).map_err(|error| {
        ServiceError::Classified {
            class: ErrorClass::InvalidInput,
            message: format!("stored SendGrid batch {payload_id} does not parse: {error}"),
        }
    })?;
    for malformed in &batch.malformed {
        // The reason can quote an address, so only the position is logged.
        tracing::warn!(payload_id = %payload_id, index = malformed.index, "malformed SendGrid event skipped");
    }

    let events: Vec<ProviderEvent> = batch.events.iter().filter_map(sendgrid_event).collect();
    let report = apply_events(app, &events, Utc::now()).await?;

    let mut tx = app.store.begin_system("webhook sendgrid").await?;
    tx.mark_webhook_payload_processed(payload_id, Utc::now())
        .await?;
    tx.commit().await?;
    tracing::info!(payload_id = %payload_id, applied = report.applied, duplicates = report.duplicates, unmatched = report.unmatched, "SendGrid event batch applied");
    Ok(report)
}

/// Converts a SendGrid event. Events that name no message are left out.
pub fn sendgrid_event(event: &SendgridEvent) -> Option<ProviderEvent> {
    let message = match (&event.rekindle_message_id, &event.sg_message_id) {
        (Some(id), _) => MessageRef::Id(*id),
        // `sg_message_id` is the `X-Message-Id` of the send, a dot, then a
        // suffix of SendGrid's own; we stored the `X-Message-Id`.
        (None, Some(sg)) => MessageRef::Provider(sg.split('.').next().unwrap_or(sg).to_owned()),
        (None, None) => return None,
    };
    let occurred_at = DateTime::from_timestamp(event.timestamp, 0)?;
    let message_text = match &message {
        MessageRef::Id(id) => id.to_string(),
        MessageRef::Provider(id) => id.clone(),
    };

    Some(ProviderEvent {
        source: EventSource::Sendgrid,
        event_id: Some(event.sg_event_id.clone()),
        event_key: Some(crate::events::composite_key(
            &message_text,
            event.kind.name(),
            occurred_at,
            &event.email,
        )),
        message,
        kind: sendgrid_kind(event),
        recipient: event.email.clone(),
        occurred_at,
    })
}

fn sendgrid_kind(event: &SendgridEvent) -> EventKind {
    match &event.kind {
        SendgridEventKind::Processed => EventKind::Processed,
        SendgridEventKind::Delivered => EventKind::Delivered,
        SendgridEventKind::Deferred => EventKind::Deferred,
        SendgridEventKind::Open => EventKind::Open,
        SendgridEventKind::Click => EventKind::Click {
            url: event.url.clone(),
        },
        SendgridEventKind::Bounce {
            bounce_type,
            classification,
        } => EventKind::Bounce {
            // A `blocked` bounce is about the sender's reputation or content,
            // not the address, so it does not suppress. A bounce without a
            // `type` is taken as hard, the cautious reading for suppression.
            hard: matches!(bounce_type, Some(BounceType::Bounce) | None),
            reason: event
                .reason
                .clone()
                .or_else(|| classification.clone())
                .or_else(|| event.status.clone()),
        },
        SendgridEventKind::Dropped => EventKind::Dropped {
            reason: event.reason.clone(),
        },
        SendgridEventKind::SpamReport => EventKind::SpamReport,
        SendgridEventKind::Unsubscribe | SendgridEventKind::GroupUnsubscribe => {
            EventKind::Unsubscribe
        }
        SendgridEventKind::Other(name) => EventKind::Ignored(name.clone()),
    }
}

/// Applies one verified Twilio status callback at once.
pub async fn apply_twilio_status(
    app: &App,
    callback: &StatusCallback,
) -> Result<ApplyReport, ServiceError> {
    let now = Utc::now();
    let event = twilio_event(callback, now);
    apply_events(app, &[event], now).await
}

/// Converts a Twilio status callback. Twilio gives callbacks no id and no
/// timestamp, so the receipt key is the message, its status and its error
/// code, and the time is the time of receipt.
pub fn twilio_event(callback: &StatusCallback, received_at: DateTime<Utc>) -> ProviderEvent {
    let error = callback
        .error_code
        .map(|code| code.to_string())
        .unwrap_or_default();
    ProviderEvent {
        source: EventSource::Twilio,
        event_id: Some(format!(
            "status:{}:{}:{error}",
            callback.message_sid, callback.message_status
        )),
        event_key: None,
        message: MessageRef::Provider(callback.message_sid.clone()),
        kind: twilio_kind(callback),
        recipient: callback.to.clone(),
        occurred_at: received_at,
    }
}

fn twilio_kind(callback: &StatusCallback) -> EventKind {
    match &callback.message_status {
        TwilioMessageStatus::Sent => EventKind::Processed,
        TwilioMessageStatus::Delivered | TwilioMessageStatus::PartiallyDelivered => {
            EventKind::Delivered
        }
        TwilioMessageStatus::Read => EventKind::Read,
        TwilioMessageStatus::Undelivered | TwilioMessageStatus::Failed => EventKind::Failed {
            error: match callback.error_code {
                Some(code) => format!("twilio {} (error {code})", callback.message_status),
                None => format!("twilio {}", callback.message_status),
            },
            recipient_opted_out: callback.error_code == Some(TWILIO_ERROR_UNSUBSCRIBED),
        },
        other => EventKind::Ignored(other.as_str().to_owned()),
    }
}

/// Outcome of receiving a Stripe event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripeReceipt {
    /// Stored, and a job enqueued to record it.
    Stored(Uuid),
    /// Already received; nothing was stored again.
    Duplicate,
}

/// Stores a verified Stripe event with its receipt and enqueues the job that
/// records it, in one transaction. A redelivered event id is a duplicate.
pub async fn accept_stripe_event(
    app: &App,
    event_id: &str,
    event_type: &str,
    body: &str,
) -> Result<StripeReceipt, ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin_system("webhook stripe").await?;
    let receipt = NewReceipt {
        id: Uuid::now_v7(),
        provider: WebhookProvider::Stripe,
        dedup_key: event_id.to_owned(),
        event_key: None,
    };
    if tx.insert_system_receipts(&[receipt], now).await?.is_empty() {
        tx.commit().await?;
        return Ok(StripeReceipt::Duplicate);
    }

    let id = Uuid::now_v7();
    tx.insert_webhook_payload(
        &NewWebhookPayload {
            id,
            provider: WebhookProvider::Stripe,
            event_id: Some(event_id.to_owned()),
            event_type: Some(event_type.to_owned()),
            body: body.to_owned(),
        },
        now,
    )
    .await?;
    let job = NewJob::now(
        RECORD_STRIPE_EVENT_JOB,
        serde_json::json!(StoredPayloadJob { payload_id: id }),
    );
    tx.enqueue_system_job(None, &job, now).await?;
    tx.commit().await?;
    tracing::info!(payload_id = %id, stripe_event_id = event_id, event_type, "Stripe event stored");
    Ok(StripeReceipt::Stored(id))
}

/// Records a stored Stripe event as processed.
/// TODO: billing effects (invoice status, payment failures) are not applied
/// yet; the event stays stored for them.
pub async fn record_stripe_event(app: &App, payload_id: Uuid) -> Result<(), ServiceError> {
    let mut tx = app.store.begin_system("webhook stripe").await?;
    let payload = tx
        .get_webhook_payload(payload_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("webhook payload", payload_id))?;
    tx.mark_webhook_payload_processed(payload_id, Utc::now())
        .await?;
    tx.commit().await?;
    tracing::info!(payload_id = %payload_id, stripe_event_id = payload.event_id.as_deref().unwrap_or(""), event_type = payload.event_type.as_deref().unwrap_or(""), "Stripe event recorded");
    Ok(())
}

/// Builds a tracking event for our own open pixel or click redirect.
pub fn tracking_event(message: MessageId, kind: EventKind, at: DateTime<Utc>) -> ProviderEvent {
    ProviderEvent {
        source: EventSource::Tracking,
        event_id: None,
        event_key: None,
        message: MessageRef::Id(message),
        kind,
        recipient: String::new(),
        occurred_at: at,
    }
}
