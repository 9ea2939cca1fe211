//! The funnel report per campaign, step and A/B variant, from counts that
//! the store computes.
//!
//! Rates, each `None` when its denominator is 0:
//!
//! | rate | formula |
//! | --- | --- |
//! | `delivery_rate` | delivered / sent |
//! | `open_rate` | opened / delivered |
//! | `click_rate` | clicked / delivered |
//! | `reply_rate` | replied / delivered |
//! | `positive_rate` | positive / delivered |
//! | `positive_share_of_replies` | positive / replied |
//! | `meeting_rate` | meetings / positive |
//!
//! The counts are used as given. Providers report some events out of order
//! (a click without an open when images are blocked), so a rate may exceed
//! what a strict funnel allows.

use std::collections::BTreeMap;

use rekindle_domain::CampaignId;
use serde::{Deserialize, Serialize};

/// Counts of one campaign step and variant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelCounts {
    pub sent: u64,
    pub delivered: u64,
    pub opened: u64,
    pub clicked: u64,
    pub replied: u64,
    /// Replies classified `interested` or `meeting_request`.
    pub positive: u64,
    pub meetings: u64,
}

impl FunnelCounts {
    fn add(&mut self, other: &FunnelCounts) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.opened += other.opened;
        self.clicked += other.clicked;
        self.replied += other.replied;
        self.positive += other.positive;
        self.meetings += other.meetings;
    }
}

/// One input row. Rows with the same campaign, step and variant are added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelRow {
    pub campaign_id: CampaignId,
    /// Position of the step in the sequence.
    pub step_position: u32,
    /// The A/B variant as stored, such as `A`.
    pub variant: String,
    pub counts: FunnelCounts,
}

/// Rates from 0.0 to 1.0, as defined in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FunnelRates {
    pub delivery_rate: Option<f64>,
    pub open_rate: Option<f64>,
    pub click_rate: Option<f64>,
    pub reply_rate: Option<f64>,
    pub positive_rate: Option<f64>,
    pub positive_share_of_replies: Option<f64>,
    pub meeting_rate: Option<f64>,
}

/// Counts with their rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FunnelFigures {
    pub counts: FunnelCounts,
    pub rates: FunnelRates,
}

