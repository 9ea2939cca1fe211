//! Output checks. After parsing and schema validation, the caller's checks
//! run on the output. A failure retries the call once with the problems as
//! the correction, and a second failure is returned as
//! [`LlmError::InvalidOutput`](crate::LlmError::InvalidOutput) so the caller
//! falls back.

mod field;
mod text;

pub use field::FieldRules;
pub use text::{LinkAllowList, char_count, find_disallowed_links, find_placeholders, word_count};

use crate::request::LlmOutput;

/// A check a caller runs on every output.
pub trait OutputCheck: Send + Sync {
    /// Returns every problem found, each as a short sentence that the model
    /// can act on; an empty list means the output passes.
    fn check(&self, output: &LlmOutput) -> Vec<String>;
}

/// A check that passes every output.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoChecks;

impl OutputCheck for NoChecks {
    fn check(&self, _output: &LlmOutput) -> Vec<String> {
        Vec::new()
    }
}

impl<F> OutputCheck for F
where
    F: Fn(&LlmOutput) -> Vec<String> + Send + Sync,
{
    fn check(&self, output: &LlmOutput) -> Vec<String> {
        self(output)
    }
}

/// Several checks run in order; the problems of all of them are returned.
#[derive(Default)]
pub struct CheckList {
    checks: Vec<Box<dyn OutputCheck>>,
}

impl CheckList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, check: impl OutputCheck + 'static) -> Self {
        self.checks.push(Box::new(check));
        self
    }
}

impl OutputCheck for CheckList {
    fn check(&self, output: &LlmOutput) -> Vec<String> {
        self.checks
            .iter()
            .flat_map(|check| check.check(output))
            .collect()
    }
}
