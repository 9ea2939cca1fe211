//! Stage and crew tests, compiled into one test binary.

mod common;
mod compliance;
mod crew;
mod llm_support;
mod llm_writer;
mod quality;
mod reply_classifier;
mod researcher;
mod scheduler;
mod scorer;
mod subject;
mod writer;
