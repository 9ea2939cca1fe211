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

use chrono::{DateTime, TimeDelta, Utc};
use rekindle_channels::{
    ChannelError, EmailOptions, InternetMessageId, NamedAddress, OutboundEmail, OutboundSms,
};
use rekindle_domain::*;
use rekindle_store::*;

use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::scheduling::effective_zone;

use crate::crew::is_lead_suppressed;
use crate::jobs::{Completion, SendMessagePayload};
use crate::send_gate::next_allowed;
use crate::sequence::advance_with_steps;
use crate::{App, ServiceError};

/// How long a message waits when its sending identity is paused.
const PAUSED_IDENTITY_WAIT: TimeDelta = TimeDelta::hours(1);
/// Wait before trying again while a circuit's trial call is in flight, when
/// the breaker cannot say how long that takes.
const CIRCUIT_TRIAL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// Sender number recorded by the local outbox when no number is configured.
pub(crate) const OUTBOX_SMS_FROM: &str = "+15005550006";

/// A claimed message and what sending it needs.
struct Claimed {
    message: Message,
    lead: Lead,
    account: Account,
    /// The identity the throttle chose; `None` sends from the account's own
    /// address (or when the identity was deleted since).
    identity: Option<SendingIdentityRow>,
    /// Whether the campaign tracks opens and clicks.
    tracking: bool,
}

/// Decision about a message found at send time.
enum SendDecision {
    Send(Box<Claimed>),
    Skip,
}

