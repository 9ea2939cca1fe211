//! The authenticated caller of a request: which account it acts in, who it is
//! (a user with a role, or an API key with scopes) and where it comes from.
//! Identity comes only from the verified credential, never from the body.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use rekindle_auth::{Scope, Scopes};
use rekindle_domain::{AccountId, ActorKind, UserId, UserRole};
use rekindle_store::{Actor, AuditRecord};
use uuid::Uuid;

use crate::problem::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User { id: UserId, role: UserRole },
    ApiKey { id: Uuid, scopes: Scopes },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub principal: Principal,
    pub ip: IpAddr,
    pub request_id: String,
}

/// Permission an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A user of any role, or an API key with this scope.
    Scope(Scope),
    /// An owner or admin. API keys never manage users, keys or the audit log.
    Admin,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::User { id, .. } => Actor {
                kind: ActorKind::User,
                id: id.to_string(),
            },
            Principal::ApiKey { id, .. } => Actor {
                kind: ActorKind::ApiKey,
                id: id.to_string(),
            },
        }
    }

    /// Builds an audit record by this caller, with its address and request id.
    pub fn audit(&self, action: &str, target_type: &str, target_id: Option<String>) -> AuditRecord {
        let mut record = AuditRecord::new(self.actor(), action, target_type, target_id);
        record.ip = Some(self.ip.to_string());
        record.request_id = Some(self.request_id.clone());
        record
    }

    pub fn user_id(&self) -> Option<UserId> {
        match &self.principal {
            Principal::User { id, .. } => Some(*id),
            Principal::ApiKey { .. } => None,
        }
    }

    /// Key of this caller's own rate-limit budget.
    pub fn limit_key(&self) -> String {
        match &self.principal {
            Principal::User { id, .. } => format!("user:{id}"),
            Principal::ApiKey { id, .. } => format!("key:{id}"),
        }
    }

    /// Fails with 403 unless the caller may do what `access` names.
    pub fn require(&self, access: Access) -> Result<(), ApiError> {
        let allowed = match (&self.principal, access) {
            (Principal::User { .. }, Access::Scope(_)) => true,
            (Principal::User { role, .. }, Access::Admin) => {
                matches!(role, UserRole::Owner | UserRole::Admin)
            }
            (Principal::ApiKey { scopes, .. }, Access::Scope(scope)) => scopes.allows(scope),
            (Principal::ApiKey { .. }, Access::Admin) => false,
        };
        if allowed {
            return Ok(());
        }
        Err(match access {
            Access::Scope(scope) => ApiError::forbidden(format!(
                "this API key lacks the scope {}; create a key that has it",
                scope.as_str()
            )),
            Access::Admin => ApiError::forbidden(
                "only an account owner or admin, signed in as a user, may do this",
            ),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            // Only reachable if a protected route was mounted without the
            // authentication layer, which the route-table test guards against.
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credentials",
                "send an Authorization header with a Bearer token",
            )
        })
    }
}
