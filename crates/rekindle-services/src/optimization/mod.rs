//! The optimization crew run on stored data: A/B decisions per campaign
//! step, the positive-reply report, and the funnel per step and variant.

mod decisions;
mod reports;

pub use decisions::{
    DECIDE_AB_DELAY_MINUTES, DECIDE_AB_JOB, DecideAbPayload, StepAbStatus, decide_ab_job,
    decide_ab_job_for, decide_campaign,
};
pub use reports::{OptimizationReport, campaign_funnel, optimization_report};
