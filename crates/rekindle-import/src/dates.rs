//! Dates in the forms CRMs and spreadsheets write them.
//!
//! Accepted forms, tried in this order:
//! - RFC 3339 and ISO 8601 with an offset: `2026-03-14T10:22:00+01:00`,
//!   `2026-03-14T10:22:00Z`, `2026-03-14 10:22:00+0100`.
//! - ISO dates and times without an offset: `2026-03-14 10:22`,
//!   `2026-03-14T10:22:33`, `2026-03-14`, `2026/03/14`.
//! - Dotted day-first dates (German and other European exports):
//!   `14.03.2026`, `14.03.2026 10:22`.
//! - Slash and dash dates with the year last, read day first or month first as
//!   `DateOrder` sets: `14/03/2026` or `03/14/2026`, with an optional time,
//!   also in 12-hour form (`03/14/2026 10:22 AM`).
//! - English month names: `14 March 2026`, `Mar 14, 2026`.
//!
//! Times without an offset are read in the import's naive time zone (UTC
//! unless set). A suffix `Z`, `UTC` or `GMT` means UTC.

use std::sync::LazyLock;

use chrono::format::{Item, Parsed, StrftimeItems, parse};
use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::DateOrder;

/// Years outside this range are taken as typing errors (`26` for `2026`).
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

const OFFSET_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M%z",
];

const ISO_DATE_TIMES: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%b %d %Y %I:%M %p",
    "%d %b %Y %H:%M",
];

const ISO_DATES: &[&str] = &[
    "%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d-%b-%Y",
];

const DAY_FIRST_DATE_TIMES: &[&str] = &[
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M %p",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
];

const DAY_FIRST_DATES: &[&str] = &["%d/%m/%Y", "%d-%m-%Y"];

const MONTH_FIRST_DATE_TIMES: &[&str] = &[
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m-%d-%Y %H:%M:%S",
    "%m-%d-%Y %H:%M",
];

const MONTH_FIRST_DATES: &[&str] = &["%m/%d/%Y", "%m-%d-%Y"];

/// Format strings compiled once. Compiling them at every parse took about 30 %
/// of the time to import a synthetic export (release build, measured with perf).
struct CompiledFormats {
    offset: Vec<Vec<Item<'static>>>,
    iso_date_times: Vec<Vec<Item<'static>>>,
    iso_dates: Vec<Vec<Item<'static>>>,
    day_first_date_times: Vec<Vec<Item<'static>>>,
    day_first_dates: Vec<Vec<Item<'static>>>,
    month_first_date_times: Vec<Vec<Item<'static>>>,
    month_first_dates: Vec<Vec<Item<'static>>>,
}

static FORMATS: LazyLock<CompiledFormats> = LazyLock::new(|| CompiledFormats {
    offset: compile(OFFSET_FORMATS),
    iso_date_times: compile(ISO_DATE_TIMES),
    iso_dates: compile(ISO_DATES),
    day_first_date_times: compile(DAY_FIRST_DATE_TIMES),
    day_first_dates: compile(DAY_FIRST_DATES),
    month_first_date_times: compile(MONTH_FIRST_DATE_TIMES),
    month_first_dates: compile(MONTH_FIRST_DATES),
});

