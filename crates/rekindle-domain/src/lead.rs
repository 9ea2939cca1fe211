//! Lead values shared by the import, the crews and the store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CustomFields, Email, LeadId, LeadStatus, Phone, Tier};

/// The fields of a lead, as imported or entered. Every lead has an email or a
/// phone number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadFields {
    /// Identifier of the lead in the CRM it came from (HubSpot "Record ID").
    pub external_id: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// IANA time zone name, such as `Europe/Berlin`.
    pub time_zone: Option<String>,
    pub notes: Option<String>,
    /// Stage or status the CRM gave the lead ("Closed lost", "Unqualified").
    pub crm_status: Option<String>,
    pub last_contacted_at: Option<DateTime<Utc>>,
    pub crm_created_at: Option<DateTime<Utc>>,
    /// Count of earlier engagements (opens, replies, meetings) in the CRM.
    pub engagement_count: Option<u32>,
    pub custom_fields: CustomFields,
}

/// A signal (trigger event) read from a lead's own data or an imported column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalInput {
    /// Short machine name: `funding`, `hiring`, `job_change`, `note_cue`.
    pub kind: String,
    pub summary: String,
    pub source: String,
}

/// A lead as the crews see it: stored fields plus the current score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadSnapshot {
    pub id: LeadId,
    pub fields: LeadFields,
    pub status: LeadStatus,
    pub score: Option<u8>,
    pub tier: Option<Tier>,
}

impl LeadFields {
    /// Display name for greetings: the first name, else the full name, else none.
    pub fn greeting_name(&self) -> Option<&str> {
        self.first_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
    }
}
