//! Rekindle's LLM layer: a small provider trait with two wire formats
//! (OpenAI-compatible chat completions and the Anthropic messages API), safe
//! prompts for untrusted text, output checks, budgets, concurrency caps,
//! retries and a circuit breaker per provider.
//!
//! Callers go through [`LlmClient::generate`]. The offline implementations
//! live with their callers (the crews). [`LlmClient::from_config`] returns
//! `None` when `llm.provider` is `offline`. When a call returns an
//! [`LlmError`], the caller uses its offline implementation and stores
//! [`LlmError::code`] as the reason.
//!
//! ```text
//! generate ─> circuit breaker ─> account and global slots ─> budget reservation
//!          ─> provider (one HTTP request, with a timeout) ─> settle the budget
//!          ─> retry transient failures and 429 with backoff
//!          ─> parse, validate against the schema, run the caller's checks
//!          ─> on rejection, one more attempt with the reason
//! ```

pub mod budget;
pub mod checks;
pub mod circuit;
mod client;
mod error;
pub mod prompt;
pub mod providers;
mod request;
mod retry;
mod schema;
#[cfg(feature = "test-support")]
pub mod testing;

pub use client::{AccountScope, ClientSettings, LlmClient, LlmOutcome, parse_json_reply};
pub use error::{LlmError, LlmSetupError};
pub use request::{AgentRole, Completion, LlmOutput, LlmRequest, SystemPrompt, TokenUsage};
pub use retry::RetryPolicy;
pub use schema::OutputSchema;
