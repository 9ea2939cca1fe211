//! RFC 9457 problem details, the one format of every error response.
//!
//! A handler returns an [`ApiError`]. Its response carries the problem as a
//! response extension with an empty body; the outermost middleware renders it
//! with the request id (see `middleware::problems`). Error responses made by
//! axum or a layer (an unknown route, a wrong method, a body over the limit)
//! get a problem body from the same middleware, so no error leaves the server in
//! another shape.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rekindle_services::ServiceError;
use rekindle_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI that names the problem type: `urn:rekindle:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    pub status: u16,
    /// Explanation of this occurrence, with the fix.
    pub detail: String,
    /// Stable machine-readable code, such as `validation_failed`.
    pub code: String,
    /// Id of the request, also in the `x-request-id` response header and the logs.
    pub request_id: String,
    /// The request field at fault, for validation errors (`lead_ids`, `steps[2].channel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error a handler returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub field: Option<String>,
    /// For 429 and 503: when the client may try again.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// Builds a 422 that names the field at fault.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                detail,
            )
        }
    }

    pub fn not_found(entity: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {entity} with this id in your account"),
        )
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn rate_limited(retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; wait for the time in the Retry-After header",
            )
        }
    }

    /// Builds a 500 and logs its cause, which the client never sees.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server could not complete the request; quote the request_id when you report it",
        )
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Builds the problem body for this error and request.
    pub fn problem(&self, request_id: &str) -> Problem {
        Problem {
            kind: format!("urn:rekindle:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            request_id: request_id.to_owned(),
            field: self.field.clone(),
        }
    }

    /// The problem code that stands for a bare status, for error responses
    /// that no handler made.
    pub fn from_status(status: StatusCode) -> Self {
        let (code, detail) = match status {
            StatusCode::NOT_FOUND => ("route_not_found", "no such route; see /api/v1/openapi.json"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this route does not accept this method; see the Allow header",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "the request body is larger than this route accepts",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "send the body as application/json (or multipart/form-data for uploads)",
            ),
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "the server could not answer in time; try again later",
            ),
            _ if status.is_server_error() => (
                "internal_error",
                "the server could not complete the request",
            ),
            _ => ("bad_request", "the request could not be processed"),
        };
        Self::new(status, code, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(message) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            ),
            ServiceError::NotFound { entity, .. } => Self::not_found(entity),
            ServiceError::Import(error) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_file",
                error.to_string(),
            ),
            ServiceError::Store(error) => error.into(),
            ServiceError::Classified { message, .. } | ServiceError::Throttled { message, .. } => {
                Self::internal(&message)
            }
            ServiceError::Deferred { reason, .. } => Self::internal(&reason),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { entity, .. } => Self::not_found(entity),
            StoreError::Conflict(_) => Self::conflict(
                "this value is already taken (a unique field repeats an existing record)",
            ),
            StoreError::Invalid(message) => {
                tracing::warn!(error = %message, "constraint rejected a request");
                Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "a value refers to a record that does not exist or is out of range",
                )
            }
            other => Self::internal(&other),
        }
    }
}
