//! Rate limits. Unauthenticated routes count per client IP. Login, refresh and
//! sign-up have a much smaller per-IP budget, because they are where secrets
//! get guessed. Authenticated routes count per user (or API key) and per
//! account. Operations that call an LLM have their own small budgets and a cap
//! on how many run at once per account. Provider webhooks have one budget per
//! provider, shared by all of its addresses, so a provider's burst from a few
//! addresses is not cut short by a per-address limit. Tracking links count
//! per client IP. A rejected request gets 429 with Retry-After.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rekindle_ratelimit::{Decision, Quota};

use crate::auth::Caller;
use crate::middleware::client_ip::ClientIp;
use crate::problem::ApiError;
use crate::state::ApiState;

/// Checks `quota` for `key`; `None` when allowed, the 429 otherwise.
async fn check(state: &ApiState, key: &str, quota: Quota) -> Option<ApiError> {
    match state.limiters.rate.check(key, quota).await {
        Decision::Allowed { .. } => None,
        Decision::Limited { retry_after } => {
            tracing::info!(
                key_kind = key.split(':').next().unwrap_or(""),
                "rate limited"
            );
            Some(ApiError::rate_limited(retry_after))
        }
    }
}

fn client_ip(request: &Request) -> String {
    request
        .extensions()
        .get::<ClientIp>()
        .map(|ip| ip.0.to_string())
        .unwrap_or_default()
}

pub async fn per_ip(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let key = format!("ip:{}:public", client_ip(&request));
    if let Some(error) = check(&state, &key, state.settings.limits.public_per_ip).await {
        return error.into_response();
    }
    next.run(request).await
}

pub async fn per_ip_login(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let key = format!("ip:{}:login", client_ip(&request));
    if let Some(error) = check(&state, &key, state.settings.limits.login_per_ip).await {
        return error.into_response();
    }
    next.run(request).await
}

/// Runs after authentication: per caller, then per account.
pub async fn per_caller(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    let limits = state.settings.limits;
    let own = format!("{}:api", caller.limit_key());
    if let Some(error) = check(&state, &own, limits.per_user).await {
        return error.into_response();
    }
    let account = format!("account:{}:api", caller.account);
    if let Some(error) = check(&state, &account, limits.per_account).await {
        return error.into_response();
    }
    next.run(request).await
}

/// For routes that call an LLM: tighter budgets and a concurrency cap held
/// for the whole request.
pub async fn ai(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    let limits = state.settings.limits;
    let own = format!("{}:ai", caller.limit_key());
    if let Some(error) = check(&state, &own, limits.ai_per_user).await {
        return error.into_response();
    }
    let account = format!("account:{}:ai", caller.account);
    if let Some(error) = check(&state, &account, limits.ai_per_account).await {
        return error.into_response();
    }
    let key = format!("account:{}:ai-running", caller.account);
    let Some(permit) = state
        .limiters
        .concurrency
        .try_acquire(&key, limits.ai_concurrency)
        .await
    else {
        return ApiError {
            retry_after: Some(Duration::from_secs(5)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "ai_busy",
                format!(
                    "your account already runs {} AI operations; wait for one to finish",
                    limits.ai_concurrency
                ),
            )
        }
        .into_response();
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

/// Provider webhooks: one budget per provider, whatever address it posts from.
pub async fn per_provider(
    State((state, provider)): State<(ApiState, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let key = format!("webhook:{provider}");
    if let Some(error) = check(&state, &key, state.settings.webhooks.per_provider).await {
        return error.into_response();
    }
    next.run(request).await
}

/// Open pixel and click redirects: per client IP.
pub async fn per_ip_tracking(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let key = format!("ip:{}:tracking", client_ip(&request));
    if let Some(error) = check(&state, &key, state.settings.webhooks.tracking_per_ip).await {
        return error.into_response();
    }
    next.run(request).await
}
