//! Handlers, one file per resource.

pub mod account;
pub mod alerts;
pub mod analytics;
pub mod audit;
pub mod campaigns;
pub mod crew_runs;
pub mod funnel;
pub mod health;
pub mod icp;
pub mod imports;
pub mod jobs;
pub mod lead_outcomes;
pub mod leads;
pub mod meetings;
pub mod messages;
pub mod optimization;
pub mod replies;
pub mod sending_identities;
pub mod suppressions;
pub mod webhooks;
