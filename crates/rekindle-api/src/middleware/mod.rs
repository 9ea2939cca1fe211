//! The layers every request passes, outermost first: request id and problem
//! rendering, security headers, CORS, the deadline, the body limit; then, per
//! route group, the client rate limit and authentication.

pub mod client_ip;
pub mod deadline;
pub mod problems;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;
