//! The provider trait and its two wire formats. A provider sends one request
//! and returns the reply or a classified error. Retries, budgets, the circuit
//! breaker and output checks belong to [`LlmClient`](crate::LlmClient).

mod anthropic;
mod http;
mod openai;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use rekindle_config::{Secret, StructuredOutput};

pub use anthropic::{ANTHROPIC_VERSION, AnthropicProvider, DEFAULT_ANTHROPIC_BASE_URL};
pub use openai::{DEFAULT_OPENAI_BASE_URL, OpenAiProvider};

use crate::error::LlmError;
use crate::request::{AgentRole, Completion, LlmRequest};
use crate::schema::OutputSchema;

/// An LLM API. Implementations send exactly one HTTP request per call, with
/// a timeout, and never log the prompt or the API key.
#[async_trait]
pub trait LlmProvider: Send + Sync + fmt::Debug {
    /// Stable name, used in logs, errors, circuit breakers and usage records.
    fn name(&self) -> &'static str;

    /// Returns the model that serves `role`.
    fn model(&self, role: AgentRole) -> &str;

    /// Sends `request` once. The user message is rendered from the request's
    /// data blocks with a fresh random boundary.
    async fn complete(&self, request: &LlmRequest) -> Result<Completion, LlmError>;
}

/// The model of each agent role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelMap {
    pub writer: String,
    pub researcher: String,
    pub classifier: String,
}

impl ModelMap {
    /// Uses one model for every role.
    pub fn uniform(model: impl Into<String>) -> Self {
        let model = model.into();
        Self {
            writer: model.clone(),
            researcher: model.clone(),
            classifier: model,
        }
    }

    pub fn get(&self, role: AgentRole) -> &str {
        match role {
            AgentRole::Writer => &self.writer,
            AgentRole::Researcher => &self.researcher,
            AgentRole::Classifier => &self.classifier,
        }
    }
}

/// Settings either provider needs to send requests.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `None` uses the provider's public API.
    pub base_url: Option<String>,
    pub api_key: Option<Secret>,
    pub models: ModelMap,
    pub structured_output: StructuredOutput,
    /// Deadline of one HTTP request, response body included.
    pub timeout: Duration,
}

/// Returns the system prompt with the output schema appended, for servers
/// that do not enforce the schema themselves. The schema is our own text.
pub(crate) fn system_with_schema(system: &str, schema: Option<&OutputSchema>) -> String {
    match schema {
        Some(schema) => format!(
            "{system}\n\nReply with one JSON object and nothing else: no code fence, no text \
             before or after it. The object must match this JSON schema:\n{}",
            schema.schema()
        ),
        None => system.to_owned(),
    }
}
