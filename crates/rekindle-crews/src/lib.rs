//! Rekindle's AI crews as pipelines of typed stages. Each stage takes a typed
//! input and returns a typed output or a classified [`StageError`]; the runner
//! records every run so the caller can store it. This crate performs no
//! database access: the worker persists what a crew returns.
//!
//! The reactivation crew runs, per lead: [`Scorer`], the researcher (any
//! [`LeadResearcher`], [`Researcher`] by default), the writer (any
//! [`MessageWriter`], [`OfflineWriter`] by default), [`SubjectOptimizer`] for
//! email, [`Scheduler`], [`ComplianceGate`] and [`QualityGate`].
//! [`CrewAgents`] passes one account's researcher and writer to a run.
//!
//! The other crews are pure functions over what the caller reads from the
//! store. [`engagement`] chooses a lead's next step after a message and
//! gives the writer what the lead did. [`revenue`] responds to positive
//! replies with meeting times and reports the funnel. [`optimizer`] decides
//! A/B tests and reports which elements and send times earn positive replies.
//!
//! [`LlmResearcher`], [`LlmWriter`] and [`LlmReplyClassifier`] use an LLM
//! through `rekindle_llm` and fall back to the offline implementations,
//! recording the reason in [`RunNotes`].

pub mod compliance;
pub mod crew;
pub mod cues;
pub mod engagement;
pub mod icp;
pub mod lead_text;
pub mod optimizer;
pub mod quality;
pub mod reply_classifier;
pub mod researcher;
pub mod revenue;
pub mod scheduler;
pub mod scorer;
pub mod sender;
pub mod seniority;
pub mod stage;
pub mod subject_optimizer;
pub mod text;
pub mod variety;
pub mod writer;

pub use compliance::{
    ComplianceGate, ComplianceInput, ComplianceViolation, CompliantMessage, TEXT_OPT_OUT,
    check_compliance, has_lawful_basis,
};
pub use crew::{
    CampaignStep, CrewAgents, CrewConfig, CrewReport, EarlierOutputs, LeadOutcome, LeadRun,
    LeadTask, PreparedMessage, ReactivationCrew,
};
pub use cues::NoteCue;
pub use icp::{IcpMatch, IdealCustomerProfile, derive_profile, match_lead};
pub use quality::{QualityGate, QualityInput, QualityIssue, QualityReport, check_quality};
pub use reply_classifier::{ClassifiedReply, LlmReplyClassifier, ReplyInput, classify_offline};
pub use researcher::{
    DEFAULT_LLM_RESEARCHER_DEADLINE, Hook, LeadResearcher, LlmResearcher, Research, Researcher,
    ResearcherInput, ResearcherStage, Signal, research,
};
pub use scheduler::{ScheduleInput, ScheduledSend, Scheduler, channel_window, plan_send};
pub use scorer::{LeadScore, ScoreFactor, ScoreReason, Scorer, ScorerInput, score_lead};
pub use sender::SenderIdentity;
pub use stage::{Fallback, RunNotes, Stage, StageError, StageRecord, run_stage};
pub use subject_optimizer::{
    SubjectInput, SubjectOptimizer, SubjectVariant, SubjectVariants, assign_variant,
    subject_variants,
};
pub use writer::{
    DEFAULT_LLM_WRITER_DEADLINE, Draft, LlmWriter, MessageWriter, OfflineWriter, WriterRequest,
    WriterStage,
};
