//! Stage and crew tests, compiled into one test binary.

mod common;
mod compliance;
mod crew;
mod follow_up;
mod llm_follow_up;
mod llm_researcher;
mod llm_support;
mod llm_writer;
mod meeting;
mod next_step;
mod quality;
mod reply_classifier;
mod researcher;
mod scheduler;
mod scorer;
mod subject;
mod writer;
