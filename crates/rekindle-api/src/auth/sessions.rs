//! Sign-up, login, token refresh and logout.
//!
//! A login starts a session: a short-lived access token (JWT) and a refresh
//! token in a new family. Each refresh revokes the presented token and issues
//! the next one in the same family. A revoked token presented again was copied
//! or replayed, so the whole family is revoked and the event audited.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rekindle_auth::{
    RefreshSecret, check_password_policy, hash_password_async, hash_token, verify_dummy_async,
    verify_password_async,
};
use rekindle_domain::{ActorKind, Email, Plan, UserId, UserRole};
use rekindle_store::{Actor, AuditRecord, NewAccount, NewRefreshToken, NewUser, SystemTx, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::caller::Caller;
use crate::extract::ApiJson;
use crate::middleware::client_ip::ClientIp;
use crate::middleware::request_id::RequestId;
use crate::problem::ApiError;
use crate::routes::account::AccountView;
use crate::state::ApiState;
use crate::validate;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Company name of the new account, 1 to 200 characters.
    pub account_name: String,
    /// The owner's email; also the sender address unless `sender_email` is given.
    pub email: String,
    /// At least 12 characters.
    pub password: String,
    /// Name in the From header; the account name when absent.
    pub sender_name: Option<String>,
    pub sender_email: Option<String>,
    /// Postal address printed in every email (CAN-SPAM), at least 10 characters.
    pub postal_address: String,
    /// IANA time zone for leads without one, such as `Europe/London`.
    pub time_zone: String,
    /// ISO 4217 currency of the average contract value; `GBP` when absent.
    pub currency: Option<String>,
    /// Average contract value in minor units (pence, cents); 0 when absent.
    pub acv_minor: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Tokens of a session. Send `access_token` as `Authorization: Bearer ...`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Exchange at `POST /api/v1/auth/refresh`; single use.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    /// `owner`, `admin` or `member`.
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id.0,
            email: user.email,
            role: user.role.as_str().to_owned(),
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub account: AccountView,
    pub user: UserView,
    pub tokens: TokenResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub account: AccountView,
    /// The signed-in user; null for an API key.
    pub user: Option<UserView>,
    /// `user` or `api_key`.
    pub principal: String,
}

/// Creates an account and its owner, and signs the owner in.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth",
    request_body = SignupRequest,
    responses((status = 201, body = SignupResponse), (status = 409, body = crate::problem::Problem),
              (status = 422, body = crate::problem::Problem)))]
pub async fn signup(
    State(state): State<ApiState>,
    ip: axum::Extension<ClientIp>,
    request_id: axum::Extension<RequestId>,
    ApiJson(body): ApiJson<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>), ApiError> {
    let email = validate::email("email", &body.email)?;
    check_password_policy(&body.password, Some(email.as_str()))
        .map_err(|error| ApiError::invalid("password", error.to_string()))?;
    let sender_email = match &body.sender_email {
        Some(text) => validate::email("sender_email", text)?,
        None => email.clone(),
    };
    let new_account = NewAccount {
        name: validate::text("account_name", &body.account_name, 1, 200)?,
        sender_name: validate::text(
            "sender_name",
            body.sender_name.as_deref().unwrap_or(&body.account_name),
            1,
            100,
        )?,
        sender_email: sender_email.as_str().to_owned(),
        postal_address: validate::text("postal_address", &body.postal_address, 10, 500)?,
        time_zone: validate::time_zone("time_zone", &body.time_zone)?,
        acv_minor: validate::non_negative("acv_minor", body.acv_minor.unwrap_or(0))?,
        currency: validate::currency("currency", body.currency.as_deref().unwrap_or("GBP"))?,
        plan: Plan::Starter,
    };
    let password_hash = hash_password_async(body.password)
        .await
        .map_err(|error| ApiError::internal(&error))?;

    let now = Utc::now();
    let user_id = UserId::new();
    let actor = Actor {
        kind: ActorKind::User,
        id: user_id.to_string(),
    };
    let mut tx = state.app.store.begin_system("signup").await?;
    let account = tx.create_account(&new_account, &actor, now).await?;
    let user = tx
        .insert_user(
            account.id,
            &NewUser {
                id: user_id,
                email: email.as_str().to_owned(),
                password_hash: Some(password_hash),
                role: UserRole::Owner,
                external_subject: None,
            },
            now,
        )
        .await
        .map_err(|error| match error {
            rekindle_store::StoreError::Conflict(_) => ApiError::conflict(
                "a user with this email already exists; sign in, or ask that account's owner for an invite",
            )
            .with_field("email"),
            other => other.into(),
        })?;
    let record = audit(
        &actor,
        "user.create",
        "user",
        Some(user.id.to_string()),
        ip.0,
        &request_id.0,
    )
    .with_changes(json!({ "email": user.email, "role": user.role }));
    tx.append_audit(account.id, &record, now).await?;
    let tokens = start_session(&state, tx.as_mut(), &user, now).await?;
    tx.commit().await?;
    tracing::info!(account_id = %account.id, user_id = %user.id, "account signed up");

    Ok((
        StatusCode::CREATED,
        Json(SignupResponse {
            account: account.into(),
            user: user.into(),
            tokens,
        }),
    ))
}

