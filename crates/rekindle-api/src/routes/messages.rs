//! Messages the crews wrote, with their delivery state.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_domain::{CampaignId, MessageId};
use rekindle_store::Message;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiQuery, PathId};
use crate::pagination::{PageOf, page_request};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub lead_id: Uuid,
    pub channel: String,
    /// `scheduled`, `sending`, `sent`, `delivered`, `opened`, `clicked`,
    /// `replied`, `bounced`, `failed`, `cancelled` or `suppressed`.
    pub status: String,
    /// A/B variant of the subject line.
    pub variant: String,
    pub subject: Option<String>,
    pub body: String,
    pub to_address: String,
    pub provider_message_id: Option<String>,
    pub scheduled_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Reason the message was not sent, when it was not.
    pub error: Option<String>,
    /// Sending identity the message goes out from; `null` for the account's
    /// own sender address.
    pub sending_identity_id: Option<Uuid>,
}

impl From<Message> for MessageView {
    fn from(message: Message) -> Self {
        Self {
            id: message.id.0,
            campaign_id: message.campaign_id.0,
            lead_id: message.lead_id.0,
            channel: message.channel.as_str().to_owned(),
            status: message.status.as_str().to_owned(),
            variant: message.variant,
            subject: message.subject,
            body: message.body,
            to_address: message.to_address,
            provider_message_id: message.provider_message_id,
            scheduled_at: message.scheduled_at,
            sent_at: message.sent_at,
            error: message.error,
            sending_identity_id: message.sending_identity_id,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    pub campaign_id: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", security(("bearer" = [])),
    params(MessageQuery), responses((status = 200, body = PageOf<MessageView>), (status = 422, body = Problem)))]
pub async fn list_messages(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<MessageQuery>,
) -> Result<Json<PageOf<MessageView>>, ApiError> {
    caller.require(Access::Scope(Scope::MessagesRead))?;
    let page = page_request(query.cursor.as_deref(), query.limit)?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let messages = tx
        .list_messages(query.campaign_id.map(CampaignId), page)
        .await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(messages, MessageView::from)))
}

#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = Problem)))]
pub async fn get_message(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<MessageView>, ApiError> {
    caller.require(Access::Scope(Scope::MessagesRead))?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let message = tx
        .get_message(MessageId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    tx.commit().await?;
    Ok(Json(message.into()))
}
