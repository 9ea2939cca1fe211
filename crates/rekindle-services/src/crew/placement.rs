//! Choosing the sending identity and the send time of each message of a crew
//! batch, so that every identity keeps its hourly and daily caps and its
//! warm-up ramp, and every recipient domain keeps its caps across identities
//! (`rekindle_domain::throttle`).
//!
//! The crew proposes a time inside the lead's window. Placement keeps that
//! time when the caps allow, else moves the message to the first hour of the
//! same window day that has room, else to a later window day. A placed send is
//! therefore always inside the lead's window and outside quiet hours.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use rekindle_domain::campaign::SendingWindow;
use rekindle_domain::scheduling::next_open_interval;
use rekindle_domain::throttle::{
    Allocator, MAX_SEARCH_DAYS, NoSlot, RecordedSend, SendRequest, SendingIdentity,
    SendingIdentityId, ThrottleSettings,
};
use rekindle_domain::{Channel, Email};
use rekindle_store::{SendingIdentityRow, TenantTx};
use uuid::Uuid;

use crate::ServiceError;

/// Represents the account's own sender address when the account has no
/// sending identity on the channel. The nil id never belongs to a stored
/// identity, whose ids are random.
const ACCOUNT_SENDER: SendingIdentityId = SendingIdentityId(Uuid::nil());

/// Warm-up start of the account's own sender: long past, so no ramp applies
/// to the address the customer already sends from.
fn established_sender_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// The identity and time chosen for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlacedSend {
    /// `None` for the account's own sender address.
    pub identity: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Places the messages of one batch on one channel.
pub(crate) struct SendPlanner {
    allocator: Allocator,
    channel: Channel,
    window: SendingWindow,
}

impl SendPlanner {
    /// Loads the account's identities on `channel` and the sends that already
    /// count against the caps from the start of today (UTC) on. The caller's
    /// transaction keeps the schedule locked until it commits.
    pub async fn load(
        tx: &mut dyn TenantTx,
        settings: &ThrottleSettings,
        channel: Channel,
        window: SendingWindow,
        now: DateTime<Utc>,
    ) -> Result<Self, ServiceError> {
        let identities: Vec<SendingIdentity> = tx
            .list_sending_identities()
            .await?
            .iter()
            .filter(|row| row.channel == channel)
            .map(throttled_identity)
            .collect();
        let identities = if identities.is_empty() {
            vec![account_sender(channel)]
        } else {
            identities
        };

        let day_start = now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
        let recorded: Vec<RecordedSend> = tx
            .planned_sends(channel, day_start.and_utc())
            .await?
            .into_iter()
            .map(|send| RecordedSend {
                identity: send
                    .sending_identity_id
                    .map_or(ACCOUNT_SENDER, SendingIdentityId),
                recipient_domain: recipient_domain(channel, &send.to_address),
                at: send.at,
            })
            .collect();

        let allocator = Allocator::new(settings.clone(), identities, &recorded)
            .map_err(|error| ServiceError::Invalid(error.to_string()))?;
        Ok(Self {
            allocator,
            channel,
            window,
        })
    }

    /// Places one message to `to_address`, no earlier than `earliest`, inside
    /// the window in `zone`, and counts it.
    pub fn place(
        &mut self,
        to_address: &str,
        zone: Tz,
        earliest: DateTime<Utc>,
    ) -> Result<PlacedSend, NoSlot> {
        let recipient_domain = recipient_domain(self.channel, to_address);
        let horizon = earliest + TimeDelta::days(MAX_SEARCH_DAYS);
        let mut from = earliest;
        while from < horizon {
            let Ok((open, close)) = next_open_interval(&self.window, zone, from) else {
                break;
            };
            let request = SendRequest {
                channel: self.channel,
                recipient_domain: recipient_domain.clone(),
                earliest: open,
                latest: Some(close),
            };
            match self.allocator.place(&request) {
                Ok(placement) => {
                    return Ok(PlacedSend {
                        identity: (placement.identity != ACCOUNT_SENDER)
                            .then_some(placement.identity.0),
                        at: placement.at,
                    });
                }
                Err(NoSlot::CapsFull { .. }) => from = close,
                Err(other) => return Err(other),
            }
        }
        Err(NoSlot::BeyondHorizon { earliest })
    }
}

fn throttled_identity(row: &SendingIdentityRow) -> SendingIdentity {
    SendingIdentity {
        id: SendingIdentityId(row.id),
        channel: row.channel,
        warm_up_start: row.warm_up_start,
        hourly_cap: row.hourly_cap,
        daily_cap: row.daily_cap,
        paused: row.paused,
    }
}

fn account_sender(channel: Channel) -> SendingIdentity {
    SendingIdentity {
        id: ACCOUNT_SENDER,
        channel,
        warm_up_start: established_sender_start(),
        hourly_cap: None,
        daily_cap: None,
        paused: false,
    }
}

/// Returns the domain of an email recipient, the key of the domain caps.
fn recipient_domain(channel: Channel, address: &str) -> Option<String> {
    if channel != Channel::Email {
        return None;
    }
    Email::parse(address)
        .ok()
        .map(|email| email.domain().to_owned())
}
