//! The A/B decision between two variants of a subject line or a step.
//!
//! # Test
//!
//! A two-sided two-proportion z-test with the pooled standard error, at the
//! significance level of [`AbSettings`] (default 0.05). The success count of
//! a variant is its positive replies (classified `interested` or
//! `meeting_request`), not its opens, because opens are inflated by mail
//! privacy features that load every image.
//!
//! With rates `p_a = x_a / n_a` and `p_b = x_b / n_b` and the pooled rate
//! `p = (x_a + x_b) / (n_a + n_b)`:
//!
//! ```text
//! z = (p_b - p_a) / sqrt(p (1 - p) (1 / n_a + 1 / n_b))
//! p-value = 2 P(Z > |z|)   for a standard normal Z
//! ```
//!
//! Two-sided, because neither variant is the favourite before the test. A
//! one-sided test would need that choice in advance and could never name
//! the other variant the winner. The variant with the higher rate wins when
//! the p-value is below the significance level.
//!
//! The z-test relies on the normal approximation of the binomial, so no
//! decision is made until every variant has [`AbSettings::min_sends`] sends
//! and at least [`MIN_EXPECTED_COUNT`] expected positive replies and as many
//! expected other outcomes under the pooled rate.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::OptimizerError;

/// Default significance level: the share of decisions that may name a winner
/// when the variants truly perform the same.
pub const DEFAULT_SIGNIFICANCE_LEVEL: f64 = 0.05;

/// Default minimum sends per variant. At a positive-reply rate of 5 %, 100
/// sends give the 5 expected positive replies that the normal approximation
/// needs. Lower rates need more sends, which [`MIN_EXPECTED_COUNT`] enforces.
pub const DEFAULT_MIN_SENDS: u64 = 100;

/// Minimum expected count per variant and outcome for the normal
/// approximation, the common rule of thumb for the two-proportion z-test.
pub const MIN_EXPECTED_COUNT: f64 = 5.0;

/// Settings of the A/B decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AbSettings {
    /// Two-sided significance level, above 0 and at most 0.5.
    pub significance_level: f64,
    /// Sends each variant needs before any decision.
    pub min_sends: u64,
}

impl Default for AbSettings {
    /// Significance level 0.05 and 100 sends per variant.
    fn default() -> Self {
        Self {
            significance_level: DEFAULT_SIGNIFICANCE_LEVEL,
            min_sends: DEFAULT_MIN_SENDS,
        }
    }
}

/// Counts of one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantCounts {
    /// The variant as stored with its messages, such as `A`.
    pub label: String,
    /// Messages sent with this variant.
    pub sends: u64,
    /// Replies classified `interested` or `meeting_request`.
    pub positive_replies: u64,
}

/// Counts and rate of one variant, as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantFigures {
    pub label: String,
    pub sends: u64,
    pub positive_replies: u64,
    /// Positive replies per send, from 0.0 to 1.0, and 0.0 without sends.
    pub rate: f64,
}

/// Why an A/B test has no winner yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoDecisionReason {
    /// A variant has fewer sends than the minimum.
    SampleTooSmall { smallest_sends: u64, min_sends: u64 },
    /// Too few expected positive replies (or other outcomes) for the normal
    /// approximation, which is typical at low reply rates.
    TooFewExpected {
        smallest_expected: f64,
        min_expected: f64,
    },
    /// The p-value is not below the significance level.
    NotSignificant,
}

/// Outcome of the test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AbOutcome {
    Winner { label: String },
    NoDecisionYet(NoDecisionReason),
}

/// The decision with the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbDecision {
    pub outcome: AbOutcome,
    pub a: VariantFigures,
    pub b: VariantFigures,
    /// Rate of B minus rate of A.
    pub difference: f64,
    /// The z statistic of B minus A, absent when the test was not run.
    pub z: Option<f64>,
    /// Two-sided p-value, absent when the test was not run.
    pub p_value: Option<f64>,
    pub significance_level: f64,
}

impl AbDecision {
    /// Returns the winner's label, if there is one.
    pub fn winner(&self) -> Option<&str> {
        match &self.outcome {
            AbOutcome::Winner { label } => Some(label),
            AbOutcome::NoDecisionYet(_) => None,
        }
    }

