//! Rekindle's services: what the CLI, the HTTP API and the job worker call. Each
//! service changes the database in one transaction together with its audit
//! entries and the jobs it enqueues; side effects outside the database (sending,
//! calling an LLM) run only in jobs.

pub mod accounts;
pub mod ai;
pub mod ai_ledger;
pub mod campaigns;
pub mod circuit_alerts;
mod context;
pub mod crew;
pub mod crew_runs;
pub mod delivery;
pub mod dormant;
mod error;
pub mod events;
pub mod icp;
pub mod import;
pub mod inbound;
pub mod jobs;
pub mod optimization;
pub mod replies;
pub mod reply_actions;
pub mod reply_classification;
pub mod report;
pub mod scheduler;
pub mod send_gate;
pub mod sequence;
pub mod tracking;
pub mod uploads;
pub mod webhooks;
pub mod worker;

pub use context::{App, AppSettings};
pub use error::ServiceError;
