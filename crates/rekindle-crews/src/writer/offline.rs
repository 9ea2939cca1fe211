//! The deterministic writer that needs no outside service.

use async_trait::async_trait;
use rekindle_domain::Channel;

use super::email::email_body;
use super::facts::MessageFacts;
use super::subjects::{SubjectFacts, statement_subject};
use super::text_message::text_body;
use super::{Draft, MessageWriter, WriterRequest};
use crate::stage::StageError;

/// Writes from phrase pools. The same request always gives the same message,
/// and phrasing differs between leads and steps.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineWriter;

impl OfflineWriter {
    /// Writes a draft without going through the async trait.
    pub fn write_draft(&self, request: &WriterRequest) -> Result<Draft, StageError> {
        let facts = MessageFacts::from_request(request)?;
        match request.channel {
            Channel::Email => {
                let subject_facts = SubjectFacts::new(
                    request.lead_id,
                    &request.lead,
                    &request.research.hook,
                    request.step_index,
                );
                Ok(Draft {
                    channel: Channel::Email,
                    subject: Some(statement_subject(&subject_facts)),
                    body: email_body(&facts)?,
                })
            }
            Channel::Sms | Channel::Whatsapp => Ok(Draft {
                channel: request.channel,
                subject: None,
                body: text_body(&facts)?,
            }),
        }
    }
}

#[async_trait]
impl MessageWriter for OfflineWriter {
    fn name(&self) -> &'static str {
        "offline"
    }

    async fn write(&self, request: &WriterRequest) -> Result<Draft, StageError> {
        self.write_draft(request)
    }
}