    /// Returns the variant a lead receives from now on: the winner once there
    /// is one, else the variant the lead was assigned.
    pub fn variant_for<'a>(&'a self, assigned: &'a str) -> &'a str {
        self.winner().unwrap_or(assigned)
    }
}

/// Decides between variants `a` and `b`.
pub fn decide_ab(
    a: &VariantCounts,
    b: &VariantCounts,
    settings: &AbSettings,
) -> Result<AbDecision, OptimizerError> {
    validate(a, b, settings)?;

    let figures_a = figures(a);
    let figures_b = figures(b);
    let mut decision = AbDecision {
        outcome: AbOutcome::NoDecisionYet(NoDecisionReason::NotSignificant),
        difference: figures_b.rate - figures_a.rate,
        a: figures_a,
        b: figures_b,
        z: None,
        p_value: None,
        significance_level: settings.significance_level,
    };

    let smallest_sends = a.sends.min(b.sends);
    if smallest_sends < settings.min_sends {
        decision.outcome = AbOutcome::NoDecisionYet(NoDecisionReason::SampleTooSmall {
            smallest_sends,
            min_sends: settings.min_sends,
        });
        return Ok(decision);
    }

    let smallest_expected = smallest_expected_count(a, b);
    if smallest_expected < MIN_EXPECTED_COUNT {
        decision.outcome = AbOutcome::NoDecisionYet(NoDecisionReason::TooFewExpected {
            smallest_expected,
            min_expected: MIN_EXPECTED_COUNT,
        });
        return Ok(decision);
    }

    let z = z_statistic(a, b);
    let p_value = 2.0 * Normal::standard().sf(z.abs());
    decision.z = Some(z);
    decision.p_value = Some(p_value);
    if p_value < settings.significance_level {
        let winner = if z > 0.0 { &b.label } else { &a.label };
        decision.outcome = AbOutcome::Winner {
            label: winner.clone(),
        };
    }
    Ok(decision)
}

fn validate(
    a: &VariantCounts,
    b: &VariantCounts,
    settings: &AbSettings,
) -> Result<(), OptimizerError> {
    let level = settings.significance_level;
    if !(level > 0.0 && level <= 0.5) {
        return Err(OptimizerError::SignificanceLevel(level));
    }
    if a.label == b.label {
        return Err(OptimizerError::SameLabel(a.label.clone()));
    }
    for variant in [a, b] {
        if variant.positive_replies > variant.sends {
            return Err(OptimizerError::MoreSuccessesThanTrials {
                label: variant.label.clone(),
                successes: variant.positive_replies,
                trials: variant.sends,
            });
        }
    }
    Ok(())
}

fn figures(counts: &VariantCounts) -> VariantFigures {
    VariantFigures {
        label: counts.label.clone(),
        sends: counts.sends,
        positive_replies: counts.positive_replies,
        rate: rate(counts.positive_replies, counts.sends),
    }
}

/// Returns `part / whole`, or 0.0 when `whole` is 0.
pub(crate) fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    part as f64 / whole as f64
}

/// Returns the smallest of the four expected counts (positive and other, per
/// variant) under the pooled rate.
fn smallest_expected_count(a: &VariantCounts, b: &VariantCounts) -> f64 {
    let pooled = rate(
        a.positive_replies.saturating_add(b.positive_replies),
        a.sends.saturating_add(b.sends),
    );
    let smaller_share = pooled.min(1.0 - pooled);
    a.sends.min(b.sends) as f64 * smaller_share
}

