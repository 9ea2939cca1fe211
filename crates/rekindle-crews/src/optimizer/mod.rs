//! The optimization crew: A/B decisions on positive replies, and a report of
//! which personalisation elements and send times earn positive replies.
//!
//! Everything here is a pure function over counts or rows that the caller
//! reads from the store, and nothing is stored or sent.

mod ab_test;
mod elements;
mod report;

pub use ab_test::{
    AbDecision, AbOutcome, AbSettings, DEFAULT_MIN_SENDS, DEFAULT_SIGNIFICANCE_LEVEL,
    MIN_EXPECTED_COUNT, NoDecisionReason, VariantCounts, VariantFigures, decide_ab,
};
pub use elements::{
    FACT_COMPANY, FACT_FIRST_NAME, FACT_JOB_TITLE, FACT_LAST_CONTACT_MONTH, LocalSendTime,
    personalisation_elements,
};
pub use report::{
    DEFAULT_MIN_MESSAGES, MessageOutcome, PositiveReplyReport, RateRow, ReportSettings,
    positive_reply_report,
};

/// Invalid input to the optimization crew.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimizerError {
    #[error("significance level {0} is invalid: use a value above 0 and at most 0.5, such as 0.05")]
    SignificanceLevel(f64),
    #[error("both variants are labelled {0:?}: compare two different variants")]
    SameLabel(String),
    #[error(
        "variant {label:?} has {successes} positive replies but only {trials} sends: \
         count positive replies among the variant's sends"
    )]
    MoreSuccessesThanTrials {
        label: String,
        successes: u64,
        trials: u64,
    },
    #[error("row {row}: local send hour {hour} is invalid, expected 0 to 23")]
    Hour { row: usize, hour: u8 },
}
