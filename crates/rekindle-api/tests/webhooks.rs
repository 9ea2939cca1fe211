//! Provider webhooks and tracking links through the real HTTP endpoints on a
//! loopback server, with outcomes checked in the database. The modules cover
//! the providers' signature vectors, rejections, SendGrid batches delivered
//! many times and out of order, Twilio callbacks, inbound replies, tracking
//! links and the follow-ups written from that engagement.

mod common;

#[path = "webhooks/fixture_replies.rs"]
mod fixture_replies;
#[path = "webhooks/follow_ups.rs"]
mod follow_ups;
#[path = "webhooks/inbound.rs"]
mod inbound;
#[path = "webhooks/limits.rs"]
mod limits;
#[path = "webhooks/rejections.rs"]
mod rejections;
#[path = "webhooks/sendgrid.rs"]
mod sendgrid;
#[path = "webhooks/stripe.rs"]
mod stripe;
#[path = "webhooks/support.rs"]
mod support;
#[path = "webhooks/tracking.rs"]
mod tracking;
#[path = "webhooks/twilio.rs"]
mod twilio;
#[path = "webhooks/vectors.rs"]
mod vectors;
