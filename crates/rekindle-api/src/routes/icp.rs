//! The account's ideal customer profile, derived from its won deals.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_crews::icp::{IdealCustomerProfile, ProfileValue};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Access, Caller};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileValueView {
    /// Lower case, such as `software`, `51-200`, `head` or `united kingdom`.
    pub value: String,
    /// Won deals with this value.
    pub deals: usize,
    /// Share of the won deals with a known value, 0 to 1.
    pub share: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IcpView {
    /// Won deals the profile was derived from (at least 25).
    pub won_deals: usize,
    pub industries: Vec<ProfileValueView>,
    /// Head-count bands read from custom fields such as `Employees`.
    pub company_sizes: Vec<ProfileValueView>,
    /// `executive`, `head`, `manager` or `other`, read from job titles.
    pub title_levels: Vec<ProfileValueView>,
    /// Countries.
    pub regions: Vec<ProfileValueView>,
    pub derived_at: DateTime<Utc>,
}

fn values(values: Vec<ProfileValue>) -> Vec<ProfileValueView> {
    values
        .into_iter()
        .map(|value| ProfileValueView {
            value: value.value,
            deals: value.deals,
            share: value.share,
        })
        .collect()
}

/// Returns the profile, derived once the account has 25 won deals and
/// refreshed by a periodic job; 404 until then.
#[utoipa::path(get, path = "/api/v1/icp", tag = "leads", security(("bearer" = [])),
    responses((status = 200, body = IcpView), (status = 404, body = Problem)))]
pub async fn get_icp(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<IcpView>, ApiError> {
    caller.require(Access::Scope(Scope::LeadsRead))?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let row = tx.get_icp_profile().await?;
    tx.commit().await?;

    let row = row.ok_or_else(|| ApiError::not_found("ideal customer profile"))?;
    let profile: IdealCustomerProfile = serde_json::from_value(row.profile).map_err(|error| {
        ApiError::internal(&format!(
            "stored ideal customer profile of account {} is unreadable: {error}",
            caller.account
        ))
    })?;
    Ok(Json(IcpView {
        won_deals: profile.won_deals,
        industries: values(profile.industries),
        company_sizes: values(profile.company_sizes),
        title_levels: values(profile.title_levels),
        regions: values(profile.regions),
        derived_at: row.derived_at,
    }))
}
