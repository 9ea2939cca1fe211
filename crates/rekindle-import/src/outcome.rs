//! Import results for each record.

use std::fmt;

use rekindle_domain::lead::{LeadFields, SignalInput};

/// One data record of the file and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    /// 1-based number among data records. The header and blank lines are not
    /// counted.
    pub record_number: u64,
    /// 1-based physical line where the record starts in the file.
    pub line: u64,
    /// Identifier for reports: the external id if present, else the email cell
    /// as written, cut to 200 characters. `None` when both are empty.
    pub identifier: Option<String>,
    pub outcome: RecordOutcome,
}

/// An accepted lead, or the reason the record was rejected.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "most records are accepted, so boxing the row would add an allocation to the common case and save no memory"
)]
pub enum RecordOutcome {
    Accepted(AcceptedRow),
    Rejected(RowIssue),
}

/// A valid lead read from one record.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedRow {
    pub fields: LeadFields,
    pub signals: Vec<SignalInput>,
    /// Values that could not be used. The row is imported without them. A
    /// value that failed to parse is kept as a custom field if the bounds allow.
    pub warnings: Vec<RowIssue>,
}

/// A problem with one record: the reason for a rejection, or a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// The lead field (`"email"`, `"last_contacted_at"`), or the custom-field
    /// key or header of a column that maps to no lead field, or `"row"` for a
    /// problem with the record as a whole.
    pub field: String,
    /// Header of the column the problem is in, when it is in one column.
    pub column: Option<String>,
    pub reason: IssueReason,
}

/// Reason a value or record could not be used. `Display` gives the short text
/// used in reports ("invalid email").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueReason {
    InvalidEmail,
    InvalidPhone,
    /// A national phone number and no default region to complete it.
    NoCountryCode,
    MissingEmailAndPhone,
    InvalidDate,
    UnknownTimeZone,
    InvalidNumber,
    /// Text that is not valid in the file's encoding.
    InvalidText,
    FieldTooLong {
        max_chars: usize,
    },
    TooManyCustomFields {
        max_keys: usize,
    },
    CustomFieldsTooLarge {
        max_bytes: usize,
    },
    /// A custom-field key that `rekindle_domain::CustomFields` does not accept.
    InvalidCustomFieldKey,
    /// More non-empty fields than the header has columns, which usually means
    /// an unquoted delimiter inside a value.
    ExtraFields {
        fields: usize,
        columns: usize,
    },
}

impl fmt::Display for IssueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueReason::InvalidEmail => f.write_str("invalid email"),
            IssueReason::InvalidPhone => f.write_str("invalid phone"),
            IssueReason::NoCountryCode => f.write_str("no country code"),
            IssueReason::MissingEmailAndPhone => f.write_str("missing email and phone"),
            IssueReason::InvalidDate => f.write_str("invalid date"),
            IssueReason::UnknownTimeZone => f.write_str("unknown time zone"),
            IssueReason::InvalidNumber => f.write_str("invalid number"),
            IssueReason::InvalidText => f.write_str("invalid text for the file's encoding"),
            IssueReason::FieldTooLong { max_chars } => {
                write!(f, "longer than {max_chars} characters")
            }
            IssueReason::TooManyCustomFields { max_keys } => {
                write!(f, "more than {max_keys} custom fields")
            }
            IssueReason::CustomFieldsTooLarge { max_bytes } => {
                write!(f, "custom fields larger than {max_bytes} bytes")
            }
            IssueReason::InvalidCustomFieldKey => f.write_str("invalid custom field key"),
            IssueReason::ExtraFields { fields, columns } => {
                write!(f, "{fields} fields but the header has {columns} columns")
            }
        }
    }
}

impl ImportRecord {
    pub fn accepted(&self) -> Option<&AcceptedRow> {
        match &self.outcome {
            RecordOutcome::Accepted(row) => Some(row),
            RecordOutcome::Rejected(_) => None,
        }
    }

    pub fn rejection(&self) -> Option<&RowIssue> {
        match &self.outcome {
            RecordOutcome::Accepted(_) => None,
            RecordOutcome::Rejected(issue) => Some(issue),
        }
    }
}

impl RowIssue {
    pub(crate) fn new(field: impl Into<String>, column: Option<&str>, reason: IssueReason) -> Self {
        Self {
            field: field.into(),
            column: column.map(str::to_owned),
            reason,
        }
    }
}
