//! The contract every researcher meets, LLM-backed or not, and the crew's
//! researcher stage over it.

use async_trait::async_trait;

use super::{Research, Researcher, ResearcherInput, research};
use crate::stage::{RunNotes, Stage, StageError};

/// A researcher of leads.
#[async_trait]
pub trait LeadResearcher: Send + Sync {
    /// Stable name of the implementation, stored in the stage run's input
    /// summary.
    fn name(&self) -> &'static str;

    /// Researches one lead and returns the tokens used and any fallback
    /// taken, for the stage-run record.
    async fn research_noted(
        &self,
        input: &ResearcherInput,
    ) -> (Result<Research, StageError>, RunNotes);
}

#[async_trait]
impl LeadResearcher for Researcher {
    fn name(&self) -> &'static str {
        "offline"
    }

    async fn research_noted(
        &self,
        input: &ResearcherInput,
    ) -> (Result<Research, StageError>, RunNotes) {
        (
            Ok(research(&input.fields, &input.signals)),
            RunNotes::default(),
        )
    }
}

/// The researcher stage, over any [`LeadResearcher`]. Its name is
/// `researcher`, as the offline [`Researcher`] stage's is.
pub struct ResearcherStage<'a> {
    researcher: &'a dyn LeadResearcher,
}

impl<'a> ResearcherStage<'a> {
    pub fn new(researcher: &'a dyn LeadResearcher) -> Self {
        Self { researcher }
    }
}

#[async_trait]
impl Stage for ResearcherStage<'_> {
    type Input = ResearcherInput;
    type Output = Research;

    fn name(&self) -> &'static str {
        "researcher"
    }

    fn input_summary(&self, input: &ResearcherInput) -> String {
        format!(
            "{}, researcher {}",
            Researcher.input_summary(input),
            self.researcher.name()
        )
    }

    async fn run(&self, input: ResearcherInput) -> Result<Research, StageError> {
        self.researcher.research_noted(&input).await.0
    }

    async fn run_noted(&self, input: ResearcherInput) -> (Result<Research, StageError>, RunNotes) {
        self.researcher.research_noted(&input).await
    }
}
