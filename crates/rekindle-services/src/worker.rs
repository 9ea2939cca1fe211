//! The job worker: claims due jobs with a lease, runs them, and records the
//! outcome. Failed jobs are retried with exponential backoff and jitter until
//! their attempts run out, then dead-lettered with a stored alert.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use rekindle_domain::{AlertSeverity, ErrorClass};
use rekindle_store::{Job, JobRetry, NewAlert};
use tokio::sync::watch;
use tracing::Instrument;

use crate::{App, ServiceError, jobs};

/// First retry delay; each further attempt doubles it.
const BASE_RETRY: Duration = Duration::from_secs(10);
/// Maximum retry delay.
const MAX_RETRY: Duration = Duration::from_secs(3600);

pub struct Worker {
    app: App,
    name: String,
    poll_interval: Duration,
}

/// Counts from a worker run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub succeeded: u64,
    pub retried: u64,
    pub dead: u64,
    /// Jobs put back for later without spending an attempt.
    pub deferred: u64,
}

impl Worker {
    pub fn new(app: App, name: impl Into<String>, poll_interval: Duration) -> Self {
        Self {
            app,
            name: name.into(),
            poll_interval,
        }
    }

    /// Claims and runs one batch of due jobs. Returns how many were claimed.
    pub async fn run_once(
        &self,
        now: DateTime<Utc>,
        stats: &mut WorkerStats,
    ) -> Result<usize, ServiceError> {
        let lease = chrono::Duration::from_std(self.app.settings.job_lease)
            .unwrap_or(chrono::Duration::minutes(5));
        let mut tx = self.app.store.begin_system("worker").await?;
        let claimed = tx
            .claim_jobs(&self.name, &[], self.app.settings.batch_size, lease, now)
            .await?;
        tx.commit().await?;

        for job in &claimed {
            let span = tracing::info_span!("job", job_id = %job.id, kind = %job.kind, account_id = ?job.account_id, attempt = job.attempts);
            let result = jobs::dispatch(&self.app, job).instrument(span).await;
            self.record(job, result, stats).await?;
        }
        Ok(claimed.len())
    }

    /// Runs jobs that are due by `until`, as if time had reached it, until none
    /// is left. Used by `rekindle demo` and tests to drive the queue without
    /// waiting for send windows. Stops after `max_rounds` batches.
    pub async fn run_due(
        &self,
        until: DateTime<Utc>,
        max_rounds: usize,
    ) -> Result<WorkerStats, ServiceError> {
        let mut stats = WorkerStats::default();
        for _ in 0..max_rounds {
            if self.run_once(until, &mut stats).await? == 0 {
                break;
            }
        }
        Ok(stats)
    }

    /// Polls until `shutdown` turns true.
    pub async fn run(
        &self,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<WorkerStats, ServiceError> {
        let mut stats = WorkerStats::default();
        tracing::info!(worker = %self.name, "worker started");
        while !*shutdown.borrow() {
            let claimed = match self.run_once(Utc::now(), &mut stats).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::error!(worker = %self.name, %error, "worker poll failed");
                    0
                }
            };
            if claimed == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.name, ?stats, "worker stopped");
        Ok(stats)
    }

    async fn record(
        &self,
        job: &Job,
        result: Result<jobs::Completion, ServiceError>,
        stats: &mut WorkerStats,
    ) -> Result<(), ServiceError> {
        if matches!(result, Ok(jobs::Completion::Recorded)) {
            stats.succeeded += 1;
            return Ok(());
        }
        let now = Utc::now();
        let mut tx = self.app.store.begin_system("worker").await?;
        let mut dead_error = None;
        match result {
            Ok(_) => {
                tx.complete_job(job.id, now).await?;
                stats.succeeded += 1;
            }
            Err(ServiceError::Deferred { until, reason }) => {
                tx.defer_job(job.id, until, now).await?;
                stats.deferred += 1;
                tracing::info!(job_id = %job.id, kind = %job.kind, %until, reason, "job deferred");
            }
            Err(error) => {
                let class = error.class();
                let message = error.to_string();
                let delay = match error.retry_after() {
                    Some(wait) => provider_delay(wait),
                    None => retry_delay(job.attempts, class),
                };
                let retry = if class.is_retryable() && job.attempts < job.max_attempts {
                    JobRetry::At(now + delay)
                } else {
                    JobRetry::Dead
                };
                tx.fail_job(job.id, &message, class, retry, now).await?;
                if retry == JobRetry::Dead {
                    dead_error = Some(message.clone());
                    stats.dead += 1;
                    tracing::error!(job_id = %job.id, kind = %job.kind, %class, error = %message, "job dead-lettered");
                    tx.insert_alert(
                        &NewAlert {
                            account_id: job.account_id,
                            severity: AlertSeverity::Critical,
                            kind: "job_dead".into(),
                            message: format!(
                                "job {} ({}) failed after {} attempts: {message}",
                                job.id, job.kind, job.attempts
                            ),
                        },
                        now,
                    )
                    .await?;
                } else {
                    stats.retried += 1;
                    tracing::warn!(job_id = %job.id, kind = %job.kind, %class, error = %message, "job failed; retry scheduled");
                }
            }
        }
        tx.commit().await?;

        let Some(error) = dead_error else {
            return Ok(());
        };
        if let Err(cleanup) = jobs::on_dead(&self.app, job, &error).await {
            tracing::error!(job_id = %job.id, kind = %job.kind, error = %cleanup, "cleaning up after a dead job failed");
        }
        Ok(())
    }
}

/// Exponential backoff with ±20 % jitter, so retries of many jobs spread out.
fn retry_delay(attempts: i32, class: ErrorClass) -> chrono::Duration {
    let exponent = attempts.clamp(1, 16) as u32 - 1;
    let base = BASE_RETRY
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_RETRY);
    let base = if class == ErrorClass::RateLimited {
        base.max(Duration::from_secs(60))
    } else {
        base
    };
    let jitter = rand::rng().random_range(0.8..1.2);
    chrono::Duration::from_std(base.mul_f64(jitter)).unwrap_or(chrono::Duration::hours(1))
}

/// The wait a provider asked for (`Retry-After`), plus up to 10 % jitter so
/// that the jobs it throttled together do not all return in the same second.
fn provider_delay(wait: Duration) -> chrono::Duration {
    let wait = wait.max(Duration::from_secs(1)).min(MAX_RETRY);
    let jitter = rand::rng().random_range(1.0..1.1);
    chrono::Duration::from_std(wait.mul_f64(jitter)).unwrap_or(chrono::Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_wait_is_honoured_with_a_little_jitter() {
        let delay = provider_delay(Duration::from_secs(7)).num_milliseconds();
        assert!((7_000..7_700).contains(&delay), "{delay}");
        let tiny = provider_delay(Duration::from_millis(10)).num_milliseconds();
        assert!((1_000..1_100).contains(&tiny), "{tiny}");
    }

    #[test]
    fn retry_delay_grows_and_caps() {
        let first = retry_delay(1, ErrorClass::Transient).num_milliseconds();
        assert!((8_000..=12_000).contains(&first), "{first}");
        let third = retry_delay(3, ErrorClass::Transient).num_milliseconds();
        assert!((32_000..=48_000).contains(&third), "{third}");
        let late = retry_delay(30, ErrorClass::Transient).num_seconds();
        assert!(late <= 4320, "{late}");
        assert!(retry_delay(1, ErrorClass::RateLimited).num_seconds() >= 48);
    }
}
