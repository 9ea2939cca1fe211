//! Inbound replies from provider webhooks (SendGrid Inbound Parse, Twilio
//! inbound SMS and WhatsApp): finding the account, lead and message a reply
//! answers, then handing it to `replies::ingest_reply`.
//!
//! An email is matched by the signed reply token in its recipient address,
//! else by `In-Reply-To` and `References` against our messages' Message-IDs.
//! A text message is matched by its sender's number against the messages
//! sent to that number, from the accounts that own the number it was sent to.
//! These lookups cross accounts, so they run on the system path.

use chrono::{DateTime, Utc};
use rekindle_domain::{AccountId, Channel, Phone};
use rekindle_store::{MessageLocation, NewReceipt, WebhookProvider};
use rekindle_webhooks::inbound::InboundEmail;
use rekindle_webhooks::twilio::InboundMessage;
use uuid::Uuid;

use crate::replies::{InboundReply, IngestedReply, ingest_reply};
use crate::{App, ServiceError};

/// Longest reply text handed to the classifier and stored, in characters; the
/// same bound as replies entered through the API.
pub const MAX_INBOUND_TEXT_CHARS: usize = 20_000;

/// Evidence that matched a reply to its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    ReplyAddress,
    Threading,
    PhoneNumber,
}

/// The message a reply is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedReply {
    pub message: MessageLocation,
    pub matched_by: MatchedBy,
}

/// Outcome of an inbound reply.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundOutcome {
    Ingested {
        account_id: AccountId,
        matched_by: MatchedBy,
        reply: IngestedReply,
    },
    /// The same reply was received before.
    Duplicate,
    /// No message of any account matches; the reply is dropped.
    Unmatched,
}

/// Finds the message an email replies to: by a reply token in one of the
/// recipient addresses, else by the Message-IDs it refers to, the direct
/// parent (`In-Reply-To`) first, then `References` from newest to oldest.
pub async fn route_email(
    app: &App,
    recipients: &[String],
    in_reply_to: &[String],
    references: &[String],
) -> Result<Option<RoutedReply>, ServiceError> {
    let tokens: Vec<_> = recipients
        .iter()
        .filter_map(|address| app.reply_addresses.message_of(address).ok())
        .collect();
    let mut referenced: Vec<String> = in_reply_to.to_vec();
    referenced.extend(references.iter().rev().cloned());
    referenced.retain(|id| !id.is_empty());

    let mut tx = app.store.begin_system("inbound replies").await?;
    if !tokens.is_empty() {
        let found = tx.locate_messages(&tokens, &[]).await?;
        if let Some(message) = found.into_iter().next() {
            tx.commit().await?;
            return Ok(Some(RoutedReply {
                message,
                matched_by: MatchedBy::ReplyAddress,
            }));
        }
    }
    let found = if referenced.is_empty() {
        Vec::new()
    } else {
        tx.locate_messages_by_rfc_ids(&referenced).await?
    };
    tx.commit().await?;

    // The first id in `referenced` that is one of ours wins.
    let message = referenced.iter().find_map(|id| {
        found
            .iter()
            .find(|message| &message.rfc_message_id == id)
            .cloned()
    });
    Ok(message.map(|message| RoutedReply {
        message,
        matched_by: MatchedBy::Threading,
    }))
}

/// Finds the message a text message replies to: the latest one sent to its
/// sender on the same channel, from the accounts that own the number it was
/// sent to as a sending identity. A number listed in `shared_numbers` (the
/// configured Twilio senders) belongs to every account.
pub async fn route_text(
    app: &App,
    channel: Channel,
    from: &str,
    to: &str,
    shared_numbers: &[String],
) -> Result<Option<RoutedReply>, ServiceError> {
    let Ok(from) = Phone::parse(from, None) else {
        return Ok(None);
    };
    let to = Phone::parse(to, None)
        .map(|phone| phone.as_str().to_owned())
        .unwrap_or_else(|_| to.to_owned());

    let mut tx = app.store.begin_system("inbound replies").await?;
    let owners = tx.accounts_with_identity(channel, &to).await?;
    let accounts = if !owners.is_empty() {
        Some(owners)
    } else if shared_numbers.iter().any(|number| number == &to) {
        None
    } else {
        tx.commit().await?;
        return Ok(None);
    };
    let message = tx
        .latest_message_to(from.as_str(), &[channel], accounts.as_deref())
        .await?;
    tx.commit().await?;
    Ok(message.map(|message| RoutedReply {
        message,
        matched_by: MatchedBy::PhoneNumber,
    }))
}

