//! The LLM-backed agents of one process, handed out per account: the LLM
//! researcher, writer and reply classifier when an LLM is configured, the
//! offline ones otherwise. The shared [`LlmClient`] carries the circuit breaker and the
//! concurrency caps, so every account's agents go through the same client.

use std::sync::Arc;

use rekindle_crews::{
    ClassifiedReply, CrewAgents, LeadResearcher, LlmReplyClassifier, LlmResearcher, LlmWriter,
    MessageWriter, ReplyInput, classify_offline,
};
use rekindle_llm::{AccountScope, LlmClient};

/// Hands out each account's researcher, writer and reply classifier.
#[derive(Clone, Default)]
pub struct AiAgents {
    client: Option<Arc<LlmClient>>,
}

impl AiAgents {
    /// Agents that never call an LLM.
    pub fn offline() -> Self {
        Self::default()
    }

    /// Agents that call `client`, with the offline ones as their fallback.
    pub fn with_client(client: Arc<LlmClient>) -> Self {
        Self {
            client: Some(client),
        }
    }

    pub fn client(&self) -> Option<&Arc<LlmClient>> {
        self.client.as_ref()
    }

    /// Returns the LLM writer of `account`, whose budget is the account
    /// plan's, or `None` when no LLM is configured: the crew then writes
    /// with its own writer, the offline one unless a test replaced it.
    pub fn llm_writer(&self, account: AccountScope) -> Option<Arc<dyn MessageWriter>> {
        self.client.as_ref().map(|client| {
            Arc::new(LlmWriter::new(Arc::clone(client), account)) as Arc<dyn MessageWriter>
        })
    }

    /// Returns the LLM researcher of `account`, whose budget is the account
    /// plan's, or `None` when no LLM is configured.
    pub fn llm_researcher(&self, account: AccountScope) -> Option<Arc<dyn LeadResearcher>> {
        self.client.as_ref().map(|client| {
            Arc::new(LlmResearcher::new(Arc::clone(client), account)) as Arc<dyn LeadResearcher>
        })
    }

    /// Returns the LLM researcher and writer of `account` for a crew run,
    /// or `None` when no LLM is configured: the crew then runs its own
    /// agents.
    pub fn crew_agents(&self, account: AccountScope) -> Option<CrewAgents> {
        Some(CrewAgents {
            researcher: self.llm_researcher(account)?,
            writer: self.llm_writer(account)?,
        })
    }

    /// Classifies a reply for `account` with the LLM, the rules deciding
    /// opt-outs and bounces, or with the rules alone when no LLM is
    /// configured.
    pub async fn classify_reply(
        &self,
        account: AccountScope,
        reply: &ReplyInput,
    ) -> ClassifiedReply {
        match &self.client {
            Some(client) => {
                LlmReplyClassifier::new(Arc::clone(client), account)
                    .classify(reply)
                    .await
            }
            None => classify_offline(reply),
        }
    }
}

impl std::fmt::Debug for AiAgents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiAgents")
            .field(
                "llm",
                &self.client.as_ref().map(|client| client.provider_name()),
            )
            .finish()
    }
}
