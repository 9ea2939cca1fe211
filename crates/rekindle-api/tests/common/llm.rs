//! An LLM client for the test server, pointed at the mock LLM server on
//! loopback and built from an `llm` configuration section as the binary
//! builds it, with the budget ledger in the test database.

use std::sync::Arc;

use rekindle_config::{LlmConfig, LlmModelPrice, LlmPlanBudgets, LlmProviderKind};
use rekindle_llm::LlmClient;
use rekindle_llm::testing::{MockLlmServer, MockReply};
use rekindle_services::App;
use rekindle_services::ai::AiAgents;
use rekindle_services::ai_ledger::StoreLedger;
use serde_json::{Value, json};

pub const MODEL: &str = "mock-model";

/// The settings that change between tests.
#[derive(Debug, Clone, Copy)]
pub struct LlmSetup {
    /// Daily budget of every plan, in US dollars.
    pub daily_budget_usd: f64,
    pub input_usd_per_million: f64,
    pub output_usd_per_million: f64,
    pub max_tokens: u32,
}

impl Default for LlmSetup {
    fn default() -> Self {
        Self {
            daily_budget_usd: 10.0,
            input_usd_per_million: 1.0,
            output_usd_per_million: 2.0,
            max_tokens: 800,
        }
    }
}

pub fn config(mock: &MockLlmServer, setup: LlmSetup) -> LlmConfig {
    let mut config = LlmConfig {
        provider: LlmProviderKind::Openai,
        base_url: Some(format!("{}/v1", mock.base_url())),
        model: Some(MODEL.into()),
        timeout_seconds: 5,
        max_retries: 0,
        max_tokens: setup.max_tokens,
        daily_budget_usd: LlmPlanBudgets {
            starter: setup.daily_budget_usd,
            pro: setup.daily_budget_usd,
            enterprise: setup.daily_budget_usd,
        },
        ..LlmConfig::default()
    };
    config.prices.insert(
        MODEL.into(),
        LlmModelPrice {
            input_usd_per_million: setup.input_usd_per_million,
            output_usd_per_million: setup.output_usd_per_million,
        },
    );
    config
}

/// Gives the app an LLM client for `config`, with the ledger in its store.
pub fn use_llm(app: &mut App, config: &LlmConfig) {
    let ledger = Arc::new(StoreLedger::new(app.store.clone()));
    let client = LlmClient::from_config(config, ledger)
        .expect("valid LLM configuration")
        .expect("an LLM provider, not offline");
    app.ai = AiAgents::with_client(Arc::new(client));
}

pub const SUBJECT: &str = "Updated pricing options since we last spoke";

/// A draft body of 80 to 150 words that names no lead and has no link.
pub const BODY: &str = "Hi there,\n\n\
It has been a while since we last spoke, and I wanted to pick up the thread. You asked about \
pricing in the spring, and our options have become a lot more flexible since then, with smaller \
starting plans and no long commitment.\n\n\
Several teams similar to yours have started small this year and grown from there, which might \
suit the way you described your priorities back then.\n\n\
Would a short call next week be useful to see whether the new options fit? Even a quick reply \
helps me know whether to check back later.\n\n\
Best regards,\nSam Carter";

/// The words that show a message came from the mock rather than the
/// offline writer.
pub const LLM_MARKER: &str = "our options have become a lot more flexible";

pub fn draft() -> Value {
    json!({ "subject": SUBJECT, "body": BODY })
}

/// The schema name of the researcher's requests, which the mock routes on.
pub const RESEARCH_SCHEMA: &str = "lead_research";

/// The note the test server's leads are created with.
pub const LEAD_NOTE: &str = "Asked for pricing last spring.";

/// Returns a research output grounded in [`LEAD_NOTE`], the lead's only note.
pub fn research() -> Value {
    json!({
        "hook": {"source": "note", "number": 1, "cue": "asked_for_pricing", "period": null, "summary": null},
        "signals": [],
        "opt_out_noted": false
    })
}

/// Starts a mock that replies to every research request with the research
/// and to every other request with the draft.
pub async fn drafting_mock() -> MockLlmServer {
    let mock = MockLlmServer::start().await;
    mock.set_reply_for(RESEARCH_SCHEMA, MockReply::openai_json(&research()));
    mock.set_fallback(MockReply::openai_json(&draft()));
    mock
}
