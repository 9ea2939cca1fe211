//! Alerts: what the account's users should act on, such as a positive reply,
//! a question, a referral, or a provider outage.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_store::Alert;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::ApiQuery;
use crate::pagination::{PageOf, page_request};
use crate::problem::ApiError;
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: Uuid,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// Event kind, such as `positive_reply`, `reply_question`, `referral`
    /// or `circuit_open`.
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

impl From<Alert> for AlertView {
    fn from(alert: Alert) -> Self {
        Self {
            id: alert.id.0,
            severity: alert.severity.as_str().to_owned(),
            kind: alert.kind,
            message: alert.message,
            created_at: alert.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Lists the account's alerts, oldest first. Reading them needs the
/// `replies:read` scope, because most are about replies.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])),
    params(AlertQuery), responses((status = 200, body = PageOf<AlertView>)))]
pub async fn list_alerts(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> Result<Json<PageOf<AlertView>>, ApiError> {
    caller.require(Access::Scope(Scope::RepliesRead))?;
    let page = page_request(query.cursor.as_deref(), query.limit)?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let alerts = tx.list_alerts(page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(alerts, AlertView::from)))
}
