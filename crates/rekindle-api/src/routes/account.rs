//! Account settings: sender identity, postal address, time zone, ACV and plan.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rekindle_domain::Plan;
use rekindle_store::{Account, AccountChanges};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    pub name: String,
    pub sender_name: String,
    pub sender_email: String,
    pub postal_address: String,
    pub time_zone: String,
    /// Average contract value in minor units of `currency`.
    pub acv_minor: i64,
    pub currency: String,
    /// `starter`, `pro` or `enterprise`.
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.0,
            name: account.name,
            sender_name: account.sender_name,
            sender_email: account.sender_email,
            postal_address: account.postal_address,
            time_zone: account.time_zone,
            acv_minor: account.acv_minor,
            currency: account.currency,
            plan: account.plan.as_str().to_owned(),
            created_at: account.created_at,
        }
    }
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    pub name: Option<String>,
    pub sender_name: Option<String>,
    pub sender_email: Option<String>,
    pub postal_address: Option<String>,
    pub time_zone: Option<String>,
    pub acv_minor: Option<i64>,
    pub currency: Option<String>,
    /// `starter`, `pro` or `enterprise`.
    pub plan: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/account", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = AccountView), (status = 401, body = Problem)))]
pub async fn get_account(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<AccountView>, ApiError> {
    let mut tx = state.app.store.begin(caller.account).await?;
    let account = tx.account().await?;
    tx.commit().await?;
    Ok(Json(account.into()))
}

#[utoipa::path(patch, path = "/api/v1/account", tag = "account", security(("bearer" = [])),
    request_body = AccountUpdate,
    responses((status = 200, body = AccountView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn update_account(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<AccountUpdate>,
) -> Result<Json<AccountView>, ApiError> {
    caller.require(Access::Admin)?;
    let changes = AccountChanges {
        name: body
            .name
            .as_deref()
            .map(|v| validate::text("name", v, 1, 200))
            .transpose()?,
        sender_name: body
            .sender_name
            .as_deref()
            .map(|v| validate::text("sender_name", v, 1, 100))
            .transpose()?,
        sender_email: body
            .sender_email
            .as_deref()
            .map(|v| validate::email("sender_email", v).map(|e| e.as_str().to_owned()))
            .transpose()?,
        postal_address: body
            .postal_address
            .as_deref()
            .map(|v| validate::text("postal_address", v, 10, 500))
            .transpose()?,
        time_zone: body
            .time_zone
            .as_deref()
            .map(|v| validate::time_zone("time_zone", v))
            .transpose()?,
        acv_minor: body
            .acv_minor
            .map(|v| validate::non_negative("acv_minor", v))
            .transpose()?,
        currency: body
            .currency
            .as_deref()
            .map(|v| validate::currency("currency", v))
            .transpose()?,
        plan: body
            .plan
            .as_deref()
            .map(|v| {
                v.parse::<Plan>().map_err(|_| {
                    ApiError::invalid(
                        "plan",
                        format!("plan {v:?} is not one of starter, pro, enterprise"),
                    )
                })
            })
            .transpose()?,
    };

    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    let account = tx.update_account(&changes, now).await?;
    let record = caller
        .audit(
            "account.update",
            "account",
            Some(caller.account.to_string()),
        )
        .with_changes(json!(changes));
    tx.append_audit(&record, now).await?;
    tx.commit().await?;
    Ok(Json(account.into()))
}
