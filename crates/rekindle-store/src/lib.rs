//! Repository traits, row types and errors shared by Rekindle's storage backends.
//!
//! Every tenant operation runs inside a [`TenantTx`], which can only be opened for
//! one account: the SQLite backend adds the account filter to every statement and
//! the PostgreSQL backend sets the tenant for row-level security as well. Work that
//! crosses tenants (job claiming, audit verification, account creation) uses a
//! [`SystemTx`], whose cross-tenant writes are audited.

pub mod audit;
mod error;
pub mod events;
pub mod identity;
pub mod optimization;
pub mod page;
pub mod rows;
mod traits;

pub use error::StoreError;
pub use events::*;
pub use identity::*;
pub use optimization::*;
pub use page::{Cursor, Page, PageRequest};
pub use rows::*;
pub use traits::{Backend, ImportDetails, MessageUpdate, Store, SystemTx, TenantTx};
