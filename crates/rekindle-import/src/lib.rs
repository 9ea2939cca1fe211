//! Streaming parser and validator for lead CSV exports from CRMs and
//! spreadsheets.
//!
//! [`ImportReader`] reads any `std::io::Read`. It removes a byte-order mark,
//! detects the encoding (UTF-8, else Windows-1252) and the delimiter (`,` `;`
//! tab `|`), and maps the header's columns to lead fields. It then yields one
//! [`ImportRecord`] per data record, with the accepted [`LeadFields`] or the
//! reason for rejecting the record. Finding duplicates across records and
//! storing leads are the caller's work.
//!
//! ```
//! use rekindle_import::{ImportOptions, ImportReader, RecordOutcome};
//!
//! let csv = "email,first_name\nada@example.com,Ada\nnot-an-email,Bob\n";
//! let reader = ImportReader::open(csv.as_bytes(), ImportOptions::default()).unwrap();
//! let outcomes: Vec<bool> = reader
//!     .map(|record| matches!(record.unwrap().outcome, RecordOutcome::Accepted(_)))
//!     .collect();
//! assert_eq!(outcomes, vec![true, false]);
//! ```
//!
//! [`LeadFields`]: rekindle_domain::lead::LeadFields

mod aliases;
mod custom;
mod dates;
mod error;
mod field;
mod generate;
mod headers;
mod limits;
mod lines;
mod options;
mod outcome;
mod reader;
mod row;
mod sniff;
mod source;
mod values;

pub use encoding_rs::Encoding;

pub use error::ImportError;
pub use field::LeadField;
pub use generate::{SyntheticSummary, write_synthetic_csv};
pub use headers::{ColumnMapping, ColumnTarget, MappingOrigin, normalize_header};
pub use limits::ImportLimits;
pub use options::{DateOrder, ImportOptions};
pub use outcome::{AcceptedRow, ImportRecord, IssueReason, RecordOutcome, RowIssue};
pub use reader::ImportReader;
pub use sniff::{DELIMITER_CANDIDATES, Detection, SourceFormat};
