//! The synthetic export generator.

use std::collections::HashSet;

use rekindle_import::{ImportOptions, write_synthetic_csv};

use crate::import;

fn generate(rows: u64, seed: u64) -> (Vec<u8>, rekindle_import::SyntheticSummary) {
    let mut bytes = Vec::new();
    let summary = write_synthetic_csv(&mut bytes, rows, seed).expect("write to memory");
    (bytes, summary)
}

#[test]
fn same_seed_same_bytes() {
    let (first, _) = generate(500, 7);
    let (second, _) = generate(500, 7);
    let (other, _) = generate(500, 8);
    assert_eq!(first, second);
    assert_ne!(first, other);
}

#[test]
fn import_matches_summary() {
    let (bytes, summary) = generate(2_000, 42);
    assert_eq!(summary.rows, 2_000);
    assert!(summary.invalid_rows > 0, "{summary:?}");
    assert!(summary.duplicate_rows > 0, "{summary:?}");

    let records = import(&bytes, ImportOptions::default());
    assert_eq!(records.len() as u64, summary.rows);

    let rejected = records
        .iter()
        .filter(|record| record.rejection().is_some())
        .count();
    assert_eq!(rejected as u64, summary.invalid_rows);

    let emails: Vec<String> = records
        .iter()
        .filter_map(|record| record.accepted())
        .filter_map(|row| {
            row.fields
                .email
                .as_ref()
                .map(|email| email.as_str().to_owned())
        })
        .collect();
    let distinct: HashSet<&String> = emails.iter().collect();
    assert_eq!(
        (emails.len() - distinct.len()) as u64,
        summary.duplicate_rows
    );
}

#[test]
fn generated_rows_have_quirks() {
    let (bytes, _) = generate(2_000, 3);
    let text = String::from_utf8(bytes).expect("UTF-8 output");
    assert!(text.starts_with("Record ID,First Name,Last Name,Email"));
    assert!(text.contains("\"Met at SaaStr Europa.\nWants a case study from logistics.\""));
    assert!(text.contains("\"Verdemar Logística, S.L.\""));
    assert!(text.contains("@@"));
}
