//! Handlers, one file per resource.

pub mod account;
pub mod health;
