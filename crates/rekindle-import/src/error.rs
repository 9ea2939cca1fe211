//! File-level errors: problems that stop the whole import, as opposed to a
//! rejected row, which is reported and skipped.

use std::io;

/// A failure that stops an import before it starts or while it runs.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "unknown encoding {label:?}: use an encoding label such as \"utf-8\" or \"windows-1252\", or leave the encoding unset to detect it"
    )]
    UnknownEncoding { label: String },

    #[error(
        "invalid delimiter {delimiter:?}: use one ASCII character other than a quote or a line break, such as ',', ';', '|' or a tab"
    )]
    InvalidDelimiter { delimiter: char },

    #[error(
        "unknown default region {region:?}: use a two-letter ISO 3166 code such as \"GB\" or \"DE\""
    )]
    UnknownRegion { region: String },

    #[error(
        "mapping override names column {column:?}, which is not in the header: use one of the header's column names ({available})"
    )]
    UnknownOverrideColumn { column: String, available: String },

    #[error(
        "mapping override for column {column:?} has unknown target {target:?}: use a lead field name ({fields}), \"custom\", \"signal\", \"signal:<kind>\" or \"ignore\""
    )]
    UnknownOverrideTarget {
        column: String,
        target: String,
        fields: String,
    },

    #[error(
        "file too large: it is longer than the limit of {max_bytes} bytes; split the file or raise limits.max_file_bytes"
    )]
    FileTooLarge { max_bytes: u64 },

    #[error("the file is empty: expected a header line with column names")]
    MissingHeader,

    #[error(
        "too many columns: the header has {count}, the limit is {max}; remove unused columns or raise limits.max_columns"
    )]
    TooManyColumns { count: usize, max: usize },

    #[error(
        "the header has no email or phone column (columns: {columns}); name a column \"Email\" or \"Phone\", or map one with the mapping override (on the command line: --map \"COLUMN=email\")"
    )]
    MissingContactColumn { columns: String },

    #[error(
        "the record starting at line {line} is longer than {max_bytes} bytes; an unclosed quote is the usual cause: close it, or raise limits.max_record_bytes"
    )]
    RecordTooLarge { line: u64, max_bytes: u64 },

    #[error(
        "too many records: the file has more than {max}; split the file or raise limits.max_records"
    )]
    TooManyRecords { max: u64 },

    #[error("failed to read the file: {0}")]
    Io(#[source] io::Error),

    #[error("malformed CSV: {0}")]
    Csv(#[source] csv::Error),
}
