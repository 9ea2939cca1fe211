//! Cursor pagination for every list: keyset order by id (UUIDv7, so creation
//! order), 50 items by default, at most 200, and a `next` cursor that is null
//! on the last page.

use rekindle_store::page::MAX_PAGE_SIZE;
use rekindle_store::{Cursor, Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::problem::ApiError;

/// Query parameters shared by every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1 to 200; 50 when absent.
    pub limit: Option<u32>,
}

impl PageQuery {
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        page_request(self.cursor.as_deref(), self.limit)
    }
}

/// Checks a cursor and a limit.
pub fn page_request(cursor: Option<&str>, limit: Option<u32>) -> Result<PageRequest, ApiError> {
    if let Some(limit) = limit.filter(|limit| *limit == 0 || *limit > MAX_PAGE_SIZE) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}"),
        ));
    }
    let after = cursor
        .map(|text| {
            Uuid::parse_str(text).map(Cursor).map_err(|_| {
                ApiError::invalid(
                    "cursor",
                    "cursor is not one this server issued; pass the `next` value of the previous page unchanged",
                )
            })
        })
        .transpose()?;
    Ok(PageRequest::new(after, limit))
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// Cursor of the next page; null on the last page.
    pub next: Option<String>,
}

impl<T> PageOf<T> {
    /// Converts a store page, mapping each row to its response type.
    pub fn map<R>(page: Page<R>, convert: impl FnMut(R) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(convert).collect(),
            next: page.next.map(|cursor| cursor.0.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_the_range_name_the_field() {
        for limit in [0, 201, 10_000] {
            let error = page_request(None, Some(limit)).unwrap_err();
            assert_eq!(error.field.as_deref(), Some("limit"));
        }
        assert_eq!(page_request(None, None).unwrap().limit, 50);
        assert_eq!(page_request(None, Some(200)).unwrap().limit, 200);
    }

    #[test]
    fn foreign_cursor_is_rejected() {
        let error = page_request(Some("page-2"), None).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("cursor"));
    }
}
