//! The writer: a message for one lead and one step of a campaign.
//!
//! [`MessageWriter`] is the contract every writer meets, LLM-backed or not;
//! [`OfflineWriter`] writes from phrase pools without any outside service,
//! and [`LlmWriter`] requests drafts from an LLM and falls back to the offline
//! writer.

mod email;
mod facts;
mod follow_up;
mod llm;
mod llm_checks;
mod llm_engagement;
mod llm_prompt;
mod offline;
pub(crate) mod subjects;
mod text_message;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Channel, LeadId, Tone};
use serde::{Deserialize, Serialize};

pub use llm::{DEFAULT_LLM_WRITER_DEADLINE, LlmWriter};
pub use offline::OfflineWriter;
pub use text_message::TEXT_BODY_MAX_CHARS;

use crate::engagement::EngagementContext;
use crate::researcher::Research;
use crate::sender::SenderIdentity;
use crate::stage::{RunNotes, Stage, StageError};

/// Minimum words in an email body, signature included, footer excluded.
pub const EMAIL_MIN_WORDS: usize = 80;
/// Maximum words in an email body, signature included, footer excluded.
pub const EMAIL_MAX_WORDS: usize = 150;
/// Minimum characters in an email subject.
pub const SUBJECT_MIN_CHARS: usize = 40;
/// Maximum characters in an email subject.
pub const SUBJECT_MAX_CHARS: usize = 60;
/// Maximum characters of an SMS or WhatsApp message, opt-out text included.
pub const TEXT_MESSAGE_MAX_CHARS: usize = 320;

/// Everything a writer needs for one message. `lead` is untrusted.
#[derive(Debug, Clone)]
pub struct WriterRequest {
    pub lead_id: LeadId,
    pub lead: LeadFields,
    pub research: Research,
    pub channel: Channel,
    pub tone: Tone,
    /// 0 for the first message of a campaign; later steps are follow-ups that
    /// refer to the earlier message.
    pub step_index: u32,
    pub sender: SenderIdentity,
    /// Instant the message is written, used to say how long the gap has been.
    pub now: DateTime<Utc>,
    /// The lead's actions after the previous message, for a follow-up that
    /// refers to them. Ignored for the first message (`step_index` 0).
    pub engagement: Option<EngagementContext>,
}

/// A written message before the compliance footer is added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub channel: Channel,
    /// Present for email, absent for SMS and WhatsApp.
    pub subject: Option<String>,
    pub body: String,
}

/// A writer of reactivation messages.
#[async_trait]
pub trait MessageWriter: Send + Sync {
    /// Stable name of the implementation, stored with each stage run.
    fn name(&self) -> &'static str;

    async fn write(&self, request: &WriterRequest) -> Result<Draft, StageError>;

    /// Writes a draft and returns the tokens used and any fallback taken,
    /// for the stage-run record. The default calls [`MessageWriter::write`]
    /// and has no notes.
    async fn write_noted(&self, request: &WriterRequest) -> (Result<Draft, StageError>, RunNotes) {
        (self.write(request).await, RunNotes::default())
    }
}

/// The writer stage, over any [`MessageWriter`].
pub struct WriterStage<'a> {
    writer: &'a dyn MessageWriter,
}

impl<'a> WriterStage<'a> {
    pub fn new(writer: &'a dyn MessageWriter) -> Self {
        Self { writer }
    }
}

#[async_trait]
impl Stage for WriterStage<'_> {
    type Input = WriterRequest;
    type Output = Draft;

    fn name(&self) -> &'static str {
        "writer"
    }

    fn input_summary(&self, input: &WriterRequest) -> String {
        format!(
            "lead {}: {} step {}, tone {}, writer {}, {} signals",
            input.lead_id,
            input.channel,
            input.step_index + 1,
            input.tone,
            self.writer.name(),
            input.research.signals.len(),
        )
    }

    async fn run(&self, input: WriterRequest) -> Result<Draft, StageError> {
        self.writer.write(&input).await
    }

    async fn run_noted(&self, input: WriterRequest) -> (Result<Draft, StageError>, RunNotes) {
        self.writer.write_noted(&input).await
    }
}
