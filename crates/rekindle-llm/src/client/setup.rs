//! Building a client from its parts or from the `llm` configuration section.

use std::sync::Arc;
use std::time::Duration;

use rekindle_config::{LlmConfig, LlmProviderKind};

use super::LlmClient;
use crate::budget::{BudgetLedger, ConcurrencyLimits, PlanBudgets, PriceTable};
use crate::circuit::CircuitBreaker;
use crate::error::LlmSetupError;
use crate::providers::{
    AnthropicProvider, LlmProvider, ModelMap, OpenAiProvider, ProviderSettings,
};
use crate::request::AgentRole;
use crate::retry::RetryPolicy;

/// Everything of a client except the provider and the ledger.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub prices: PriceTable,
    pub budgets: PlanBudgets,
    pub retry: RetryPolicy,
    /// Upper bound of a request's `max_tokens`.
    pub max_tokens: u32,
    pub account_concurrency: usize,
    pub global_concurrency: usize,
}

impl LlmClient {
    /// Creates a client. Every model the provider uses must have a price, so
    /// no call escapes the budget.
    pub fn new(
        provider: Arc<dyn LlmProvider>,
        settings: ClientSettings,
        ledger: Arc<dyn BudgetLedger>,
    ) -> Result<Self, LlmSetupError> {
        for role in AgentRole::ALL {
            let model = provider.model(role);
            if settings.prices.price(model).is_none() {
                return Err(LlmSetupError::MissingPrice {
                    model: model.to_owned(),
                });
            }
        }
        if settings.max_tokens == 0 {
            return Err(LlmSetupError::InvalidSetting {
                key: "max_tokens",
                reason: "must be more than zero".into(),
            });
        }

        Ok(Self {
            breaker: CircuitBreaker::new(provider.name()),
            limits: ConcurrencyLimits::new(
                settings.account_concurrency,
                settings.global_concurrency,
            ),
            provider,
            ledger,
            prices: settings.prices,
            budgets: settings.budgets,
            retry: settings.retry,
            max_tokens: settings.max_tokens,
        })
    }

    /// Creates the configured client, or `None` for the `offline` provider,
    /// in which case the caller uses its offline implementations.
    pub fn from_config(
        config: &LlmConfig,
        ledger: Arc<dyn BudgetLedger>,
    ) -> Result<Option<Self>, LlmSetupError> {
        let provider: Arc<dyn LlmProvider> = match config.provider {
            LlmProviderKind::Offline => return Ok(None),
            LlmProviderKind::Openai => Arc::new(OpenAiProvider::new(provider_settings(config)?)?),
            LlmProviderKind::Anthropic => {
                Arc::new(AnthropicProvider::new(provider_settings(config)?)?)
            }
        };

        let settings = ClientSettings {
            prices: PriceTable::from_config(&config.prices)?,
            budgets: PlanBudgets::from_config(&config.daily_budget_usd),
            retry: RetryPolicy::default().with_max_retries(config.max_retries),
            max_tokens: config.max_tokens,
            account_concurrency: config.account_concurrency as usize,
            global_concurrency: config.global_concurrency as usize,
        };
        Self::new(provider, settings, ledger).map(Some)
    }
}

fn provider_settings(config: &LlmConfig) -> Result<ProviderSettings, LlmSetupError> {
    Ok(ProviderSettings {
        base_url: config.base_url.clone(),
        api_key: config.api_key.clone(),
        models: models(config)?,
        structured_output: config.structured_output,
        timeout: Duration::from_secs(config.timeout_seconds),
    })
}

/// Resolves each role's model: its own setting, else the shared `model`.
fn models(config: &LlmConfig) -> Result<ModelMap, LlmSetupError> {
    let pick = |own: &Option<String>, role: AgentRole| {
        own.as_ref()
            .or(config.model.as_ref())
            .cloned()
            .ok_or(LlmSetupError::MissingModel {
                role: role.as_str(),
            })
    };
    Ok(ModelMap {
        writer: pick(&config.writer_model, AgentRole::Writer)?,
        researcher: pick(&config.researcher_model, AgentRole::Researcher)?,
        classifier: pick(&config.classifier_model, AgentRole::Classifier)?,
    })
}

#[cfg(test)]
mod tests {
    use rekindle_config::{LlmModelPrice, Secret};

    use super::*;
    use crate::budget::InMemoryLedger;

    fn ledger() -> Arc<dyn BudgetLedger> {
        Arc::new(InMemoryLedger::new())
    }

    fn openai_config() -> LlmConfig {
        let mut config = LlmConfig {
            provider: LlmProviderKind::Openai,
            api_key: Some(Secret::new("sk-test-secret-value")),
            model: Some("gpt-4o-mini".into()),
            ..LlmConfig::default()
        };
        config.prices.insert(
            "gpt-4o-mini".into(),
            LlmModelPrice {
                input_usd_per_million: 0.15,
                output_usd_per_million: 0.6,
            },
        );
        config
    }

    #[test]
    fn offline_builds_no_client() {
        let client = LlmClient::from_config(&LlmConfig::default(), ledger()).unwrap();
        assert!(client.is_none());
    }

    #[test]
    fn openai_builds_client() {
        let client = LlmClient::from_config(&openai_config(), ledger())
            .unwrap()
            .unwrap();
        assert_eq!(client.provider_name(), "openai");
        assert_eq!(client.model(AgentRole::Classifier), "gpt-4o-mini");
    }

    #[test]
    fn role_model_overrides_shared_model() {
        let mut config = openai_config();
        config.writer_model = Some("gpt-4o".into());
        let error = LlmClient::from_config(&config, ledger()).unwrap_err();
        assert_eq!(
            error,
            LlmSetupError::MissingPrice {
                model: "gpt-4o".into()
            }
        );
    }

    #[test]
    fn missing_model_names_the_role() {
        let mut config = openai_config();
        config.model = None;
        let error = LlmClient::from_config(&config, ledger()).unwrap_err();
        assert!(
            error.to_string().contains("REKINDLE_LLM_WRITER_MODEL"),
            "{error}"
        );
    }

    #[test]
    fn anthropic_needs_key() {
        let mut config = openai_config();
        config.provider = LlmProviderKind::Anthropic;
        config.api_key = None;
        let error = LlmClient::from_config(&config, ledger()).unwrap_err();
        assert_eq!(
            error,
            LlmSetupError::MissingApiKey {
                provider: "anthropic"
            }
        );
    }

    #[test]
    fn openai_without_key_needs_own_server() {
        let mut config = openai_config();
        config.api_key = None;
        assert!(LlmClient::from_config(&config, ledger()).is_err());
        config.base_url = Some("http://127.0.0.1:11434/v1".into());
        assert!(LlmClient::from_config(&config, ledger()).unwrap().is_some());
    }

    #[test]
    fn debug_hides_api_key() {
        let client = LlmClient::from_config(&openai_config(), ledger())
            .unwrap()
            .unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("sk-test-secret-value"), "{debug}");
        assert!(debug.contains("redacted"), "{debug}");
    }
}
