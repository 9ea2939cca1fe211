//! Lead import: streams a CSV file through the parser and stores it in batches.
//!
//! Parsing runs on a blocking thread and hands records over a bounded channel,
//! so memory stays bounded by the batch size whatever the file size. Each batch
//! is one transaction: its leads, its report rows, the import's running counts
//! and an audit entry commit together, so a failure never leaves half a batch.
//!
//! De-duplication, by normalised email (or by E.164 phone for rows without an
//! email):
//! - a second record with the same contact in the same file is reported as a
//!   duplicate of the first one, which wins;
//! - a record matching a lead that an earlier import or the API created is
//!   merged into it: existing values are kept, blank fields are filled from the
//!   file, new custom fields are added within the limits, the later
//!   `last_contacted_at` and the larger engagement count win.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{AccountId, ContactKind, ImportId, ImportRowOutcome, ImportStatus, LeadId};
use rekindle_import::{AcceptedRow, ImportOptions, ImportReader, ImportRecord, RecordOutcome};
use rekindle_store::{
    Actor, AuditRecord, ImportCounts, ImportDetails, ImportRowReport, Lead, NewJob, NewLead,
    TenantTx,
};
use serde_json::json;
use tokio::sync::mpsc;

use crate::{App, ServiceError};

/// Records stored per transaction.
pub const BATCH_SIZE: usize = 500;

/// Job that scores the leads of a finished import.
pub const SCORE_IMPORT_JOB: &str = "score_import";

pub struct ImportRequest {
    pub file_name: String,
    pub options: ImportOptions,
    /// Bytes read from the source so far, for a progress bar.
    pub bytes_read: Option<Arc<AtomicU64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub import_id: ImportId,
    pub status: ImportStatus,
    pub counts: ImportCounts,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    /// File-level error that stopped the import; rows stored before it stay.
    pub error: Option<String>,
}

enum Parsed {
    Format { encoding: String, delimiter: String },
    Record(Box<ImportRecord>),
    Failed(rekindle_import::ImportError),
}

/// Imports a CSV stream into `account`.
pub async fn import_csv<R: Read + Send + 'static>(
    app: &App,
    account: AccountId,
    actor: &Actor,
    source: R,
    request: ImportRequest,
) -> Result<ImportSummary, ServiceError> {
    let import_id = ImportId::new();
    let mut tx = app.store.begin(account).await?;
    start_import(&mut *tx, actor, import_id, &request.file_name).await?;
    tx.commit().await?;
    run_import(app, account, actor, import_id, source, request).await
}

/// Creates the import record and its audit entry, in the caller's transaction.
pub async fn start_import(
    tx: &mut dyn TenantTx,
    actor: &Actor,
    import_id: ImportId,
    file_name: &str,
) -> Result<(), ServiceError> {
    tx.create_import(import_id, file_name, Utc::now()).await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "import.start",
            "import",
            Some(import_id.to_string()),
        )
        .with_changes(json!({ "file_name": file_name })),
        Utc::now(),
    )
    .await?;
    Ok(())
}

/// Reads and stores the records of an import created by `start_import`.
pub async fn run_import<R: Read + Send + 'static>(
    app: &App,
    account: AccountId,
    actor: &Actor,
    import_id: ImportId,
    source: R,
    request: ImportRequest,
) -> Result<ImportSummary, ServiceError> {
    tracing::info!(account_id = %account, import_id = %import_id, "import started");
    let receiver = spawn_parser(source, request.options, request.bytes_read);
    let outcome = store_records(app, account, actor, import_id, receiver).await;
    finish_import(app, account, actor, import_id, outcome).await
}

fn spawn_parser<R: Read + Send + 'static>(
    source: R,
    options: ImportOptions,
    bytes_read: Option<Arc<AtomicU64>>,
) -> mpsc::Receiver<Parsed> {
    let (sender, receiver) = mpsc::channel(BATCH_SIZE * 2);
    tokio::task::spawn_blocking(move || {
        let source = CountingReader {
            inner: source,
            count: bytes_read,
        };
        let reader = match ImportReader::open(source, options) {
            Ok(reader) => reader,
            Err(error) => {
                let _ = sender.blocking_send(Parsed::Failed(error));
                return;
            }
        };
        let format = reader.format();
        let _ = sender.blocking_send(Parsed::Format {
            encoding: format.encoding.name().to_owned(),
            delimiter: delimiter_name(format.delimiter),
        });
        for record in reader {
            let message = match record {
                Ok(record) => Parsed::Record(Box::new(record)),
                Err(error) => Parsed::Failed(error),
            };
            let stop = matches!(message, Parsed::Failed(_));
            if sender.blocking_send(message).is_err() || stop {
                return;
            }
        }
    });
    receiver
}

fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".to_owned(),
        other => (other as char).to_string(),
    }
}

struct CountingReader<R> {
    inner: R,
    count: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        if let Some(count) = &self.count {
            count.fetch_add(read as u64, Ordering::Relaxed);
        }
        Ok(read)
    }
}

struct StoreOutcome {
    counts: ImportCounts,
    details: ImportDetails,
}

async fn store_records(
    app: &App,
    account: AccountId,
    actor: &Actor,
    import_id: ImportId,
    mut receiver: mpsc::Receiver<Parsed>,
) -> Result<StoreOutcome, (StoreOutcome, ServiceError)> {
    let mut outcome = StoreOutcome {
        counts: ImportCounts::default(),
        details: ImportDetails::default(),
    };
    let mut batch = Vec::with_capacity(BATCH_SIZE);

    loop {
        let next = receiver.recv().await;
        let (file_error, done) = match next {
            Some(Parsed::Format {
                encoding,
                delimiter,
            }) => {
                outcome.details.encoding = Some(encoding);
                outcome.details.delimiter = Some(delimiter);
                continue;
            }
            Some(Parsed::Record(record)) => {
                batch.push(*record);
                if batch.len() < BATCH_SIZE {
                    continue;
                }
                (None, false)
            }
            Some(Parsed::Failed(error)) => (Some(error), true),
            None => (None, true),
        };

        if !batch.is_empty() {
            let records = std::mem::take(&mut batch);
            if let Err(error) =
                store_batch(app, account, actor, import_id, &records, &mut outcome).await
            {
                return Err((outcome, error));
            }
        }
        if let Some(error) = file_error {
            return Err((outcome, error.into()));
        }
        if done {
            return Ok(outcome);
        }
    }
}

async fn store_batch(
    app: &App,
    account: AccountId,
    actor: &Actor,
    import_id: ImportId,
    records: &[ImportRecord],
    outcome: &mut StoreOutcome,
) -> Result<(), ServiceError> {
    let mut counts = outcome.counts;
    let mut tx = app.store.begin(account).await?;
    let mut batch = BatchContext::load(&mut *tx, records).await?;
    let mut reports = Vec::new();

    for record in records {
        counts.records += 1;
        match &record.outcome {
            RecordOutcome::Rejected(issue) => {
                counts.rejected += 1;
                reports.push(report(
                    record,
                    ImportRowOutcome::Rejected,
                    Some(issue.field.clone()),
                    issue.reason.to_string(),
                ));
            }
            RecordOutcome::Accepted(row) => {
                store_row(
                    &mut *tx,
                    import_id,
                    record,
                    row,
                    &mut batch,
                    &mut counts,
                    &mut reports,
                )
                .await?;
            }
        }
    }

    tx.insert_leads(&batch.new_leads, Utc::now()).await?;
    tx.insert_signals(&batch.signals, Utc::now()).await?;
    tx.insert_import_rows(import_id, &reports).await?;
    tx.update_import(
        import_id,
        ImportStatus::Running,
        &counts,
        &outcome.details,
        Utc::now(),
    )
    .await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "import.batch",
            "import",
            Some(import_id.to_string()),
        )
        .with_changes(json!({
            "records": counts.records - outcome.counts.records,
            "imported": counts.imported - outcome.counts.imported,
            "merged": counts.merged - outcome.counts.merged,
        })),
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    outcome.counts = counts;
    Ok(())
}

/// Existing account data that one import batch is checked against.
struct BatchContext {
    existing: HashMap<String, Lead>,
    suppressed: std::collections::HashSet<String>,
    /// Contact key to the identifier of the record that first stored it in this batch.
    stored_here: HashMap<String, Option<String>>,
    /// New leads and signals, inserted together at the end of the batch.
    new_leads: Vec<NewLead>,
    signals: Vec<(LeadId, rekindle_domain::lead::SignalInput)>,
}