/// Routes and ingests an email reply received through Inbound Parse. The
/// receipt key is the email's Message-ID, so a repeated post is ingested once.
pub async fn receive_email(
    app: &App,
    email: &InboundEmail,
) -> Result<InboundOutcome, ServiceError> {
    let dedup_key = match &email.threading.message_id {
        Some(id) => format!("email:{id}"),
        None => format!("email:sha256:{}", content_digest(email)),
    };
    if already_received(app, WebhookProvider::InboundEmail, &dedup_key).await? {
        return Ok(InboundOutcome::Duplicate);
    }

    let mut recipients = email_addresses(&email.to);
    if let Some(envelope) = &email.envelope {
        recipients.extend(envelope.to.iter().cloned());
    }
    if let Some(cc) = &email.cc {
        recipients.extend(email_addresses(cc));
    }
    let routed = route_email(
        app,
        &recipients,
        &email.threading.in_reply_to,
        &email.threading.references,
    )
    .await?;
    let Some(routed) = routed else {
        tracing::info!("inbound email matches no message; dropped");
        return Ok(InboundOutcome::Unmatched);
    };

    let reply = InboundReply {
        channel: Channel::Email,
        from: email
            .from_address
            .clone()
            .unwrap_or_else(|| email.from.clone()),
        subject: Some(email.subject.clone()).filter(|subject| !subject.is_empty()),
        text: capped(&email_text(email)),
        in_reply_to: Some(routed.message.rfc_message_id.clone()),
        received_at: Utc::now(),
    };
    ingest(
        app,
        routed,
        &reply,
        WebhookProvider::InboundEmail,
        dedup_key,
    )
    .await
}

/// Routes and ingests an inbound SMS or WhatsApp message from Twilio. The
/// receipt key is Twilio's `MessageSid`.
pub async fn receive_text(
    app: &App,
    message: &InboundMessage,
    shared_numbers: &[String],
) -> Result<InboundOutcome, ServiceError> {
    let dedup_key = format!("inbound:{}", message.message_sid);
    if already_received(app, WebhookProvider::Twilio, &dedup_key).await? {
        return Ok(InboundOutcome::Duplicate);
    }
    let channel = Channel::from(message.channel);
    let routed = route_text(app, channel, &message.from, &message.to, shared_numbers).await?;
    let Some(routed) = routed else {
        tracing::info!(message_sid = %message.message_sid, "inbound text message matches no message; dropped");
        return Ok(InboundOutcome::Unmatched);
    };

    let reply = InboundReply {
        channel,
        from: message.from.clone(),
        subject: None,
        text: capped(&message.body),
        in_reply_to: Some(routed.message.rfc_message_id.clone()),
        received_at: Utc::now(),
    };
    ingest(app, routed, &reply, WebhookProvider::Twilio, dedup_key).await
}

/// Ingests the reply, then stores its receipt.
/// NOTE: `ingest_reply` commits its own transaction, so a crash between it and
/// the receipt lets a redelivered reply be stored twice.
async fn ingest(
    app: &App,
    routed: RoutedReply,
    reply: &InboundReply,
    provider: WebhookProvider,
    dedup_key: String,
) -> Result<InboundOutcome, ServiceError> {
    let account_id = routed.message.account_id;
    let ingested = ingest_reply(app, account_id, reply).await?;

    let now: DateTime<Utc> = Utc::now();
    let mut tx = app.store.begin(account_id).await?;
    tx.insert_receipts(
        &[NewReceipt {
            id: Uuid::now_v7(),
            provider,
            dedup_key,
            event_key: None,
        }],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(InboundOutcome::Ingested {
        account_id,
        matched_by: routed.matched_by,
        reply: ingested,
    })
}

async fn already_received(
    app: &App,
    provider: WebhookProvider,
    dedup_key: &str,
) -> Result<bool, ServiceError> {
    let mut tx = app.store.begin_system("inbound replies").await?;
    let found = tx.receipt_exists(provider, dedup_key).await?;
    tx.commit().await?;
    Ok(found)
}

/// Returns the plain-text body, or the HTML body converted to text when the
/// email has no plain part.
fn email_text(email: &InboundEmail) -> String {
    match (&email.text, &email.html) {
        (Some(text), _) if !text.trim().is_empty() => text.clone(),
        (_, Some(html)) => rekindle_webhooks::inbound::html_to_text(html),
        _ => String::new(),
    }
}

fn capped(text: &str) -> String {
    text.chars().take(MAX_INBOUND_TEXT_CHARS).collect()
}

/// Extracts the addresses of a header value such as
/// `Sam <reply+abc@in.example>, other@example.com`.
fn email_addresses(header: &str) -> Vec<String> {
    header
        .split([',', ';'])
        .filter_map(|part| {
            let part = part.trim();
            let address = match (part.rfind('<'), part.rfind('>')) {
                (Some(start), Some(end)) if start < end => &part[start + 1..end],
                _ => part,
            };
            let address = address.trim();
            address.contains('@').then(|| address.to_owned())
        })
        .collect()
}

/// Hashes the fields that identify an email without a Message-ID.
fn content_digest(email: &InboundEmail) -> String {
    use sha2::{Digest, Sha256};

    let mut hasher = Sha256::new();
    for part in [
        email.from.as_str(),
        email.to.as_str(),
        email.subject.as_str(),
        email.text.as_deref().unwrap_or(""),
        email.headers.as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_from_header_values() {
        let found = email_addresses("Sam Carter <reply+ab-12@in.example>, dana@acme.example; bad");
        assert_eq!(found, vec!["reply+ab-12@in.example", "dana@acme.example"]);
    }
}
