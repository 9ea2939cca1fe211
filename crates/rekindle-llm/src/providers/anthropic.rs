//! Anthropic messages API: `POST {base}/v1/messages` with `x-api-key` and
//! `anthropic-version`, the system prompt in the top-level `system` field.

use std::time::Duration;

use async_trait::async_trait;
use rekindle_config::{Secret, StructuredOutput};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::http::{build_client, endpoint, send_json};
use super::{LlmProvider, ModelMap, ProviderSettings, system_with_schema};
use crate::error::{LlmError, LlmSetupError};
use crate::prompt::{Boundary, render_user_message};
use crate::request::{AgentRole, Completion, LlmOutput, LlmRequest, TokenUsage};

pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// The API version this client speaks, sent in every request.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
const PROVIDER: &str = "anthropic";

/// The Anthropic messages API.
#[derive(Debug)]
pub struct AnthropicProvider {
    client: reqwest::Client,
    url: Url,
    api_key: Secret,
    models: ModelMap,
    structured_output: StructuredOutput,
    timeout: Duration,
}

impl AnthropicProvider {
    pub fn new(settings: ProviderSettings) -> Result<Self, LlmSetupError> {
        let api_key = settings
            .api_key
            .filter(|key| !key.expose().trim().is_empty())
            .ok_or(LlmSetupError::MissingApiKey { provider: PROVIDER })?;
        let base_url = settings
            .base_url
            .unwrap_or_else(|| DEFAULT_ANTHROPIC_BASE_URL.to_owned());

        Ok(Self {
            client: build_client(settings.timeout)?,
            url: endpoint(&base_url, "/v1/messages", true)?,
            api_key,
            models: settings.models,
            structured_output: settings.structured_output,
            timeout: settings.timeout,
        })
    }

    /// Builds the JSON body. With a schema in `json_schema` mode, the schema
    /// becomes the input schema of a tool that the model must call, which is
    /// how this API returns structured output. In the other modes the schema
    /// goes into the system prompt and the reply text is parsed.
    fn body(&self, request: &LlmRequest, user_message: String) -> Value {
        let tool_schema = request
            .schema
            .as_ref()
            .filter(|_| self.structured_output == StructuredOutput::JsonSchema);
        let system = match tool_schema {
            Some(_) => request.system.as_str().to_owned(),
            None => system_with_schema(request.system.as_str(), request.schema.as_ref()),
        };

        let mut body = json!({
            "model": self.models.get(request.role),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "system": system,
            "messages": [
                {"role": "user", "content": user_message},
            ],
        });
        if let Some(schema) = tool_schema {
            body["tools"] = json!([{
                "name": schema.name(),
                "description": "Returns the result of the task in the required structure.",
                "input_schema": schema.schema(),
            }]);
            body["tool_choice"] = json!({"type": "tool", "name": schema.name()});
        }
        body
    }
}

#[derive(Debug, Deserialize)]
struct MessagesResponse {
    content: Vec<ContentBlock>,
    stop_reason: Option<String>,
    usage: Usage,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentBlock {
    Text {
        text: String,
    },
    ToolUse {
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Usage {
    input_tokens: u64,
    output_tokens: u64,
}

#[async_trait]
impl LlmProvider for AnthropicProvider {
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

        let http = self
            .client
            .post(self.url.clone())
            .header("x-api-key", self.api_key.expose())
            .header("anthropic-version", ANTHROPIC_VERSION)
            .json(&body);
        let reply = send_json(PROVIDER, http, self.timeout).await?;
        read_reply(reply)
    }
}

/// Reads the content: the input of a tool call when there is one, else the
/// text blocks joined.
fn read_reply(reply: Value) -> Result<Completion, LlmError> {
    let parsed: MessagesResponse =
        serde_json::from_value(reply).map_err(|error| LlmError::InvalidResponse {
            provider: PROVIDER,
            message: format!("not a messages response: {error}"),
        })?;

    let mut tool_input = None;
    let mut texts = Vec::new();
    for block in parsed.content {
        match block {
            ContentBlock::ToolUse { input } if tool_input.is_none() => tool_input = Some(input),
            ContentBlock::Text { text } => texts.push(text),
            _ => {}
        }
    }
    let output = match tool_input {
        Some(input) => LlmOutput::Json(input),
        None => LlmOutput::Text(texts.join("")),
    };

    Ok(Completion {
        output,
        usage: TokenUsage::new(parsed.usage.input_tokens, parsed.usage.output_tokens),
        truncated: parsed.stop_reason.as_deref() == Some("max_tokens"),
    })
}
