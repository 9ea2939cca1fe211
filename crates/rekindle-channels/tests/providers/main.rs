//! The real provider transports against servers on 127.0.0.1: SendGrid and
//! Twilio against `wiremock` mock servers that check each request, SMTP
//! against a real SMTP server started by the test.

mod content;
mod select;
mod sendgrid;
mod smtp;
mod support;
mod twilio;
