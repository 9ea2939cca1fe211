//! Our own open pixel and click redirects. Each link carries a token signed
//! for one message (and, for a click, the target URL), so a tampered link is
//! rejected with 404 and a redirect only ever goes to a URL of the email.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rekindle_services::tracking::{record_click, record_open};

use super::{RequestMeta, count_rejection};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

/// A transparent 1x1 GIF (GIF89a), 43 bytes.
const PIXEL_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Records an open of the email and returns a transparent pixel. A failure
/// to record is logged and the pixel is still returned, so the email shows
/// no broken image.
#[utoipa::path(get, path = "/t/o/{token}", tag = "tracking",
    params(("token" = String, Path, description = "Signed open token of one message.")),
    responses((status = 200, content_type = "image/gif", description = "A transparent 1x1 GIF."),
        (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn open_pixel(
    State(state): State<ApiState>,
    meta: RequestMeta,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let claims = match state.app.tracking.verify_open(&token) {
        Ok(claims) => claims,
        Err(error) => return Err(invalid_link(&state, &meta, &error).await),
    };
    if let Err(error) = record_open(&state.app, claims, Utc::now()).await {
        tracing::error!(account_id = %claims.account_id, message_id = %claims.message_id, %error, "recording an open failed");
    }
    let mut response = (StatusCode::OK, PIXEL_GIF).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"));
    Ok(response)
}

/// Records a click and redirects to the link's target, which the token signs.
#[utoipa::path(get, path = "/t/c/{token}", tag = "tracking",
    params(("token" = String, Path, description = "Signed click token of one link of one message.")),
    responses((status = 302, description = "Redirect to the link's target, in the Location header."),
        (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn click_redirect(
    State(state): State<ApiState>,
    meta: RequestMeta,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let claims = match state.app.tracking.verify_click(&token) {
        Ok(claims) => claims,
        Err(error) => return Err(invalid_link(&state, &meta, &error).await),
    };
    if let Err(error) = record_click(&state.app, &claims, Utc::now()).await {
        tracing::error!(account_id = %claims.account_id, message_id = %claims.message_id, %error, "recording a click failed");
    }
    let location = HeaderValue::from_str(claims.url.as_str()).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_tracking_link",
            "this link is not valid",
        )
    })?;
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

async fn invalid_link(
    state: &ApiState,
    meta: &RequestMeta,
    error: &rekindle_channels::TokenError,
) -> ApiError {
    tracing::info!(request_id = meta.request_id.as_deref().unwrap_or(""), %error, "tracking link rejected");
    let reason = match error {
        rekindle_channels::TokenError::BadSignature => "bad_signature",
        _ => "malformed_token",
    };
    count_rejection(state, "tracking", reason, meta).await;
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_tracking_link",
        "this link is not valid; open the link from the original email",
    )
}
