//! Twilio message statuses and their order.

use std::fmt;

/// Status of a Twilio message, from the `MessageStatus` parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TwilioMessageStatus {
    /// Accepted by a Messaging Service, before a sender is chosen.
    Accepted,
    /// Scheduled to be sent later.
    Scheduled,
    /// A scheduled message that was cancelled before sending.
    Canceled,
    Queued,
    Sending,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    /// Read by the recipient (WhatsApp and other channels with read receipts).
    Read,
    /// Some parts of a multi-part message were delivered.
    PartiallyDelivered,
    /// An inbound message that is being received.
    Receiving,
    /// An inbound message that was received.
    Received,
    /// A value this crate does not know.
    Other(String),
}

impl TwilioMessageStatus {
    /// Parses a status as Twilio writes it. Unknown values become
    /// [`TwilioMessageStatus::Other`].
    pub fn parse(text: &str) -> Self {
        match text {
            "accepted" => Self::Accepted,
            "scheduled" => Self::Scheduled,
            "canceled" => Self::Canceled,
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "undelivered" => Self::Undelivered,
            "failed" => Self::Failed,
            "read" => Self::Read,
            "partially_delivered" => Self::PartiallyDelivered,
            "receiving" => Self::Receiving,
            "received" => Self::Received,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Returns the status as Twilio writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Accepted => "accepted",
            Self::Scheduled => "scheduled",
            Self::Canceled => "canceled",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Read => "read",
            Self::PartiallyDelivered => "partially_delivered",
            Self::Receiving => "receiving",
            Self::Received => "received",
            Self::Other(text) => text,
        }
    }

    /// Returns the position of an outbound status in delivery order, so a
    /// callback is applied only when its rank is higher than the stored one.
    /// Callbacks arrive out of order and are retried, so this keeps a late `sent`
    /// from overwriting `delivered`.
    ///
    /// | rank | statuses |
    /// | --- | --- |
    /// | 0 | accepted, scheduled, the inbound statuses receiving and received, unknown values |
    /// | 1 | queued |
    /// | 2 | sending |
    /// | 3 | sent |
    /// | 4 | delivered, undelivered, failed, partially_delivered, canceled (final outcomes) |
    /// | 5 | read |
    ///
    /// Outcomes of rank 4 share a rank, so none replaces another. `read` outranks
    /// them all, because Twilio reports it after `delivered`. A `read` after
    /// `failed` would therefore be applied, although Twilio does not send one.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Accepted | Self::Scheduled => 0,
            Self::Receiving | Self::Received | Self::Other(_) => 0,
            Self::Queued => 1,
            Self::Sending => 2,
            Self::Sent => 3,
            Self::Delivered
            | Self::Undelivered
            | Self::Failed
            | Self::PartiallyDelivered
            | Self::Canceled => 4,
            Self::Read => 5,
        }
    }
}

/// Returns the rank of `status` in delivery order, as [`TwilioMessageStatus::rank`] does.
pub fn rank(status: &TwilioMessageStatus) -> u8 {
    status.rank()
}

impl fmt::Display for TwilioMessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_follows_delivery_order() {
        let order = ["queued", "sending", "sent", "delivered", "read"];
        for pair in order.windows(2) {
            let earlier = TwilioMessageStatus::parse(pair[0]);
            let later = TwilioMessageStatus::parse(pair[1]);
            assert!(
                rank(&earlier) < rank(&later),
                "{earlier} should rank below {later}"
            );
        }
    }

    #[test]
    fn final_outcomes_share_a_rank() {
        let delivered = TwilioMessageStatus::Delivered.rank();
        assert_eq!(TwilioMessageStatus::Undelivered.rank(), delivered);
        assert_eq!(TwilioMessageStatus::Failed.rank(), delivered);
        assert!(TwilioMessageStatus::Sent.rank() < delivered);
    }

    #[test]
    fn unknown_status_ranks_lowest() {
        let status = TwilioMessageStatus::parse("teleported");
        assert_eq!(status, TwilioMessageStatus::Other("teleported".to_owned()));
        assert_eq!(status.rank(), 0);
        assert_eq!(status.as_str(), "teleported");
    }

    #[test]
    fn parse_round_trips() {
        for text in [
            "accepted",
            "scheduled",
            "canceled",
            "queued",
            "sending",
            "sent",
            "delivered",
            "undelivered",
            "failed",
            "read",
            "partially_delivered",
            "receiving",
            "received",
        ] {
            let status = TwilioMessageStatus::parse(text);
            assert!(!matches!(status, TwilioMessageStatus::Other(_)), "{text}");
            assert_eq!(status.as_str(), text);
        }
    }
}
