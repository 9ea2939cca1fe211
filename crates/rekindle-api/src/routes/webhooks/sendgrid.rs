//! SendGrid Event Webhook: ECDSA-verified batches, stored at once and applied
//! by a job, so the response does not wait for the events' effects.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use rekindle_services::webhooks::accept_sendgrid_batch;
use rekindle_webhooks::VerifyError;
use rekindle_webhooks::sendgrid::{
    SIGNATURE_HEADER, TIMESTAMP_HEADER, check_timestamp, parse_events,
};

use super::{RequestMeta, WebhookAck, header, invalid_payload, reject};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

const PROVIDER: &str = "sendgrid";

/// Receives a batch of SendGrid events. The signature covers the timestamp
/// header followed by the raw body; the timestamp must be within the
/// configured tolerance. The batch is stored and a job applies it.
#[utoipa::path(post, path = "/webhooks/sendgrid/events", tag = "webhooks",
    request_body(content = String, content_type = "application/json",
        description = "A JSON array of SendGrid events, signed with the X-Twilio-Email-Event-Webhook-Signature and -Timestamp headers."),
    responses((status = 202, body = WebhookAck), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem), (status = 503, body = Problem)))]
pub async fn sendgrid_events(
    State(state): State<ApiState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<WebhookAck>), ApiError> {
    let Some(verifier) = &state.sendgrid_verifier else {
        let error = VerifyError::NotConfigured {
            what: "SendGrid event webhook verification key",
        };
        return Err(reject(&state, PROVIDER, &meta, error).await);
    };
    let signature = header(&headers, SIGNATURE_HEADER);
    let timestamp = header(&headers, TIMESTAMP_HEADER);
    let settings = &state.settings.webhooks;
    let tolerance = i64::try_from(settings.sendgrid_tolerance.as_secs()).unwrap_or(i64::MAX);
    let verified = verifier
        .verify(signature, timestamp, &body)
        .and_then(|()| check_timestamp(timestamp, settings.clock.now().timestamp(), tolerance));
    if let Err(error) = verified {
        return Err(reject(&state, PROVIDER, &meta, error).await);
    }

    let batch = parse_events(&body, settings.sendgrid_max_events)
        .map_err(|error| invalid_payload(PROVIDER, error))?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
            "the SendGrid batch is not UTF-8 text",
        )
    })?;
    let events = batch.events.len() + batch.malformed.len();
    accept_sendgrid_batch(&state.app, text, events).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(WebhookAck {
            status: "accepted",
            events: Some(events as u64),
        }),
    ))
}
