//! Sending one message. Suppression and the enrollment's state are checked again
//! at send time, because a lead can opt out between scheduling and sending.
//!
//! The message moves to `sending`, and that change commits before the transport
//! is called. After the transport accepts it, a second transaction marks it
//! `sent` and schedules the next step. A crash between the two leaves the
//! message in `sending`, and the retried job sends it again: delivery is
//! at-least-once, and the window for a duplicate is that one transport call.
//! The outbox transport writes the same file for the same message id, so there
//! a retry never produces a second copy.

use chrono::{DateTime, Utc};
use rekindle_channels::{
    ChannelError, InternetMessageId, NamedAddress, OutboundEmail, OutboundSms,
};
use rekindle_domain::*;
use rekindle_store::*;

use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::scheduling::effective_zone;

use crate::crew::is_lead_suppressed;
use crate::jobs::SendMessagePayload;
use crate::send_gate::next_allowed;
use crate::sequence::advance_after_step;
use crate::{App, ServiceError};

/// Decision about a message found at send time.
enum SendDecision {
    Send(Box<(Message, Lead, Account)>),
    Skip,
}

/// Sends one message. `due` is the time the send is judged at: the job's run
/// time, or the current time when the job runs late.
pub async fn send_message(
    app: &App,
    account_id: AccountId,
    payload: SendMessagePayload,
    due: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let (message, lead, account) =
        match claim_for_sending(app, account_id, payload.message_id, due).await? {
            SendDecision::Send(found) => *found,
            SendDecision::Skip => return Ok(()),
        };

    let result = match message.channel {
        Channel::Email => send_email(app, &account, &lead, &message).await,
        Channel::Sms | Channel::Whatsapp => send_sms(app, &account, &lead, &message).await,
    };
    match result {
        Ok(receipt) => record_sent(app, account_id, &message, receipt.provider_message_id).await,
        Err(error) if error.class().is_retryable() => {
            tracing::warn!(account_id = %account_id, message_id = %message.id, class = %error.class(), error = error.message(), "send failed; will retry");
            Err(match error.retry_after() {
                Some(retry_after) => ServiceError::Throttled {
                    message: error.message().to_owned(),
                    retry_after,
                },
                None => ServiceError::Classified {
                    class: error.class(),
                    message: error.message().to_owned(),
                },
            })
        }
        Err(error) => record_failed(app, account_id, &message, &error).await,
    }
}

