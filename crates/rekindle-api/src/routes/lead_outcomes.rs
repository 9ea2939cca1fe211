//! A lead's deal outcome: mark it won or lost, or dormant again. Won leads
//! are the deals the ideal customer profile is derived from.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use rekindle_auth::Scope;
use rekindle_domain::{LeadId, LeadStatus};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, PathId};
use crate::problem::{ApiError, Problem};
use crate::routes::leads::LeadView;
use crate::state::ApiState;

/// Statuses a user sets by hand; the others follow from replies and
/// suppressions.
const SETTABLE: [LeadStatus; 3] = [LeadStatus::Won, LeadStatus::Lost, LeadStatus::Dormant];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadStatusInput {
    /// `won` (the deal closed), `lost`, or `dormant` to reopen the lead.
    pub status: String,
}

/// Sets a lead's deal outcome. With 25 or more won leads, the account's
/// ideal customer profile is derived from them and the other leads are
/// ranked against it by the next periodic refresh.
#[utoipa::path(put, path = "/api/v1/leads/{id}/status", tag = "leads", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = LeadStatusInput,
    responses((status = 200, body = LeadView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_lead_status(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<LeadStatusInput>,
) -> Result<Json<LeadView>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsWrite))?;
    let status = parse_status(&input.status)?;
    let id = LeadId(id);
    let now = Utc::now();

    let mut tx = state.app.store.begin(caller.account).await?;
    let lead = tx
        .get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    if lead.status == LeadStatus::Suppressed {
        return Err(ApiError::invalid(
            "status",
            "the lead is suppressed; remove its suppression before changing its status",
        ));
    }
    tx.set_lead_status(id, status, now).await?;
    tx.append_audit(
        &caller
            .audit("lead.status", "lead", Some(id.to_string()))
            .with_changes(json!({ "from": lead.status, "to": status })),
        now,
    )
    .await?;
    let lead = tx
        .get_lead(id)
        .await?
        .ok_or_else(|| ApiError::not_found("lead"))?;
    tx.commit().await?;
    Ok(Json(lead.into()))
}

fn parse_status(text: &str) -> Result<LeadStatus, ApiError> {
    text.parse::<LeadStatus>()
        .ok()
        .filter(|status| SETTABLE.contains(status))
        .ok_or_else(|| {
            ApiError::invalid(
                "status",
                format!("status {text:?} cannot be set here; use won, lost or dormant"),
            )
        })
}
