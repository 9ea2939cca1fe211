//! Shared parts of the provider tests: the messages they send and the SMTP
//! server they send to.

pub mod fixtures;
pub mod smtp_server;