impl BatchContext {
    async fn load(tx: &mut dyn TenantTx, records: &[ImportRecord]) -> Result<Self, ServiceError> {
        let mut emails = Vec::new();
        let mut phones = Vec::new();
        // Rows are matched by phone only when they have no email, so only those
        // phones are looked up as lead keys; every phone is checked for suppression.
        let mut phones_without_email = Vec::new();
        for record in records {
            if let RecordOutcome::Accepted(row) = &record.outcome {
                if let Some(email) = &row.fields.email {
                    emails.push(email.as_str().to_owned());
                }
                if let Some(phone) = &row.fields.phone {
                    phones.push(phone.as_str().to_owned());
                    if row.fields.email.is_none() {
                        phones_without_email.push(phone.as_str().to_owned());
                    }
                }
            }
        }
        for list in [&mut emails, &mut phones, &mut phones_without_email] {
            list.sort();
            list.dedup();
        }

        let mut existing = HashMap::new();
        for lead in tx.find_leads_by_emails(&emails).await? {
            if let Some(email) = &lead.fields.email {
                existing.insert(format!("email:{}", email.as_str()), lead);
            }
        }
        for lead in tx.find_leads_by_phones(&phones_without_email).await? {
            if let Some(phone) = &lead.fields.phone {
                existing
                    .entry(format!("phone:{}", phone.as_str()))
                    .or_insert(lead);
            }
        }
        let mut suppressed = std::collections::HashSet::new();
        for email in tx.suppressed_values(ContactKind::Email, &emails).await? {
            suppressed.insert(format!("email:{email}"));
        }
        for phone in tx.suppressed_values(ContactKind::Phone, &phones).await? {
            suppressed.insert(format!("phone:{phone}"));
        }
        Ok(Self {
            existing,
            suppressed,
            stored_here: HashMap::new(),
            new_leads: Vec::new(),
            signals: Vec::new(),
        })
    }
}

fn contact_key(fields: &LeadFields) -> Option<String> {
    match (&fields.email, &fields.phone) {
        (Some(email), _) => Some(format!("email:{}", email.as_str())),
        (None, Some(phone)) => Some(format!("phone:{}", phone.as_str())),
        (None, None) => None,
    }
}

fn is_suppressed(fields: &LeadFields, suppressed: &std::collections::HashSet<String>) -> bool {
    let email = fields
        .email
        .as_ref()
        .map(|e| format!("email:{}", e.as_str()));
    let phone = fields
        .phone
        .as_ref()
        .map(|p| format!("phone:{}", p.as_str()));
    [email, phone]
        .into_iter()
        .flatten()
        .any(|key| suppressed.contains(&key))
}

async fn store_row(
    tx: &mut dyn TenantTx,
    import_id: ImportId,
    record: &ImportRecord,
    row: &AcceptedRow,
    batch: &mut BatchContext,
    counts: &mut ImportCounts,
    reports: &mut Vec<ImportRowReport>,
) -> Result<(), ServiceError> {
    let Some(key) = contact_key(&row.fields) else {
        counts.rejected += 1;
        reports.push(report(
            record,
            ImportRowOutcome::Rejected,
            Some("email".into()),
            "missing email and phone".into(),
        ));
        return Ok(());
    };
    if is_suppressed(&row.fields, &batch.suppressed) {
        counts.suppressed += 1;
        reports.push(report(
            record,
            ImportRowOutcome::Suppressed,
            None,
            "contact is on the suppression list".into(),
        ));
        return Ok(());
    }
    if let Some(first) = batch.stored_here.get(&key) {
        counts.duplicates += 1;
        reports.push(duplicate_report(record, first.clone()));
        return Ok(());
    }

    let now = Utc::now();
    match batch.existing.get(&key) {
        Some(lead) if lead.import_id == Some(import_id) => {
            counts.duplicates += 1;
            reports.push(duplicate_report(record, lead.import_ref.clone()));
            return Ok(());
        }
        Some(lead) => {
            let merged = merge_fields(&lead.fields, &row.fields);
            tx.update_lead_fields(lead.id, &merged, now).await?;
            batch
                .signals
                .extend(row.signals.iter().map(|signal| (lead.id, signal.clone())));
            counts.merged += 1;
        }
        None => {
            let id = LeadId::new();
            batch.new_leads.push(NewLead {
                id,
                fields: row.fields.clone(),
                import_id: Some(import_id),
                import_ref: record.identifier.clone(),
            });
            batch
                .signals
                .extend(row.signals.iter().map(|signal| (id, signal.clone())));
            counts.imported += 1;
        }
    }

    batch.stored_here.insert(key, record.identifier.clone());
    if !row.warnings.is_empty() {
        counts.warnings += 1;
    }
    for warning in &row.warnings {
        reports.push(report(
            record,
            ImportRowOutcome::Warning,
            Some(warning.field.clone()),
            warning.reason.to_string(),
        ));
    }
    Ok(())
}

