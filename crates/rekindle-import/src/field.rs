//! The lead fields that a column can fill.

use std::fmt;

/// A field of `rekindle_domain::lead::LeadFields` that a column maps to, plus
/// `FullName`, a column that is split into first and last name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeadField {
    ExternalId,
    Email,
    Phone,
    FirstName,
    LastName,
    /// A whole name, split into first and last name when neither has a column
    /// value of its own.
    FullName,
    Company,
    JobTitle,
    Industry,
    Website,
    City,
    Country,
    TimeZone,
    Notes,
    CrmStatus,
    LastContactedAt,
    CrmCreatedAt,
    EngagementCount,
}

impl LeadField {
    pub const ALL: [LeadField; 18] = [
        LeadField::ExternalId,
        LeadField::Email,
        LeadField::Phone,
        LeadField::FirstName,
        LeadField::LastName,
        LeadField::FullName,
        LeadField::Company,
        LeadField::JobTitle,
        LeadField::Industry,
        LeadField::Website,
        LeadField::City,
        LeadField::Country,
        LeadField::TimeZone,
        LeadField::Notes,
        LeadField::CrmStatus,
        LeadField::LastContactedAt,
        LeadField::CrmCreatedAt,
        LeadField::EngagementCount,
    ];

    /// Returns the snake_case name, as in `LeadFields` (`full_name` for
    /// `FullName`).
    pub fn as_str(self) -> &'static str {
        match self {
            LeadField::ExternalId => "external_id",
            LeadField::Email => "email",
            LeadField::Phone => "phone",
            LeadField::FirstName => "first_name",
            LeadField::LastName => "last_name",
            LeadField::FullName => "full_name",
            LeadField::Company => "company",
            LeadField::JobTitle => "job_title",
            LeadField::Industry => "industry",
            LeadField::Website => "website",
            LeadField::City => "city",
            LeadField::Country => "country",
            LeadField::TimeZone => "time_zone",
            LeadField::Notes => "notes",
            LeadField::CrmStatus => "crm_status",
            LeadField::LastContactedAt => "last_contacted_at",
            LeadField::CrmCreatedAt => "crm_created_at",
            LeadField::EngagementCount => "engagement_count",
        }
    }

    /// Finds a field by name, ignoring case, spaces and punctuation, so that
    /// `first_name`, `First Name` and `firstname` all match.
    pub fn from_name(name: &str) -> Option<LeadField> {
        let wanted = crate::headers::normalize_header(name);
        LeadField::ALL
            .into_iter()
            .find(|field| crate::headers::normalize_header(field.as_str()) == wanted)
    }

    /// Position in `ALL`, for per-field tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for LeadField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_position_in_all() {
        for (position, field) in LeadField::ALL.into_iter().enumerate() {
            assert_eq!(field.index(), position, "{field}");
        }
    }

    #[test]
    fn from_name_accepts_spellings() {
        assert_eq!(
            LeadField::from_name("first_name"),
            Some(LeadField::FirstName)
        );
        assert_eq!(
            LeadField::from_name("First Name"),
            Some(LeadField::FirstName)
        );
        assert_eq!(LeadField::from_name("EMAIL"), Some(LeadField::Email));
        assert_eq!(LeadField::from_name("salary"), None);
    }
}
