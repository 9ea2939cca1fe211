//! Stripe webhook: `Stripe-Signature` checked at receipt (any of several `v1`
//! values, a configurable tolerance), then the event is stored with its
//! receipt and a job records it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use rekindle_services::webhooks::{StripeReceipt, accept_stripe_event};
use rekindle_webhooks::VerifyError;
use rekindle_webhooks::stripe::{SIGNATURE_HEADER, parse_event, verify};

use super::{RequestMeta, WebhookAck, header, invalid_payload, reject};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

const PROVIDER: &str = "stripe";

/// Receives a Stripe event. A redelivered event id is acknowledged without
/// being stored again.
#[utoipa::path(post, path = "/webhooks/stripe", tag = "webhooks",
    request_body(content = String, content_type = "application/json",
        description = "A Stripe event, signed in the Stripe-Signature header."),
    responses((status = 200, body = WebhookAck), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem), (status = 503, body = Problem)))]
pub async fn stripe_event(
    State(state): State<ApiState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    let settings = &state.settings.webhooks;
    let Some(secret) = settings.stripe_secret.as_deref() else {
        let error = VerifyError::NotConfigured {
            what: "Stripe webhook signing secret",
        };
        return Err(reject(&state, PROVIDER, &meta, error).await);
    };
    let tolerance = i64::try_from(settings.stripe_tolerance.as_secs()).unwrap_or(i64::MAX);
    let now = settings.clock.now().timestamp();
    if let Err(error) = verify(
        secret,
        header(&headers, SIGNATURE_HEADER),
        &body,
        now,
        tolerance,
    ) {
        return Err(reject(&state, PROVIDER, &meta, error).await);
    }

    let event = parse_event(&body).map_err(|error| invalid_payload(PROVIDER, error))?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
            "the Stripe event is not UTF-8 text",
        )
    })?;
    let status = match accept_stripe_event(&state.app, &event.id, &event.event_type, text).await? {
        StripeReceipt::Stored(_) => "stored",
        StripeReceipt::Duplicate => "duplicate",
    };
    Ok(Json(WebhookAck {
        status,
        events: None,
    }))
}
