//! Sending identities: the mailboxes and phone numbers an account sends from,
//! with their hourly and daily caps, warm-up start and pause switch. Owners
//! and admins manage them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use rekindle_domain::Channel;
use rekindle_store::{SendingIdentityChanges, SendingIdentityRow, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, PathId};
use crate::pagination::PageOf;
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

/// Largest cap accepted, per hour or per day.
const MAX_CAP: u32 = 100_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct SendingIdentityView {
    pub id: Uuid,
    /// `email`, `sms` or `whatsapp`.
    pub channel: String,
    /// Email address or E.164 number.
    pub address: String,
    pub display_name: Option<String>,
    /// Sends per UTC hour; the default applies when null.
    pub hourly_cap: Option<u32>,
    /// Sends per UTC day, before the warm-up ramp; the default applies when null.
    pub daily_cap: Option<u32>,
    /// First day of the warm-up ramp (20, 50, 100, 200, 500 a day in weeks one to five).
    pub warm_up_start: NaiveDate,
    pub paused: bool,
    pub created_at: DateTime<Utc>,
}

impl From<SendingIdentityRow> for SendingIdentityView {
    fn from(row: SendingIdentityRow) -> Self {
        Self {
            id: row.id,
            channel: row.channel.as_str().to_owned(),
            address: row.address,
            display_name: row.display_name,
            hourly_cap: row.hourly_cap,
            daily_cap: row.daily_cap,
            warm_up_start: row.warm_up_start,
            paused: row.paused,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendingIdentityInput {
    /// `email`, `sms` or `whatsapp`.
    pub channel: String,
    /// Email address for `email`, E.164 number for `sms` and `whatsapp`.
    pub address: String,
    pub display_name: Option<String>,
    pub hourly_cap: Option<u32>,
    pub daily_cap: Option<u32>,
    /// First day of the warm-up ramp; today when absent.
    pub warm_up_start: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendingIdentityUpdate {
    pub display_name: Option<String>,
    pub hourly_cap: Option<u32>,
    pub daily_cap: Option<u32>,
    pub paused: Option<bool>,
}

fn check_cap(field: &str, cap: Option<u32>) -> Result<Option<u32>, ApiError> {
    match cap {
        Some(cap) if cap == 0 || cap > MAX_CAP => Err(ApiError::invalid(
            field,
            format!("{field} must be between 1 and {MAX_CAP}, got {cap}"),
        )),
        other => Ok(other),
    }
}

#[utoipa::path(get, path = "/api/v1/sending-identities", tag = "sending-identities", security(("bearer" = [])),
    responses((status = 200, body = PageOf<SendingIdentityView>), (status = 403, body = Problem)))]
pub async fn list_identities(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<PageOf<SendingIdentityView>>, ApiError> {
    caller.require(Access::Admin)?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let rows = tx.list_sending_identities().await?;
    tx.commit().await?;
    // An account has a handful of identities, so one page contains them all.
    Ok(Json(PageOf {
        items: rows.into_iter().map(SendingIdentityView::from).collect(),
        next: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/sending-identities", tag = "sending-identities", security(("bearer" = [])),
    request_body = SendingIdentityInput,
    responses((status = 201, body = SendingIdentityView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_identity(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(input): ApiJson<SendingIdentityInput>,
) -> Result<(StatusCode, Json<SendingIdentityView>), ApiError> {
    caller.require(Access::Admin)?;
    let channel: Channel = input.channel.parse().map_err(|_| {
        ApiError::invalid(
            "channel",
            format!(
                "channel {:?} is not one of email, sms, whatsapp",
                input.channel
            ),
        )
    })?;
    let address = match channel {
        Channel::Email => validate::email("address", &input.address)?
            .as_str()
            .to_owned(),
        Channel::Sms | Channel::Whatsapp => validate::phone("address", &input.address, None)?
            .as_str()
            .to_owned(),
    };
    let now = Utc::now();
    let row = SendingIdentityRow {
        id: Uuid::now_v7(),
        channel,
        address,
        display_name: validate::optional_text("display_name", input.display_name.as_deref(), 100)?,
        hourly_cap: check_cap("hourly_cap", input.hourly_cap)?,
        daily_cap: check_cap("daily_cap", input.daily_cap)?,
        warm_up_start: input.warm_up_start.unwrap_or_else(|| now.date_naive()),
        paused: false,
        created_at: stored_precision(now),
    };
    let mut tx = state.app.store.begin(caller.account).await?;
    tx.insert_sending_identity(&row)
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => {
                ApiError::conflict("this account already sends from this address on this channel")
                    .with_field("address")
            }
            other => other.into(),
        })?;
    tx.append_audit(
        &caller
            .audit(
                "sending_identity.create",
                "sending_identity",
                Some(row.id.to_string()),
            )
            .with_changes(json!({ "channel": row.channel })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(patch, path = "/api/v1/sending-identities/{id}", tag = "sending-identities", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SendingIdentityUpdate,
    responses((status = 200, body = SendingIdentityView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_identity(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<SendingIdentityUpdate>,
) -> Result<Json<SendingIdentityView>, ApiError> {
    caller.require(Access::Admin)?;
    let changes = SendingIdentityChanges {
        display_name: validate::optional_text("display_name", input.display_name.as_deref(), 100)?,
        hourly_cap: check_cap("hourly_cap", input.hourly_cap)?,
        daily_cap: check_cap("daily_cap", input.daily_cap)?,
        paused: input.paused,
    };
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    let row = tx
        .update_sending_identity(id, &changes)
        .await?
        .ok_or_else(|| ApiError::not_found("sending identity"))?;
    tx.append_audit(
        &caller
            .audit(
                "sending_identity.update",
                "sending_identity",
                Some(id.to_string()),
            )
            .with_changes(json!(changes)),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(row.into()))
}

#[utoipa::path(delete, path = "/api/v1/sending-identities/{id}", tag = "sending-identities", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_identity(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Admin)?;
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    if !tx.delete_sending_identity(id).await? {
        return Err(ApiError::not_found("sending identity"));
    }
    tx.append_audit(
        &caller.audit(
            "sending_identity.delete",
            "sending_identity",
            Some(id.to_string()),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Truncates to microseconds, the precision both databases keep, so the
/// response shows the stored value.
fn stored_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    at.trunc_subsecs(6)
}
