//! OpenAI-compatible chat completions: `POST {base}/chat/completions` with a
//! bearer key. Ollama, vLLM and llama.cpp servers speak the same API.

use std::time::Duration;

use async_trait::async_trait;
use rekindle_config::{Secret, StructuredOutput};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::http::{build_client, endpoint, send_json};
use super::{LlmProvider, ModelMap, ProviderSettings, system_with_schema};
use crate::budget::estimate_tokens;
use crate::error::{LlmError, LlmSetupError};
use crate::prompt::{Boundary, render_user_message};
use crate::request::{AgentRole, Completion, LlmOutput, LlmRequest, TokenUsage};
use crate::schema::OutputSchema;

pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
const PROVIDER: &str = "openai";

/// A chat-completions server.
#[derive(Debug)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    url: Url,
    api_key: Option<Secret>,
    models: ModelMap,
    structured_output: StructuredOutput,
    timeout: Duration,
}

impl OpenAiProvider {
    /// Creates the provider. OpenAI's own API needs a key; a server at
    /// another base URL may run without one.
    pub fn new(settings: ProviderSettings) -> Result<Self, LlmSetupError> {
        let base_url = settings
            .base_url
            .clone()
            .unwrap_or_else(|| DEFAULT_OPENAI_BASE_URL.to_owned());
        let api_key = settings
            .api_key
            .filter(|key| !key.expose().trim().is_empty());
        if api_key.is_none() && settings.base_url.is_none() {
            return Err(LlmSetupError::MissingApiKey { provider: PROVIDER });
        }

        Ok(Self {
            client: build_client(settings.timeout)?,
            url: endpoint(&base_url, "/chat/completions", api_key.is_some())?,
            api_key,
            models: settings.models,
            structured_output: settings.structured_output,
            timeout: settings.timeout,
        })
    }

    /// Builds the JSON body. With a schema, `json_schema` mode sends it as
    /// `response_format` with `strict: true`. `json_object` mode requests any
    /// JSON object and puts the schema in the system prompt, and `none` relies
    /// on the system prompt alone.
    fn body(&self, request: &LlmRequest, user_message: String) -> Value {
        let enforced = self.structured_output == StructuredOutput::JsonSchema;
        let system = if enforced {
            request.system.as_str().to_owned()
        } else {
            system_with_schema(request.system.as_str(), request.schema.as_ref())
        };

        let mut body = json!({
            "model": self.models.get(request.role),
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user_message},
            ],
            // `max_tokens` rather than `max_completion_tokens`, because Ollama,
            // vLLM and llama.cpp read only the older name.
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        });

        if let Some(format) = request
            .schema
            .as_ref()
            .and_then(|schema| self.response_format(schema))
        {
            body["response_format"] = format;
        }
        body
    }

    fn response_format(&self, schema: &OutputSchema) -> Option<Value> {
        match self.structured_output {
            StructuredOutput::JsonSchema => Some(json!({
                "type": "json_schema",
                "json_schema": {
                    "name": schema.name(),
                    "schema": schema.schema(),
                    "strict": true,
                },
            })),
            StructuredOutput::JsonObject => Some(json!({"type": "json_object"})),
            StructuredOutput::None => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Message,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    content: Option<String>,
    /// Set by OpenAI instead of `content` when the model refuses.
    refusal: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[async_trait]
impl LlmProvider for OpenAiProvider {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn model(&self, role: AgentRole) -> &str {
        self.models.get(role)
    }

    async fn complete(&self, request: &LlmRequest) -> Result<Completion, LlmError> {
        let user_message = render_user_message(
            &request.data,
            request.correction.as_deref(),
            &Boundary::random(),
        );
        let body = self.body(request, user_message);

        let mut http = self.client.post(self.url.clone()).json(&body);
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key.expose());
        }
        let reply = send_json(PROVIDER, http, self.timeout).await?;
        read_reply(reply, &body)
    }
}

/// Reads the first choice. A server that omits `usage` (some local ones do)
/// gets an estimate, so the budget still counts the call.
fn read_reply(reply: Value, sent: &Value) -> Result<Completion, LlmError> {
    let parsed: ChatResponse =
        serde_json::from_value(reply).map_err(|error| LlmError::InvalidResponse {
            provider: PROVIDER,
            message: format!("not a chat completion: {error}"),
        })?;
    let choice = parsed
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::InvalidResponse {
            provider: PROVIDER,
            message: "the response has no choices".into(),
        })?;

    let text = choice
        .message
        .content
        .or(choice.message.refusal)
        .unwrap_or_default();
    let usage = match parsed.usage {
        Some(usage) => TokenUsage::new(usage.prompt_tokens, usage.completion_tokens),
        None => TokenUsage::new(
            estimate_tokens(&sent["messages"].to_string()),
            estimate_tokens(&text),
        ),
    };
    Ok(Completion {
        truncated: choice.finish_reason.as_deref() == Some("length"),
        output: LlmOutput::Text(text),
        usage,
    })
}