/// Signs a user in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::problem::Problem)))]
pub async fn login(
    State(state): State<ApiState>,
    ip: axum::Extension<ClientIp>,
    request_id: axum::Extension<RequestId>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let rejected = || ApiError::unauthorized("invalid_credentials", "wrong email or password");
    let email = Email::parse(&body.email).map_err(|_| rejected())?;

    let mut tx = state.app.store.begin_system("login").await?;
    let found = tx.find_user_by_email(email.as_str()).await?;
    let Some(credentials) = found else {
        // Spend the time of a real check, so response times do not reveal
        // which emails have accounts. No account, so nothing to audit.
        let _ = verify_dummy_async(body.password).await;
        tracing::warn!("login failed for an unknown email");
        return Err(rejected());
    };
    let user = credentials.user;
    let valid = match credentials.password_hash {
        Some(hash) => verify_password_async(hash, body.password)
            .await
            .map_err(|error| ApiError::internal(&error))?,
        None => false,
    };
    let now = Utc::now();
    let actor = Actor {
        kind: ActorKind::User,
        id: user.id.to_string(),
    };
    if !valid {
        let record = audit(
            &actor,
            "auth.login_failed",
            "user",
            Some(user.id.to_string()),
            ip.0,
            &request_id.0,
        );
        tx.append_audit(user.account_id, &record, now).await?;
        tx.commit().await?;
        tracing::warn!(account_id = %user.account_id, user_id = %user.id, "login failed: wrong password");
        return Err(rejected());
    }
    let record = audit(
        &actor,
        "auth.login",
        "user",
        Some(user.id.to_string()),
        ip.0,
        &request_id.0,
    );
    tx.append_audit(user.account_id, &record, now).await?;
    let tokens = start_session(&state, tx.as_mut(), &user, now).await?;
    tx.commit().await?;
    tracing::info!(account_id = %user.account_id, user_id = %user.id, "user signed in");
    Ok(Json(tokens))
}

/// Exchanges a refresh token for a new access token and refresh token.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = crate::problem::Problem)))]
pub async fn refresh(
    State(state): State<ApiState>,
    ip: axum::Extension<ClientIp>,
    request_id: axum::Extension<RequestId>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let rejected = || {
        ApiError::unauthorized(
            "invalid_refresh_token",
            "this refresh token is unknown, expired or revoked; sign in again",
        )
    };
    if !RefreshSecret::is_well_formed(&body.refresh_token) {
        return Err(rejected());
    }
    let now = Utc::now();
    let mut tx = state.app.store.begin_system("refresh").await?;
    let token = tx
        .find_refresh_token(&hash_token(&body.refresh_token))
        .await?
        .ok_or_else(rejected)?;
    let actor = Actor {
        kind: ActorKind::User,
        id: token.user_id.to_string(),
    };

    if token.revoked_at.is_some() {
        let revoked = tx
            .revoke_refresh_family_of(token.account_id, token.family_id, now)
            .await?;
        let record = audit(
            &actor,
            "auth.refresh_reuse",
            "session",
            Some(token.family_id.to_string()),
            ip.0,
            &request_id.0,
        )
        .with_changes(json!({ "revoked_tokens": revoked }));
        tx.append_audit(token.account_id, &record, now).await?;
        tx.commit().await?;
        tracing::warn!(account_id = %token.account_id, user_id = %token.user_id, "a rotated refresh token was reused; the session is revoked");
        return Err(ApiError::unauthorized(
            "refresh_token_reused",
            "this refresh token was already used, so the session has been ended for safety; sign in again",
        ));
    }
    if token.expires_at <= now {
        return Err(rejected());
    }
    let user = tx
        .get_user(token.account_id, token.user_id)
        .await?
        .ok_or_else(rejected)?;
    tx.revoke_refresh_token(token.id, now).await?;
    let tokens = issue_tokens(&state, tx.as_mut(), &user, token.family_id, now).await?;
    tx.commit().await?;
    Ok(Json(tokens))
}

