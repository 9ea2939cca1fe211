//! Periodic work, scheduled through the jobs table so that only one worker in a
//! fleet runs each round: the unique key keeps one queued job per kind.

use std::time::Duration;

use chrono::Utc;
use rekindle_store::NewJob;
use serde_json::json;
use tokio::sync::watch;

use crate::jobs::RESUME_PAUSED_JOB;
use crate::{App, ServiceError};

/// Enqueues every periodic job that is not already queued.
pub async fn enqueue_periodic(app: &App) -> Result<(), ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin_system("scheduler").await?;
    let mut job = NewJob::now(RESUME_PAUSED_JOB, json!({}));
    job.run_at = now;
    job.unique_key = Some(format!("system:{RESUME_PAUSED_JOB}"));
    tx.enqueue_system_job(None, &job, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Enqueues the periodic jobs every `interval` until `shutdown` turns true.
pub async fn run(app: App, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(interval_seconds = interval.as_secs(), "scheduler started");
    while !*shutdown.borrow() {
        if let Err(error) = enqueue_periodic(&app).await {
            tracing::error!(%error, "scheduling periodic jobs failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("scheduler stopped");
}
