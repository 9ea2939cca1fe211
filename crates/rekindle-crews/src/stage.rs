//! The stage contract: a typed input, a typed output or a classified error, and a
//! runner that times each run, applies a timeout and returns a storable record.

use std::time::Duration;

use async_trait::async_trait;
use rekindle_domain::ErrorClass;
use serde::Serialize;
use tokio::time::Instant;

/// Maximum length of a stage's input summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 200;

/// A classified stage failure. The class decides whether the worker retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{class}: {message}")]
pub struct StageError {
    pub class: ErrorClass,
    pub message: String,
}

impl StageError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Transient, message)
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Permanent, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::InvalidInput, message)
    }
}

/// Reason an LLM-backed stage used its offline implementation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fallback {
    /// Stable reason, such as `budget_exceeded`, `circuit_open`, `timeout`,
    /// `rate_limited`, `provider_error` or `invalid_output`.
    pub reason: String,
    /// The failure in words, for the operator.
    pub message: String,
}

/// Tokens a stage run used and the fallback it took, which its output does
/// not show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunNotes {
    /// LLM tokens of every request the run sent, failed ones included.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Set when the stage used its offline implementation instead of the LLM.
    pub fallback: Option<Fallback>,
}

impl RunNotes {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// One agent of a crew. Implementations are pure or call an outside service.
/// They must not write to the database, because the caller stores the
/// [`StageRecord`] and the output.
#[async_trait]
pub trait Stage: Send + Sync {
    type Input: Send;
    type Output: Serialize + Send;

    /// Stable name, stored with every stage run.
    fn name(&self) -> &'static str;

    /// Short description of the input for the stage-run record. It must not
    /// contain message bodies, notes or secrets: ids, counts and enum values only.
    fn input_summary(&self, input: &Self::Input) -> String;

    async fn run(&self, input: Self::Input) -> Result<Self::Output, StageError>;

    /// Runs the stage and returns its notes as well. The default calls
    /// [`Stage::run`] and has no notes. LLM-backed stages override it.
    async fn run_noted(&self, input: Self::Input) -> (Result<Self::Output, StageError>, RunNotes) {
        (self.run(input).await, RunNotes::default())
    }
}

/// What the caller stores for one stage run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRecord {
    pub stage: &'static str,
    pub input_summary: String,
    /// The serialised output, or `null` when the stage failed.
    pub output: serde_json::Value,
    pub duration: Duration,
    pub error: Option<StageError>,
    /// Tokens and fallback. Empty when the stage timed out, because the
    /// cancelled run could not report them.
    pub notes: RunNotes,
}

impl StageRecord {
    /// Records a stage whose output an earlier run produced, so a lead
    /// retried from a later stage shows where each output came from.
    pub fn reused<T: Serialize>(stage: &'static str, output: &T, source: &str) -> Self {
        Self {
            stage,
            input_summary: truncate_chars(&format!("reused from {source}"), MAX_SUMMARY_CHARS),
            output: serialise_output(output),
            duration: Duration::ZERO,
            error: None,
            notes: RunNotes::default(),
        }
    }
}

/// Runs a stage under a timeout and records the run. An expired timeout is a
/// transient error, so the worker may retry the stage.
pub async fn run_stage<S: Stage>(
    stage: &S,
    input: S::Input,
    timeout: Duration,
) -> (Result<S::Output, StageError>, StageRecord) {
    let input_summary = truncate_chars(&stage.input_summary(&input), MAX_SUMMARY_CHARS);
    let started = Instant::now();

    let (result, notes) = match tokio::time::timeout(timeout, stage.run_noted(input)).await {
        Ok(noted) => noted,
        Err(_elapsed) => {
            let error = StageError::transient(format!(
                "stage {} timed out after {} ms",
                stage.name(),
                timeout.as_millis()
            ));
            (Err(error), RunNotes::default())
        }
    };
    let duration = started.elapsed();

    let (output, error) = match &result {
        Ok(output) => (serialise_output(output), None),
        Err(error) => (serde_json::Value::Null, Some(error.clone())),
    };
    let record = StageRecord {
        stage: stage.name(),
        input_summary,
        output,
        duration,
        error,
        notes,
    };
    (result, record)
}

