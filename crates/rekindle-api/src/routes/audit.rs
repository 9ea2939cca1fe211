//! The account's audit log, for owners and admins.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Access, Caller};
use crate::extract::ApiQuery;
use crate::pagination::PageOf;
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The `next` value of the previous page (a sequence number).
    pub cursor: Option<String>,
    /// 1 to 200; 50 when absent.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Position in the account's hash chain, from 1.
    pub seq: i64,
    /// `user`, `api_key` or `system`.
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    /// What changed (field names and counts, never secrets or message bodies);
    /// null when the action has no details.
    #[schema(value_type = Option<Object>)]
    pub changes: Value,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// SHA-256 of this entry and the previous hash.
    pub hash: String,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = PageOf<AuditView>), (status = 403, body = Problem)))]
pub async fn list_audit(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<PageOf<AuditView>>, ApiError> {
    caller.require(Access::Admin)?;
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
            .filter(|seq| *seq >= 0)
            .ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "cursor is not one this server issued; pass the `next` value unchanged",
                )
            })?,
        None => 0,
    };
    let mut tx = state.app.store.begin(caller.account).await?;
    let mut entries = tx.list_audit(after, limit + 1).await?;
    tx.commit().await?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next = more
        .then(|| entries.last().map(|entry| entry.seq.to_string()))
        .flatten();
    Ok(Json(PageOf {
        items: entries
            .into_iter()
            .map(|entry| AuditView {
                seq: entry.seq,
                actor_kind: entry.record.actor.kind.as_str().to_owned(),
                actor_id: entry.record.actor.id,
                action: entry.record.action,
                target_type: entry.record.target_type,
                target_id: entry.record.target_id,
                changes: entry.record.changes,
                ip: entry.record.ip,
                request_id: entry.record.request_id,
                created_at: entry.created_at,
                hash: entry.hash,
            })
            .collect(),
        next,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    /// True when every entry links to the previous one, no hash was altered and
    /// the chain ends at the head stored on the account.
    pub intact: bool,
    /// Entries checked before the end or the first break.
    pub entries: u64,
    /// Description of the first break, if the chain is broken.
    pub problem: Option<String>,
}

/// Checks the account's hash chain, as `rekindle audit verify` does.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification), (status = 403, body = Problem)))]
pub async fn verify_audit(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<AuditVerification>, ApiError> {
    caller.require(Access::Admin)?;
    let mut tx = state.app.store.begin_system("audit-verify").await?;
    let outcome = rekindle_store::audit::verify_account(tx.as_mut(), caller.account).await?;
    tx.commit().await?;
    let result = match outcome {
        Ok(entries) => AuditVerification {
            intact: true,
            entries,
            problem: None,
        },
        Err(chain_break) => {
            tracing::error!(account_id = %caller.account, %chain_break, "audit chain is broken");
            AuditVerification {
                intact: false,
                entries: 0,
                problem: Some(chain_break.to_string()),
            }
        }
    };
    Ok(Json(result))
}
