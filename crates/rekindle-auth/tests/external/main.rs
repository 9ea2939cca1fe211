//! Verification of external identity tokens, with a JWKS served by a mock
//! HTTP server on 127.0.0.1. All modules build into one test binary.

mod availability;
mod jwks;
mod shared_secret;
mod support;
