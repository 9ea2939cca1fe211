//! Campaign definitions: steps, sending window and tone.

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use crate::{Channel, Tone};

/// Maximum number of steps in one campaign sequence.
pub const MAX_STEPS: usize = 10;
/// Maximum delay between two steps, in days.
pub const MAX_STEP_DELAY_DAYS: u32 = 90;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    #[error("a campaign needs 1 to {MAX_STEPS} steps, got {0}")]
    StepCount(usize),
    #[error("step {step}: delay_days {days} is over the maximum of {MAX_STEP_DELAY_DAYS}")]
    DelayTooLong { step: usize, days: u32 },
    #[error("sending window: start_hour {start} must be before end_hour {end}, both 0 to 24")]
    WindowHours { start: u8, end: u8 },
    #[error("sending window: at least one weekday is required")]
    NoWeekdays,
    #[error("campaign name must be 1 to 200 characters")]
    Name,
    #[error("unknown time zone {0:?}: use an IANA name such as Europe/London")]
    TimeZone(String),
}

/// One step of a sequence: which channel, and how many days after the previous
/// step (the first step's delay counts from launch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepSpec {
    pub channel: Channel,
    pub delay_days: u32,
}

/// Days and local hours during which messages may be sent, applied in each
/// lead's time zone. Hours are `[start_hour, end_hour)` in local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingWindow {
    pub weekdays: Vec<Weekday>,
    pub start_hour: u8,
    pub end_hour: u8,
}

impl Default for SendingWindow {
    /// Monday to Friday, 09:00 to 17:00 local time.
    fn default() -> Self {
        Self {
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start_hour: 9,
            end_hour: 17,
        }
    }
}

impl SendingWindow {
    pub fn validate(&self) -> Result<(), CampaignError> {
        if self.weekdays.is_empty() {
            return Err(CampaignError::NoWeekdays);
        }
        if self.start_hour >= self.end_hour || self.end_hour > 24 {
            return Err(CampaignError::WindowHours {
                start: self.start_hour,
                end: self.end_hour,
            });
        }
        Ok(())
    }
}

/// A campaign as created by a user, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSpec {
    pub name: String,
    pub tone: Tone,
    pub window: SendingWindow,
    pub steps: Vec<StepSpec>,
}

impl CampaignSpec {
    pub fn validate(&self) -> Result<(), CampaignError> {
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > 200 {
            return Err(CampaignError::Name);
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(CampaignError::StepCount(self.steps.len()));
        }
        for (index, step) in self.steps.iter().enumerate() {
            if step.delay_days > MAX_STEP_DELAY_DAYS {
                return Err(CampaignError::DelayTooLong {
                    step: index + 1,
                    days: step.delay_days,
                });
            }
        }
        self.window.validate()
    }
}

/// Parses an IANA time zone name.
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, CampaignError> {
    name.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| CampaignError::TimeZone(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(steps: usize) -> CampaignSpec {
        CampaignSpec {
            name: "Q1 revival".into(),
            tone: Tone::Friendly,
            window: SendingWindow::default(),
            steps: (0..steps)
                .map(|_| StepSpec {
                    channel: Channel::Email,
                    delay_days: 3,
                })
                .collect(),
        }
    }

    #[test]
    fn step_count_is_bounded() {
        assert!(spec(10).validate().is_ok());
        assert_eq!(spec(11).validate(), Err(CampaignError::StepCount(11)));
        assert_eq!(spec(0).validate(), Err(CampaignError::StepCount(0)));
    }

    #[test]
    fn window_hours_are_checked() {
        let mut bad = spec(1);
        bad.window.start_hour = 18;
        assert!(matches!(
            bad.validate(),
            Err(CampaignError::WindowHours { .. })
        ));
    }
}
