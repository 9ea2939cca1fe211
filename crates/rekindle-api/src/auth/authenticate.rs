//! The authentication layer of every protected route. It reads the bearer
//! credential and verifies it: an access token by signature, expiry, audience
//! and issuer, an API key by its hash. Then it stores the [`Caller`] for the handler.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rekindle_auth::{AuthError, Credential, Scope, Scopes, hash_token, parse_bearer};
use rekindle_domain::AccountId;

use crate::auth::caller::{Caller, Principal};
use crate::middleware::client_ip::ClientIp;
use crate::middleware::request_id::RequestId;
use crate::problem::ApiError;
use crate::state::ApiState;

pub async fn require_caller(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ClientIp>()
        .map(|ip| ip.0)
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or("\u{fffd}"));

    let principal = match authenticate(&state, header).await {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let (account, principal) = principal;
    tracing::Span::current().record("account_id", tracing::field::display(account));
    if let Principal::User { id, .. } = &principal {
        tracing::Span::current().record("user_id", tracing::field::display(id));
    }
    request.extensions_mut().insert(Caller {
        account,
        principal,
        ip,
        request_id,
    });
    next.run(request).await
}

async fn authenticate(
    state: &ApiState,
    header: Option<&str>,
) -> Result<(AccountId, Principal), ApiError> {
    let header = header.ok_or_else(|| auth_error(&AuthError::MissingCredentials))?;
    let token = parse_bearer(header).map_err(|error| auth_error(&error))?;
    match Credential::classify(token).map_err(|error| auth_error(&error))? {
        Credential::ApiKey(key) => api_key(state, key).await,
        Credential::Jwt(token) => match state.tokens.verify_at(token, Utc::now()) {
            Ok(claims) => Ok((
                claims.acc,
                Principal::User {
                    id: claims.sub,
                    role: claims.role,
                },
            )),
            // A token another issuer signed may come from the external provider.
            Err(
                error @ (AuthError::WrongIssuer
                | AuthError::InvalidSignature
                | AuthError::DisallowedAlgorithm { .. }),
            ) if state.external.is_some() => external_user(state, token).await.inspect_err(|_| {
                tracing::debug!(own = %error, "token rejected by both verifiers");
            }),
            Err(error) => Err(auth_error(&error)),
        },
    }
}

/// Verifies a token of the external identity provider and finds the
/// Rekindle user linked to its subject.
async fn external_user(state: &ApiState, token: &str) -> Result<(AccountId, Principal), ApiError> {
    let Some(verifier) = &state.external else {
        return Err(auth_error(&AuthError::InvalidSignature));
    };
    let identity = verifier
        .verify(token)
        .await
        .map_err(|error| auth_error(&error))?;
    let mut tx = state.app.store.begin_system("external-auth").await?;
    let user = tx.find_user_by_external_subject(&identity.subject).await?;
    tx.commit().await?;
    let user = user.ok_or_else(|| {
        tracing::warn!(issuer = %identity.issuer, "external token for a subject with no Rekindle user");
        ApiError::unauthorized(
            "unknown_external_user",
            "your identity provider signed you in, but no Rekindle user is linked to your account there; ask an owner to add you with your external subject",
        )
    })?;
    Ok((
        user.account_id,
        Principal::User {
            id: user.id,
            role: user.role,
        },
    ))
}

async fn api_key(state: &ApiState, key: &str) -> Result<(AccountId, Principal), ApiError> {
    let hash = hash_token(key);
    let mut tx = state.app.store.begin_system("api-key-auth").await?;
    let found = tx.find_api_key(&hash).await?;
    tx.commit().await?;
    let key = found.ok_or_else(|| {
        ApiError::unauthorized(
            "invalid_api_key",
            "this API key does not exist or was revoked",
        )
    })?;
    let mut scopes = Scopes::new();
    for name in &key.scopes {
        if let Ok(scope) = name.parse::<Scope>() {
            scopes.insert(scope);
        }
    }
    Ok((key.account_id, Principal::ApiKey { id: key.id, scopes }))
}

/// Builds the 401 for a rejected credential, or a 500 for a fault on our side.
pub fn auth_error(error: &AuthError) -> ApiError {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    if status.is_server_error() {
        return ApiError::internal(error);
    }
    let mut problem = ApiError::new(status, error.code(), error.to_string());
    if status == StatusCode::UNAUTHORIZED {
        problem
            .detail
            .push_str("; sign in again at POST /api/v1/auth/login or use a valid API key");
    }
    problem
}