/// Merges an imported record into an existing lead: existing values are kept,
/// blanks are filled, and the most recent contact and largest engagement win.
pub fn merge_fields(existing: &LeadFields, imported: &LeadFields) -> LeadFields {
    fn fill(target: &mut Option<String>, source: &Option<String>) {
        if target.as_deref().is_none_or(|text| text.trim().is_empty()) {
            target.clone_from(source);
        }
    }

    let mut merged = existing.clone();
    fill(&mut merged.external_id, &imported.external_id);
    fill(&mut merged.first_name, &imported.first_name);
    fill(&mut merged.last_name, &imported.last_name);
    fill(&mut merged.company, &imported.company);
    fill(&mut merged.job_title, &imported.job_title);
    fill(&mut merged.industry, &imported.industry);
    fill(&mut merged.website, &imported.website);
    fill(&mut merged.city, &imported.city);
    fill(&mut merged.country, &imported.country);
    fill(&mut merged.time_zone, &imported.time_zone);
    fill(&mut merged.notes, &imported.notes);
    fill(&mut merged.crm_status, &imported.crm_status);
    if merged.email.is_none() {
        merged.email.clone_from(&imported.email);
    }
    if merged.phone.is_none() {
        merged.phone.clone_from(&imported.phone);
    }
    merged.last_contacted_at = merged.last_contacted_at.max(imported.last_contacted_at);
    merged.crm_created_at = merged.crm_created_at.or(imported.crm_created_at);
    merged.engagement_count = merged.engagement_count.max(imported.engagement_count);
    merged.custom_fields.merge_missing(&imported.custom_fields);
    merged
}

fn report(
    record: &ImportRecord,
    outcome: ImportRowOutcome,
    field: Option<String>,
    reason: String,
) -> ImportRowReport {
    ImportRowReport {
        record_number: record.record_number as i64,
        line: record.line as i64,
        identifier: record.identifier.clone(),
        outcome,
        field,
        reason,
        duplicate_of: None,
    }
}

fn duplicate_report(record: &ImportRecord, first: Option<String>) -> ImportRowReport {
    let mut row = report(
        record,
        ImportRowOutcome::Duplicate,
        Some("email".into()),
        "duplicate contact".into(),
    );
    row.duplicate_of = first;
    row
}

async fn finish_import(
    app: &App,
    account: AccountId,
    actor: &Actor,
    import_id: ImportId,
    outcome: Result<StoreOutcome, (StoreOutcome, ServiceError)>,
) -> Result<ImportSummary, ServiceError> {
    let (mut stored, error) = match outcome {
        Ok(stored) => (stored, None),
        Err((stored, error)) => (stored, Some(error)),
    };
    let status = if error.is_some() {
        ImportStatus::Failed
    } else {
        ImportStatus::Completed
    };
    stored.details.error = error.as_ref().map(ToString::to_string);

    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    tx.update_import(import_id, status, &stored.counts, &stored.details, now)
        .await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "import.finish",
            "import",
            Some(import_id.to_string()),
        )
        .with_changes(json!({ "status": status, "counts": stored.counts })),
        now,
    )
    .await?;
    if stored.counts.imported + stored.counts.merged > 0 {
        let mut job = NewJob::now(SCORE_IMPORT_JOB, json!({ "import_id": import_id }));
        job.unique_key = Some(format!("{account}:{SCORE_IMPORT_JOB}:{import_id}"));
        tx.enqueue_job(&job, now).await?;
    }
    tx.commit().await?;

    match &error {
        Some(error) => {
            tracing::warn!(account_id = %account, import_id = %import_id, %error, "import stopped")
        }
        None => {
            tracing::info!(account_id = %account, import_id = %import_id, records = stored.counts.records, "import finished")
        }
    }
    Ok(ImportSummary {
        import_id,
        status,
        counts: stored.counts,
        encoding: stored.details.encoding,
        delimiter: stored.details.delimiter,
        error: stored.details.error,
    })
}
