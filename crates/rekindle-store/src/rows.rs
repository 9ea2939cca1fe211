//! Row types: what the repositories take and return.

use chrono::{DateTime, NaiveDate, Utc};
use rekindle_domain::campaign::{SendingWindow, StepSpec};
use rekindle_domain::lead::{LeadFields, SignalInput};
use rekindle_domain::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAccount {
    pub name: String,
    pub sender_name: String,
    pub sender_email: String,
    /// Postal address printed in every email (CAN-SPAM).
    pub postal_address: String,
    /// IANA time zone used for leads without one.
    pub time_zone: String,
    /// Average contract value in minor units (pence) of `currency`.
    pub acv_minor: i64,
    pub currency: String,
    pub plan: Plan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub sender_name: String,
    pub sender_email: String,
    pub postal_address: String,
    pub time_zone: String,
    pub acv_minor: i64,
    pub currency: String,
    pub plan: Plan,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: LeadId,
    pub account_id: AccountId,
    pub fields: LeadFields,
    pub status: LeadStatus,
    pub score: Option<u8>,
    pub tier: Option<Tier>,
    pub score_reasons: Value,
    pub import_id: Option<ImportId>,
    /// The identifier of the import record that created the lead, for reports.
    pub import_ref: Option<String>,
    /// Points added to (or taken from) the score when ranking, for the lead's
    /// match with the account's ideal customer profile; 0 without a profile.
    pub icp_adjustment: i32,
    /// The reason for the adjustment, such as "matches the ideal customer
    /// profile of 25 won deals on industry software".
    pub icp_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Lead {
    /// Returns the score used for ranking: the score plus the profile
    /// adjustment, within 0 to 100. `None` for an unscored lead.
    pub fn ranked_score(&self) -> Option<u8> {
        self.score
            .map(|score| (i32::from(score) + self.icp_adjustment).clamp(0, 100) as u8)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLead {
    pub id: LeadId,
    pub fields: LeadFields,
    pub import_id: Option<ImportId>,
    pub import_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub id: SignalId,
    pub lead_id: LeadId,
    pub input: SignalInput,
    pub created_at: DateTime<Utc>,
}

/// Order of a lead list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LeadOrder {
    /// Oldest first (ids are UUIDv7).
    #[default]
    Created,
    /// Highest ranked score (score plus profile adjustment) first, unscored
    /// leads last, ties by newest id.
    ScoreDesc,
}

/// Filters for listing leads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadFilter {
    pub tier: Option<Tier>,
    pub status: Option<LeadStatus>,
    pub import_id: Option<ImportId>,
    /// Case-insensitive text found in the email, name, company or CRM id.
    pub search: Option<String>,
    pub order: LeadOrder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    pub id: ImportId,
    pub file_name: String,
    pub status: ImportStatus,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub counts: ImportCounts,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Running totals of an import. Every record lands in exactly one of `imported`,
/// `merged`, `duplicates`, `rejected` and `suppressed`; `warnings` counts rows
/// that were stored with a warning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub records: i64,
    pub imported: i64,
    pub merged: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub suppressed: i64,
    pub warnings: i64,
}

/// One line of an import report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowReport {
    pub record_number: i64,
    pub line: i64,
    /// The file's own identifier of the record: its CRM id, else its email.
    pub identifier: Option<String>,
    pub outcome: ImportRowOutcome,
    pub field: Option<String>,
    pub reason: String,
    /// For duplicates, the identifier of the record or lead that was kept.
    pub duplicate_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub tone: Tone,
    pub window: SendingWindow,
    /// Whether emails carry the open pixel and tracked links.
    pub tracking: bool,
    /// While active, the dormant-lead scan enrolls idle leads into it.
    pub takes_dormant_leads: bool,
    pub created_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: StepId,
    pub campaign_id: CampaignId,
    /// 1-based position in the sequence.
    pub position: i32,
    pub spec: StepSpec,
    /// The step's A/B decision, once one is made.
    pub ab_decision: Option<crate::optimization::StepAbDecision>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    pub id: EnrollmentId,
    pub campaign_id: CampaignId,
    pub lead_id: LeadId,
    pub status: EnrollmentStatus,
    /// Position of the last step scheduled, 0 before the first.
    pub current_step: i32,
    pub next_run_at: Option<DateTime<Utc>>,
    pub stop_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub id: MessageId,
    pub campaign_id: CampaignId,
    pub step_id: StepId,
    pub enrollment_id: EnrollmentId,
    pub lead_id: LeadId,
    pub channel: Channel,
    /// A/B variant of the subject line, `A` or `B`.
    pub variant: String,
    pub subject: Option<String>,
    /// The other variant's subject, which an A/B decision for that variant
    /// swaps in while the message is still scheduled.
    pub alternate_subject: Option<String>,
    /// Personalisation element keys of the message, such as `fact:company`.
    pub personalisation_elements: Vec<String>,
    pub body: String,
    pub to_address: String,
    /// RFC 5322 Message-ID, without angle brackets.
    pub rfc_message_id: String,
    pub scheduled_at: DateTime<Utc>,
    /// Sending identity chosen by the throttle; `None` sends from the
    /// account's own sender address.
    pub sending_identity_id: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub campaign_id: CampaignId,
    pub step_id: StepId,
    pub enrollment_id: EnrollmentId,
    pub lead_id: LeadId,
    pub channel: Channel,
    pub status: MessageStatus,
    pub variant: String,
    pub subject: Option<String>,
    /// The other A/B variant's subject, for an email.
    pub alternate_subject: Option<String>,
    /// Personalisation element keys, such as `fact:company`.
    pub personalisation_elements: Vec<String>,
    pub body: String,
    pub to_address: String,
    pub rfc_message_id: String,
    pub provider_message_id: Option<String>,
    pub scheduled_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub sending_identity_id: Option<uuid::Uuid>,
}

