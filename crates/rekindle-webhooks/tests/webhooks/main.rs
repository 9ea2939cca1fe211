//! Integration tests of rekindle-webhooks, compiled into one test binary.

mod inbound_auth;
mod inbound_parse;
mod sendgrid_events;
mod sendgrid_signature;
mod stripe;
mod support;
mod twilio;
mod vectors;
