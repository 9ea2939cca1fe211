//! The users of an account: owners and admins add users with a role and an
//! initial password, which the user changes after signing in.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use rekindle_auth::{check_password_policy, hash_password_async};
use rekindle_domain::{UserId, UserRole};
use rekindle_store::{NewUser, StoreError};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::sessions::UserView;
use crate::auth::{Access, Caller, Principal};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{PageOf, PageQuery};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub email: String,
    /// `owner`, `admin` or `member`. Only an owner may add an owner.
    pub role: String,
    /// Initial password, at least 12 characters. Optional for a user who signs
    /// in only through the external identity provider.
    pub password: Option<String>,
    /// The user's subject (`sub` claim) at the external identity provider.
    pub external_subject: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = PageOf<UserView>), (status = 403, body = Problem)))]
pub async fn list_users(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<PageOf<UserView>>, ApiError> {
    caller.require(Access::Admin)?;
    let page = query.request()?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let users = tx.list_users(page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(users, UserView::from)))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUserRequest,
    responses((status = 201, body = UserView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_user(
    State(state): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    caller.require(Access::Admin)?;
    let email = validate::email("email", &body.email)?;
    let role: UserRole = body.role.parse().map_err(|_| {
        ApiError::invalid(
            "role",
            format!("role {:?} is not one of owner, admin, member", body.role),
        )
    })?;
    if role == UserRole::Owner
        && !matches!(
            caller.principal,
            Principal::User {
                role: UserRole::Owner,
                ..
            }
        )
    {
        return Err(ApiError::forbidden("only an owner may add another owner"));
    }
    let external_subject =
        validate::optional_text("external_subject", body.external_subject.as_deref(), 255)?;
    let hash = match body.password {
        Some(password) => {
            check_password_policy(&password, Some(email.as_str()))
                .map_err(|error| ApiError::invalid("password", error.to_string()))?;
            let hash = hash_password_async(password)
                .await
                .map_err(|error| ApiError::internal(&error))?;
            Some(hash)
        }
        None if external_subject.is_some() => None,
        None => {
            return Err(ApiError::invalid(
                "password",
                "give a password, or an external_subject for a user of the external identity provider",
            ));
        }
    };

    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    let user = tx
        .insert_user(
            &NewUser {
                id: UserId::new(),
                email: email.as_str().to_owned(),
                password_hash: hash,
                role,
                external_subject,
            },
            now,
        )
        .await
        .map_err(|error| match error {
            StoreError::Conflict(_) => {
                ApiError::conflict("a user with this email or external subject already exists")
                    .with_field("email")
            }
            other => other.into(),
        })?;
    let record = caller
        .audit("user.create", "user", Some(user.id.to_string()))
        .with_changes(json!({ "email": user.email, "role": user.role }));
    tx.append_audit(&record, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}
