//! The `llm` section: which LLM provider the AI crews call, with which models,
//! and the limits on time, retries, tokens, cost and concurrency.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Secret;

/// The LLM provider the crews call. `Offline` calls none: the crews use their
/// rule-based implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LlmProviderKind {
    #[default]
    Offline,
    /// OpenAI chat completions and the servers that speak the same API
    /// (Ollama, vLLM, llama.cpp).
    Openai,
    /// Anthropic messages API.
    Anthropic,
}

impl LlmProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
        }
    }
}

/// The way JSON output is requested from the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// The server enforces a JSON schema: `response_format` of type
    /// `json_schema` (OpenAI-compatible) or a forced tool call (Anthropic).
    #[default]
    JsonSchema,
    /// The server returns some JSON object (`response_format` of type
    /// `json_object`). The schema is given in the prompt and checked here.
    /// Anthropic has no such mode and is treated as `none`.
    JsonObject,
    /// The schema is given in the prompt and the reply text must be one JSON
    /// object.
    None,
}

impl StructuredOutput {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JsonSchema => "json_schema",
            Self::JsonObject => "json_object",
            Self::None => "none",
        }
    }
}

/// Price of one model, in US dollars per million tokens, as the provider's
/// price list gives it.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmModelPrice {
    pub input_usd_per_million: f64,
    pub output_usd_per_million: f64,
}

/// Daily LLM spending cap of one account, per plan, in US dollars.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmPlanBudgets {
    pub starter: f64,
    pub pro: f64,
    pub enterprise: f64,
}

impl Default for LlmPlanBudgets {
    /// Caps chosen so that 30 days at the cap stay below the plan's monthly
    /// fee of 19, 99 and 499 GBP. Operators set their own.
    fn default() -> Self {
        Self {
            starter: 0.5,
            pro: 2.0,
            enterprise: 10.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    pub provider: LlmProviderKind,
    /// API base URL. Unset means `https://api.openai.com/v1` for `openai` and
    /// `https://api.anthropic.com` for `anthropic`.
    pub base_url: Option<String>,
    pub api_key: Option<Secret>,
    /// Model for every agent role that has no model of its own.
    pub model: Option<String>,
    pub writer_model: Option<String>,
    pub researcher_model: Option<String>,
    pub classifier_model: Option<String>,
    /// Seconds one HTTP request to the provider may take, response included.
    pub timeout_seconds: u64,
    /// Retries of a request that failed with a transient error or HTTP 429.
    pub max_retries: u32,
    /// Maximum output tokens of one call.
    pub max_tokens: u32,
    pub structured_output: StructuredOutput,
    /// Prices by model name. Every model in use needs one, with zero prices
    /// for a local model.
    pub prices: BTreeMap<String, LlmModelPrice>,
    pub daily_budget_usd: LlmPlanBudgets,
    /// LLM calls in flight at once for one account.
    pub account_concurrency: u32,
    /// LLM calls in flight at once in this process.
    pub global_concurrency: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            provider: LlmProviderKind::Offline,
            base_url: None,
            api_key: None,
            model: None,
            writer_model: None,
            researcher_model: None,
            classifier_model: None,
            timeout_seconds: 15,
            max_retries: 2,
            max_tokens: 1024,
            structured_output: StructuredOutput::JsonSchema,
            prices: BTreeMap::new(),
            daily_budget_usd: LlmPlanBudgets::default(),
            account_concurrency: 4,
            global_concurrency: 32,
        }
    }
}

/// Parses `model=input:output` pairs, comma-separated, with prices in US
/// dollars per million tokens: `gpt-4o-mini=0.15:0.60,llama3.1=0:0`.
pub(crate) fn parse_prices(value: &str) -> Result<BTreeMap<String, LlmModelPrice>, String> {
    let mut prices = BTreeMap::new();
    for item in value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let (model, pair) = item
            .rsplit_once('=')
            .ok_or_else(|| format!("{item:?} has no '='"))?;
        let (input, output) = pair
            .split_once(':')
            .ok_or_else(|| format!("{item:?} has no ':' between the input and output price"))?;
        let price = LlmModelPrice {
            input_usd_per_million: parse_usd(input)?,
            output_usd_per_million: parse_usd(output)?,
        };
        let model = model.trim();
        if model.is_empty() {
            return Err(format!("{item:?} has no model name"));
        }
        prices.insert(model.to_owned(), price);
    }
    Ok(prices)
}

/// Parses a non-negative, finite amount of US dollars.
pub(crate) fn parse_usd(text: &str) -> Result<f64, String> {
    let amount: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !amount.is_finite() || amount < 0.0 {
        return Err(format!("{text:?} is not a non-negative amount"));
    }
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_pairs() {
        let prices = parse_prices("gpt-4o-mini=0.15:0.60, llama3.1:8b=0:0").unwrap();
        assert_eq!(
            prices["gpt-4o-mini"],
            LlmModelPrice {
                input_usd_per_million: 0.15,
                output_usd_per_million: 0.6,
            }
        );
        assert_eq!(prices["llama3.1:8b"].output_usd_per_million, 0.0);
    }

    #[test]
    fn prices_reject_malformed_items() {
        for value in ["gpt", "gpt=1", "=1:2", "gpt=a:2", "gpt=-1:2", "gpt=1:inf"] {
            assert!(parse_prices(value).is_err(), "{value}");
        }
    }
}
