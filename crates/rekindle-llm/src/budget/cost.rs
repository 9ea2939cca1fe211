//! Money for LLM calls: costs in billionths of a US dollar, prices per
//! model, daily budgets per plan, and the token estimate of a prompt.

use std::collections::HashMap;
use std::fmt;
use std::ops::{Add, AddAssign};

use rekindle_config::{LlmModelPrice, LlmPlanBudgets};
use rekindle_domain::Plan;
use serde::Serialize;

use crate::error::LlmSetupError;
use crate::request::TokenUsage;

const NANOS_PER_USD: f64 = 1_000_000_000.0;

/// An estimated cost in nano-dollars (10^-9 USD), so the price of a single
/// token of the cheapest models (fractions of a micro-dollar) stays exact
/// enough to add up. `u64` holds up to about 18 billion dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cost(u64);

impl Cost {
    pub const ZERO: Cost = Cost(0);

    pub fn from_nano_usd(nano_usd: u64) -> Self {
        Self(nano_usd)
    }

    /// Converts dollars, rounding up to the next nano-dollar. Negative and
    /// non-finite amounts become zero.
    pub fn from_usd(usd: f64) -> Self {
        if !usd.is_finite() || usd <= 0.0 {
            return Self::ZERO;
        }
        Self((usd * NANOS_PER_USD).ceil() as u64)
    }

    pub fn nano_usd(self) -> u64 {
        self.0
    }

    pub fn usd(self) -> f64 {
        self.0 as f64 / NANOS_PER_USD
    }

    pub fn saturating_sub(self, other: Cost) -> Cost {
        Cost(self.0.saturating_sub(other.0))
    }
}

impl Add for Cost {
    type Output = Cost;

    fn add(self, other: Cost) -> Cost {
        Cost(self.0.saturating_add(other.0))
    }
}

impl AddAssign for Cost {
    fn add_assign(&mut self, other: Cost) {
        *self = *self + other;
    }
}

impl fmt::Display for Cost {
    /// Prints US dollars with six decimals: `$0.000150`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${:.6}", self.usd())
    }
}

/// Price of one model in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    input_usd_per_million: f64,
    output_usd_per_million: f64,
}

impl ModelPrice {
    /// The price of a model that costs nothing, such as one served locally.
    pub const FREE: ModelPrice = ModelPrice {
        input_usd_per_million: 0.0,
        output_usd_per_million: 0.0,
    };

    pub fn new(
        model: &str,
        input_usd_per_million: f64,
        output_usd_per_million: f64,
    ) -> Result<Self, LlmSetupError> {
        for amount in [input_usd_per_million, output_usd_per_million] {
            if !amount.is_finite() || amount < 0.0 {
                return Err(LlmSetupError::InvalidPrice {
                    model: model.to_owned(),
                    reason: format!("{amount} is not a non-negative amount of dollars"),
                });
            }
        }
        Ok(Self {
            input_usd_per_million,
            output_usd_per_million,
        })
    }

    /// Returns the cost of `usage`: tokens times dollars per million tokens
    /// is micro-dollars, times 1,000 is nano-dollars.
    pub fn cost(&self, usage: TokenUsage) -> Cost {
        let nanos = usage.input_tokens as f64 * self.input_usd_per_million * 1_000.0
            + usage.output_tokens as f64 * self.output_usd_per_million * 1_000.0;
        Cost::from_nano_usd(nanos.ceil() as u64)
    }
}

/// Prices of every model in use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    prices: HashMap<String, ModelPrice>,
}

impl PriceTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_price(mut self, model: impl Into<String>, price: ModelPrice) -> Self {
        self.prices.insert(model.into(), price);
        self
    }

    /// Reads the configured prices.
    pub fn from_config<'a>(
        prices: impl IntoIterator<Item = (&'a String, &'a LlmModelPrice)>,
    ) -> Result<Self, LlmSetupError> {
        let mut table = Self::new();
        for (model, price) in prices {
            let price = ModelPrice::new(
                model,
                price.input_usd_per_million,
                price.output_usd_per_million,
            )?;
            table = table.with_price(model.clone(), price);
        }
        Ok(table)
    }

    pub fn price(&self, model: &str) -> Option<&ModelPrice> {
        self.prices.get(model)
    }
}

/// Daily budget of one account, by plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanBudgets {
    pub starter: Cost,
    pub pro: Cost,
    pub enterprise: Cost,
}

impl PlanBudgets {
    pub fn from_config(budgets: &LlmPlanBudgets) -> Self {
        Self {
            starter: Cost::from_usd(budgets.starter),
            pro: Cost::from_usd(budgets.pro),
            enterprise: Cost::from_usd(budgets.enterprise),
        }
    }

    /// Gives every plan the same budget.
    pub fn uniform(daily: Cost) -> Self {
        Self {
            starter: daily,
            pro: daily,
            enterprise: daily,
        }
    }

    pub fn daily(&self, plan: Plan) -> Cost {
        match plan {
            Plan::Starter => self.starter,
            Plan::Pro => self.pro,
            Plan::Enterprise => self.enterprise,
        }
    }
}

/// Estimates the input tokens of a prompt before it is sent, as one token per
/// three bytes of UTF-8. BPE tokenizers of the GPT and Claude families give
/// about four bytes per token for English and fewer for other scripts, so
/// this errs high; the provider's count replaces it once the call returns.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_of_usage() {
        let price = ModelPrice::new("gpt-4o-mini", 0.15, 0.60).unwrap();
        // 1,000 input tokens at $0.15 per million is $0.00015, and 500
        // output tokens at $0.60 per million is $0.0003.
        let cost = price.cost(TokenUsage::new(1_000, 500));
        assert_eq!(cost.nano_usd(), 150_000 + 300_000);
        assert_eq!(cost.to_string(), "$0.000450");
    }

    #[test]
    fn dollars_round_up() {
        assert_eq!(Cost::from_usd(2.0).nano_usd(), 2_000_000_000);
        assert_eq!(Cost::from_usd(0.000_000_000_1).nano_usd(), 1);
        assert_eq!(Cost::from_usd(-1.0), Cost::ZERO);
        assert_eq!(Cost::from_usd(f64::NAN), Cost::ZERO);
    }

    #[test]
    fn rejects_negative_price() {
        assert!(ModelPrice::new("m", -0.1, 1.0).is_err());
        assert!(ModelPrice::new("m", 1.0, f64::INFINITY).is_err());
    }

    #[test]
    fn budgets_by_plan() {
        let budgets = PlanBudgets::from_config(&LlmPlanBudgets {
            starter: 0.5,
            pro: 2.0,
            enterprise: 10.0,
        });
        assert_eq!(budgets.daily(Plan::Pro), Cost::from_usd(2.0));
        assert_eq!(budgets.daily(Plan::Starter).nano_usd(), 500_000_000);
    }

    #[test]
    fn token_estimate_errs_high() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 2);
        assert_eq!(estimate_tokens("李娜"), 2);
    }
}
