//! Row types of the optimization and funnel reports: A/B counts and
//! decisions per campaign step, sent messages with their outcome, and funnel
//! counts per step and variant.

use chrono::{DateTime, Utc};
use rekindle_domain::StepId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The A/B decision stored on a campaign step. A step keeps its first
/// decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAbDecision {
    /// The winning variant, `A` or `B`.
    pub winner: String,
    pub decided_at: DateTime<Utc>,
    /// The figures behind the decision (sends, positive replies, rates, z and
    /// p-value), as the optimizer serializes them.
    pub figures: Value,
}

/// Sends and positive replies of one step and variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbVariantCount {
    pub step_id: StepId,
    pub position: i32,
    pub variant: String,
    /// Messages sent, whatever happened to them after.
    pub sends: i64,
    /// Sent messages with at least one reply labelled `interested` or
    /// `meeting_request`.
    pub positive_replies: i64,
}

/// One sent message of a campaign and whether it earned a positive reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentMessageOutcome {
    pub personalisation_elements: Vec<String>,
    pub sent_at: DateTime<Utc>,
    /// The lead's own IANA time zone, when it has one.
    pub lead_time_zone: Option<String>,
    pub positive: bool,
}

/// Funnel counts of one step and variant. A message counts once at every
/// stage it reached. Replies, positive replies and meetings count messages
/// with at least one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepVariantFunnel {
    pub position: i32,
    pub variant: String,
    pub sent: i64,
    pub delivered: i64,
    pub opened: i64,
    pub clicked: i64,
    /// Messages with a reply other than an automatic one or a bounce.
    pub replied: i64,
    /// Messages with a reply labelled `interested` or `meeting_request`.
    pub positive: i64,
    /// Messages whose reply led to a confirmed or attended meeting.
    pub meetings: i64,
}
