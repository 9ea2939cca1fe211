//! Authentication: sessions for users, API keys for integrations, and the
//! layer that turns a bearer credential into a [`Caller`].

pub mod api_keys;
pub mod authenticate;
pub mod caller;
pub mod sessions;
pub mod users;

pub use caller::{Access, Caller, Principal};