async fn claim_for_sending(
    app: &App,
    account_id: AccountId,
    message_id: MessageId,
    due: DateTime<Utc>,
) -> Result<SendDecision, ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account_id).await?;
    let message = tx
        .get_message(message_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("message", message_id))?;
    if !matches!(
        message.status,
        MessageStatus::Scheduled | MessageStatus::Sending
    ) {
        return Ok(SendDecision::Skip);
    }
    let lead = tx
        .get_lead(message.lead_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("lead", message.lead_id))?;
    let enrollment = tx
        .get_enrollment(message.enrollment_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("enrollment", message.enrollment_id))?;

    let campaign = tx
        .get_campaign(message.campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", message.campaign_id))?;
    if campaign.status == CampaignStatus::Paused {
        // Left scheduled: resuming the campaign enqueues its send job again.
        tracing::info!(account_id = %account_id, message_id = %message.id, "campaign paused; message left scheduled");
        return Ok(SendDecision::Skip);
    }

    let consent = tx
        .consent_of(lead.id)
        .await?
        .unwrap_or(ConsentBasis::LegitimateInterest);
    let blocked = if is_lead_suppressed(&mut *tx, &lead).await? {
        Some((MessageStatus::Suppressed, "contact is suppressed"))
    } else if !lawful_for(message.channel, consent) {
        Some((
            MessageStatus::Cancelled,
            "no lawful basis for this channel at send time",
        ))
    } else if enrollment.status != EnrollmentStatus::Active {
        Some((MessageStatus::Cancelled, "enrollment is no longer active"))
    } else if campaign.status != CampaignStatus::Active {
        Some((MessageStatus::Cancelled, "campaign is no longer active"))
    } else {
        None
    };
    if let Some((status, reason)) = blocked {
        let update = MessageUpdate {
            error: Some(reason.to_owned()),
            ..MessageUpdate::default()
        };
        tx.advance_message(message.id, status, &update, now).await?;
        tx.commit().await?;
        tracing::info!(account_id = %account_id, message_id = %message.id, lead_id = %lead.id, reason, "message not sent");
        return Ok(SendDecision::Skip);
    }

    let account = tx.account().await?;
    let account_zone = parse_time_zone(&account.time_zone).unwrap_or(chrono_tz::UTC);
    let (zone, _) = effective_zone(lead.fields.time_zone.as_deref(), account_zone);
    let wait = next_allowed(&campaign.window, zone, message.channel, due)
        .map_err(ServiceError::Invalid)?;
    if let Some(until) = wait {
        tracing::info!(account_id = %account_id, message_id = %message.id, %until, "outside the sending window; send deferred");
        return Err(ServiceError::Deferred {
            until,
            reason: "outside the lead's sending window or quiet hours".into(),
        });
    }

    if message.status == MessageStatus::Scheduled {
        tx.advance_message(
            message.id,
            MessageStatus::Sending,
            &MessageUpdate::default(),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(SendDecision::Send(Box::new((message, lead, account))))
}

async fn send_email(
    app: &App,
    account: &Account,
    lead: &Lead,
    message: &Message,
) -> Result<rekindle_channels::SendReceipt, ChannelError> {
    let invalid = |what: &str| ChannelError::invalid_input(what.to_owned());
    let from = Email::parse(&account.sender_email)
        .map_err(|_| invalid("invalid sender email on the account"))?;
    let to = Email::parse(&message.to_address).map_err(|_| invalid("invalid recipient email"))?;
    let unsubscribe = unsubscribe_link(&message.body)
        .ok_or_else(|| invalid("the message has no unsubscribe link"))?;
    let html_body =
        if crate::tracking::campaign_tracks(app, account.id, message.campaign_id).await? {
            crate::tracking::tracked_email_html(app, account.id, message.id, &message.body)
        } else {
            None
        };
    let email = OutboundEmail {
        account_id: account.id,
        lead_id: lead.id,
        message_id: message.id,
        from: NamedAddress::new(account.sender_name.clone(), from),
        to: match lead.fields.greeting_name() {
            Some(name) => NamedAddress::new(full_name(lead, name), to),
            None => NamedAddress::without_name(to),
        },
        subject: message.subject.clone().unwrap_or_default(),
        text_body: message.body.clone(),
        html_body,
        internet_message_id: InternetMessageId::parse(&message.rfc_message_id)?,
        list_unsubscribe: unsubscribe,
        in_reply_to: None,
        references: Vec::new(),
    };

    // A Reply-To that names the message lets the inbound webhook match the
    // reply even when the mail client drops In-Reply-To.
    let Some(domain) = &app.settings.reply_domain else {
        return app.email.send_email(&email).await;
    };
    let reply_to = Email::parse(&app.reply_addresses.address(message.id, domain))
        .map_err(|_| invalid("the reply domain does not make a valid address"))?;
    let options = rekindle_channels::EmailOptions::default()
        .with_reply_to(NamedAddress::new(account.sender_name.clone(), reply_to));
    app.email.send_email_with(&email, &options).await
}

fn full_name(lead: &Lead, first: &str) -> String {
    match lead
        .fields
        .last_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(last) => format!("{first} {last}"),
        None => first.to_owned(),
    }
}

/// Finds the unsubscribe link the compliance gate put in the footer.
fn unsubscribe_link(body: &str) -> Option<url::Url> {
    body.split_whitespace()
        .filter(|word| word.starts_with("https://") && word.contains("/unsubscribe/"))
        .find_map(|word| url::Url::parse(word.trim_end_matches(['.', ')', '>'])).ok())
}

async fn send_sms(
    app: &App,
    account: &Account,
    lead: &Lead,
    message: &Message,
) -> Result<rekindle_channels::SendReceipt, ChannelError> {
    let to = Phone::parse(&message.to_address, None)
        .map_err(|_| ChannelError::invalid_input("invalid recipient phone"))?;
    // NOTE: sending numbers per account arrive with the SMS providers; the local
    // outbox records this placeholder sender.
    let from = Phone::parse("+15005550006", None)
        .map_err(|_| ChannelError::invalid_input("invalid sender phone"))?;
    let sms = OutboundSms {
        account_id: account.id,
        lead_id: lead.id,
        message_id: message.id,
        from,
        to,
        body: message.body.clone(),
    };
    match message.channel {
        Channel::Whatsapp => app.whatsapp.send_sms(&sms).await,
        Channel::Sms | Channel::Email => app.sms.send_sms(&sms).await,
    }
}

async fn record_sent(
    app: &App,
    account_id: AccountId,
    message: &Message,
    provider_id: String,
) -> Result<(), ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account_id).await?;
    let update = MessageUpdate {
        provider_message_id: Some(provider_id),
        sent: true,
        ..MessageUpdate::default()
    };
    tx.advance_message(message.id, MessageStatus::Sent, &update, now)
        .await?;

    let steps = tx.list_steps(message.campaign_id).await?;
    let position = steps
        .iter()
        .find(|s| s.id == message.step_id)
        .map(|s| s.position)
        .unwrap_or(0);
    advance_after_step(
        &mut *tx,
        account_id,
        message.campaign_id,
        message.enrollment_id,
        position,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account_id = %account_id, campaign_id = %message.campaign_id, message_id = %message.id, lead_id = %message.lead_id, "message sent");
    Ok(())
}

async fn record_failed(
    app: &App,
    account_id: AccountId,
    message: &Message,
    error: &ChannelError,
) -> Result<(), ServiceError> {
    mark_failed(app, account_id, message.id, error.message()).await?;
    tracing::error!(account_id = %account_id, message_id = %message.id, class = %error.class(), error = error.message(), "send failed permanently");
    Ok(())
}

/// Marks a message that will not be sent as failed, and its enrollment with it.
/// Used for a permanent send error, and when a send job runs out of attempts,
/// so no message stays in `sending` for good.
pub async fn mark_failed(
    app: &App,
    account_id: AccountId,
    message_id: MessageId,
    reason: &str,
) -> Result<(), ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account_id).await?;
    let update = MessageUpdate {
        error: Some(reason.to_owned()),
        ..MessageUpdate::default()
    };
    let Some(message) = tx.get_message(message_id).await? else {
        return Ok(());
    };
    if !tx
        .advance_message(message.id, MessageStatus::Failed, &update, now)
        .await?
    {
        return Ok(());
    }
    if let Some(enrollment) = tx.get_enrollment(message.enrollment_id).await? {
        tx.update_enrollment(
            enrollment.id,
            EnrollmentStatus::Failed,
            enrollment.current_step,
            None,
            Some(reason),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Checks the lawful basis again at send time, since consent can be withdrawn
/// after the message was written: text messages need consent or a contract,
/// and nothing goes to a lead who withdrew.
fn lawful_for(channel: Channel, basis: ConsentBasis) -> bool {
    match (channel, basis) {
        (_, ConsentBasis::Withdrawn) => false,
        (Channel::Email, _) => true,
        (Channel::Sms | Channel::Whatsapp, basis) => {
            matches!(basis, ConsentBasis::Consent | ConsentBasis::Contract)
        }
    }
}