/// Ends the session of a refresh token (its whole family).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::problem::Problem)))]
pub async fn logout(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let now = Utc::now();
    let mut tx = state.app.store.begin_system("logout").await?;
    let token = tx
        .find_refresh_token(&hash_token(&body.refresh_token))
        .await?;
    let Some(token) = token.filter(|token| token.account_id == caller.account) else {
        return Err(ApiError::invalid(
            "refresh_token",
            "this refresh token does not belong to a session of yours",
        ));
    };
    let revoked = tx
        .revoke_refresh_family_of(token.account_id, token.family_id, now)
        .await?;
    let record = caller
        .audit("auth.logout", "session", Some(token.family_id.to_string()))
        .with_changes(json!({ "revoked_tokens": revoked }));
    tx.append_audit(caller.account, &record, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Returns the account and user of the credential.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = crate::problem::Problem)))]
pub async fn me(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<MeResponse>, ApiError> {
    let mut tx = state.app.store.begin(caller.account).await?;
    let account = tx.account().await?;
    let user = match caller.user_id() {
        Some(id) => tx.get_user(id).await?,
        None => None,
    };
    tx.commit().await?;
    Ok(Json(MeResponse {
        account: account.into(),
        principal: caller.actor().kind.as_str().to_owned(),
        user: user.map(UserView::from),
    }))
}

async fn start_session(
    state: &ApiState,
    tx: &mut dyn SystemTx,
    user: &User,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ApiError> {
    issue_tokens(state, tx, user, Uuid::now_v7(), now).await
}

/// Signs an access token and stores a new refresh token in `family`.
async fn issue_tokens(
    state: &ApiState,
    tx: &mut dyn SystemTx,
    user: &User,
    family: Uuid,
    now: DateTime<Utc>,
) -> Result<TokenResponse, ApiError> {
    let access = state
        .tokens
        .issue(user.id, user.account_id, user.role, now)
        .map_err(|error| ApiError::internal(&error))?;
    let (refresh, hash) = RefreshSecret::generate();
    let ttl = chrono::Duration::from_std(state.settings.refresh_token_ttl)
        .map_err(|error| ApiError::internal(&error))?;
    let refresh_expires_at = now + ttl;
    tx.insert_refresh_token(
        &NewRefreshToken {
            id: Uuid::now_v7(),
            account_id: user.account_id,
            user_id: user.id,
            family_id: family,
            token_hash: hash,
            expires_at: refresh_expires_at,
        },
        now,
    )
    .await?;
    Ok(TokenResponse {
        expires_in: (access.expires_at - now).num_seconds(),
        access_token: access.token,
        token_type: "Bearer",
        refresh_token: refresh,
        refresh_expires_at,
    })
}

fn audit(
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: Option<String>,
    ip: ClientIp,
    request_id: &RequestId,
) -> AuditRecord {
    let mut record = AuditRecord::new(actor.clone(), action, target_type, target_id);
    record.ip = Some(ip.0.to_string());
    record.request_id = Some(request_id.0.clone());
    record
}

/// Changes the signed-in user's password and ends the user's other sessions.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 401, body = crate::problem::Problem),
              (status = 422, body = crate::problem::Problem)))]
pub async fn change_password(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let user_id = caller.user_id().ok_or_else(|| {
        ApiError::forbidden("an API key has no password; sign in as a user to change one")
    })?;
    let mut tx = state.app.store.begin_system("password").await?;
    let user = tx
        .get_user(caller.account, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let current = tx
        .find_user_by_email(&user.email)
        .await?
        .and_then(|credentials| credentials.password_hash);
    let valid = match current {
        Some(hash) => verify_password_async(hash, body.current_password)
            .await
            .map_err(|error| ApiError::internal(&error))?,
        None => false,
    };
    if !valid {
        tracing::warn!(account_id = %caller.account, user_id = %user_id, "password change with a wrong current password");
        return Err(ApiError::invalid(
            "current_password",
            "the current password is wrong",
        ));
    }
    check_password_policy(&body.new_password, Some(&user.email))
        .map_err(|error| ApiError::invalid("new_password", error.to_string()))?;
    let hash = hash_password_async(body.new_password)
        .await
        .map_err(|error| ApiError::internal(&error))?;
    let now = Utc::now();
    let revoked = tx.set_password(caller.account, user_id, &hash, now).await?;
    let record = caller
        .audit("user.password_change", "user", Some(user_id.to_string()))
        .with_changes(json!({ "revoked_tokens": revoked }));
    tx.append_audit(caller.account, &record, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