/// A send that counts against the throttle's caps: planned or made, on one
/// channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSend {
    /// `None` for a send from the account's own sender address.
    pub sending_identity_id: Option<uuid::Uuid>,
    pub to_address: String,
    /// Send time, or the planned time while the message waits.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReply {
    pub lead_id: LeadId,
    pub message_id: Option<MessageId>,
    pub channel: Channel,
    pub from_address: String,
    pub subject: Option<String>,
    pub body: String,
    pub label: ReplyLabel,
    pub objection: Option<ObjectionKind>,
    pub return_date: Option<NaiveDate>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: ReplyId,
    pub lead_id: LeadId,
    pub message_id: Option<MessageId>,
    pub channel: Channel,
    pub label: ReplyLabel,
    pub objection: Option<ObjectionKind>,
    pub return_date: Option<NaiveDate>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    /// At most one queued or running job exists per unique key; enqueueing a
    /// second one is a no-op.
    pub unique_key: Option<String>,
}

impl NewJob {
    pub fn now(kind: &str, payload: Value) -> Self {
        Self {
            kind: kind.to_owned(),
            payload,
            run_at: Utc::now(),
            max_attempts: 5,
            unique_key: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub account_id: Option<AccountId>,
    pub kind: String,
    pub payload: Value,
    pub status: JobStatus,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub error_class: Option<ErrorClass>,
}

/// Next state of a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRetry {
    At(DateTime<Utc>),
    Dead,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCrewRun {
    pub id: CrewRunId,
    pub crew: String,
    pub campaign_id: Option<CampaignId>,
    /// The campaign step the run prepared, 1-based; `None` outside campaigns.
    pub step_position: Option<i32>,
    pub leads_total: i32,
    pub started_at: DateTime<Utc>,
}

/// A stored crew run with totals over its stage runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrewRun {
    pub id: CrewRunId,
    /// `reactivation` or `reply_classification`.
    pub crew: String,
    pub campaign_id: Option<CampaignId>,
    pub step_position: Option<i32>,
    pub status: RunStatus,
    pub leads_total: i32,
    pub leads_failed: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// LLM tokens of all its stage runs.
    pub tokens: i64,
    /// Stage runs that used the offline implementation instead of the LLM.
    pub fallbacks: i64,
}

/// Filters for listing crew runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrewRunFilter {
    pub campaign_id: Option<CampaignId>,
    pub status: Option<RunStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewStageRun {
    pub crew_run_id: CrewRunId,
    pub lead_id: Option<LeadId>,
    pub stage: String,
    pub status: RunStatus,
    pub input_summary: String,
    pub output: Value,
    pub duration_ms: i64,
    pub tokens: i64,
    pub error_class: Option<ErrorClass>,
    pub error: Option<String>,
    /// Stable reason the stage used its offline implementation instead of
    /// the LLM, such as `budget_exceeded`; `None` when it did not.
    pub fallback: Option<String>,
    /// The fallback's cause in words, for the operator.
    pub fallback_detail: Option<String>,
}

/// The output of a stage a lead passed, read to resume the lead from the
/// stage it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageOutput {
    pub lead_id: LeadId,
    pub stage: String,
    pub output: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRun {
    pub id: StageRunId,
    pub crew_run_id: CrewRunId,
    pub lead_id: Option<LeadId>,
    pub stage: String,
    pub status: RunStatus,
    pub input_summary: String,
    pub duration_ms: i64,
    pub tokens: i64,
    pub error_class: Option<ErrorClass>,
    pub error: Option<String>,
    pub fallback: Option<String>,
    pub fallback_detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Actor behind an audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// User id, API key id, or the name of the system component.
    pub id: String,
}

impl Actor {
    pub fn system(component: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: component.to_owned(),
        }
    }
}

