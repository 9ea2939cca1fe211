//! Integration tests of the CSV import, compiled into one test binary.

mod fixtures;
mod generate;
mod limits;
mod mapping;
mod rows;
mod sniffing;

use rekindle_import::{AcceptedRow, ImportOptions, ImportReader, ImportRecord, RowIssue};

/// Opens `bytes` and collects every record, failing the test on a file-level
/// error.
pub fn import(bytes: &[u8], options: ImportOptions) -> Vec<ImportRecord> {
    let reader = ImportReader::open(bytes, options).expect("open the import");
    reader
        .collect::<Result<Vec<_>, _>>()
        .expect("read every record")
}

pub fn import_text(text: &str) -> Vec<ImportRecord> {
    import(text.as_bytes(), ImportOptions::default())
}

pub fn accepted(record: &ImportRecord) -> &AcceptedRow {
    record.accepted().unwrap_or_else(|| {
        panic!(
            "record {} was rejected: {:?}",
            record.record_number, record.outcome
        )
    })
}

pub fn rejection(record: &ImportRecord) -> &RowIssue {
    record
        .rejection()
        .unwrap_or_else(|| panic!("record {} was accepted", record.record_number))
}

/// Warnings of an accepted row as `(field, reason)` pairs.
pub fn warning_pairs(row: &AcceptedRow) -> Vec<(String, String)> {
    row.warnings
        .iter()
        .map(|issue| (issue.field.clone(), issue.reason.to_string()))
        .collect()
}
