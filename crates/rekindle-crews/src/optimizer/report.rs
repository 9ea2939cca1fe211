//! The positive-reply report: which personalisation elements, local send
//! hours and weekdays earn positive replies, ranked by rate.
//!
//! The rates describe what happened but do not prove cause. Elements occur
//! together in one message and leads are not assigned to them at random, so
//! a high rate can come from the leads that received an element.

use std::collections::BTreeMap;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use super::OptimizerError;
use super::ab_test::rate;

/// Default minimum messages behind a reported row. Below 30 messages one
/// reply moves a rate by more than 3 percentage points.
pub const DEFAULT_MIN_MESSAGES: u64 = 30;

/// One sent message and whether it earned a positive reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageOutcome {
    /// Personalisation element keys, as from
    /// [`personalisation_elements`](super::personalisation_elements).
    /// A key listed twice counts once.
    pub elements: Vec<String>,
    /// Send hour on the lead's local clock, 0 to 23.
    pub local_hour: u8,
    /// Send weekday in the lead's time zone.
    pub weekday: Weekday,
    /// The message got a reply classified `interested` or `meeting_request`.
    pub positive: bool,
}

/// Settings of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSettings {
    /// Rows with fewer messages are left out.
    pub min_messages: u64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            min_messages: DEFAULT_MIN_MESSAGES,
        }
    }
}

/// Messages and positive replies for one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateRow<K> {
    pub key: K,
    pub messages: u64,
    pub positive_replies: u64,
    /// Positive replies per message, from 0.0 to 1.0.
    pub rate: f64,
}

/// Rows ranked by rate, highest first. Ties go to the row with more
/// messages, then to the smaller key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositiveReplyReport {
    /// All messages, whatever their counts per key.
    pub messages: u64,
    pub positive_replies: u64,
    /// Rate over all messages, the baseline for the rows.
    pub rate: f64,
    pub min_messages: u64,
    pub elements: Vec<RateRow<String>>,
    pub hours: Vec<RateRow<u8>>,
    pub weekdays: Vec<RateRow<Weekday>>,
}

#[derive(Default)]
struct Tally {
    messages: u64,
    positive_replies: u64,
}

impl Tally {
    fn add(&mut self, positive: bool) {
        self.messages += 1;
        if positive {
            self.positive_replies += 1;
        }
    }
}

/// Builds the report from one row per sent message.
pub fn positive_reply_report(
    outcomes: &[MessageOutcome],
    settings: &ReportSettings,
) -> Result<PositiveReplyReport, OptimizerError> {
    let mut overall = Tally::default();
    let mut elements: BTreeMap<String, Tally> = BTreeMap::new();
    let mut hours: BTreeMap<u8, Tally> = BTreeMap::new();
    // Keyed by the weekday's number from Monday, because `Weekday` has no order.
    let mut weekdays: BTreeMap<u32, (Weekday, Tally)> = BTreeMap::new();

    for (row, outcome) in outcomes.iter().enumerate() {
        if outcome.local_hour > 23 {
            return Err(OptimizerError::Hour {
                row,
                hour: outcome.local_hour,
            });
        }
        overall.add(outcome.positive);

        let mut seen: Vec<&str> = Vec::with_capacity(outcome.elements.len());
        for element in &outcome.elements {
            if seen.contains(&element.as_str()) {
                continue;
            }
            seen.push(element);
            elements
                .entry(element.clone())
                .or_default()
                .add(outcome.positive);
        }

        hours
            .entry(outcome.local_hour)
            .or_default()
            .add(outcome.positive);
        weekdays
            .entry(outcome.weekday.num_days_from_monday())
            .or_insert_with(|| (outcome.weekday, Tally::default()))
            .1
            .add(outcome.positive);
    }

    let min = settings.min_messages;
    Ok(PositiveReplyReport {
        messages: overall.messages,
        positive_replies: overall.positive_replies,
        rate: rate(overall.positive_replies, overall.messages),
        min_messages: min,
        elements: ranked(elements, min),
        hours: ranked(hours, min),
        weekdays: ranked(weekdays.into_values(), min),
    })
}

