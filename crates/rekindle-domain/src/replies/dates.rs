//! Return dates in absence notices, in English, German, French and Spanish
//! formats.

use std::sync::LazyLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use regex::{Captures, Regex};

/// Month names and abbreviations after normalisation (lower case, accents
/// folded), with the month number.
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("januar", 1),
    ("janner", 1),
    ("janvier", 1),
    ("enero", 1),
    ("jan", 1),
    ("february", 2),
    ("februar", 2),
    ("fevrier", 2),
    ("febrero", 2),
    ("feb", 2),
    ("march", 3),
    ("marz", 3),
    ("mars", 3),
    ("marzo", 3),
    ("mar", 3),
    ("april", 4),
    ("avril", 4),
    ("abril", 4),
    ("apr", 4),
    ("may", 5),
    ("mai", 5),
    ("mayo", 5),
    ("june", 6),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("jun", 6),
    ("july", 7),
    ("juli", 7),
    ("juillet", 7),
    ("julio", 7),
    ("jul", 7),
    ("august", 8),
    ("aout", 8),
    ("agosto", 8),
    ("aug", 8),
    ("september", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oktober", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("oct", 10),
    ("okt", 10),
    ("november", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("nov", 11),
    ("december", 12),
    ("dezember", 12),
    ("decembre", 12),
    ("diciembre", 12),
    ("dec", 12),
    ("dez", 12),
];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("montag", Weekday::Mon),
    ("lundi", Weekday::Mon),
    ("lunes", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("dienstag", Weekday::Tue),
    ("mardi", Weekday::Tue),
    ("martes", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("mittwoch", Weekday::Wed),
    ("mercredi", Weekday::Wed),
    ("miercoles", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("donnerstag", Weekday::Thu),
    ("jeudi", Weekday::Thu),
    ("jueves", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("freitag", Weekday::Fri),
    ("vendredi", Weekday::Fri),
    ("viernes", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("samstag", Weekday::Sat),
    ("samedi", Weekday::Sat),
    ("sabado", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("sonntag", Weekday::Sun),
    ("dimanche", Weekday::Sun),
    ("domingo", Weekday::Sun),
];

/// Words right before a date that mark it as the day of return.
const RETURN_WORDS: &[&str] = &[
    "back",
    "return",
    "returning",
    "returns",
    "retour",
    "regreso",
    "vuelta",
    "zuruck",
    "wieder",
    "reachable",
    "available",
    "ab",
];

/// Words right before a date that mark it as the last day of absence.
const UNTIL_WORDS: &[&str] = &[
    "until", "till", "til", "'til", "through", "thru", "bis", "jusqu'au", "jusqu'a", "au", "hasta",
];

/// How many words before a date, within its sentence, are searched for a
/// return or until word ("back in the office on 7 January").
const CUE_WINDOW_WORDS: usize = 6;

struct Patterns {
    iso: Regex,
    dotted: Regex,
    slashed: Regex,
    day_month: Regex,
    month_day: Regex,
    ordinal: Regex,
    weekday: Regex,
    tomorrow: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let months = alternation(MONTHS.iter().map(|(name, _)| *name));
    let weekdays = alternation(WEEKDAYS.iter().map(|(name, _)| *name));
    let compile = |pattern: &str| {
        // The patterns are built from constants, and the unit tests run them.
        Regex::new(pattern).unwrap_or_else(|error| panic!("invalid date pattern: {error}"))
    };

    Patterns {
        iso: compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b"),
        dotted: compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?"),
        slashed: compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b"),
        day_month: compile(&format!(
            r"\b(\d{{1,2}})(?:st|nd|rd|th|er|e|o)?\.?(?: of| de)? ({months})\b\.?(?:,? (?:de |del )?(\d{{4}}))?"
        )),
        month_day: compile(&format!(
            r"\b({months})\.? (\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? (\d{{4}}))?"
        )),
        ordinal: compile(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b"),
        weekday: compile(&format!(r"\b({weekdays})\b")),
        tomorrow: compile(r"\b(?:tomorrow|demain)\b"),
    }
});

/// Builds a regex alternation of `names`, longest first, so "january" wins over "jan".
fn alternation<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut sorted: Vec<&str> = names.collect();
    sorted.sort_by_key(|name| std::cmp::Reverse(name.len()));
    sorted.join("|")
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    date: NaiveDate,
    start: usize,
    end: usize,
}

/// Finds the return date in a normalised absence notice received on
/// `received_on`.
///
/// A calendar date ("12 January 2027", "14.03.", "2027-01-12") wins over a
/// relative one ("Monday", "the 14th", "tomorrow"). Among dates of the same
/// kind, a date right after a return word ("back on") wins over one after an
/// until word ("until"), which wins over a bare date. Ties go to the latest
/// date, so a range "3 to 14 March" gives 14 March. The date is returned as
/// written: "until 12 January" gives 12 January. A date without a year is the
/// next such date on or after `received_on`.
pub fn find_return_date(text: &str, received_on: NaiveDate) -> Option<NaiveDate> {
    let calendar = calendar_dates(text, received_on);
    let relative: Vec<Candidate> = relative_dates(text, received_on)
        .into_iter()
        .filter(|candidate| !calendar.iter().any(|other| overlaps(candidate, other)))
        .collect();

    let pool = if calendar.is_empty() {
        relative
    } else {
        calendar
    };
    pool.into_iter()
        .max_by_key(|candidate| (cue_score(text, candidate.start), candidate.date))
        .map(|candidate| candidate.date)
}

fn overlaps(first: &Candidate, second: &Candidate) -> bool {
    first.start < second.end && second.start < first.end
}

/// 2 after a return word, 1 after an until word, 0 otherwise.
fn cue_score(text: &str, start: usize) -> u8 {
    let before = &text[..start];
    let sentence_start = [". ", "! ", "? "]
        .iter()
        .filter_map(|end| before.rfind(end))
        .max()
        .map_or(0, |index| index + 2);
    let words: Vec<&str> = before[sentence_start..].split_whitespace().collect();
    let window = &words[words.len().saturating_sub(CUE_WINDOW_WORDS)..];
    let has = |list: &[&str]| {
        window.iter().any(|word| {
            list.contains(&word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
        })
    };

    if has(RETURN_WORDS) {
        2
    } else if has(UNTIL_WORDS) {
        1
    } else {
        0
    }
}

fn calendar_dates(text: &str, received_on: NaiveDate) -> Vec<Candidate> {
    let patterns = &*PATTERNS;
    let mut found = Vec::new();

    collect(&mut found, &patterns.iso, text, |caps| {
        let year = number(caps, 1)?;
        NaiveDate::from_ymd_opt(
            i32::try_from(year).ok()?,
            number(caps, 2)?,
            number(caps, 3)?,
        )
    });
    collect(&mut found, &patterns.dotted, text, |caps| {
        resolve(
            received_on,
            year(caps, 3),
            number(caps, 2)?,
            number(caps, 1)?,
        )
    });
    collect(&mut found, &patterns.slashed, text, |caps| {
        resolve_slashed(
            received_on,
            number(caps, 1)?,
            number(caps, 2)?,
            year(caps, 3),
        )
    });
    collect(&mut found, &patterns.day_month, text, |caps| {
        resolve(
            received_on,
            year(caps, 3),
            month_number(caps, 2)?,
            number(caps, 1)?,
        )
    });
    collect(&mut found, &patterns.month_day, text, |caps| {
        resolve(
            received_on,
            year(caps, 3),
            month_number(caps, 1)?,
            number(caps, 2)?,
        )
    });
    found
}

fn relative_dates(text: &str, received_on: NaiveDate) -> Vec<Candidate> {
    let patterns = &*PATTERNS;
    let mut found = Vec::new();

    collect(&mut found, &patterns.ordinal, text, |caps| {
        next_day_of_month(received_on, number(caps, 1)?)
    });
    collect(&mut found, &patterns.weekday, text, |caps| {
        let name = caps.get(1)?.as_str();
        let weekday = WEEKDAYS.iter().find(|(candidate, _)| *candidate == name)?.1;
        Some(next_weekday(received_on, weekday))
    });
    collect(&mut found, &patterns.tomorrow, text, |_| {
        received_on.checked_add_days(Days::new(1))
    });
    found
}

fn collect(
    found: &mut Vec<Candidate>,
    regex: &Regex,
    text: &str,
    to_date: impl Fn(&Captures<'_>) -> Option<NaiveDate>,
) {
    for caps in regex.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let Some(date) = to_date(&caps) else { continue };
        let candidate = Candidate {
            date,
            start: whole.start(),
            end: whole.end(),
        };

        // Patterns run from the most specific to the least, so a span that an
        // earlier pattern read ("2027/01/12") is not read again ("01/12").
        if !found.iter().any(|other| overlaps(&candidate, other)) {
            found.push(candidate);
        }
    }
}

fn number(caps: &Captures<'_>, group: usize) -> Option<u32> {
    caps.get(group)?.as_str().parse().ok()
}

/// Reads a written year. Two digits mean 20xx.
fn year(caps: &Captures<'_>, group: usize) -> Option<i32> {
    let text = caps.get(group)?.as_str();
    let value: i32 = text.parse().ok()?;
    Some(if text.len() == 2 { 2000 + value } else { value })
}

fn month_number(caps: &Captures<'_>, group: usize) -> Option<u32> {
    let name = caps.get(group)?.as_str();
    MONTHS
        .iter()
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, month)| *month)
}

/// Returns the date in the written year, or else the next such date on or
/// after `received_on`.
fn resolve(received_on: NaiveDate, year: Option<i32>, month: u32, day: u32) -> Option<NaiveDate> {
    if let Some(year) = year {
        return NaiveDate::from_ymd_opt(year, month, day);
    }
    let this_year = received_on.year();
    [this_year, this_year + 1]
        .into_iter()
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .find(|date| *date >= received_on)
}

/// Reads `first/second[/year]`, which is day/month in most of the world and
/// month/day in the United States. A part over 12 decides the order. When
/// both orders are valid, the date nearest after `received_on` wins, because
/// an absence notice names a date soon after it is sent.
fn resolve_slashed(
    received_on: NaiveDate,
    first: u32,
    second: u32,
    year: Option<i32>,
) -> Option<NaiveDate> {
    let day_first = resolve(received_on, year, second, first);
    let month_first = resolve(received_on, year, first, second);

    match (day_first, month_first) {
        (Some(a), Some(b)) => Some(nearest_after(received_on, a, b)),
        (one, other) => one.or(other),
    }
}

fn nearest_after(received_on: NaiveDate, a: NaiveDate, b: NaiveDate) -> NaiveDate {
    let distance = |date: NaiveDate| {
        let days = (date - received_on).num_days();
        // A date before the received date sorts after every later date.
        if days >= 0 { days } else { i64::MAX / 2 - days }
    };
    if distance(a) <= distance(b) { a } else { b }
}

/// Returns the next date on or after `received_on` whose day of the month is `day`.
fn next_day_of_month(received_on: NaiveDate, day: u32) -> Option<NaiveDate> {
    let mut month_start = received_on.with_day(1)?;
    for _ in 0..12 {
        if let Some(date) = month_start.with_day(day)
            && date >= received_on
        {
            return Some(date);
        }
        month_start = month_start.checked_add_months(chrono::Months::new(1))?;
    }
    None
}

/// Returns the next date strictly after `received_on` that falls on
/// `weekday`, because "back on Monday" written on a Monday means the next one.
fn next_weekday(received_on: NaiveDate, weekday: Weekday) -> NaiveDate {
    let today = received_on.weekday().num_days_from_monday();
    let target = weekday.num_days_from_monday();
    let ahead = (target + 7 - today) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    received_on + Days::new(u64::from(ahead))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn find(text: &str, received_on: NaiveDate) -> Option<NaiveDate> {
        find_return_date(&crate::replies::text::normalize(text), received_on)
    }

    #[test]
    fn written_dates_in_four_languages() {
        let received = date(2027, 1, 4);
        let cases = [
            ("until Monday 12 January 2027", date(2027, 1, 12)),
            ("back on January 14th, 2027", date(2027, 1, 14)),
            ("bis zum 14. Januar 2027", date(2027, 1, 14)),
            ("jusqu'au 1er février 2027", date(2027, 2, 1)),
            ("hasta el 15 de enero de 2027", date(2027, 1, 15)),
            ("back 2027-02-08", date(2027, 2, 8)),
            ("bis 14.03.2027", date(2027, 3, 14)),
            ("bis 14.03.27", date(2027, 3, 14)),
        ];
        for (text, expected) in cases {
            assert_eq!(find(text, received), Some(expected), "{text}");
        }
    }

    #[test]
    fn missing_year_rolls_forward() {
        assert_eq!(
            find("back on 5 January", date(2026, 12, 20)),
            Some(date(2027, 1, 5))
        );
        assert_eq!(
            find("ab dem 14.03. wieder erreichbar", date(2027, 3, 2)),
            Some(date(2027, 3, 14))
        );
    }

    #[test]
    fn range_gives_last_day() {
        assert_eq!(
            find("away from 3 to 14 March", date(2027, 2, 20)),
            Some(date(2027, 3, 14))
        );
        assert_eq!(
            find("vom 3. bis 14. März abwesend", date(2027, 2, 20)),
            Some(date(2027, 3, 14))
        );
    }

    #[test]
    fn return_word_beats_until_word() {
        let text = "out through January 5, back in the office on January 7";
        assert_eq!(find(text, date(2027, 1, 2)), Some(date(2027, 1, 7)));

        let text = "back on January 5 after a trip lasting until January 4";
        assert_eq!(find(text, date(2027, 1, 2)), Some(date(2027, 1, 5)));
    }

    #[test]
    fn slashed_dates_pick_nearest_reading() {
        // 01/12/2027: 12 January (US) is nearer to 5 January than 1 December.
        assert_eq!(
            find("back on 01/12/2027", date(2027, 1, 5)),
            Some(date(2027, 1, 12))
        );
        // 13/01: only day/month is valid.
        assert_eq!(
            find("back on 2027/01/12", date(2027, 1, 5)),
            Some(date(2027, 1, 12))
        );
        assert_eq!(
            find("back on 13/01", date(2027, 1, 5)),
            Some(date(2027, 1, 13))
        );
    }

    #[test]
    fn relative_dates() {
        // 6 January 2027 is a Wednesday.
        let received = date(2027, 1, 6);
        assert_eq!(find("until Monday", received), Some(date(2027, 1, 11)));
        assert_eq!(find("back on Wednesday", received), Some(date(2027, 1, 13)));
        assert_eq!(find("back tomorrow", received), Some(date(2027, 1, 7)));
        assert_eq!(find("back on the 14th", received), Some(date(2027, 1, 14)));
        assert_eq!(find("back on the 3rd", received), Some(date(2027, 2, 3)));
    }

    #[test]
    fn calendar_date_beats_weekday() {
        let text = "out until Monday 12 January 2027";
        assert_eq!(find(text, date(2027, 1, 6)), Some(date(2027, 1, 12)));
    }

    #[test]
    fn no_date_found() {
        assert_eq!(
            find("travelling this week, back soon", date(2027, 1, 6)),
            None
        );
        assert_eq!(find("call me at 10:30", date(2027, 1, 6)), None);
        assert_eq!(find("back on 31 February 2027", date(2027, 1, 6)), None);
    }
}
