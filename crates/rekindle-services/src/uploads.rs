//! Imports of uploaded files. The API stores the upload in the upload
//! directory, creates the import record and enqueues an `import_file` job in one
//! transaction, and returns 202. A worker then imports the file and deletes it.
//! In a fleet, the upload directory must be shared by the API and worker hosts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use rekindle_domain::{AccountId, ImportId, ImportStatus};
use rekindle_import::ImportOptions;
use rekindle_store::{Actor, ImportCounts, ImportDetails, NewJob, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::import::{ImportRequest, run_import, start_import};
use crate::jobs::unique_key;
use crate::{App, ServiceError};

/// Job that imports an uploaded file.
pub const IMPORT_FILE_JOB: &str = "import_file";

/// Options of an upload, as the user gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadOptions {
    /// A single character, or `tab`.
    pub delimiter: Option<String>,
    pub encoding: Option<String>,
    /// ISO 3166 region for phone numbers without a country code.
    pub region: Option<String>,
    /// Column header to lead field, as `--map` takes them.
    pub mapping: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportFilePayload {
    pub import_id: ImportId,
    pub path: PathBuf,
    pub file_name: String,
    pub actor: Actor,
    pub options: UploadOptions,
}

/// Creates the import and enqueues its job in the caller's transaction.
pub async fn queue_upload(
    app: &App,
    tx: &mut dyn TenantTx,
    actor: &Actor,
    payload: &ImportFilePayload,
) -> Result<(), ServiceError> {
    let now = Utc::now();
    start_import(tx, actor, payload.import_id, &payload.file_name).await?;
    let mut job = NewJob::now(IMPORT_FILE_JOB, json!(payload));
    job.max_attempts = app.settings.max_attempts;
    job.unique_key = Some(unique_key(
        tx.account_id(),
        IMPORT_FILE_JOB,
        payload.import_id,
    ));
    tx.enqueue_job(&job, now).await?;
    Ok(())
}

/// Runs an `import_file` job.
pub async fn import_file(
    app: &App,
    account: AccountId,
    payload: ImportFilePayload,
) -> Result<(), ServiceError> {
    let options = import_options(&payload.options)?;
    let file = match std::fs::File::open(&payload.path) {
        Ok(file) => file,
        Err(error) => {
            tracing::error!(account_id = %account, import_id = %payload.import_id, %error, "uploaded file is missing");
            return fail_missing(app, account, payload.import_id).await;
        }
    };
    let request = ImportRequest {
        file_name: payload.file_name.clone(),
        options,
        bytes_read: None,
    };
    let summary = run_import(
        app,
        account,
        &payload.actor,
        payload.import_id,
        file,
        request,
    )
    .await?;
    if let Err(error) = std::fs::remove_file(&payload.path) {
        tracing::warn!(account_id = %account, import_id = %payload.import_id, %error, "could not delete the imported upload");
    }
    tracing::info!(account_id = %account, import_id = %payload.import_id, status = %summary.status, "uploaded file imported");
    Ok(())
}

/// Turns upload options into parser options; an invalid one fails the job at once.
pub fn import_options(options: &UploadOptions) -> Result<ImportOptions, ServiceError> {
    let delimiter = match options.delimiter.as_deref() {
        None => None,
        Some("tab") | Some("\\t") => Some(b'\t'),
        Some(text) if text.len() == 1 => Some(text.as_bytes()[0]),
        Some(text) => {
            return Err(ServiceError::Invalid(format!(
                "delimiter {text:?} must be one character, or `tab`"
            )));
        }
    };
    Ok(ImportOptions {
        default_region: options.region.clone(),
        encoding: options.encoding.clone(),
        delimiter,
        mapping: options.mapping.clone(),
        ..ImportOptions::default()
    })
}

async fn fail_missing(
    app: &App,
    account: AccountId,
    import_id: ImportId,
) -> Result<(), ServiceError> {
    let mut tx = app.store.begin(account).await?;
    let details = ImportDetails {
        error: Some("the uploaded file was not found on the worker; upload it again".into()),
        ..ImportDetails::default()
    };
    tx.update_import(
        import_id,
        ImportStatus::Failed,
        &ImportCounts::default(),
        &details,
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
