//! SQL shared by the SQLite and PostgreSQL backends.
//!
//! Both backends run the same statements: `$N` placeholders, `RETURNING`,
//! `ON CONFLICT` and `FILTER` work on both, and values are bound from Rust rather
//! than computed with database functions. The repository code in `src/shared/`
//! is therefore written once and compiled into each backend with `include!`,
//! next to a `Db` type alias and a `dialect` module that hold the few parts that
//! differ (row locking, transaction start, tenant setting). Each backend keeps
//! its own migrations.
//!
//! This crate itself contains the helpers that do not depend on the database type.

use chrono::{DateTime, SubsecRound, Utc};
use rekindle_store::StoreError;

/// Path of the shared repository sources, for `include!` in the backends.
pub const SHARED_SOURCES: &str = "src/shared";

/// Maps a driver error to a store error, keeping constraint violations apart so
/// callers can report them as conflicts.
pub fn map_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database) = &error {
        if database.is_unique_violation() {
            return StoreError::Conflict(database.message().to_owned());
        }
        if database.is_foreign_key_violation() || database.is_check_violation() {
            return StoreError::Invalid(database.message().to_owned());
        }
    }
    StoreError::Database(Box::new(error))
}

/// Truncates a timestamp to microseconds, the precision PostgreSQL keeps, so
/// both backends return the same value that was written.
pub fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Placeholder style of statements built at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `$1, $2, ...`
    Numbered,
    /// `?, ?, ...`, bound in the order they appear. SQLite keeps named and
    /// numbered parameters in a list it scans linearly on every bind, so a
    /// statement with thousands of `$N` parameters costs O(n²) to bind;
    /// anonymous `?` parameters skip that list.
    Anonymous,
}

/// Builds `$first, $first+1, ...` placeholders, whatever the backend.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|index| format!("${index}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds `count` placeholders in `style`. A statement must use one style
/// throughout, and with `Anonymous` its values are bound in textual order.
pub fn params(style: ParamStyle, first: usize, count: usize) -> String {
    match style {
        ParamStyle::Numbered => placeholders(first, count),
        ParamStyle::Anonymous => vec!["?"; count].join(", "),
    }
}

/// Parses a stored vocabulary value.
pub fn parse_enum<T>(text: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = rekindle_domain::status::UnknownVariant>,
{
    text.parse::<T>().map_err(StoreError::from)
}

/// Parses an optional stored vocabulary value.
pub fn parse_opt_enum<T>(text: Option<String>) -> Result<Option<T>, StoreError>
where
    T: std::str::FromStr<Err = rekindle_domain::status::UnknownVariant>,
{
    text.as_deref().map(parse_enum).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_from_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
        assert_eq!(params(ParamStyle::Numbered, 2, 2), "$2, $3");
        assert_eq!(params(ParamStyle::Anonymous, 2, 3), "?, ?, ?");
    }
}
