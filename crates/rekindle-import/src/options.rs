//! Options of one import: overrides for what is otherwise detected, and limits.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use crate::ImportLimits;

/// How to read numeric dates whose day and month are both 12 or less, such as
/// `03/04/2026`. Dates written with dots (`14.03.2026`) are always day first and
/// ISO dates (`2026-03-14`) always year first, so this applies to dates with `/`
/// or `-` between day, month and a trailing year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `14/03/2026`: the usual order outside the United States.
    DayFirst,
    /// `03/14/2026`: the United States order.
    MonthFirst,
}

/// Options for one import. `ImportOptions::default()` detects the encoding and
/// delimiter, has no default phone region and reads slash dates day first.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// ISO 3166 alpha-2 region (`"DE"`) for phone numbers written without a
    /// country code. With none, such numbers are left empty with a warning.
    pub default_region: Option<String>,
    /// Encoding label (`"utf-8"`, `"windows-1252"`, `"latin1"`) that replaces
    /// detection. Labels follow the WHATWG Encoding Standard.
    pub encoding: Option<String>,
    /// Field delimiter that replaces detection, such as `b';'`.
    pub delimiter: Option<u8>,
    /// Order of day and month in slash dates. `None` means month first when
    /// `default_region` is a month-first region (`US`, `PH`), else day first.
    pub date_order: Option<DateOrder>,
    /// Time zone of dates written without an offset. `None` means UTC.
    pub naive_time_zone: Option<Tz>,
    /// Column header to target, winning over the built-in header names. The key
    /// matches a header exactly or after normalisation (case, accents and
    /// punctuation ignored). The target is a lead field name (`"email"`,
    /// `"first_name"`, `"full_name"`, ...), `"custom"`, `"signal"`,
    /// `"signal:<kind>"` or `"ignore"`.
    pub mapping: BTreeMap<String, String>,
    pub limits: ImportLimits,
}

/// Regions whose everyday numeric date format is month first.
const MONTH_FIRST_REGIONS: &[&str] = &["US", "PH"];

impl ImportOptions {
    /// Returns the date order in force: the explicit one, else the one implied
    /// by the default region.
    pub fn resolved_date_order(&self) -> DateOrder {
        if let Some(order) = self.date_order {
            return order;
        }
        let month_first = self.default_region.as_deref().is_some_and(|region| {
            MONTH_FIRST_REGIONS
                .iter()
                .any(|candidate| candidate.eq_ignore_ascii_case(region.trim()))
        });
        if month_first {
            DateOrder::MonthFirst
        } else {
            DateOrder::DayFirst
        }
    }
}
