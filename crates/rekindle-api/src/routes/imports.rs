//! CSV imports: upload (202 and an import id; a worker imports the file),
//! status, and the per-row report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_domain::ImportId;
use rekindle_services::uploads::{ImportFilePayload, UploadOptions, import_options, queue_upload};
use rekindle_store::{Import, ImportRowReport};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiQuery, PathId};
use crate::pagination::{PageOf, PageQuery};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    pub id: Uuid,
    pub file_name: String,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub records: i64,
    pub imported: i64,
    pub merged: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub suppressed: i64,
    pub warnings: i64,
    /// Reason the file stopped being read, if it did. Rows stored before it stay.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Import> for ImportView {
    fn from(import: Import) -> Self {
        Self {
            id: import.id.0,
            file_name: import.file_name,
            status: import.status.as_str().to_owned(),
            encoding: import.encoding,
            delimiter: import.delimiter,
            records: import.counts.records,
            imported: import.counts.imported,
            merged: import.counts.merged,
            duplicates: import.counts.duplicates,
            rejected: import.counts.rejected,
            suppressed: import.counts.suppressed,
            warnings: import.counts.warnings,
            error: import.error,
            created_at: import.created_at,
            finished_at: import.finished_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowView {
    /// 1 for the first record after the header.
    pub record_number: i64,
    pub line: i64,
    /// The record's CRM id, else its email.
    pub identifier: Option<String>,
    /// `imported`, `merged`, `duplicate`, `rejected`, `suppressed` or `warning`.
    pub outcome: String,
    pub field: Option<String>,
    pub reason: String,
    pub duplicate_of: Option<String>,
}

impl From<ImportRowReport> for RowView {
    fn from(row: ImportRowReport) -> Self {
        Self {
            record_number: row.record_number,
            line: row.line,
            identifier: row.identifier,
            outcome: row.outcome.as_str().to_owned(),
            field: row.field,
            reason: row.reason,
            duplicate_of: row.duplicate_of,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAccepted {
    pub import_id: Uuid,
    /// `pending` until a worker picks the file up.
    pub status: String,
    /// URL of the import's status.
    pub status_url: String,
}

/// The multipart form of an upload (documentation only; the handler streams it).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The CSV file.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// One character, or `tab`; detected when absent.
    pub delimiter: Option<String>,
    /// Such as `utf-8` or `windows-1252`; detected when absent.
    pub encoding: Option<String>,
    /// ISO 3166 region for phone numbers without a country code, such as `GB`.
    pub region: Option<String>,
    /// `Header=field`, repeatable, such as `Firma=company`.
    pub map: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RowQuery {
    /// The `next` value of the previous page (a record number).
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Uploads a CSV export; the import runs in the background.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 202, body = UploadAccepted), (status = 413, body = Problem),
              (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn upload(
    State(state): State<ApiState>,
    caller: Caller,
    request: Request,
) -> Result<(StatusCode, Json<UploadAccepted>), ApiError> {
    caller.require(Access::Scope(Scope::ImportsWrite))?;
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file as multipart/form-data with a field named `file`",
            )
        })?;

    let import_id = ImportId::new();
    let dir = state.settings.upload_dir.clone();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|error| ApiError::internal(&error))?;
    let path = dir.join(format!("{import_id}.csv"));
    let saved = read_form(&state, &mut multipart, &path).await;
    let (file_name, options) = match saved {
        Ok(found) => found,
        Err(error) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(error);
        }
    };

    let payload = ImportFilePayload {
        import_id,
        path: path.clone(),
        file_name,
        actor: caller.actor(),
        options,
    };
    let queued = async {
        let mut tx = state.app.store.begin(caller.account).await?;
        queue_upload(&state.app, &mut *tx, &caller.actor(), &payload).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(error) = queued {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(error);
    }
    tracing::info!(account_id = %caller.account, import_id = %import_id, "upload queued for import");
    Ok((
        StatusCode::ACCEPTED,
        Json(UploadAccepted {
            import_id: import_id.0,
            status: "pending".into(),
            status_url: format!("/api/v1/imports/{import_id}"),
        }),
    ))
}

/// Streams the `file` part to `path` and reads the option fields.
async fn read_form(
    state: &ApiState,
    multipart: &mut Multipart,
    path: &PathBuf,
) -> Result<(String, UploadOptions), ApiError> {
    let limit = state.settings.upload_limit_bytes;
    let mut options = UploadOptions::default();
    let mut file_name = None;
    let mut mapping = BTreeMap::new();
    let malformed = |_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            "the multipart body could not be read",
        )
    };

    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                file_name = Some(
                    field
                        .file_name()
                        .unwrap_or("upload.csv")
                        .chars()
                        .take(255)
                        .collect::<String>(),
                );
                let mut file = tokio::fs::File::create(path)
                    .await
                    .map_err(|error| ApiError::internal(&error))?;
                let mut written = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    written += chunk.len() as u64;
                    if written > limit {
                        return Err(ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "payload_too_large",
                            format!(
                                "the file is larger than {limit} bytes; split it into smaller files"
                            ),
                        )
                        .with_field("file"));
                    }
                    file.write_all(&chunk)
                        .await
                        .map_err(|error| ApiError::internal(&error))?;
                }
                file.flush()
                    .await
                    .map_err(|error| ApiError::internal(&error))?;
            }
            "delimiter" | "encoding" | "region" | "map" => {
                let value = field.text().await.map_err(malformed)?;
                let value = value.trim().chars().take(500).collect::<String>();
                match name.as_str() {
                    "delimiter" => options.delimiter = Some(value),
                    "encoding" => options.encoding = Some(value),
                    "region" => options.region = Some(value.to_ascii_uppercase()),
                    _ => {
                        let (header, target) = value.split_once('=').ok_or_else(|| {
                            ApiError::invalid(
                                "map",
                                format!(
                                    "map {value:?} must be Header=field, such as Firma=company"
                                ),
                            )
                        })?;
                        mapping.insert(header.trim().to_owned(), target.trim().to_owned());
                    }
                }
            }
            other => {
                return Err(ApiError::invalid(
                    other.to_owned(),
                    format!(
                        "unknown form field {other:?}; expected file, delimiter, encoding, region or map"
                    ),
                ));
            }
        }
    }
    options.mapping = mapping;
    let file_name =
        file_name.ok_or_else(|| ApiError::invalid("file", "the form has no `file` field"))?;
    // Checks the options now, so a bad one is a 422 instead of a failed job.
    import_options(&options).map_err(|error| ApiError::invalid("delimiter", error.to_string()))?;
    Ok((file_name, options))
}

