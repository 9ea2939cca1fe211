//! The CSV fixtures imported through the import service must give exactly the
//! results listed in `expected.json`, on both backends.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;

use rekindle_domain::ImportRowOutcome;
use rekindle_import::ImportOptions;
use rekindle_services::import::{ImportRequest, import_csv};
use rekindle_store::{Actor, ImportRowReport, Lead, LeadFilter, PageRequest};
use rekindle_store_conformance::{Harness, create_account};
use serde_json::Value;

on_both_backends!(
    hubspot => check_hubspot,
    excel_de => check_excel_de,
    minimal => check_minimal,
);

async fn check_hubspot(harness: &Harness) {
    check_fixture(harness, "hubspot_contacts_bom_crlf.csv").await;
}

async fn check_excel_de(harness: &Harness) {
    check_fixture(harness, "excel_de_semicolon.csv").await;
}

async fn check_minimal(harness: &Harness) {
    check_fixture(harness, "minimal_seven_columns.csv").await;
}

struct Imported {
    leads: Vec<Lead>,
    rows: Vec<ImportRowReport>,
}

async fn import_fixture(harness: &Harness, file: &str, region: Option<String>) -> Imported {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Fixture Ltd").await;
    let source = File::open(common::fixtures_dir().join(file)).unwrap();
    let request = ImportRequest {
        file_name: file.to_owned(),
        options: ImportOptions {
            default_region: region,
            ..ImportOptions::default()
        },
        bytes_read: None,
    };
    let summary = import_csv(&app, account, &Actor::system("test"), source, request)
        .await
        .unwrap();
    assert!(summary.error.is_none(), "{:?}", summary.error);

    let mut tx = app.store.begin(account).await.unwrap();
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::new(None, Some(200)))
        .await
        .unwrap()
        .items;
    let rows = tx
        .list_import_rows(summary.import_id, 0, 200)
        .await
        .unwrap();
    let import = tx.get_import(summary.import_id).await.unwrap().unwrap();
    assert_eq!(import.counts.imported as usize, leads.len());
    Imported { leads, rows }
}

fn rows_of(
    rows: &[ImportRowReport],
    outcome: ImportRowOutcome,
) -> BTreeSet<(String, String, String)> {
    rows.iter()
        .filter(|row| row.outcome == outcome)
        .map(|row| {
            (
                row.identifier.clone().unwrap_or_default(),
                row.field.clone().unwrap_or_default(),
                row.reason.clone(),
            )
        })
        .collect()
}

fn expected_issues(list: Option<&Value>, key: &str) -> BTreeSet<(String, String, String)> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    (
                        item[key].as_str().unwrap().to_owned(),
                        item["field"].as_str().unwrap().to_owned(),
                        item["reason"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn lead_value(lead: &Lead, field: &str) -> Value {
    let f = &lead.fields;
    let text = |value: &Option<String>| value.clone().map(Value::String).unwrap_or(Value::Null);
    match field {
        "first_name" => text(&f.first_name),
        "last_name" => text(&f.last_name),
        "company" => text(&f.company),
        "job_title" => text(&f.job_title),
        "notes" => text(&f.notes),
        "email" => text(&f.email.as_ref().map(|e| e.as_str().to_owned())),
        "phone" => text(&f.phone.as_ref().map(|p| p.as_str().to_owned())),
        "custom_fields" => serde_json::to_value(&f.custom_fields).unwrap(),
        other => panic!("expected.json names an unknown field {other}"),
    }
}

async fn check_fixture(harness: &Harness, file: &str) {
    let expected: Value =
        serde_json::from_reader(File::open(common::fixtures_dir().join("expected.json")).unwrap())
            .unwrap();
    let expected = &expected[file];
    let region = expected["default_region"].as_str().map(str::to_owned);
    let imported = import_fixture(harness, file, region).await;

    // Records are keyed by the file's CRM id when it has one, else by email.
    let by_record_id = expected.get("imported_record_ids").is_some();
    let key = if by_record_id { "record_id" } else { "email" };
    let lead_key = |lead: &Lead| -> String {
        if by_record_id {
            lead.import_ref.clone().unwrap_or_default()
        } else {
            lead.fields
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default()
        }
    };

    let imported_keys: BTreeSet<String> = imported.leads.iter().map(lead_key).collect();
    let list_name = if by_record_id {
        "imported_record_ids"
    } else {
        "imported_emails"
    };
    let expected_keys: BTreeSet<String> = expected[list_name]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(imported_keys, expected_keys, "imported records of {file}");

    assert_eq!(
        rows_of(&imported.rows, ImportRowOutcome::Rejected),
        expected_issues(expected.get("rejected"), key),
        "rejected rows of {file}"
    );
    assert_eq!(
        rows_of(&imported.rows, ImportRowOutcome::Warning),
        expected_issues(expected.get("warnings"), key),
        "warnings of {file}"
    );

    let duplicates: BTreeMap<String, String> = imported
        .rows
        .iter()
        .filter(|row| row.outcome == ImportRowOutcome::Duplicate)
        .map(|row| {
            (
                row.identifier.clone().unwrap_or_default(),
                row.duplicate_of.clone().unwrap_or_default(),
            )
        })
        .collect();
    let expected_duplicates: BTreeMap<String, String> = expected
        .get("duplicates")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|d| {
                    (
                        d["record_id"].as_str().unwrap().to_owned(),
                        d["duplicate_of"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(duplicates, expected_duplicates, "duplicates of {file}");

    if let Some(exact) = expected.get("exact_values").and_then(Value::as_object) {
        for (record, fields) in exact {
            let lead = imported
                .leads
                .iter()
                .find(|lead| lead_key(lead) == *record)
                .unwrap_or_else(|| panic!("{record} not imported"));
            for (field, value) in fields.as_object().unwrap() {
                let actual = lead_value(lead, field);
                if field == "custom_fields" {
                    for (custom_key, custom_value) in value.as_object().unwrap() {
                        assert_eq!(
                            &actual[custom_key], custom_value,
                            "{file} {record} custom field {custom_key}"
                        );
                    }
                } else {
                    assert_eq!(&actual, value, "{file} {record} {field}");
                }
            }
        }
    }
}