/// An audit entry to append. Never put secrets or message bodies in `changes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub actor: Actor,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub changes: Value,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl AuditRecord {
    pub fn new(actor: Actor, action: &str, target_type: &str, target_id: Option<String>) -> Self {
        Self {
            actor,
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id,
            changes: Value::Null,
            ip: None,
            request_id: None,
        }
    }

    pub fn with_changes(mut self, changes: Value) -> Self {
        self.changes = changes;
        self
    }
}

/// A stored audit entry, as read back for verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub account_id: AccountId,
    pub seq: i64,
    pub record: AuditRecord,
    pub created_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

/// The newest entry of an account's audit chain, kept on the account row so that
/// deleting the last entries is detected too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub account_id: AccountId,
    pub seq: i64,
    pub hash: String,
}

/// Counts for the reactivation funnel, computed in the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funnel {
    pub leads: i64,
    pub enrolled: i64,
    pub scheduled: i64,
    pub sent: i64,
    pub delivered: i64,
    pub opened: i64,
    pub clicked: i64,
    pub replied: i64,
    pub positive: i64,
    pub opted_out: i64,
    pub meetings: i64,
}

/// Messages per campaign step and status, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCount {
    pub position: i32,
    pub channel: Channel,
    pub status: MessageStatus,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAlert {
    pub account_id: Option<AccountId>,
    pub severity: AlertSeverity,
    pub kind: String,
    pub message: String,
}

/// Account settings a user can change. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub sender_name: Option<String>,
    pub sender_email: Option<String>,
    pub postal_address: Option<String>,
    pub time_zone: Option<String>,
    pub acv_minor: Option<i64>,
    pub currency: Option<String>,
    pub plan: Option<Plan>,
}

/// A suppressed email address or phone number. `account_id` is `None` for a
/// global suppression, which applies to every account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: SuppressionId,
    pub account_id: Option<AccountId>,
    pub kind: ContactKind,
    pub value: String,
    pub reason: SuppressionReason,
    pub created_at: DateTime<Utc>,
}

/// Campaign fields that can change while the campaign is a draft.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignChanges {
    pub name: Option<String>,
    pub tone: Option<Tone>,
    pub window: Option<SendingWindow>,
    /// Switches open and click tracking of the campaign's emails.
    pub tracking: Option<bool>,
    pub takes_dormant_leads: Option<bool>,
}

