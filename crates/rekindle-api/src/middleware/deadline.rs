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

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::middleware::from_fn_with_state;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "late"
                }),
            )
            .route("/fast", get(|| async { "ok" }))
            .layer(from_fn_with_state(Duration::from_secs(5), enforce))
    }

    #[tokio::test(start_paused = true)]
    async fn slow_request_gets_503_with_retry_after() {
        let response = app()
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let error = response.extensions().get::<ApiError>().unwrap();
        assert_eq!(error.code, "deadline_exceeded");
        assert_eq!(error.retry_after, Some(Duration::from_secs(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn fast_request_passes() {
        let response = app()
            .oneshot(Request::get("/fast").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
