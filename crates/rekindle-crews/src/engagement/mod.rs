//! The engagement and follow-up crew, which works from a lead's actions
//! after the previous message.
//!
//! [`next_best_step`] chooses the next step. [`EngagementContext`] is what a
//! follow-up may refer to, and any [`MessageWriter`](crate::writer::MessageWriter)
//! receives it in [`WriterRequest::engagement`](crate::writer::WriterRequest::engagement).
//! [`follow_up_subject_variants`] writes the follow-up's subjects for an A/B
//! test.

mod activity;
mod context;
mod next_step;
mod subjects;

pub use activity::{EngagementInput, LastReply, LinkClick, PlannedStep, PreviousMessage};
pub use context::{ClickedLink, EngagementContext};
pub use next_step::{EngagementSettings, NextAction, NextStep, NextStepReason, next_best_step};
pub use subjects::{FollowUpSubjectInput, follow_up_subject_variants};
