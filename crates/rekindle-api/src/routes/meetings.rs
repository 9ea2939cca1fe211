//! Meetings: proposed to leads who replied positively, with the times offered
//! and the reply drafted for the user to send.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_store::Meeting;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::ApiQuery;
use crate::pagination::{PageOf, page_request};
use crate::problem::ApiError;
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub lead_id: Uuid,
    /// The reply that asked for it.
    pub reply_id: Option<Uuid>,
    /// `proposed`, `confirmed`, `attended`, `no_show` or `cancelled`.
    pub status: String,
    /// Set once the lead picks a time.
    pub starts_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    /// The times offered: `starts_at`, `ends_at`, and the start on the lead's
    /// clock with its zone.
    #[schema(value_type = Vec<Object>)]
    pub proposed_slots: Value,
    /// The reply drafted for the user to review and send.
    pub draft_subject: Option<String>,
    pub draft_body: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Meeting> for MeetingView {
    fn from(meeting: Meeting) -> Self {
        Self {
            id: meeting.id.0,
            lead_id: meeting.lead_id.0,
            reply_id: meeting.reply_id.map(|id| id.0),
            status: meeting.status.as_str().to_owned(),
            starts_at: meeting.starts_at,
            duration_minutes: meeting.duration_minutes,
            proposed_slots: meeting.proposed_slots,
            draft_subject: meeting.draft_subject,
            draft_body: meeting.draft_body,
            created_at: meeting.created_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MeetingQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Lists the account's meetings, oldest first.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "meetings", security(("bearer" = [])),
    params(MeetingQuery), responses((status = 200, body = PageOf<MeetingView>)))]
pub async fn list_meetings(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MeetingQuery>,
) -> Result<Json<PageOf<MeetingView>>, ApiError> {
    caller.require(Access::Scope(Scope::RepliesRead))?;
    let page = page_request(query.cursor.as_deref(), query.limit)?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let meetings = tx.list_meetings(page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(meetings, MeetingView::from)))
}
