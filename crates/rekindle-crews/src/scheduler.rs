//! The scheduler: when to send a lead's message, inside the campaign's sending
//! window in the lead's time zone, after the step's delay, and staggered so a
//! campaign does not send everything at once.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rekindle_domain::campaign::SendingWindow;
use rekindle_domain::scheduling::{
    SchedulingError, ZoneSource, add_local_days, effective_zone, staggered_slot,
};
use rekindle_domain::{Channel, LeadId};
use serde::{Deserialize, Serialize};

use crate::compliance::{QUIET_HOURS_END_HOUR, QUIET_HOURS_START_HOUR};
use crate::stage::{Stage, StageError};

/// Input of the scheduler stage.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    pub lead_id: LeadId,
    pub channel: Channel,
    /// The lead's IANA time zone as imported; invalid or missing falls back to
    /// the account's zone.
    pub lead_time_zone: Option<String>,
    pub account_zone: Tz,
    pub window: SendingWindow,
    /// Instant the step's delay counts from: launch for the first step, the
    /// previous send for a follow-up.
    pub delay_from: DateTime<Utc>,
    pub delay_days: u32,
    /// No send is planned before this instant, usually the current time.
    pub not_before: DateTime<Utc>,
    /// Position of this send in the campaign's sending order, from 0.
    pub send_index: u32,
    /// Time between two consecutive sends of the campaign.
    pub spacing: Duration,
}

/// The planned send time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledSend {
    pub send_at: DateTime<Utc>,
    /// The send time in the lead's zone, RFC 3339 with offset.
    pub local_time: String,
    pub time_zone: String,
    pub zone_source: ZoneSource,
}

/// Plans one send.
pub fn plan_send(input: &ScheduleInput) -> Result<ScheduledSend, StageError> {
    let (zone, zone_source) = effective_zone(input.lead_time_zone.as_deref(), input.account_zone);
    let window = channel_window(&input.window, input.channel)?;
    let spacing = TimeDelta::from_std(input.spacing).map_err(|_| {
        StageError::invalid_input(format!("spacing of {:?} is too large", input.spacing))
    })?;

    let due = add_local_days(zone, input.delay_from, input.delay_days).map_err(scheduling_error)?;
    let earliest = due.max(input.not_before);
    let send_at = staggered_slot(&window, zone, earliest, input.send_index, spacing)
        .map_err(scheduling_error)?;
    Ok(ScheduledSend {
        send_at,
        local_time: send_at.with_timezone(&zone).to_rfc3339(),
        time_zone: zone.name().to_owned(),
        zone_source,
    })
}

/// Returns the campaign window as it applies to `channel`. Text messages never
/// go out in quiet hours, so their window is narrowed to 08:00 to 21:00 local
/// time.
pub fn channel_window(
    window: &SendingWindow,
    channel: Channel,
) -> Result<SendingWindow, StageError> {
    if channel == Channel::Email {
        return Ok(window.clone());
    }
    let allowed_start = u8::try_from(QUIET_HOURS_END_HOUR).unwrap_or(8);
    let allowed_end = u8::try_from(QUIET_HOURS_START_HOUR).unwrap_or(21);
    let narrowed = SendingWindow {
        weekdays: window.weekdays.clone(),
        start_hour: window.start_hour.max(allowed_start),
        end_hour: window.end_hour.min(allowed_end),
    };
    if narrowed.start_hour >= narrowed.end_hour {
        return Err(StageError::invalid_input(format!(
            "sending window {:02}:00 to {:02}:00 lies entirely in quiet hours for {channel}: \
             allow some time between {allowed_start:02}:00 and {allowed_end:02}:00",
            window.start_hour, window.end_hour
        )));
    }
    Ok(narrowed)
}

fn scheduling_error(error: SchedulingError) -> StageError {
    match error {
        SchedulingError::NoSlot { .. } => StageError::permanent(error.to_string()),
        _ => StageError::invalid_input(error.to_string()),
    }
}

/// Rule-based scheduler stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scheduler;

#[async_trait]
impl Stage for Scheduler {
    type Input = ScheduleInput;
    type Output = ScheduledSend;

    fn name(&self) -> &'static str {
        "scheduler"
    }

    fn input_summary(&self, input: &ScheduleInput) -> String {
        format!(
            "lead {}: {}, delay {} days, send index {}, spacing {} s, lead zone {}",
            input.lead_id,
            input.channel,
            input.delay_days,
            input.send_index,
            input.spacing.as_secs(),
            if input.lead_time_zone.is_some() {
                "set"
            } else {
                "unset"
            },
        )
    }

    async fn run(&self, input: ScheduleInput) -> Result<ScheduledSend, StageError> {
        plan_send(&input)
    }
}
