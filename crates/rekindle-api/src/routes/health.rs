//! Liveness and readiness. `/healthz` reports only that the process is up, so
//! it needs no credential and reveals nothing. `/readyz` reports the database,
//! the job queue and the providers, and needs the operator token.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` when every check passed, else `degraded`.
    pub status: &'static str,
    pub database: Check,
    /// Jobs that are due and not yet claimed.
    pub jobs_due: Option<i64>,
    /// `sqlite` or `postgres`.
    pub backend: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    pub ok: bool,
    pub latency_ms: u64,
    /// General description of the failure. The details are in the log.
    pub error: Option<String>,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 429, body = Problem)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[utoipa::path(get, path = "/readyz", tag = "health", security(("operator" = [])),
    responses((status = 200, body = Readiness), (status = 503, body = Readiness),
              (status = 401, body = Problem)))]
pub async fn readyz(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Readiness>), ApiError> {
    let expected = state.settings.operator_token.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "operator_token_not_configured",
            "readiness details need REKINDLE_OPERATOR_TOKEN to be set on the server",
        )
    })?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    // A constant-time comparison, so timing does not reveal how much was right.
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(ApiError::unauthorized(
            "invalid_operator_token",
            "send the operator token as Authorization: Bearer <token>",
        ));
    }

    let started = std::time::Instant::now();
    let outcome = async {
        let mut tx = state.app.store.begin_system("readiness").await?;
        let (due, _) = tx.queue_state(Utc::now()).await?;
        tx.commit().await?;
        Ok::<_, rekindle_store::StoreError>(due)
    }
    .await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let (database, jobs_due) = match outcome {
        Ok(due) => (
            Check {
                ok: true,
                latency_ms,
                error: None,
            },
            Some(due),
        ),
        Err(error) => {
            tracing::error!(%error, "readiness: database check failed");
            (
                Check {
                    ok: false,
                    latency_ms,
                    error: Some("database unreachable".into()),
                },
                None,
            )
        }
    };
    let ready = database.ok;
    let body = Readiness {
        status: if ready { "ready" } else { "degraded" },
        database,
        jobs_due,
        backend: format!("{:?}", state.app.store.backend()).to_lowercase(),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, Json(body)))
}
