//! Keyset pagination. A cursor is the id of the last row of the previous page;
//! ids are UUID version 7, so ordering by id is ordering by creation time.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Maximum page size.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Opaque position after which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl PageRequest {
    /// Builds a request, clamping `limit` to 1..=200 and defaulting it to 50.
    pub fn new(after: Option<Cursor>, limit: Option<u32>) -> Self {
        Self {
            after,
            limit: limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE),
        }
    }

    pub fn first(limit: u32) -> Self {
        Self::new(None, Some(limit))
    }

    /// Returns the cursor as an id, or the smallest id when no cursor was given.
    pub fn after_uuid(&self) -> Uuid {
        self.after.map(|cursor| cursor.0).unwrap_or(Uuid::nil())
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order: the extra
    /// row only tells that another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> Uuid) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if has_more {
            rows.last().map(|row| Cursor(id_of(row)))
        } else {
            None
        };
        Self { items: rows, next }
    }
}