/// Messages per campaign step, A/B variant and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantCount {
    pub position: i32,
    pub variant: String,
    pub status: MessageStatus,
    pub count: i64,
}

/// A meeting to store: proposed to a lead, with the times offered and the
/// reply drafted for the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMeeting {
    pub id: MeetingId,
    pub lead_id: LeadId,
    pub reply_id: Option<ReplyId>,
    pub status: MeetingStatus,
    pub duration_minutes: i32,
    /// The slots offered, as the crew proposed them (a JSON array).
    pub proposed_slots: serde_json::Value,
    pub draft_subject: Option<String>,
    pub draft_body: Option<String>,
}

/// A stored meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: MeetingId,
    pub lead_id: LeadId,
    pub reply_id: Option<ReplyId>,
    pub status: MeetingStatus,
    pub starts_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    pub proposed_slots: serde_json::Value,
    pub draft_subject: Option<String>,
    pub draft_body: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A dead job deleted for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscardedJob {
    pub id: JobId,
    /// `None` for a system job that belongs to no account.
    pub account_id: Option<AccountId>,
}

/// A stored alert, as operators read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub account_id: Option<AccountId>,
    pub severity: AlertSeverity,
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// A mailbox or phone number the account sends from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingIdentityRow {
    pub id: uuid::Uuid,
    pub channel: Channel,
    /// Email address or E.164 number.
    pub address: String,
    pub display_name: Option<String>,
    /// Sends per UTC hour; the account default when `None`.
    pub hourly_cap: Option<u32>,
    /// Sends per UTC day; the account default when `None`.
    pub daily_cap: Option<u32>,
    /// First day of the warm-up ramp.
    pub warm_up_start: NaiveDate,
    pub paused: bool,
    pub created_at: DateTime<Utc>,
}

/// Changes to a sending identity; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingIdentityChanges {
    pub display_name: Option<String>,
    pub hourly_cap: Option<u32>,
    pub daily_cap: Option<u32>,
    pub paused: Option<bool>,
}

/// The result of reserving LLM budget for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiReservation {
    Reserved,
    /// The reservation would pass the limit; nothing was reserved.
    /// `committed_nano_usd` is the day's cost plus open reservations.
    Exceeded {
        committed_nano_usd: i64,
    },
}

/// One account's LLM spending on one UTC day. Amounts are nano-dollars
/// (10^-9 USD).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiDailySpend {
    pub cost_nano_usd: i64,
    /// Reserved by calls in flight.
    pub reserved_nano_usd: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Finished requests, failed ones included.
    pub calls: i64,
}

/// Usage of one finished LLM request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAiUsage {
    pub provider: String,
    pub model: String,
    /// Agent role: `writer`, `researcher` or `classifier`.
    pub operation: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_nano_usd: i64,
}

/// The ideal customer profile of an account as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpProfileRow {
    /// Won deals it was derived from.
    pub won_deals: i32,
    /// The profile (`rekindle_crews::icp::IdealCustomerProfile` as JSON).
    pub profile: Value,
    pub derived_at: DateTime<Utc>,
}

/// A lead's ranking against the ideal customer profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcpRanking {
    pub lead_id: LeadId,
    pub adjustment: i32,
    pub reason: Option<String>,
}

/// Times between which a lead's last activity must fall for the dormant-lead
/// scan: after `active_after` and no later than `active_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleWindow {
    pub active_after: DateTime<Utc>,
    pub active_before: DateTime<Utc>,
}

/// A lead's new score, for `TenantTx::set_lead_scores`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadScoreUpdate {
    pub lead_id: LeadId,
    pub score: u8,
    pub tier: Tier,
    pub reasons: Value,
}

/// An enrollment's new state, for `TenantTx::update_enrollments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentUpdate {
    pub id: EnrollmentId,
    pub status: EnrollmentStatus,
    pub current_step: i32,
    pub next_run_at: Option<DateTime<Utc>>,
    pub stop_reason: Option<String>,
}