#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = PageOf<ImportView>)))]
pub async fn list_imports(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PageOf<ImportView>>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsRead))?;
    let page = query.request()?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let imports = tx.list_imports(page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(imports, ImportView::from)))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ImportView), (status = 404, body = Problem)))]
pub async fn get_import(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<ImportView>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsRead))?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let import = tx
        .get_import(ImportId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("import"))?;
    tx.commit().await?;
    Ok(Json(import.into()))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}/rows", tag = "imports", security(("bearer" = [])),
    params(("id" = Uuid, Path), RowQuery),
    responses((status = 200, body = PageOf<RowView>), (status = 404, body = Problem)))]
pub async fn list_rows(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiQuery(query): ApiQuery<RowQuery>,
) -> Result<Json<PageOf<RowView>>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsRead))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be between 1 and 200, got {limit}"),
        ));
    }
    let after = match query.cursor.as_deref() {
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "cursor is not one this server issued; pass the `next` value unchanged",
                )
            })?,
        None => 0,
    };
    let mut tx = state.app.store.begin(caller.account).await?;
    tx.get_import(ImportId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("import"))?;
    let mut rows = tx.list_import_rows(ImportId(id), after, limit + 1).await?;
    tx.commit().await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more
        .then(|| rows.last().map(|row| row.record_number.to_string()))
        .flatten();
    Ok(Json(PageOf {
        items: rows.into_iter().map(RowView::from).collect(),
        next,
    }))
}
