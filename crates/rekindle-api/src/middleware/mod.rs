//! The layers every request passes, outermost first: request id, problem
//! rendering, client IP, security headers, CORS and the body limit. Each route
//! group then adds its rate limit, authentication and deadline.

pub mod client_ip;
pub mod deadline;
pub mod problems;
pub mod rate_limit;
pub mod request_id;
pub mod security_headers;
