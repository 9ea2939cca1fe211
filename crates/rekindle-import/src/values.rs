//! Readers for single cell values: names, time zones and counts.

use std::str::FromStr;

use chrono_tz::{TZ_VARIANTS, Tz};

/// Splits a whole name into first and last name. "Last, First" splits at the
/// comma. Otherwise the first word is the first name and the rest is the last
/// name, which keeps particles such as "van der". A single word is a first
/// name.
pub(crate) fn split_full_name(full: &str) -> (Option<String>, Option<String>) {
    let full = full.trim();
    if let Some((last, first)) = full.split_once(',') {
        return (non_empty(first), non_empty(last));
    }
    match full.split_once(char::is_whitespace) {
        Some((first, last)) => (non_empty(first), non_empty(last)),
        None => (non_empty(full), None),
    }
}

fn non_empty(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Reads an IANA time zone name and returns its canonical spelling. Accepts
/// any letter case, HubSpot's `europe_slash_berlin` form, and a label whose
/// last word is the name (`(GMT+01:00) Europe/Berlin`).
pub(crate) fn parse_time_zone(input: &str) -> Option<Tz> {
    let trimmed = input.trim();
    let unslashed = trimmed.replace("_slash_", "/");
    let last_word = trimmed.rsplit(char::is_whitespace).next().unwrap_or("");

    [trimmed, unslashed.as_str(), last_word]
        .into_iter()
        .filter(|candidate| !candidate.is_empty())
        .find_map(find_time_zone)
}

fn find_time_zone(name: &str) -> Option<Tz> {
    Tz::from_str(name).ok().or_else(|| {
        TZ_VARIANTS
            .iter()
            .copied()
            .find(|zone| zone.name().eq_ignore_ascii_case(name))
    })
}

/// Reads a count of engagements: a whole number, possibly written as a float
/// with a zero fraction (`12.0`, as spreadsheets save it) or with thousands
/// separators in groups of three (`1,234`, `1.234`, `1 234`).
pub(crate) fn parse_count(input: &str) -> Option<u32> {
    let trimmed = input.trim();
    if let Ok(count) = trimmed.parse::<u32>() {
        return Some(count);
    }
    if let Some(count) = parse_whole_float(trimmed) {
        return Some(count);
    }
    parse_grouped(trimmed)
}

fn parse_whole_float(text: &str) -> Option<u32> {
    let value: f64 = text.parse().ok()?;
    let whole = value.is_finite() && value >= 0.0 && value.fract() == 0.0;
    (whole && value <= f64::from(u32::MAX)).then_some(value as u32)
}

fn parse_grouped(text: &str) -> Option<u32> {
    let separator = text.chars().find(|c| !c.is_ascii_digit())?;
    if !matches!(separator, ',' | '.' | ' ' | '\u{a0}' | '\'') {
        return None;
    }

    let groups: Vec<&str> = text.split(separator).collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|group| group.len() == 3);
    let digits_ok = groups
        .iter()
        .all(|group| group.chars().all(|c| c.is_ascii_digit()));
    if !(first_ok && rest_ok && digits_ok && groups.len() > 1) {
        return None;
    }
    groups.concat().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(first: Option<&str>, last: Option<&str>) -> (Option<String>, Option<String>) {
        (first.map(String::from), last.map(String::from))
    }

    #[test]
    fn name_split_forms() {
        let cases = [
            ("Maya Okafor", names(Some("Maya"), Some("Okafor"))),
            ("Jan van der Berg", names(Some("Jan"), Some("van der Berg"))),
            ("Okafor, Maya", names(Some("Maya"), Some("Okafor"))),
            ("  Cher ", names(Some("Cher"), None)),
            ("山田太郎", names(Some("山田太郎"), None)),
        ];
        for (full, expected) in cases {
            assert_eq!(split_full_name(full), expected, "{full}");
        }
    }

    #[test]
    fn time_zone_forms() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        assert_eq!(parse_time_zone("Europe/Berlin"), berlin);
        assert_eq!(parse_time_zone("europe/berlin"), berlin);
        assert_eq!(parse_time_zone("europe_slash_berlin"), berlin);
        assert_eq!(parse_time_zone("(GMT+01:00) Europe/Berlin"), berlin);
        assert_eq!(parse_time_zone("Mars/Olympus"), None);
        assert_eq!(parse_time_zone("CET+1"), None);
    }

    #[test]
    fn count_forms() {
        assert_eq!(parse_count("12"), Some(12));
        assert_eq!(parse_count("12.0"), Some(12));
        assert_eq!(parse_count("1,234"), Some(1234));
        assert_eq!(parse_count("1.234.567"), Some(1_234_567));
        assert_eq!(parse_count("12.5"), None);
        assert_eq!(parse_count("-3"), None);
        assert_eq!(parse_count("1,23"), None);
        assert_eq!(parse_count("many"), None);
    }
}
