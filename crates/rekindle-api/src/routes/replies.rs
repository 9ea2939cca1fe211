//! Replies: the list, and manual entry of replies that arrived somewhere the
//! webhooks do not see (a forwarded email, a phone call note).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use rekindle_auth::Scope;
use rekindle_domain::Channel;
use rekindle_services::replies::{InboundReply, ingest_reply};
use rekindle_store::Reply;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{PageOf, PageQuery};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

/// Longest reply text accepted, in characters; longer quoted threads are cut
/// by the sender's mail client anyway.
pub const MAX_REPLY_CHARS: usize = 20_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyView {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub message_id: Option<Uuid>,
    pub channel: String,
    /// The classifier's label, such as `interested`, `opt_out` or `out_of_office`.
    pub label: String,
    pub objection: Option<String>,
    pub return_date: Option<NaiveDate>,
    pub received_at: DateTime<Utc>,
}

impl From<Reply> for ReplyView {
    fn from(reply: Reply) -> Self {
        Self {
            id: reply.id.0,
            lead_id: reply.lead_id.0,
            message_id: reply.message_id.map(|id| id.0),
            channel: reply.channel.as_str().to_owned(),
            label: reply.label.as_str().to_owned(),
            objection: reply.objection.map(|o| o.as_str().to_owned()),
            return_date: reply.return_date,
            received_at: reply.received_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// `email`, `sms` or `whatsapp`.
    pub channel: String,
    /// The sender's email address or phone number; it must belong to a lead.
    pub from: String,
    pub subject: Option<String>,
    /// The reply text, up to 20,000 characters.
    pub text: String,
    /// `Message-ID` of the message this reply is to, without angle brackets.
    pub in_reply_to: Option<String>,
    /// When it arrived; now when absent.
    pub received_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestedView {
    pub reply_id: Uuid,
    pub lead_id: Uuid,
    pub label: String,
    pub objection: Option<String>,
    pub return_date: Option<NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/replies", tag = "replies", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = PageOf<ReplyView>)))]
pub async fn list_replies(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PageOf<ReplyView>>, ApiError> {
    caller.require(Access::Scope(Scope::RepliesRead))?;
    let page = query.request()?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let replies = tx.list_replies(page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(replies, ReplyView::from)))
}

/// Records a reply and acts on it as if it had come through a webhook: an
/// opt-out suppresses the lead at once, an out-of-office pauses it.
#[utoipa::path(post, path = "/api/v1/replies", tag = "replies", security(("bearer" = [])),
    request_body = ReplyInput,
    responses((status = 201, body = IngestedView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn ingest(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(input): ApiJson<ReplyInput>,
) -> Result<(StatusCode, Json<IngestedView>), ApiError> {
    caller.require(Access::Scope(Scope::RepliesWrite))?;
    let channel: Channel = input.channel.parse().map_err(|_| {
        ApiError::invalid(
            "channel",
            format!(
                "channel {:?} is not one of email, sms, whatsapp",
                input.channel
            ),
        )
    })?;
    let from = match channel {
        Channel::Email => validate::email("from", &input.from)?.as_str().to_owned(),
        Channel::Sms | Channel::Whatsapp => validate::phone("from", &input.from, None)?
            .as_str()
            .to_owned(),
    };
    let inbound = InboundReply {
        channel,
        from,
        subject: validate::optional_text("subject", input.subject.as_deref(), 500)?,
        text: validate::text("text", &input.text, 1, MAX_REPLY_CHARS)?,
        in_reply_to: validate::optional_text("in_reply_to", input.in_reply_to.as_deref(), 998)?,
        received_at: input.received_at.unwrap_or_else(Utc::now),
    };
    let ingested = ingest_reply(&state.app, caller.account, &inbound).await?;
    Ok((
        StatusCode::CREATED,
        Json(IngestedView {
            reply_id: ingested.reply_id.0,
            lead_id: ingested.lead_id.0,
            label: ingested.classification.label.as_str().to_owned(),
            objection: ingested
                .classification
                .objection
                .map(|o| o.as_str().to_owned()),
            return_date: ingested.classification.return_date,
        }),
    ))
}
