//! Send-slot allocation: which sending identity sends a message, and when, so that
//! every identity stays within its hourly and daily caps and its warm-up ramp, and
//! every recipient domain stays within its caps across all identities of the account.
//!
//! Caps count sends per calendar UTC hour and calendar UTC day, not per rolling
//! window. The boundaries are the same for every account whatever its time zone,
//! and a send's hour and day never change, so a placement is reproducible from the
//! stored sends alone.
//!
//! The module is pure: the caller loads the identities and the sends already
//! planned or made, feeds messages to an [`Allocator`] one by one and stores the
//! placements it returns.

mod allocator;
mod counts;
mod identity;
mod request;
mod settings;
mod window;

#[cfg(test)]
mod tests;

pub use allocator::{Allocator, MAX_SEARCH_DAYS, ThrottleError};
pub use identity::{RecordedSend, SendingIdentity, SendingIdentityId};
pub use request::{NoSlot, Placement, SendRequest};
pub use settings::ThrottleSettings;
