//! Requests to a provider, and the completions and outputs that come back.

use std::fmt;
use std::ops::{Add, AddAssign};

use serde::Serialize;
use serde_json::Value;

use crate::prompt::DataBlock;
use crate::schema::OutputSchema;

/// The agent an LLM call works for. Each role has its own model in the
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    Writer,
    Researcher,
    Classifier,
}

impl AgentRole {
    pub const ALL: [AgentRole; 3] = [Self::Writer, Self::Researcher, Self::Classifier];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Writer => "writer",
            Self::Researcher => "researcher",
            Self::Classifier => "classifier",
        }
    }
}

impl fmt::Display for AgentRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The system prompt: our own instructions and nothing else. Lead, account
/// and reply text never goes here, only into [`DataBlock`]s, because a
/// model gives the system prompt the most weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPrompt(String);

impl SystemPrompt {
    /// Wraps trusted text: string literals and our own numbers or enum
    /// names, never a value read from a lead, an account or a reply.
    pub fn new(trusted_text: impl Into<String>) -> Self {
        Self(trusted_text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One request to a provider.
#[derive(Debug, Clone)]
pub struct LlmRequest {
    pub role: AgentRole,
    pub system: SystemPrompt,
    /// Untrusted data, rendered into the user message between random
    /// boundary tags after cleaning.
    pub data: Vec<DataBlock>,
    /// When set, the output must be one JSON object that matches it.
    pub schema: Option<OutputSchema>,
    pub max_tokens: u32,
    pub temperature: f64,
    /// Reason the previous output was rejected, appended to the user message
    /// of the one retry.
    pub correction: Option<String>,
}

impl LlmRequest {
    /// Creates a request with no data, no schema, 1,024 output tokens and
    /// temperature 0.
    pub fn new(role: AgentRole, system: SystemPrompt) -> Self {
        Self {
            role,
            system,
            data: Vec::new(),
            schema: None,
            max_tokens: 1024,
            temperature: 0.0,
            correction: None,
        }
    }

    pub fn with_data(mut self, block: DataBlock) -> Self {
        self.data.push(block);
        self
    }

    pub fn with_schema(mut self, schema: OutputSchema) -> Self {
        self.schema = Some(schema);
        self
    }

    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    pub fn with_temperature(mut self, temperature: f64) -> Self {
        self.temperature = temperature;
        self
    }
}

/// Tokens of one or more calls, as the provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl TokenUsage {
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
        }
    }

    pub fn total(self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

impl Add for TokenUsage {
    type Output = TokenUsage;

    fn add(self, other: TokenUsage) -> TokenUsage {
        TokenUsage {
            input_tokens: self.input_tokens.saturating_add(other.input_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
        }
    }
}

impl AddAssign for TokenUsage {
    fn add_assign(&mut self, other: TokenUsage) {
        *self = *self + other;
    }
}

/// The model's output: text, or a JSON value when the request had a schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LlmOutput {
    Text(String),
    Json(Value),
}

impl LlmOutput {
    pub fn as_json(&self) -> Option<&Value> {
        match self {
            Self::Json(value) => Some(value),
            Self::Text(_) => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Json(_) => None,
        }
    }
}

/// Reply of a provider to one successful HTTP exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Text for a plain reply, or JSON when the provider returned a structured
    /// value directly (an Anthropic tool call).
    pub output: LlmOutput,
    pub usage: TokenUsage,
    /// The model stopped at `max_tokens`, so the output is cut off.
    pub truncated: bool,
}
