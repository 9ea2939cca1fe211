//! Inbound email from SendGrid Inbound Parse, which does not sign its
//! requests: the URL carries a secret path segment and HTTP basic auth, both
//! compared in constant time. Attachments are measured against their caps and
//! dropped; the reply is matched to its message and recorded.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header as http_header};
use axum::response::IntoResponse;
use rekindle_services::inbound::{InboundOutcome, receive_email};
use rekindle_webhooks::VerifyError;
use rekindle_webhooks::inbound::{check_basic_auth, check_url_secret, parse_inbound};

use super::{RequestMeta, WebhookAck, header, invalid_payload, reject};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

const PROVIDER: &str = "inbound_email";

/// Receives an email posted by SendGrid Inbound Parse (multipart/form-data,
/// default mode) and records it as a reply when it replies to one of our messages.
#[utoipa::path(post, path = "/webhooks/inbound-email/{secret}", tag = "webhooks",
    params(("secret" = String, Path, description = "The configured inbound URL secret.")),
    request_body(content = String, content_type = "multipart/form-data",
        description = "The parsed email as SendGrid Inbound Parse posts it, with HTTP basic auth."),
    responses((status = 200, body = WebhookAck), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem), (status = 503, body = Problem)))]
pub async fn inbound_email(
    State(state): State<ApiState>,
    meta: RequestMeta,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, impl IntoResponse> {
    let settings = &state.settings.webhooks;
    let verified = check_configured(
        settings.inbound_url_secret.as_deref(),
        settings.inbound_user.as_deref(),
        settings.inbound_password.as_deref(),
    )
    .and_then(|()| {
        check_url_secret(
            &secret,
            settings.inbound_url_secret.as_deref().unwrap_or(""),
        )
    })
    .and_then(|()| {
        check_basic_auth(
            header(&headers, "authorization"),
            settings.inbound_user.as_deref().unwrap_or(""),
            settings.inbound_password.as_deref().unwrap_or(""),
        )
    });
    if let Err(error) = verified {
        let challenge = !matches!(error, VerifyError::NotConfigured { .. });
        let problem = reject(&state, PROVIDER, &meta, error).await;
        return Err(with_challenge(problem, challenge));
    }

    let email = parse_inbound(
        header(&headers, "content-type"),
        &body,
        &settings.inbound_limits,
    )
    .map_err(|error| with_challenge(invalid_payload(PROVIDER, error), false))?;
    let outcome = receive_email(&state.app, &email)
        .await
        .map_err(|error| with_challenge(ApiError::from(error), false))?;

    let status = match outcome {
        InboundOutcome::Ingested {
            account_id, reply, ..
        } => {
            tracing::info!(account_id = %account_id, reply_id = %reply.reply_id, "inbound email ingested");
            "ingested"
        }
        InboundOutcome::Duplicate => "duplicate",
        InboundOutcome::Unmatched => "unmatched",
    };
    Ok(Json(WebhookAck {
        status,
        events: None,
    }))
}

/// Fails with `NotConfigured` unless the URL secret, the user and the password
/// are all set, so a half-configured endpoint is never open.
fn check_configured(
    secret: Option<&str>,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<(), VerifyError> {
    let set = |value: Option<&str>| value.is_some_and(|value| !value.is_empty());
    if set(secret) && set(user) && set(password) {
        Ok(())
    } else {
        Err(VerifyError::NotConfigured {
            what: "inbound email URL secret, user and password",
        })
    }
}

/// Adds `WWW-Authenticate: Basic` to a 401, so that HTTP clients which send
/// credentials only when challenged send them on their retry.
fn with_challenge(problem: ApiError, challenge: bool) -> axum::response::Response {
    let mut response = problem.into_response();
    if challenge && response.status() == axum::http::StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            http_header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"rekindle inbound email\""),
        );
    }
    response
}
