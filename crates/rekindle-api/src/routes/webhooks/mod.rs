//! Provider webhooks and tracking links: public routes that carry no bearer
//! credential, so each one verifies its request (a signature, a URL secret
//! with basic auth, or a signed token) over the raw body before parsing it.
//!
//! A provider whose secret is not configured gets 503 and an error in the
//! log, because accepting its requests unchecked would let anyone forge
//! them. A request that fails verification gets 401. Both are logged and
//! counted per provider, reason and hour in `webhook_rejections`.

pub mod inbound_email;
pub mod sendgrid;
pub mod stripe;
pub mod tracking;
pub mod twilio;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use rekindle_store::WebhookRejection;
use rekindle_webhooks::{ParseError, VerifyError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::middleware::client_ip::ClientIp;
use crate::middleware::request_id::RequestId;
use crate::problem::ApiError;
use crate::state::ApiState;

/// The client address and request id of a webhook request, for logs and counts.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            ip: parts
                .extensions
                .get::<ClientIp>()
                .map(|ip| ip.0.to_string()),
            request_id: parts.extensions.get::<RequestId>().map(|id| id.0.clone()),
        })
    }
}

/// Body of a webhook that was accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `accepted` (stored for a job), `applied`, `stored`, `duplicate`,
    /// `ingested` or `unmatched`.
    pub status: &'static str,
    /// Events in the request, for batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

/// Returns a header's value, or an empty string when it is absent or not
/// visible ASCII, which the verifiers report as missing.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// Rejects a request that failed verification: 503 when the provider's secret
/// is not configured (or its key is invalid), 401 otherwise. The rejection is
/// logged and counted.
pub(crate) async fn reject(
    state: &ApiState,
    provider: &'static str,
    meta: &RequestMeta,
    error: VerifyError,
) -> ApiError {
    let request_id = meta.request_id.as_deref().unwrap_or("");
    let unconfigured = matches!(
        error,
        VerifyError::NotConfigured { .. } | VerifyError::InvalidKey { .. }
    );
    if unconfigured {
        tracing::error!(provider, request_id, %error, "webhook rejected because its secret is not configured");
    } else {
        tracing::warn!(provider, request_id, code = error.code(), %error, "webhook rejected: verification failed");
    }
    count_rejection(state, provider, error.code(), meta).await;

    if unconfigured {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook_not_configured",
            format!(
                "the {provider} webhook is not configured on this server, so its requests cannot be verified"
            ),
        );
    }
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        error.code(),
        format!("the request could not be verified: {error}"),
    )
}

/// Counts a rejected request. A failure to count is logged, never returned,
/// so the client still gets the rejection.
pub(crate) async fn count_rejection(
    state: &ApiState,
    provider: &'static str,
    reason: &'static str,
    meta: &RequestMeta,
) {
    let rejection = WebhookRejection {
        provider,
        reason,
        ip: meta.ip.clone(),
        request_id: meta.request_id.clone(),
    };
    let result = async {
        let mut tx = state.app.store.begin_system("webhook rejections").await?;
        tx.record_webhook_rejection(&rejection, Utc::now()).await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = result {
        tracing::error!(provider, reason, %error, "counting a rejected webhook failed");
    }
}

/// Maps a parse error of a verified body to 413 for size limits and 422
/// otherwise, with the parser's stable code.
pub(crate) fn invalid_payload(provider: &'static str, error: ParseError) -> ApiError {
    let status = match error {
        ParseError::TooManyEvents { .. }
        | ParseError::FieldTooLarge { .. }
        | ParseError::AttachmentTooLarge { .. }
        | ParseError::AttachmentsTooLarge { .. }
        | ParseError::TooManyAttachments { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    tracing::warn!(
        provider,
        code = error.code(),
        "verified webhook body rejected"
    );
    ApiError::new(
        status,
        error.code(),
        format!("the {provider} request was verified but its body is not accepted: {error}"),
    )
}
