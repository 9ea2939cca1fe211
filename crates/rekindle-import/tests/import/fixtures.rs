//! The fixture exports, checked against `expected.json` and its rules: every
//! rejection, warning and exact value that parsing decides. Duplicates are the
//! caller's work, so both copies must parse as accepted rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rekindle_import::{
    ColumnTarget, Detection, ImportOptions, ImportRecord, LeadField, RecordOutcome,
};
use serde_json::Value;

use crate::{accepted, import, rejection};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn expected(file: &str) -> Value {
    let text = std::fs::read_to_string(fixture_path("expected.json")).expect("read expected.json");
    let all: Value = serde_json::from_str(&text).expect("parse expected.json");
    all[file].clone()
}

fn import_fixture(file: &str) -> (Vec<ImportRecord>, Value) {
    let expected = expected(file);
    let options = ImportOptions {
        default_region: expected["default_region"].as_str().map(str::to_owned),
        ..ImportOptions::default()
    };
    let bytes = std::fs::read(fixture_path(file)).expect("read fixture");
    (import(&bytes, options), expected)
}

/// Records keyed by their report identifier: the external id, else the email
/// cell as written.
fn by_identifier(records: &[ImportRecord]) -> BTreeMap<String, &ImportRecord> {
    records
        .iter()
        .map(|record| {
            let key = record
                .identifier
                .clone()
                .expect("every fixture row has an identifier");
            (key, record)
        })
        .collect()
}

/// Returns the key that an entry of `expected.json` uses for its record.
fn entry_key(entry: &Value) -> String {
    entry["record_id"]
        .as_str()
        .or_else(|| entry["email"].as_str())
        .expect("entry names a record")
        .to_owned()
}

fn check_rejections(records: &[ImportRecord], expected: &Value) {
    let actual: BTreeSet<(String, String, String)> = records
        .iter()
        .filter_map(|record| {
            let issue = record.rejection()?;
            let id = record.identifier.clone().unwrap_or_default();
            Some((id, issue.field.clone(), issue.reason.to_string()))
        })
        .collect();
    let wanted: BTreeSet<(String, String, String)> = expected["rejected"]
        .as_array()
        .expect("rejected list")
        .iter()
        .map(|entry| {
            let field = entry["field"].as_str().unwrap_or_default().to_owned();
            let reason = entry["reason"].as_str().unwrap_or_default().to_owned();
            (entry_key(entry), field, reason)
        })
        .collect();
    assert_eq!(actual, wanted);
}

fn check_warnings(records: &[ImportRecord], expected: &Value) {
    let actual: BTreeSet<(String, String, String)> = records
        .iter()
        .filter_map(|record| Some((record, record.accepted()?)))
        .flat_map(|(record, row)| {
            let id = record.identifier.clone().unwrap_or_default();
            row.warnings
                .iter()
                .map(move |issue| (id.clone(), issue.field.clone(), issue.reason.to_string()))
        })
        .collect();
    let wanted: BTreeSet<(String, String, String)> = expected["warnings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            let field = entry["field"].as_str().unwrap_or_default().to_owned();
            let reason = entry["reason"].as_str().unwrap_or_default().to_owned();
            (entry_key(entry), field, reason)
        })
        .collect();
    assert_eq!(actual, wanted);
}

fn check_exact_values(records: &[ImportRecord], expected: &Value) {
    let by_id = by_identifier(records);
    let exact = expected["exact_values"].as_object().expect("exact values");
    for (id, values) in exact {
        let record = by_id.get(id).unwrap_or_else(|| panic!("no record {id}"));
        let fields = serde_json::to_value(&accepted(record).fields).expect("serialise fields");
        for (name, wanted) in values.as_object().expect("value map") {
            assert_eq!(&fields[name], wanted, "record {id}, field {name}");
        }
    }
}

fn accepted_emails(records: &[ImportRecord]) -> Vec<String> {
    records
        .iter()
        .filter_map(ImportRecord::accepted)
        .filter_map(|row| {
            row.fields
                .email
                .as_ref()
                .map(|email| email.as_str().to_owned())
        })
        .collect()
}

#[test]
fn hubspot_rejections_warnings_values() {
    let (records, expected) = import_fixture("hubspot_contacts_bom_crlf.csv");
    check_rejections(&records, &expected);
    check_warnings(&records, &expected);
    check_exact_values(&records, &expected);
}

#[test]
fn hubspot_accepts_imported_and_duplicates() {
    let (records, expected) = import_fixture("hubspot_contacts_bom_crlf.csv");
    let accepted_ids: BTreeSet<String> = records
        .iter()
        .filter(|record| record.accepted().is_some())
        .filter_map(|record| record.identifier.clone())
        .collect();

    let mut wanted: BTreeSet<String> = expected["imported_record_ids"]
        .as_array()
        .expect("imported ids")
        .iter()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect();
    for duplicate in expected["duplicates"].as_array().expect("duplicates") {
        wanted.insert(entry_key(duplicate));
    }
    assert_eq!(accepted_ids, wanted);
}

#[test]
fn hubspot_duplicate_pair_shares_email() {
    let (records, expected) = import_fixture("hubspot_contacts_bom_crlf.csv");
    let by_id = by_identifier(&records);
    let pair = &expected["duplicates"][0];
    let duplicate = accepted(by_id[&entry_key(pair)]);
    let original_id = pair["duplicate_of"].as_str().expect("duplicate_of");
    let original = accepted(by_id[original_id]);

    assert!(duplicate.fields.email.is_some());
    assert_eq!(duplicate.fields.email, original.fields.email);
    assert_eq!(
        original.fields.email.as_ref().map(|email| email.as_str()),
        Some("tom.becker@fernweh-reisen.example")
    );
}