/// Drops the rows under `min_messages` and sorts the rest. The input is in
/// key order and the sort is stable, so equal rates and counts keep it.
fn ranked<K>(tallies: impl IntoIterator<Item = (K, Tally)>, min_messages: u64) -> Vec<RateRow<K>> {
    let mut rows: Vec<RateRow<K>> = tallies
        .into_iter()
        .filter(|(_, tally)| tally.messages >= min_messages && tally.messages > 0)
        .map(|(key, tally)| RateRow {
            key,
            messages: tally.messages,
            positive_replies: tally.positive_replies,
            rate: rate(tally.positive_replies, tally.messages),
        })
        .collect();
    rows.sort_by(|left, right| {
        right
            .rate
            .total_cmp(&left.rate)
            .then(right.messages.cmp(&left.messages))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends `messages` rows with the given keys, `positive` of them positive.
    fn push_rows(
        rows: &mut Vec<MessageOutcome>,
        elements: &[&str],
        hour: u8,
        weekday: Weekday,
        messages: usize,
        positive: usize,
    ) {
        for index in 0..messages {
            rows.push(MessageOutcome {
                elements: elements.iter().map(|key| (*key).to_owned()).collect(),
                local_hour: hour,
                weekday,
                positive: index < positive,
            });
        }
    }

    fn sample() -> Vec<MessageOutcome> {
        let mut rows = Vec::new();
        // 40 messages with a trigger hook at 09:00 on Tuesday, 8 positive.
        push_rows(
            &mut rows,
            &["hook:trigger", "fact:first_name"],
            9,
            Weekday::Tue,
            40,
            8,
        );
        // 50 messages with the general hook at 15:00 on Friday, 2 positive.
        push_rows(
            &mut rows,
            &["hook:general", "fact:first_name"],
            15,
            Weekday::Fri,
            50,
            2,
        );
        // 10 messages at 07:00 on Monday, all positive, too few to report.
        push_rows(&mut rows, &["hook:timing"], 7, Weekday::Mon, 10, 10);
        rows
    }

    #[test]
    fn report_ranks_rates_with_counts() {
        let report = positive_reply_report(&sample(), &ReportSettings::default()).unwrap();

        assert_eq!(report.messages, 100);
        assert_eq!(report.positive_replies, 20);
        assert!((report.rate - 0.2).abs() < 1e-12);

        let elements: Vec<(&str, u64, u64)> = report
            .elements
            .iter()
            .map(|row| (row.key.as_str(), row.messages, row.positive_replies))
            .collect();
        assert_eq!(
            elements,
            [
                ("hook:trigger", 40, 8),
                ("fact:first_name", 90, 10),
                ("hook:general", 50, 2),
            ]
        );
        assert!((report.elements[0].rate - 0.2).abs() < 1e-12);
        assert!((report.elements[2].rate - 0.04).abs() < 1e-12);
    }

    #[test]
    fn report_ranks_hours_and_weekdays() {
        let report = positive_reply_report(&sample(), &ReportSettings::default()).unwrap();

        let hours: Vec<u8> = report.hours.iter().map(|row| row.key).collect();
        assert_eq!(hours, [9, 15]);
        let weekdays: Vec<Weekday> = report.weekdays.iter().map(|row| row.key).collect();
        assert_eq!(weekdays, [Weekday::Tue, Weekday::Fri]);
    }

    #[test]
    fn rows_below_minimum_are_left_out() {
        let settings = ReportSettings { min_messages: 5 };
        let report = positive_reply_report(&sample(), &settings).unwrap();

        assert_eq!(report.elements[0].key, "hook:timing");
        assert_eq!(report.hours[0].key, 7);
        assert_eq!(report.weekdays[0].key, Weekday::Mon);
        assert_eq!(report.min_messages, 5);
    }

    #[test]
    fn equal_rates_rank_larger_count_first() {
        let mut rows = Vec::new();
        push_rows(&mut rows, &["b"], 10, Weekday::Wed, 30, 3);
        push_rows(&mut rows, &["a"], 11, Weekday::Thu, 60, 6);
        let report = positive_reply_report(&rows, &ReportSettings::default()).unwrap();

        let keys: Vec<&str> = report.elements.iter().map(|row| row.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn repeated_element_counts_once() {
        let mut rows = Vec::new();
        push_rows(
            &mut rows,
            &["hook:role", "hook:role"],
            10,
            Weekday::Wed,
            30,
            3,
        );
        let report = positive_reply_report(&rows, &ReportSettings::default()).unwrap();

        assert_eq!(report.elements.len(), 1);
        assert_eq!(report.elements[0].messages, 30);
    }

    #[test]
    fn empty_input_gives_empty_report() {
        let report = positive_reply_report(&[], &ReportSettings { min_messages: 0 }).unwrap();

        assert_eq!(report.messages, 0);
        assert_eq!(report.rate, 0.0);
        assert!(report.elements.is_empty());
        assert!(report.hours.is_empty());
    }

    #[test]
    fn invalid_hour_is_rejected() {
        let mut rows = sample();
        rows[3].local_hour = 24;

        assert_eq!(
            positive_reply_report(&rows, &ReportSettings::default()),
            Err(OptimizerError::Hour { row: 3, hour: 24 })
        );
    }
}
