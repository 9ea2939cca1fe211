//! Suppressions: addresses and numbers that must never be contacted. Tenants
//! see their own and the global ones, and may add and remove their own.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_domain::{ContactKind, SuppressionId, SuppressionReason};
use rekindle_store::{PageRequest, Suppression};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, ApiQuery, PathId};
use crate::pagination::{PageOf, page_request};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionView {
    pub id: Uuid,
    /// `email` or `phone`.
    pub kind: String,
    pub value: String,
    /// `unsubscribed`, `opt_out_reply`, `hard_bounce`, `spam_complaint`, `manual` or `import`.
    pub reason: String,
    /// True for a suppression that applies to every account.
    pub global: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Suppression> for SuppressionView {
    fn from(item: Suppression) -> Self {
        Self {
            id: item.id.0,
            kind: item.kind.as_str().to_owned(),
            value: item.value,
            reason: item.reason.as_str().to_owned(),
            global: item.account_id.is_none(),
            created_at: item.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuppressionQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// `email` or `phone`.
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionInput {
    /// `email` or `phone`.
    pub kind: String,
    pub value: String,
}

fn parse_kind(text: &str) -> Result<ContactKind, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("kind", format!("kind {text:?} is not one of email, phone")))
}

#[utoipa::path(get, path = "/api/v1/suppressions", tag = "suppressions", security(("bearer" = [])),
    params(SuppressionQuery), responses((status = 200, body = PageOf<SuppressionView>)))]
pub async fn list_suppressions(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SuppressionQuery>,
) -> Result<Json<PageOf<SuppressionView>>, ApiError> {
    caller.require(Access::Scope(Scope::SuppressionsRead))?;
    let page = page_request(query.cursor.as_deref(), query.limit)?;
    let kind = query.kind.as_deref().map(parse_kind).transpose()?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let items = tx.list_suppressions(kind, page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(items, SuppressionView::from)))
}

#[utoipa::path(post, path = "/api/v1/suppressions", tag = "suppressions", security(("bearer" = [])),
    request_body = SuppressionInput,
    responses((status = 201, body = SuppressionView), (status = 200, body = SuppressionView),
              (status = 422, body = Problem)))]
pub async fn add_suppression(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(input): ApiJson<SuppressionInput>,
) -> Result<(StatusCode, Json<SuppressionView>), ApiError> {
    caller.require(Access::Scope(Scope::SuppressionsWrite))?;
    let kind = parse_kind(&input.kind)?;
    let value = match kind {
        ContactKind::Email => validate::email("value", &input.value)?.as_str().to_owned(),
        ContactKind::Phone => validate::phone("value", &input.value, None)?
            .as_str()
            .to_owned(),
    };
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    let added = tx
        .add_suppression(kind, &value, SuppressionReason::Manual, now)
        .await?;
    if added {
        tx.append_audit(
            &caller
                .audit("suppression.create", "suppression", None)
                .with_changes(json!({ "kind": kind })),
            now,
        )
        .await?;
    }
    let found = find(&mut *tx, kind, &value).await?;
    tx.commit().await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(found.into())))
}

/// Finds the suppression of one value (the account's own or a global one).
async fn find(
    tx: &mut dyn rekindle_store::TenantTx,
    kind: ContactKind,
    value: &str,
) -> Result<Suppression, ApiError> {
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let items = tx.list_suppressions(Some(kind), page).await?;
        if let Some(item) = items.items.into_iter().find(|item| item.value == value) {
            return Ok(item);
        }
        match items.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => return Err(ApiError::not_found("suppression")),
        }
    }
}

#[utoipa::path(delete, path = "/api/v1/suppressions/{id}", tag = "suppressions", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_suppression(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Scope(Scope::SuppressionsWrite))?;
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    if !tx.remove_suppression(SuppressionId(id)).await? {
        return Err(ApiError::not_found(
            "suppression of this account (global ones cannot be removed)",
        ));
    }
    tx.append_audit(
        &caller.audit("suppression.delete", "suppression", Some(id.to_string())),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every suppression that applies to the account, as CSV
/// (`kind,value,reason,scope,created_at`).
#[utoipa::path(get, path = "/api/v1/suppressions/export", tag = "suppressions", security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_suppressions(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Access::Scope(Scope::SuppressionsRead))?;
    let now = Utc::now();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let csv_error = |error: csv::Error| ApiError::internal(&error);
    writer
        .write_record(["kind", "value", "reason", "scope", "created_at"])
        .map_err(csv_error)?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let mut page = PageRequest::new(None, Some(200));
    let mut rows = 0u64;
    loop {
        let items = tx.list_suppressions(None, page).await?;
        for item in &items.items {
            writer
                .write_record([
                    item.kind.as_str(),
                    item.value.as_str(),
                    item.reason.as_str(),
                    if item.account_id.is_none() {
                        "global"
                    } else {
                        "account"
                    },
                    item.created_at.to_rfc3339().as_str(),
                ])
                .map_err(csv_error)?;
            rows += 1;
        }
        match items.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    tx.append_audit(
        &caller
            .audit("suppression.export", "suppression", None)
            .with_changes(json!({ "rows": rows })),
        now,
    )
    .await?;
    tx.commit().await?;
    let body = writer
        .into_inner()
        .map_err(|error| ApiError::internal(&error.error()))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"suppressions.csv\""),
    );
    Ok(response)
}