/// Compiles format strings, leaving out any that fail to compile (a unit test
/// checks that all of them compile).
fn compile(formats: &[&'static str]) -> Vec<Vec<Item<'static>>> {
    formats
        .iter()
        .filter_map(|format| StrftimeItems::new(format).parse().ok())
        .collect()
}

/// Reads `text` with one compiled format into chrono's parse state.
fn parse_items(text: &str, items: &[Item<'static>]) -> Option<Parsed> {
    let mut parsed = Parsed::new();
    parse(&mut parsed, text, items.iter()).ok()?;
    Some(parsed)
}

/// Parses a date or date and time. Returns `None` for text in none of the
/// accepted forms, for impossible dates, for years outside 1900 to 2100, and
/// for local times that do not exist in `zone` (skipped by a DST change).
pub(crate) fn parse_date(input: &str, order: DateOrder, zone: Tz) -> Option<DateTime<Utc>> {
    let text = input.trim().replace(", ", " ");

    let parsed = parse_with_offset(&text).or_else(|| {
        let (local, zone) = match strip_utc_suffix(&text) {
            Some(rest) => (rest, Tz::UTC),
            None => (text.as_str(), zone),
        };
        let naive = parse_naive(local, order)?;
        zone.from_local_datetime(&naive)
            .earliest()
            .map(|time| time.with_timezone(&Utc))
    })?;

    YEARS.contains(&parsed.year()).then_some(parsed)
}

fn parse_with_offset(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    FORMATS
        .offset
        .iter()
        .find_map(|items| parse_items(text, items)?.to_datetime().ok())
        .map(|time| time.with_timezone(&Utc))
}

fn strip_utc_suffix(text: &str) -> Option<&str> {
    ["Z", " UTC", " GMT"]
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix))
        .map(str::trim_end)
}

fn parse_naive(text: &str, order: DateOrder) -> Option<NaiveDateTime> {
    let formats = &*FORMATS;
    let (date_times, dates) = match order {
        DateOrder::DayFirst => (&formats.day_first_date_times, &formats.day_first_dates),
        DateOrder::MonthFirst => (&formats.month_first_date_times, &formats.month_first_dates),
    };

    let date_time = formats
        .iso_date_times
        .iter()
        .chain(date_times)
        .find_map(|items| {
            parse_items(text, items)?
                .to_naive_datetime_with_offset(0)
                .ok()
        });
    if date_time.is_some() {
        return date_time;
    }

    formats
        .iso_dates
        .iter()
        .chain(dates)
        .find_map(|items| parse_items(text, items)?.to_naive_date().ok())
        .and_then(|date| date.and_hms_opt(0, 0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn day_first(text: &str) -> Option<DateTime<Utc>> {
        parse_date(text, DateOrder::DayFirst, Tz::UTC)
    }

    #[test]
    fn every_format_compiles() {
        let lists = [
            OFFSET_FORMATS,
            ISO_DATE_TIMES,
            ISO_DATES,
            DAY_FIRST_DATE_TIMES,
            DAY_FIRST_DATES,
            MONTH_FIRST_DATE_TIMES,
            MONTH_FIRST_DATES,
        ];
        for list in lists {
            assert_eq!(compile(list).len(), list.len(), "{list:?}");
        }
    }

    #[test]
    fn accepted_forms() {
        let cases = [
            ("2026-03-14 10:22", "2026-03-14T10:22:00Z"),
            ("2026-03-14T10:22:33", "2026-03-14T10:22:33Z"),
            ("2026-03-14T10:22:33.250Z", "2026-03-14T10:22:33.250Z"),
            ("2026-03-14T10:22:00+01:00", "2026-03-14T09:22:00Z"),
            ("2026-03-14 10:22:00+0100", "2026-03-14T09:22:00Z"),
            ("2026-03-14 10:22:00 UTC", "2026-03-14T10:22:00Z"),
            ("2026-03-14", "2026-03-14T00:00:00Z"),
            ("2026/03/14", "2026-03-14T00:00:00Z"),
            ("14.03.2026", "2026-03-14T00:00:00Z"),
            ("14.03.2026 10:22", "2026-03-14T10:22:00Z"),
            ("14/03/2026", "2026-03-14T00:00:00Z"),
            ("4/3/2026", "2026-03-04T00:00:00Z"),
            ("14/03/2026 22:05", "2026-03-14T22:05:00Z"),
            ("14/03/2026, 10:22", "2026-03-14T10:22:00Z"),
            ("14 March 2026", "2026-03-14T00:00:00Z"),
            ("Mar 14, 2026", "2026-03-14T00:00:00Z"),
            ("14-Mar-2026", "2026-03-14T00:00:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(day_first(input), Some(utc(expected)), "{input}");
        }
    }

    #[test]
    fn month_first_order() {
        let parse = |text| parse_date(text, DateOrder::MonthFirst, Tz::UTC);
        assert_eq!(parse("03/14/2026"), Some(utc("2026-03-14T00:00:00Z")));
        assert_eq!(parse("03/04/2026"), Some(utc("2026-03-04T00:00:00Z")));
        assert_eq!(
            parse("03/14/2026 10:22 PM"),
            Some(utc("2026-03-14T22:22:00Z"))
        );
        assert_eq!(parse("14/03/2026"), None);
    }

    #[test]
    fn day_first_reads_ambiguous_dates_as_day() {
        assert_eq!(day_first("03/04/2026"), Some(utc("2026-04-03T00:00:00Z")));
        assert_eq!(day_first("03/14/2026"), None);
    }

    #[test]
    fn naive_times_use_the_zone() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let parsed = parse_date("2026-07-01 12:00", DateOrder::DayFirst, berlin);
        assert_eq!(parsed, Some(utc("2026-07-01T10:00:00Z")));

        let offset = parse_date("2026-07-01T12:00:00Z", DateOrder::DayFirst, berlin);
        assert_eq!(offset, Some(utc("2026-07-01T12:00:00Z")));
    }

    #[test]
    fn rejected_forms() {
        for bad in [
            "",
            "soon",
            "2026-02-30",
            "31.02.2026",
            "14/03/26",
            "0026-03-14",
            "next week",
        ] {
            assert_eq!(day_first(bad), None, "{bad}");
        }
    }

    #[test]
    fn skipped_local_time_is_none() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Clocks in Berlin jumped from 02:00 to 03:00 on 2026-03-29.
        let parsed = parse_date("2026-03-29 02:30", DateOrder::DayFirst, berlin);
        assert_eq!(parsed, None);
    }
}
