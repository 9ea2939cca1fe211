//! Integration tests, in one binary so they link once.

mod limiters;
mod memory;
mod memory_concurrency;
mod redis_concurrency;
mod redis_rate;
mod support;
