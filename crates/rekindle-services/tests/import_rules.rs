//! Import rules beyond the fixtures: merging into existing leads, skipping
//! suppressed contacts, and batches larger than one transaction.

mod common;

use chrono::Utc;
use rekindle_domain::{ContactKind, ImportRowOutcome, SuppressionReason};
use rekindle_import::ImportOptions;
use rekindle_services::App;
use rekindle_services::import::{BATCH_SIZE, ImportRequest, ImportSummary, import_csv};
use rekindle_store::{Actor, LeadFilter, PageRequest};
use rekindle_store_conformance::{Harness, create_account};

on_both_backends!(
    second_import_merges_into_existing => check_merge,
    suppressed_contacts_are_skipped => check_suppressed,
    duplicates_across_batches_are_found => check_batches,
);

async fn import(app: &App, account: rekindle_domain::AccountId, csv: String) -> ImportSummary {
    let request = ImportRequest {
        file_name: "leads.csv".into(),
        options: ImportOptions::default(),
        bytes_read: None,
    };
    import_csv(
        app,
        account,
        &Actor::system("test"),
        std::io::Cursor::new(csv.into_bytes()),
        request,
    )
    .await
    .unwrap()
}

async fn check_merge(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Merge Ltd").await;

    let first = "email,first_name,company,notes\nava@north.example,Ava,,First note\n".to_owned();
    import(&app, account, first).await;
    let second = "email,first_name,company,job_title,notes,Budget\nAVA@north.example,Eva,North Ltd,CTO,Second note,50k\n".to_owned();
    let summary = import(&app, account, second).await;
    assert_eq!(summary.counts.merged, 1);
    assert_eq!(summary.counts.imported, 0);

    let mut tx = app.store.begin(account).await.unwrap();
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(leads.len(), 1);
    let fields = &leads[0].fields;
    assert_eq!(
        fields.first_name.as_deref(),
        Some("Ava"),
        "existing values win"
    );
    assert_eq!(fields.notes.as_deref(), Some("First note"));
    assert_eq!(
        fields.company.as_deref(),
        Some("North Ltd"),
        "blanks are filled"
    );
    assert_eq!(fields.job_title.as_deref(), Some("CTO"));
    assert_eq!(fields.custom_fields.get("Budget"), Some("50k"));
}

async fn check_suppressed(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Suppress Ltd").await;
    let mut tx = app.store.begin(account).await.unwrap();
    tx.add_suppression(
        ContactKind::Email,
        "gone@away.example",
        SuppressionReason::Unsubscribed,
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let csv = "email,first_name\ngone@away.example,Gone\nstay@here.example,Stay\n".to_owned();
    let summary = import(&app, account, csv).await;
    assert_eq!(summary.counts.suppressed, 1);
    assert_eq!(summary.counts.imported, 1);

    let mut tx = app.store.begin(account).await.unwrap();
    let rows = tx.list_import_rows(summary.import_id, 0, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, ImportRowOutcome::Suppressed);
    assert_eq!(rows[0].identifier.as_deref(), Some("gone@away.example"));
    let leads = tx
        .list_leads(&LeadFilter::default(), PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(leads.len(), 1);
}

async fn check_batches(harness: &Harness) {
    let dir = tempfile::tempdir().unwrap();
    let app = common::app(harness, dir.path().to_owned());
    let account = create_account(&*app.store, "Batch Ltd").await;

    // The duplicate of the first record comes in the third batch.
    let rows = BATCH_SIZE * 2 + 10;
    let mut csv = String::from("email,first_name\n");
    for index in 0..rows {
        csv.push_str(&format!("lead{index}@batch.example,Lead {index}\n"));
    }
    csv.push_str("LEAD0@batch.example,Again\n");
    let summary = import(&app, account, csv).await;
    assert_eq!(summary.counts.records as usize, rows + 1);
    assert_eq!(summary.counts.imported as usize, rows);
    assert_eq!(summary.counts.duplicates, 1);

    let mut tx = app.store.begin(account).await.unwrap();
    let report = tx.list_import_rows(summary.import_id, 0, 10).await.unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].record_number as usize, rows + 1);
    assert_eq!(
        report[0].duplicate_of.as_deref(),
        Some("lead0@batch.example")
    );
}
