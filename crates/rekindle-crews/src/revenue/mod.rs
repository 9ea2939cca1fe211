//! The revenue and conversion crew. For a positive reply it proposes meeting
//! times from the user's working hours, drafts the reply that offers them
//! and builds the meeting record. It also reports the funnel per campaign,
//! step and variant.

mod funnel;
mod reply_draft;
mod slots;

use chrono::NaiveTime;
use rekindle_domain::ReplyLabel;

pub use funnel::{
    CampaignFunnel, FunnelCounts, FunnelFigures, FunnelRates, FunnelRow, StepFunnel, VariantFunnel,
    funnel_report,
};
pub use reply_draft::{
    MeetingReply, MeetingReplyInput, ProposedMeeting, draft_meeting_reply, is_positive,
};
pub use slots::{
    BusyInterval, MAX_HORIZON_DAYS, MAX_MEETING_MINUTES, MAX_SLOTS, MIN_MEETING_MINUTES,
    ProposedSlot, SlotRequest, SlotSettings, WorkingHours, propose_slots,
};

/// Invalid input to the revenue crew, or no time to propose.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevenueError {
    #[error(
        "reply label {0} is not positive: meeting times answer only interested and meeting_request replies"
    )]
    NotPositive(ReplyLabel),
    #[error("working hours need at least one weekday")]
    NoWorkingDays,
    #[error(
        "working hours {start} to {end} are invalid: the start must be before the end on the same day"
    )]
    WorkingHours { start: NaiveTime, end: NaiveTime },
    #[error(
        "meeting length of {minutes} minutes is invalid: use whole minutes from \
         {MIN_MEETING_MINUTES} to {MAX_MEETING_MINUTES} that fit in the working day"
    )]
    Duration { minutes: i64 },
    #[error("slot grid of {minutes} minutes is invalid: use a positive length such as 30 minutes")]
    Grid { minutes: i64 },
    #[error("slot count {0} is invalid: propose 1 to {MAX_SLOTS} slots")]
    SlotCount(usize),
    #[error("search horizon of {0} days is invalid: use 1 to {MAX_HORIZON_DAYS} days")]
    Horizon(u32),
    #[error("minimum notice must not be negative")]
    NegativeNotice,
    #[error("lead's day {start} to {end} is invalid: the start must be before the end")]
    LeadDay { start: NaiveTime, end: NaiveTime },
    #[error("busy interval {index} ends before it starts")]
    BusyInterval { index: usize },
    #[error(
        "no free slot within {horizon_days} days: widen the working hours, shorten the notice \
         or look further ahead"
    )]
    NoFreeSlot { horizon_days: u32 },
    #[error("sender name is missing: set the sender identity of the account")]
    MissingSenderName,
    #[error("the meeting reply does not fit in {max_chars} characters: shorten the sender name")]
    TextTooLong { max_chars: usize },
}