/// Computes z for B minus A with the pooled standard error. The caller has
/// checked the expected counts, so the pooled rate lies strictly between 0
/// and 1 and the standard error is positive.
fn z_statistic(a: &VariantCounts, b: &VariantCounts) -> f64 {
    let (n_a, n_b) = (a.sends as f64, b.sends as f64);
    let pooled = rate(
        a.positive_replies.saturating_add(b.positive_replies),
        a.sends.saturating_add(b.sends),
    );
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b)).sqrt();
    (rate(b.positive_replies, b.sends) - rate(a.positive_replies, a.sends)) / standard_error
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn counts(label: &str, sends: u64, positive_replies: u64) -> VariantCounts {
        VariantCounts {
            label: label.to_owned(),
            sends,
            positive_replies,
        }
    }

    /// Draws `sends` Bernoulli outcomes with success probability `rate`.
    fn simulate(rng: &mut StdRng, label: &str, sends: u64, rate: f64) -> VariantCounts {
        let positive_replies = (0..sends).filter(|_| rng.random_bool(rate)).count() as u64;
        counts(label, sends, positive_replies)
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "expected {expected} within {tolerance}, got {actual}"
        );
    }

    // Reference values computed independently with Python's math.erfc:
    // z = 2.721095431170472 and p = 0.006506597483637838.
    #[test]
    fn known_counts_give_known_figures() {
        let decision = decide_ab(
            &counts("A", 1000, 50),
            &counts("B", 1000, 80),
            &AbSettings::default(),
        )
        .unwrap();

        assert_eq!(decision.winner(), Some("B"));
        assert_close(decision.z.unwrap(), 2.721_095_431_170_472, 1e-9);
        assert_close(decision.p_value.unwrap(), 0.006_506_597_483_637_838, 1e-9);
        assert_close(decision.a.rate, 0.05, 1e-12);
        assert_close(decision.b.rate, 0.08, 1e-12);
        assert_close(decision.difference, 0.03, 1e-12);
    }

    #[test]
    fn winner_can_be_variant_a() {
        let decision = decide_ab(
            &counts("A", 1000, 80),
            &counts("B", 1000, 50),
            &AbSettings::default(),
        )
        .unwrap();

        assert_eq!(decision.winner(), Some("A"));
        assert_close(decision.z.unwrap(), -2.721_095_431_170_472, 1e-9);
    }

    // Python reference: z = 0.5012861959324644, p = 0.6161697188674795.
    #[test]
    fn small_difference_is_not_significant() {
        let decision = decide_ab(
            &counts("A", 1000, 50),
            &counts("B", 1000, 55),
            &AbSettings::default(),
        )
        .unwrap();

        assert_eq!(
            decision.outcome,
            AbOutcome::NoDecisionYet(NoDecisionReason::NotSignificant)
        );
        assert_close(decision.p_value.unwrap(), 0.616_169_718_867_479_5, 1e-9);
    }

    // Python reference for unequal sizes: p = 0.08036566049040114, which is
    // significant at 0.10 but not at 0.05.
    #[test]
    fn significance_level_is_applied() {
        let a = counts("A", 500, 20);
        let b = counts("B", 800, 50);

        let strict = decide_ab(&a, &b, &AbSettings::default()).unwrap();
        assert_eq!(strict.winner(), None);
        assert_close(strict.p_value.unwrap(), 0.080_365_660_490_401_14, 1e-9);

        let lenient = AbSettings {
            significance_level: 0.10,
            ..AbSettings::default()
        };
        assert_eq!(decide_ab(&a, &b, &lenient).unwrap().winner(), Some("B"));
    }

    #[test]
    fn below_minimum_sample_waits() {
        // A large difference, but variant A has only 60 sends.
        let decision = decide_ab(
            &counts("A", 60, 0),
            &counts("B", 500, 100),
            &AbSettings::default(),
        )
        .unwrap();

        assert_eq!(
            decision.outcome,
            AbOutcome::NoDecisionYet(NoDecisionReason::SampleTooSmall {
                smallest_sends: 60,
                min_sends: 100,
            })
        );
        assert_eq!(decision.p_value, None);
        assert_close(decision.b.rate, 0.2, 1e-12);
    }

    #[test]
    fn too_few_positive_replies_waits() {
        // Pooled rate 4 / 400 = 1 %, so each variant expects 2 positives.
        let decision = decide_ab(
            &counts("A", 200, 0),
            &counts("B", 200, 4),
            &AbSettings::default(),
        )
        .unwrap();

        match decision.outcome {
            AbOutcome::NoDecisionYet(NoDecisionReason::TooFewExpected {
                smallest_expected,
                min_expected,
            }) => {
                assert_close(smallest_expected, 2.0, 1e-9);
                assert_close(min_expected, MIN_EXPECTED_COUNT, 0.0);
            }
            other => panic!("expected too few expected counts, got {other:?}"),
        }
    }

    #[test]
    fn no_replies_at_all_waits() {
        let decision = decide_ab(
            &counts("A", 500, 0),
            &counts("B", 500, 0),
            &AbSettings::default(),
        )
        .unwrap();

        assert_eq!(decision.winner(), None);
        assert_eq!(decision.z, None);
    }

    #[test]
    fn simulated_clear_winner_is_found() {
        // True rates 2 % and 6 %, 2,000 sends each.
        let mut rng = StdRng::seed_from_u64(7);
        let a = simulate(&mut rng, "A", 2000, 0.02);
        let b = simulate(&mut rng, "B", 2000, 0.06);

        let decision = decide_ab(&a, &b, &AbSettings::default()).unwrap();
        assert_eq!(decision.winner(), Some("B"), "{decision:?}");
        assert!(decision.p_value.unwrap() < 0.001, "{decision:?}");
    }

    #[test]
    fn simulated_equal_rates_have_no_winner() {
        // Both variants truly at 5 %, 2,000 sends each.
        let mut rng = StdRng::seed_from_u64(11);
        let a = simulate(&mut rng, "A", 2000, 0.05);
        let b = simulate(&mut rng, "B", 2000, 0.05);

        let decision = decide_ab(&a, &b, &AbSettings::default()).unwrap();
        assert_eq!(
            decision.outcome,
            AbOutcome::NoDecisionYet(NoDecisionReason::NotSignificant),
            "{decision:?}"
        );
    }

    #[test]
    fn simulated_equal_rates_false_winner_share() {
        // With equal true rates, about 5 % of experiments should name a
        // winner. Over 400 experiments the share stays well inside 1 % to 10 %
        // unless the p-value is wrong (the binomial standard deviation of the
        // share is about 1.1 %).
        let mut rng = StdRng::seed_from_u64(2024);
        let experiments = 400;
        let false_winners = (0..experiments)
            .filter(|_| {
                let a = simulate(&mut rng, "A", 1000, 0.05);
                let b = simulate(&mut rng, "B", 1000, 0.05);
                decide_ab(&a, &b, &AbSettings::default())
                    .unwrap()
                    .winner()
                    .is_some()
            })
            .count();

        let share = false_winners as f64 / f64::from(experiments);
        assert!(share > 0.01, "false winner share {share}");
        assert!(share < 0.10, "false winner share {share}");
    }

    #[test]
    fn simulated_true_difference_is_found_mostly() {
        // True rates 3 % and 6 % with 2,000 sends each give a power of about
        // 99 %, and the worse variant should never win.
        let mut rng = StdRng::seed_from_u64(99);
        let mut b_wins = 0;
        for _ in 0..200 {
            let a = simulate(&mut rng, "A", 2000, 0.03);
            let b = simulate(&mut rng, "B", 2000, 0.06);
            let decision = decide_ab(&a, &b, &AbSettings::default()).unwrap();
            assert_ne!(decision.winner(), Some("A"), "{decision:?}");
            if decision.winner() == Some("B") {
                b_wins += 1;
            }
        }
        assert!(b_wins >= 190, "B won {b_wins} of 200");
    }

    #[test]
    fn remaining_leads_move_to_winner() {
        let decided = decide_ab(
            &counts("A", 1000, 50),
            &counts("B", 1000, 80),
            &AbSettings::default(),
        )
        .unwrap();
        assert_eq!(decided.variant_for("A"), "B");
        assert_eq!(decided.variant_for("B"), "B");

        let undecided = decide_ab(
            &counts("A", 10, 1),
            &counts("B", 10, 2),
            &AbSettings::default(),
        )
        .unwrap();
        assert_eq!(undecided.variant_for("A"), "A");
        assert_eq!(undecided.variant_for("B"), "B");
    }

    #[test]
    fn invalid_input_is_rejected() {
        let settings = AbSettings::default();
        assert_eq!(
            decide_ab(&counts("A", 10, 11), &counts("B", 10, 1), &settings),
            Err(OptimizerError::MoreSuccessesThanTrials {
                label: "A".into(),
                successes: 11,
                trials: 10,
            })
        );
        assert_eq!(
            decide_ab(&counts("A", 10, 1), &counts("A", 10, 1), &settings),
            Err(OptimizerError::SameLabel("A".into()))
        );
        for level in [0.0, 0.6, f64::NAN] {
            let settings = AbSettings {
                significance_level: level,
                ..AbSettings::default()
            };
            assert!(
                matches!(
                    decide_ab(&counts("A", 10, 1), &counts("B", 10, 1), &settings),
                    Err(OptimizerError::SignificanceLevel(_))
                ),
                "level {level} was accepted"
            );
        }
    }
}
