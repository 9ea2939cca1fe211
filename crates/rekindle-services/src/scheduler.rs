//! Periodic work, scheduled through the jobs table so that only one worker in a
//! fleet runs each round: the unique key keeps one queued job per kind.
//! Each round enqueues the jobs of [`PERIODIC_JOBS`].

use std::time::Duration;

use chrono::Utc;
use rekindle_store::NewJob;
use serde_json::json;
use tokio::sync::watch;

use crate::dormant::DORMANT_SCAN_JOB;
use crate::icp::ICP_REFRESH_JOB;
use crate::jobs::RESUME_PAUSED_JOB;
use crate::{App, ServiceError};

/// System jobs enqueued every round: resuming paused leads, deriving ideal
/// customer profiles (before the scan, so it enrolls by the new ranking),
/// and the dormant-lead scan.
pub const PERIODIC_JOBS: [&str; 3] = [RESUME_PAUSED_JOB, ICP_REFRESH_JOB, DORMANT_SCAN_JOB];

/// Enqueues every periodic job that is not already queued.
pub async fn enqueue_periodic(app: &App) -> Result<(), ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin_system("scheduler").await?;
    for kind in PERIODIC_JOBS {
        let mut job = NewJob::now(kind, json!({}));
        job.run_at = now;
        job.unique_key = Some(format!("system:{kind}"));
        tx.enqueue_system_job(None, &job, now).await?;
    }
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
