//! Every status vocabulary, defined once. The database migrations mirror each list
//! in a CHECK constraint, and a test in each backend compares the two.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Error for a string that is not in a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {vocabulary} {value:?}: expected one of {expected}")]
pub struct UnknownVariant {
    pub vocabulary: &'static str,
    pub value: String,
    pub expected: String,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $label:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the stored and serialised form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant {
                        vocabulary: $label,
                        value: s.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

vocabulary!(
    /// A user's role inside an account.
    UserRole, "user role" {
        Owner => "owner",
        Admin => "admin",
        Member => "member",
    }
);

vocabulary!(
    /// The plan an account pays for.
    Plan, "plan" {
        Starter => "starter",
        Pro => "pro",
        Enterprise => "enterprise",
    }
);

vocabulary!(
    /// Position of a lead in the reactivation flow.
    LeadStatus, "lead status" {
        Dormant => "dormant",
        Active => "active",
        Replied => "replied",
        Meeting => "meeting",
        Won => "won",
        Lost => "lost",
        Suppressed => "suppressed",
    }
);

vocabulary!(
    /// Score band of a lead: hot 80 to 100, warm 60 to 79, cold below 60.
    Tier, "tier" {
        Hot => "hot",
        Warm => "warm",
        Cold => "cold",
    }
);

impl Tier {
    pub fn from_score(score: u8) -> Self {
        match score {
            80.. => Tier::Hot,
            60..=79 => Tier::Warm,
            _ => Tier::Cold,
        }
    }
}

vocabulary!(
    /// Lifecycle of one CSV import.
    ImportStatus, "import status" {
        Pending => "pending",
        Running => "running",
        Completed => "completed",
        Failed => "failed",
    }
);

vocabulary!(
    /// Outcome of one CSV record in an import report.
    ImportRowOutcome, "import row outcome" {
        Rejected => "rejected",
        Duplicate => "duplicate",
        Warning => "warning",
        Suppressed => "suppressed",
    }
);

vocabulary!(
    /// Lifecycle of a campaign.
    CampaignStatus, "campaign status" {
        Draft => "draft",
        Launching => "launching",
        Active => "active",
        Paused => "paused",
        Completed => "completed",
        Archived => "archived",
    }
);

vocabulary!(
    /// Channel a message travels on.
    Channel, "channel" {
        Email => "email",
        Sms => "sms",
        Whatsapp => "whatsapp",
    }
);

vocabulary!(
    /// Tone the writer uses for a campaign.
    Tone, "tone" {
        Friendly => "friendly",
        Professional => "professional",
        Direct => "direct",
    }
);

vocabulary!(
    /// A lead's state inside one campaign.
    EnrollmentStatus, "enrollment status" {
        Pending => "pending",
        Active => "active",
        Paused => "paused",
        Replied => "replied",
        Completed => "completed",
        Stopped => "stopped",
        Failed => "failed",
    }
);

vocabulary!(
    /// Delivery state of a message. Statuses before `Replied` only move forward;
    /// the ones after it are terminal failures.
    MessageStatus, "message status" {
        Scheduled => "scheduled",
        Sending => "sending",
        Sent => "sent",
        Delivered => "delivered",
        Opened => "opened",
        Clicked => "clicked",
        Replied => "replied",
        Bounced => "bounced",
        Failed => "failed",
        Suppressed => "suppressed",
        Cancelled => "cancelled",
    }
);

impl MessageStatus {
    /// Position in the forward order, or `None` for a terminal failure.
    fn rank(self) -> Option<u8> {
        match self {
            MessageStatus::Scheduled => Some(0),
            MessageStatus::Sending => Some(1),
            MessageStatus::Sent => Some(2),
            MessageStatus::Delivered => Some(3),
            MessageStatus::Opened => Some(4),
            MessageStatus::Clicked => Some(5),
            MessageStatus::Replied => Some(6),
            _ => None,
        }
    }

    pub fn is_terminal_failure(self) -> bool {
        self.rank().is_none()
    }

    /// Checks whether a message in `self` may move to `next`. Late or duplicate provider
    /// events never move a status back, and a terminal failure never changes.
    /// A bounce can still follow `sent` or `delivered`, because providers report
    /// it after accepting the message.
    pub fn can_advance_to(self, next: MessageStatus) -> bool {
        match (self.rank(), next.rank()) {
            (None, _) => false,
            (Some(current), Some(target)) => target > current,
            (Some(current), None) => match next {
                MessageStatus::Bounced => current <= 3,
                MessageStatus::Failed | MessageStatus::Suppressed | MessageStatus::Cancelled => {
                    current <= 1
                }
                _ => false,
            },
        }
    }
}

vocabulary!(
    /// Kind of a provider event about a message.
    MessageEventKind, "message event kind" {
        Sent => "sent",
        Delivered => "delivered",
        Opened => "opened",
        Clicked => "clicked",
        Bounced => "bounced",
        Dropped => "dropped",
        SpamReport => "spam_report",
        Unsubscribed => "unsubscribed",
        Failed => "failed",
    }
);

vocabulary!(
    /// Label of a classified reply.
    ReplyLabel, "reply label" {
        MeetingRequest => "meeting_request",
        Interested => "interested",
        Question => "question",
        Objection => "objection",
        NotInterested => "not_interested",
        OptOut => "opt_out",
        OutOfOffice => "out_of_office",
        AutoReply => "auto_reply",
        Referral => "referral",
        Bounce => "bounce",
    }
);

vocabulary!(
    /// Kind of an objection reply.
    ObjectionKind, "objection kind" {
        Price => "price",
        Timing => "timing",
        Competitor => "competitor",
        Authority => "authority",
        Need => "need",
    }
);

vocabulary!(
    /// Reason a contact is suppressed.
    SuppressionReason, "suppression reason" {
        Unsubscribed => "unsubscribed",
        OptOutReply => "opt_out_reply",
        HardBounce => "hard_bounce",
        SpamComplaint => "spam_complaint",
        Manual => "manual",
        Import => "import",
    }
);

vocabulary!(
    /// Kind of contact a suppression or consent applies to.
    ContactKind, "contact kind" {
        Email => "email",
        Phone => "phone",
    }
);

vocabulary!(
    /// Lawful basis for contacting a lead.
    ConsentBasis, "consent basis" {
        Consent => "consent",
        LegitimateInterest => "legitimate_interest",
        Contract => "contract",
        Withdrawn => "withdrawn",
    }
);

vocabulary!(
    /// State of a calendar connection.
    CalendarConnectionStatus, "calendar connection status" {
        Active => "active",
        NeedsReconnect => "needs_reconnect",
        Revoked => "revoked",
    }
);

vocabulary!(
    /// State of a meeting.
    MeetingStatus, "meeting status" {
        Proposed => "proposed",
        Confirmed => "confirmed",
        Attended => "attended",
        NoShow => "no_show",
        Cancelled => "cancelled",
    }
);

vocabulary!(
    /// State of an invoice.
    InvoiceStatus, "invoice status" {
        Draft => "draft",
        Open => "open",
        Paid => "paid",
        Void => "void",
        Refunded => "refunded",
    }
);

vocabulary!(
    /// State of a background job.
    JobStatus, "job status" {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        Dead => "dead",
    }
);

vocabulary!(
    /// Class of an error, which decides whether and when work is retried.
    ErrorClass, "error class" {
        Transient => "transient",
        RateLimited => "rate_limited",
        Permanent => "permanent",
        InvalidInput => "invalid_input",
    }
);

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Transient | ErrorClass::RateLimited)
    }
}

