//! The LLM writer requests the draft from the configured LLM. When the call
//! fails, is refused or returns output that fails the checks, it falls back
//! to the offline writer and records the reason in the stage run's notes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rekindle_domain::Channel;
use rekindle_llm::checks::LinkAllowList;
use rekindle_llm::{AccountScope, LlmClient, LlmError, LlmOutput};

use super::llm_checks::draft_checks;
use super::llm_engagement::claim_check;
use super::llm_prompt::writer_request;
use super::{Draft, MessageWriter, OfflineWriter, WriterRequest};
use crate::stage::{Fallback, RunNotes, StageError};

/// Time the LLM part of one draft may take, retries included, before the
/// offline writer takes over. It stays below the crew's default stage
/// timeout of 30 s, so a slow provider leads to a fallback rather than a
/// failed stage.
pub const DEFAULT_LLM_WRITER_DEADLINE: Duration = Duration::from_secs(20);

/// A writer backed by an LLM, for one account. Build one per account and
/// crew run from the shared [`LlmClient`], whose caps and circuit breaker
/// then cover every account.
pub struct LlmWriter {
    client: Arc<LlmClient>,
    account: AccountScope,
    allowed_links: LinkAllowList,
    deadline: Duration,
    offline: OfflineWriter,
}

impl LlmWriter {
    /// Creates a writer whose drafts may contain no link at all.
    pub fn new(client: Arc<LlmClient>, account: AccountScope) -> Self {
        Self {
            client,
            account,
            allowed_links: LinkAllowList::none(),
            deadline: DEFAULT_LLM_WRITER_DEADLINE,
            offline: OfflineWriter,
        }
    }

    /// Allows links to these hosts and their subdomains in drafts.
    // NOTE: the quality gate accepts only the unsubscribe link, so a draft
    // that uses an allowed host still fails there until the gate shares
    // this list.
    pub fn with_allowed_link_hosts(
        mut self,
        hosts: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.allowed_links = LinkAllowList::new(hosts);
        self
    }

    /// Sets the time the LLM part of one draft may take.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Writes with the offline writer and records why.
    fn fall_back(
        &self,
        request: &WriterRequest,
        error: &LlmError,
        mut notes: RunNotes,
    ) -> (Result<Draft, StageError>, RunNotes) {
        tracing::warn!(
            lead_id = %request.lead_id,
            account_id = %self.account.account_id,
            reason = error.code(),
            error = %error,
            "LLM writer failed, using the offline writer"
        );
        notes.fallback = Some(Fallback {
            reason: error.code().to_owned(),
            message: error.to_string(),
        });
        (self.offline.write_draft(request), notes)
    }
}

#[async_trait]
impl MessageWriter for LlmWriter {
    fn name(&self) -> &'static str {
        "llm"
    }

    async fn write(&self, request: &WriterRequest) -> Result<Draft, StageError> {
        self.write_noted(request).await.0
    }

    async fn write_noted(&self, request: &WriterRequest) -> (Result<Draft, StageError>, RunNotes) {
        let llm_request = writer_request(request, self.client.max_tokens());
        let checks = draft_checks(request.channel, &self.allowed_links).with(claim_check(request));
        let outcome = self
            .client
            .generate(self.account, llm_request, &checks, self.deadline)
            .await;

        let notes = RunNotes {
            input_tokens: outcome.usage.input_tokens,
            output_tokens: outcome.usage.output_tokens,
            fallback: None,
        };
        let draft = outcome
            .result
            .and_then(|output| draft_from_output(&output, request.channel));
        match draft {
            Ok(draft) => (Ok(draft), notes),
            Err(error) => self.fall_back(request, &error, notes),
        }
    }
}

/// Reads the draft from checked output: the schema and checks guarantee the
/// strings, so a missing one means an output the checks did not cover.
fn draft_from_output(output: &LlmOutput, channel: Channel) -> Result<Draft, LlmError> {
    let missing = |field: &str| LlmError::InvalidOutput {
        reason: format!("the output has no {field} string"),
    };
    let value = output.as_json().ok_or_else(|| missing("JSON"))?;
    let body = value["body"]
        .as_str()
        .ok_or_else(|| missing("body"))?
        .trim();

    let subject = match channel {
        Channel::Email => Some(
            value["subject"]
                .as_str()
                .ok_or_else(|| missing("subject"))?
                .trim()
                .to_owned(),
        ),
        Channel::Sms | Channel::Whatsapp => None,
    };
    Ok(Draft {
        channel,
        subject,
        body: body.to_owned(),
    })
}