/// Sends one message for the send job `job`. `due` is the time the send is
/// judged at: the job's run time, or the current time when the job runs late.
/// A sent message's job is marked succeeded in the transaction that records
/// the send.
pub async fn send_message(
    app: &App,
    account_id: AccountId,
    payload: SendMessagePayload,
    due: DateTime<Utc>,
    job: JobId,
) -> Result<Completion, ServiceError> {
    let claimed = match claim_for_sending(app, account_id, payload.message_id, due).await? {
        SendDecision::Send(found) => *found,
        SendDecision::Skip => return Ok(Completion::Pending),
    };

    let message = &claimed.message;
    let result = {
        // The semaphore is never closed, so waiting for a permit cannot fail.
        let _slot = app.send_slots.acquire().await;
        match message.channel {
            Channel::Email => send_email(app, &claimed).await,
            Channel::Sms | Channel::Whatsapp => send_sms(app, &claimed).await,
        }
    };
    match result {
        Ok(receipt) => {
            let provider_id = receipt.provider_message_id;
            record_sent(app, account_id, message, provider_id, job).await?;
            Ok(Completion::Recorded)
        }
        Err(error) if error.provider_not_called() => {
            // An open circuit is the provider's outage, not this message's
            // failure, so waiting for it spends no attempt.
            let wait = error.retry_after().unwrap_or(CIRCUIT_TRIAL_WAIT);
            let until = Utc::now() + TimeDelta::from_std(wait).unwrap_or(TimeDelta::minutes(1));
            tracing::warn!(account_id = %account_id, message_id = %message.id, %until, error = error.message(), "provider circuit open; send deferred");
            Err(ServiceError::Deferred {
                until,
                reason: "the provider's circuit breaker is open".into(),
            })
        }
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
        Err(error) => {
            record_failed(app, account_id, message, &error).await?;
            Ok(Completion::Pending)
        }
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

    let identity = match message.sending_identity_id {
        Some(id) => tx
            .list_sending_identities()
            .await?
            .into_iter()
            .find(|row| row.id == id),
        None => None,
    };
    if identity.as_ref().is_some_and(|row| row.paused) {
        let until = due + PAUSED_IDENTITY_WAIT;
        tracing::info!(account_id = %account_id, message_id = %message.id, %until, "sending identity paused; send deferred");
        return Err(ServiceError::Deferred {
            until,
            reason: "the message's sending identity is paused".into(),
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
    Ok(SendDecision::Send(Box::new(Claimed {
        message,
        lead,
        account,
        identity,
        tracking: campaign.tracking,
    })))
}

/// Returns the sender of an email: the chosen identity's mailbox, else the
/// account's own address.
fn email_sender(claimed: &Claimed) -> Result<NamedAddress, ChannelError> {
    let account = &claimed.account;
    let (name, address) = match &claimed.identity {
        Some(identity) => (
            identity
                .display_name
                .clone()
                .unwrap_or_else(|| account.sender_name.clone()),
            identity.address.as_str(),
        ),
        None => (account.sender_name.clone(), account.sender_email.as_str()),
    };
    let email = Email::parse(address).map_err(|_| {
        ChannelError::invalid_input(
            "invalid sender email: correct the account's sender or the sending identity",
        )
    })?;
    Ok(NamedAddress::new(name, email))
}

/// Returns the Reply-To header naming the message, when a reply domain is set.
fn reply_options(app: &App, message: &Message, from: &NamedAddress) -> EmailOptions {
    let Some(domain) = app.settings.reply_domain.as_deref() else {
        return EmailOptions::default();
    };
    let address = app.reply_addresses.address(message.id, domain);
    match Email::parse(&address) {
        Ok(email) => EmailOptions::default().with_reply_to(NamedAddress {
            name: from.name.clone(),
            address: email,
        }),
        Err(error) => {
            tracing::error!(message_id = %message.id, %error, "reply address is invalid; check the reply domain setting");
            EmailOptions::default()
        }
    }
}

async fn send_email(
    app: &App,
    claimed: &Claimed,
) -> Result<rekindle_channels::SendReceipt, ChannelError> {
    let Claimed {
        message,
        lead,
        account,
        ..
    } = claimed;
    let invalid = |what: &str| ChannelError::invalid_input(what.to_owned());
    let from = email_sender(claimed)?;
    let options = reply_options(app, message, &from);
    let to = Email::parse(&message.to_address).map_err(|_| invalid("invalid recipient email"))?;
    let unsubscribe = unsubscribe_link(&message.body)
        .ok_or_else(|| invalid("the message has no unsubscribe link"))?;
    let html_body = if claimed.tracking {
        crate::tracking::tracked_email_html(app, account.id, message.id, &message.body)
    } else {
        None
    };
    let email = OutboundEmail {
        account_id: account.id,
        lead_id: lead.id,
        message_id: message.id,
        from,
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

/// Returns the sender number of a text message: the chosen identity's number,
/// else the configured number of the channel, else the outbox placeholder.
fn text_sender(app: &App, claimed: &Claimed) -> Result<Phone, ChannelError> {
    let configured = match claimed.message.channel {
        Channel::Whatsapp => app.settings.default_whatsapp_from.as_ref(),
        Channel::Sms | Channel::Email => app.settings.default_sms_from.as_ref(),
    };
    let number = match (&claimed.identity, configured) {
        (Some(identity), _) => identity.address.as_str(),
        (None, Some(phone)) => return Ok(phone.clone()),
        (None, None) => OUTBOX_SMS_FROM,
    };
    Phone::parse(number, None).map_err(|_| {
        ChannelError::invalid_input("invalid sender phone: correct the sending identity's number")
    })
}

async fn send_sms(
    app: &App,
    claimed: &Claimed,
) -> Result<rekindle_channels::SendReceipt, ChannelError> {
    let message = &claimed.message;
    let to = Phone::parse(&message.to_address, None)
        .map_err(|_| ChannelError::invalid_input("invalid recipient phone"))?;
    let from = text_sender(app, claimed)?;
    let sms = OutboundSms {
        account_id: claimed.account.id,
        lead_id: claimed.lead.id,
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
    job: JobId,
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
    advance_with_steps(
        &mut *tx,
        account_id,
        message.campaign_id,
        &steps,
        message.enrollment_id,
        position,
        now,
    )
    .await?;
    tx.complete_job(job, now).await?;
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
