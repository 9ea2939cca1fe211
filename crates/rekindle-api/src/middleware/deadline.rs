//! The deadline of every request. A handler that runs past it is dropped (its
//! database transaction rolls back) and the client gets a 503 problem.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::ApiError;

pub async fn enforce(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                deadline_ms = limit.as_millis() as u64,
                "request ran past its deadline"
            );
            ApiError {
                retry_after: Some(Duration::from_secs(1)),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "deadline_exceeded",
                    format!(
                        "the request took longer than the {} s deadline; try again, or send less work per request",
                        limit.as_secs_f32()
                    ),
                )
            }
            .into_response()
        }
    }
}
