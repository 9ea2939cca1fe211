//! Running blocking file work on tokio's blocking pool with a deadline.

use std::io;
use std::time::Duration;

use crate::ChannelError;

/// Runs `work` on the blocking thread pool and waits at most `timeout`.
///
/// On timeout the caller gets a transient error at once, but the work itself
/// cannot be cancelled and may still finish later. Outbox writes are atomic
/// and idempotent, so a late finish leaves the same file a retry writes.
pub async fn run_blocking<T: Send + 'static>(
    operation: &str,
    timeout: Duration,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, ChannelError> {
    let task = tokio::task::spawn_blocking(work);

    match tokio::time::timeout(timeout, task).await {
        Err(_) => Err(ChannelError::transient(format!(
            "{operation} timed out after {} ms",
            timeout.as_millis()
        ))),
        Ok(Err(join_error)) => Err(ChannelError::transient(format!(
            "{operation} failed: the worker thread stopped: {join_error}"
        ))),
        Ok(Ok(Err(io_error))) => Err(classify_io_error(operation, &io_error)),
        Ok(Ok(Ok(value))) => Ok(value),
    }
}

/// Maps an I/O error to a class: configuration problems that a retry cannot
/// fix (a missing permission, a path that is a file) are permanent, anything
/// else (a full disk, an interrupted call) is transient.
fn classify_io_error(operation: &str, error: &io::Error) -> ChannelError {
    let message = format!("{operation} failed: {error}");
    match error.kind() {
        io::ErrorKind::PermissionDenied
        | io::ErrorKind::ReadOnlyFilesystem
        | io::ErrorKind::NotADirectory
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::AlreadyExists
        | io::ErrorKind::InvalidFilename
        | io::ErrorKind::InvalidInput => ChannelError::permanent(message),
        _ => ChannelError::transient(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rekindle_domain::ErrorClass;

    #[tokio::test]
    async fn slow_work_times_out() {
        let result = run_blocking("writing test file", Duration::from_millis(20), || {
            std::thread::sleep(Duration::from_millis(300));
            Ok(())
        })
        .await;

        let error = result.unwrap_err();
        assert_eq!(error.class(), ErrorClass::Transient);
        assert!(error.message().contains("timed out after 20 ms"), "{error}");
    }

    #[tokio::test]
    async fn io_errors_are_classified() {
        let denied = run_blocking(
            "writing test file",
            Duration::from_secs(5),
            || -> io::Result<()> { Err(io::Error::from(io::ErrorKind::PermissionDenied)) },
        )
        .await
        .unwrap_err();
        assert_eq!(denied.class(), ErrorClass::Permanent);

        let interrupted = run_blocking(
            "writing test file",
            Duration::from_secs(5),
            || -> io::Result<()> { Err(io::Error::from(io::ErrorKind::Interrupted)) },
        )
        .await
        .unwrap_err();
        assert_eq!(interrupted.class(), ErrorClass::Transient);
    }

    #[tokio::test]
    async fn quick_work_returns_value() {
        let value = run_blocking("reading test file", Duration::from_secs(5), || Ok(7)).await;
        assert_eq!(value, Ok(7));
    }
}