impl FunnelFigures {
    /// Computes the rates of `counts`.
    pub fn from_counts(counts: FunnelCounts) -> Self {
        Self {
            counts,
            rates: FunnelRates {
                delivery_rate: ratio(counts.delivered, counts.sent),
                open_rate: ratio(counts.opened, counts.delivered),
                click_rate: ratio(counts.clicked, counts.delivered),
                reply_rate: ratio(counts.replied, counts.delivered),
                positive_rate: ratio(counts.positive, counts.delivered),
                positive_share_of_replies: ratio(counts.positive, counts.replied),
                meeting_rate: ratio(counts.meetings, counts.positive),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantFunnel {
    pub variant: String,
    pub figures: FunnelFigures,
}

/// One step: its totals over all variants, and each variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepFunnel {
    pub position: u32,
    pub figures: FunnelFigures,
    /// Ordered by variant label.
    pub variants: Vec<VariantFunnel>,
}

/// One campaign: its totals over all steps, and each step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignFunnel {
    pub campaign_id: CampaignId,
    pub figures: FunnelFigures,
    /// Ordered by position.
    pub steps: Vec<StepFunnel>,
}

type StepCounts = BTreeMap<u32, BTreeMap<String, FunnelCounts>>;

/// Builds the report, campaigns ordered by id (creation time for UUID v7
/// ids).
pub fn funnel_report(rows: &[FunnelRow]) -> Vec<CampaignFunnel> {
    let mut campaigns: BTreeMap<CampaignId, StepCounts> = BTreeMap::new();
    for row in rows {
        campaigns
            .entry(row.campaign_id)
            .or_default()
            .entry(row.step_position)
            .or_default()
            .entry(row.variant.clone())
            .or_default()
            .add(&row.counts);
    }

    campaigns
        .into_iter()
        .map(|(campaign_id, steps)| campaign_funnel(campaign_id, steps))
        .collect()
}

fn campaign_funnel(campaign_id: CampaignId, steps: StepCounts) -> CampaignFunnel {
    let mut total = FunnelCounts::default();
    let steps: Vec<StepFunnel> = steps
        .into_iter()
        .map(|(position, variants)| {
            let step = step_funnel(position, variants);
            total.add(&step.figures.counts);
            step
        })
        .collect();
    CampaignFunnel {
        campaign_id,
        figures: FunnelFigures::from_counts(total),
        steps,
    }
}

fn step_funnel(position: u32, variants: BTreeMap<String, FunnelCounts>) -> StepFunnel {
    let mut total = FunnelCounts::default();
    let variants: Vec<VariantFunnel> = variants
        .into_iter()
        .map(|(variant, counts)| {
            total.add(&counts);
            VariantFunnel {
                variant,
                figures: FunnelFigures::from_counts(counts),
            }
        })
        .collect();
    StepFunnel {
        position,
        figures: FunnelFigures::from_counts(total),
        variants,
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn counts(values: [u64; 7]) -> FunnelCounts {
        let [
            sent,
            delivered,
            opened,
            clicked,
            replied,
            positive,
            meetings,
        ] = values;
        FunnelCounts {
            sent,
            delivered,
            opened,
            clicked,
            replied,
            positive,
            meetings,
        }
    }

    fn row(campaign: u128, step: u32, variant: &str, values: [u64; 7]) -> FunnelRow {
        FunnelRow {
            campaign_id: CampaignId::from(Uuid::from_u128(campaign)),
            step_position: step,
            variant: variant.to_owned(),
            counts: counts(values),
        }
    }

    fn assert_rate(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("rate should be present");
        assert!(
            (actual - expected).abs() < 1e-12,
            "expected {expected}, got {actual}"
        );
    }

    #[test]
    fn variant_rates_follow_definitions() {
        let report = funnel_report(&[row(1, 1, "A", [200, 190, 95, 19, 38, 19, 5])]);
        let rates = report[0].steps[0].variants[0].figures.rates;

        assert_rate(rates.delivery_rate, 0.95);
        assert_rate(rates.open_rate, 0.5);
        assert_rate(rates.click_rate, 0.1);
        assert_rate(rates.reply_rate, 0.2);
        assert_rate(rates.positive_rate, 0.1);
        assert_rate(rates.positive_share_of_replies, 0.5);
        assert_rate(rates.meeting_rate, 5.0 / 19.0);
    }

    #[test]
    fn steps_and_campaigns_add_up() {
        let report = funnel_report(&[
            row(1, 2, "B", [100, 100, 40, 10, 10, 4, 1]),
            row(1, 1, "A", [100, 90, 45, 9, 9, 3, 1]),
            row(1, 1, "B", [100, 90, 30, 9, 18, 9, 3]),
            row(2, 1, "A", [50, 50, 0, 0, 0, 0, 0]),
        ]);

        assert_eq!(report.len(), 2);
        let first = &report[0];
        assert_eq!(first.figures.counts, counts([300, 280, 115, 28, 37, 16, 5]));
        let positions: Vec<u32> = first.steps.iter().map(|step| step.position).collect();
        assert_eq!(positions, [1, 2]);

        let step_one = &first.steps[0];
        assert_eq!(
            step_one.figures.counts,
            counts([200, 180, 75, 18, 27, 12, 4])
        );
        let labels: Vec<&str> = step_one
            .variants
            .iter()
            .map(|variant| variant.variant.as_str())
            .collect();
        assert_eq!(labels, ["A", "B"]);
        assert_rate(step_one.figures.rates.reply_rate, 27.0 / 180.0);
        assert_rate(step_one.variants[1].figures.rates.reply_rate, 0.2);
    }

    #[test]
    fn duplicate_rows_are_added() {
        let report = funnel_report(&[
            row(1, 1, "A", [10, 10, 5, 1, 1, 1, 0]),
            row(1, 1, "A", [10, 8, 3, 1, 1, 0, 0]),
        ]);

        let variants = &report[0].steps[0].variants;
        assert_eq!(variants.len(), 1);
        assert_eq!(variants[0].figures.counts, counts([20, 18, 8, 2, 2, 1, 0]));
    }

    #[test]
    fn zero_denominators_give_no_rate() {
        let report = funnel_report(&[row(1, 1, "A", [0, 0, 0, 0, 0, 0, 0])]);
        let rates = report[0].figures.rates;

        assert_eq!(rates.delivery_rate, None);
        assert_eq!(rates.open_rate, None);
        assert_eq!(rates.positive_share_of_replies, None);
        assert_eq!(rates.meeting_rate, None);
    }

    #[test]
    fn empty_input_gives_empty_report() {
        assert!(funnel_report(&[]).is_empty());
    }
}
