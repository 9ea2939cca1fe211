//! Rekindle's HTTP API, served by `rekindle serve`: everything the CLI does,
//! for a web app, a script or an integration.
//!
//! Every request gets a request id, security headers, a deadline and a body
//! limit. Every error is RFC 9457 problem details. Every route outside the
//! public list needs a bearer credential (an access token or an API key) and is
//! rate limited per caller and per account.

pub mod auth;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod pagination;
pub mod problem;
pub mod routes;
pub mod settings;
pub mod state;
pub mod validate;

mod router;

pub use router::{PUBLIC_ROUTES, router, router_with};
pub use settings::{ApiSettings, RateLimits, WebhookClock, WebhookSettings};
pub use state::ApiState;
