//! API keys for integrations. A key is shown once, when it is created; only
//! its SHA-256 hash is stored. Keys carry scopes and can be revoked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rekindle_auth::{ApiKeySecret, Scope};
use rekindle_store::{ApiKey, NewApiKey};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, ApiQuery, PathId};
use crate::pagination::{PageOf, PageQuery};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyRequest {
    /// Purpose of the key, such as `HubSpot sync`.
    pub name: String,
    /// Scopes such as `leads:read`, `leads:write`, `campaigns:write`.
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            scopes: key.scopes,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The key itself. It is shown only in this response; store it now.
    pub secret: String,
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = PageOf<ApiKeyView>), (status = 403, body = Problem)))]
pub async fn list_api_keys(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PageOf<ApiKeyView>>, ApiError> {
    caller.require(Access::Admin)?;
    let page = query.request()?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let keys = tx.list_api_keys(page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(keys, ApiKeyView::from)))
}

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = NewApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_api_key(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewApiKeyRequest>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    caller.require(Access::Admin)?;
    let name = validate::text("name", &body.name, 1, 100)?;
    if body.scopes.is_empty() || body.scopes.len() > Scope::ALL.len() {
        return Err(ApiError::invalid(
            "scopes",
            format!("scopes must list 1 to {} scopes", Scope::ALL.len()),
        ));
    }
    let mut scopes = Vec::with_capacity(body.scopes.len());
    for (index, text) in body.scopes.iter().enumerate() {
        let scope: Scope = text.parse().map_err(|error: rekindle_auth::UnknownScope| {
            ApiError::invalid(format!("scopes[{index}]"), error.to_string())
        })?;
        if !scopes.contains(&scope.as_str().to_owned()) {
            scopes.push(scope.as_str().to_owned());
        }
    }

    let (secret, hash) = ApiKeySecret::generate();
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    let key = tx
        .insert_api_key(
            &NewApiKey {
                id: Uuid::now_v7(),
                name,
                scopes,
                key_hash: hash,
            },
            now,
        )
        .await?;
    let record = caller
        .audit("api_key.create", "api_key", Some(key.id.to_string()))
        .with_changes(json!({ "name": key.name, "scopes": key.scopes }));
    tx.append_audit(&record, now).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: key.into(),
            secret,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "API key id")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_api_key(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Admin)?;
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    if !tx.revoke_api_key(id, now).await? {
        return Err(ApiError::not_found("live API key"));
    }
    let record = caller.audit("api_key.revoke", "api_key", Some(id.to_string()));
    tx.append_audit(&record, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