/// Serialises a stage output. serde_json fails only on a map with non-string
/// keys or a failing custom `Serialize`, and then the record stores the reason.
fn serialise_output<T: Serialize>(output: &T) -> serde_json::Value {
    serde_json::to_value(output)
        .unwrap_or_else(|error| serde_json::json!({ "serialisation_error": error.to_string() }))
}

fn truncate_chars(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Doubler;

    #[async_trait]
    impl Stage for Doubler {
        type Input = i64;
        type Output = i64;

        fn name(&self) -> &'static str {
            "doubler"
        }

        fn input_summary(&self, input: &i64) -> String {
            format!("value {input} {}", "x".repeat(500))
        }

        async fn run(&self, input: i64) -> Result<i64, StageError> {
            if input < 0 {
                return Err(StageError::invalid_input("negative value"));
            }
            Ok(input * 2)
        }
    }

    struct Sleeper;

    #[async_trait]
    impl Stage for Sleeper {
        type Input = Duration;
        type Output = ();

        fn name(&self) -> &'static str {
            "sleeper"
        }

        fn input_summary(&self, input: &Duration) -> String {
            format!("sleep {} ms", input.as_millis())
        }

        async fn run(&self, input: Duration) -> Result<(), StageError> {
            tokio::time::sleep(input).await;
            Ok(())
        }
    }

    /// Reports tokens and a fallback, as an LLM-backed stage does.
    struct Noted;

    #[async_trait]
    impl Stage for Noted {
        type Input = ();
        type Output = &'static str;

        fn name(&self) -> &'static str {
            "noted"
        }

        fn input_summary(&self, _input: &()) -> String {
            "nothing".into()
        }

        async fn run(&self, _input: ()) -> Result<&'static str, StageError> {
            Ok("plain")
        }

        async fn run_noted(&self, _input: ()) -> (Result<&'static str, StageError>, RunNotes) {
            let notes = RunNotes {
                input_tokens: 120,
                output_tokens: 80,
                fallback: Some(Fallback {
                    reason: "budget_exceeded".into(),
                    message: "daily LLM budget would be exceeded".into(),
                }),
            };
            (Ok("offline"), notes)
        }
    }

    #[tokio::test]
    async fn runner_records_notes() {
        let (result, record) = run_stage(&Noted, (), Duration::from_secs(1)).await;
        assert_eq!(result, Ok("offline"));
        assert_eq!(record.notes.total_tokens(), 200);
        let fallback = record.notes.fallback.expect("the fallback is recorded");
        assert_eq!(fallback.reason, "budget_exceeded");

        let (_, plain) = run_stage(&Doubler, 1, Duration::from_secs(1)).await;
        assert_eq!(plain.notes, RunNotes::default());
    }

    #[tokio::test]
    async fn runner_records_success() {
        let (result, record) = run_stage(&Doubler, 21, Duration::from_secs(1)).await;
        assert_eq!(result, Ok(42));
        assert_eq!(record.stage, "doubler");
        assert_eq!(record.output, serde_json::json!(42));
        assert_eq!(record.error, None);
    }

    #[tokio::test]
    async fn runner_records_error() {
        let (result, record) = run_stage(&Doubler, -1, Duration::from_secs(1)).await;
        let error = result.unwrap_err();
        assert_eq!(error.class, ErrorClass::InvalidInput);
        assert_eq!(record.error, Some(error));
        assert_eq!(record.output, serde_json::Value::Null);
    }

    #[tokio::test]
    async fn runner_caps_input_summary() {
        let (_, record) = run_stage(&Doubler, 1, Duration::from_secs(1)).await;
        assert_eq!(record.input_summary.chars().count(), MAX_SUMMARY_CHARS);
        assert!(record.input_summary.starts_with("value 1 "));
    }

    #[tokio::test(start_paused = true)]
    async fn runner_times_out_as_transient() {
        let timeout = Duration::from_millis(250);
        let (result, record) = run_stage(&Sleeper, Duration::from_secs(60), timeout).await;
        let error = result.unwrap_err();
        assert_eq!(error.class, ErrorClass::Transient);
        assert!(error.message.contains("timed out after 250 ms"), "{error}");
        assert_eq!(record.error, Some(error));
        assert_eq!(record.duration, timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn runner_measures_duration() {
        let (result, record) =
            run_stage(&Sleeper, Duration::from_millis(40), Duration::from_secs(1)).await;
        assert_eq!(result, Ok(()));
        assert_eq!(record.duration, Duration::from_millis(40));
    }
}