#[test]
fn hubspot_format_and_positions() {
    let bytes = std::fs::read(fixture_path("hubspot_contacts_bom_crlf.csv")).expect("read");
    let reader =
        rekindle_import::ImportReader::open(&bytes[..], ImportOptions::default()).expect("open");
    let format = *reader.format();
    assert_eq!(format.encoding, encoding_rs::UTF_8);
    assert!(format.byte_order_mark);
    assert_eq!(format.encoding_detection, Detection::ByteOrderMark);
    assert_eq!(format.delimiter, b',');
    assert_eq!(format.delimiter_detection, Detection::Sniffed);
    assert_eq!(reader.columns()[0].header, "Record ID");
    assert_eq!(
        reader.columns()[0].target,
        ColumnTarget::Field(LeadField::ExternalId)
    );

    let records: Vec<ImportRecord> = reader.map(|record| record.expect("record")).collect();
    let positions: Vec<(u64, u64)> = records
        .iter()
        .map(|record| (record.record_number, record.line))
        .collect();
    // Record 5103's notes hold a line break, so 5104 starts two lines later.
    let wanted = vec![
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 6),
        (5, 7),
        (6, 8),
        (7, 9),
        (8, 10),
        (9, 11),
        (10, 12),
    ];
    assert_eq!(positions, wanted);
}

#[test]
fn hubspot_status_dates_and_kept_columns() {
    let (records, _) = import_fixture("hubspot_contacts_bom_crlf.csv");
    let by_id = by_identifier(&records);
    let first = &accepted(by_id["5101"]).fields;

    // "Lead Status" wins over "Lifecycle Stage", which stays a custom field.
    assert_eq!(first.crm_status.as_deref(), Some("Unqualified"));
    assert_eq!(
        first.custom_fields.get("Lifecycle Stage"),
        Some("Opportunity")
    );
    assert_eq!(
        first.last_contacted_at.map(|time| time.to_rfc3339()),
        Some("2026-03-14T10:22:00+00:00".to_owned())
    );
    assert_eq!(
        first.crm_created_at.map(|time| time.to_rfc3339()),
        Some("2025-11-02T09:01:00+00:00".to_owned())
    );
    assert_eq!(first.external_id.as_deref(), Some("5101"));

    // A phone that could not be used is kept as text, not dropped.
    let becker = &accepted(by_id["5104"]).fields;
    assert_eq!(becker.phone, None);
    assert_eq!(
        becker.custom_fields.get("Phone Number"),
        Some("(089) 123456")
    );
}

#[test]
fn hubspot_invalid_email_names_column() {
    let (records, _) = import_fixture("hubspot_contacts_bom_crlf.csv");
    let by_id = by_identifier(&records);
    let issue = rejection(by_id["5106"]);
    assert_eq!(issue.column.as_deref(), Some("Email"));
    assert_eq!(by_id["5106"].line, 8);
}

#[test]
fn excel_de_rejections_values() {
    let (records, expected) = import_fixture("excel_de_semicolon.csv");
    check_rejections(&records, &expected);
    check_warnings(&records, &expected);
    check_exact_values(&records, &expected);
}

#[test]
fn excel_de_imported_emails() {
    let (records, expected) = import_fixture("excel_de_semicolon.csv");
    let wanted: Vec<String> = expected["imported_emails"]
        .as_array()
        .expect("imported emails")
        .iter()
        .filter_map(|email| email.as_str().map(str::to_owned))
        .collect();
    assert_eq!(accepted_emails(&records), wanted);
}

#[test]
fn excel_de_custom_fields_exact() {
    let (records, _) = import_fixture("excel_de_semicolon.csv");
    let anna = accepted(&records[0]);
    let keys: Vec<&str> = anna
        .fields
        .custom_fields
        .iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(keys, vec!["Umsatzpotenzial"]);
    assert_eq!(
        anna.fields.custom_fields.get("Umsatzpotenzial"),
        Some("12.500,00")
    );
    assert_eq!(
        anna.fields.notes.as_deref(),
        Some("Angebot im Februar; keine Rückmeldung")
    );
    assert_eq!(anna.fields.job_title.as_deref(), Some("Leiterin Vertrieb"));
}

#[test]
fn minimal_imported_emails_and_warnings() {
    let (records, expected) = import_fixture("minimal_seven_columns.csv");
    check_rejections(&records, &expected);
    check_warnings(&records, &expected);

    let wanted: Vec<String> = expected["imported_emails"]
        .as_array()
        .expect("imported emails")
        .iter()
        .filter_map(|email| email.as_str().map(str::to_owned))
        .collect();
    assert_eq!(accepted_emails(&records), wanted);
}

#[test]
fn minimal_text_kept_exactly() {
    let (records, _) = import_fixture("minimal_seven_columns.csv");
    let emma = accepted(&records[2]);
    assert_eq!(
        emma.fields.notes.as_deref(),
        Some("Said 'not now, maybe next year'")
    );
    assert!(matches!(records[2].outcome, RecordOutcome::Accepted(_)));
    assert_eq!(emma.fields.phone, None);
    assert!(emma.warnings.is_empty());
}