vocabulary!(
    /// State of a crew run or of one stage in it.
    RunStatus, "run status" {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Skipped => "skipped",
    }
);

vocabulary!(
    /// Severity of a stored alert.
    AlertSeverity, "alert severity" {
        Info => "info",
        Warning => "warning",
        Critical => "critical",
    }
);

vocabulary!(
    /// Kind of actor behind an audited action.
    ActorKind, "actor kind" {
        User => "user",
        ApiKey => "api_key",
        System => "system",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_round_trips() {
        for status in MessageStatus::ALL {
            assert_eq!(status.as_str().parse::<MessageStatus>().unwrap(), *status);
        }
        let error = "shipped".parse::<MessageStatus>().unwrap_err();
        assert!(error.to_string().contains("shipped"));
    }

    #[test]
    fn message_status_moves_forward_only() {
        assert!(MessageStatus::Sent.can_advance_to(MessageStatus::Delivered));
        assert!(MessageStatus::Sent.can_advance_to(MessageStatus::Opened));
        assert!(!MessageStatus::Opened.can_advance_to(MessageStatus::Delivered));
        assert!(!MessageStatus::Delivered.can_advance_to(MessageStatus::Delivered));
        assert!(MessageStatus::Delivered.can_advance_to(MessageStatus::Bounced));
        assert!(!MessageStatus::Opened.can_advance_to(MessageStatus::Bounced));
        assert!(!MessageStatus::Bounced.can_advance_to(MessageStatus::Delivered));
        assert!(MessageStatus::Scheduled.can_advance_to(MessageStatus::Cancelled));
        assert!(!MessageStatus::Sent.can_advance_to(MessageStatus::Cancelled));
    }

    #[test]
    fn tier_boundaries() {
        assert_eq!(Tier::from_score(80), Tier::Hot);
        assert_eq!(Tier::from_score(79), Tier::Warm);
        assert_eq!(Tier::from_score(60), Tier::Warm);
        assert_eq!(Tier::from_score(59), Tier::Cold);
    }
}
