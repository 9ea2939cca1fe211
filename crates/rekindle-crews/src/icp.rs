//! The ideal customer profile (ICP): what an account's won deals have in
//! common (industry, company size, title level, region), and how far another
//! lead's ranking moves for matching it. Pure functions; the caller reads the
//! won leads and stores the profile and the adjustments.

use std::collections::HashMap;

use rekindle_domain::lead::LeadFields;
use serde::{Deserialize, Serialize};

use crate::seniority::{Seniority, seniority_of};
use crate::text::normalise_for_matching;

/// Won deals an account needs before a profile is derived: fewer are too few
/// to tell a pattern from chance.
pub const MIN_WON_DEALS: usize = 25;
/// Won deals with a known value a dimension needs to take part.
const MIN_KNOWN_VALUES: usize = 5;
/// Share of the won deals with a known value that a value needs to be part
/// of the profile.
const MIN_SHARE: f64 = 0.2;
/// Values kept per dimension, most frequent first.
const MAX_VALUES: usize = 3;
/// Points added for each dimension a lead matches.
pub const MATCH_POINTS: i32 = 5;
/// Points taken for each dimension where the lead's known value differs.
pub const MISS_POINTS: i32 = 3;

/// Custom-field keys that hold a company's head count, compared after
/// removing everything but letters and digits and lowering the case, so
/// "Company Size", "# Employees" and "employee_count" all match.
const SIZE_KEYS: &[&str] = &[
    "companysize",
    "employees",
    "employeecount",
    "numberofemployees",
    "numemployees",
    "headcount",
    "staff",
    "size",
];

/// Head-count bands, by their upper bound.
const SIZE_BANDS: &[(u64, &str)] = &[
    (10, "1-10"),
    (50, "11-50"),
    (200, "51-200"),
    (1_000, "201-1000"),
    (u64::MAX, "1001+"),
];

/// Spellings of a few common countries that mean the same region.
const REGION_ALIASES: &[(&str, &str)] = &[
    ("uk", "united kingdom"),
    ("gb", "united kingdom"),
    ("great britain", "united kingdom"),
    ("england", "united kingdom"),
    ("us", "united states"),
    ("usa", "united states"),
    ("united states of america", "united states"),
    ("de", "germany"),
    ("deutschland", "germany"),
    ("fr", "france"),
];

/// One value of a profile dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileValue {
    /// Normalised: lower case, single spaces.
    pub value: String,
    /// Won deals with this value.
    pub deals: usize,
    /// Share of the won deals with a known value in this dimension, 0 to 1.
    pub share: f64,
}

/// The values of each dimension that won deals share. An empty dimension
/// had too few known values or no value common enough, and is not compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdealCustomerProfile {
    pub won_deals: usize,
    pub industries: Vec<ProfileValue>,
    /// Head-count bands such as `51-200`, from custom fields.
    pub company_sizes: Vec<ProfileValue>,
    /// Title levels: `executive`, `head`, `manager` or `other`.
    pub title_levels: Vec<ProfileValue>,
    /// Countries.
    pub regions: Vec<ProfileValue>,
}

/// How far a lead's ranking moves, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcpMatch {
    /// From `-4 * MISS_POINTS` to `4 * MATCH_POINTS`.
    pub adjustment: i32,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Industry,
    CompanySize,
    TitleLevel,
    Region,
}

impl Dimension {
    const ALL: [Dimension; 4] = [
        Self::Industry,
        Self::CompanySize,
        Self::TitleLevel,
        Self::Region,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Industry => "industry",
            Self::CompanySize => "company size",
            Self::TitleLevel => "title level",
            Self::Region => "region",
        }
    }

    fn value_of(self, fields: &LeadFields) -> Option<String> {
        match self {
            Self::Industry => fields.industry.as_deref().and_then(normalised),
            Self::CompanySize => company_size_band(fields).map(str::to_owned),
            Self::TitleLevel => fields
                .job_title
                .as_deref()
                .and_then(normalised)
                .map(|title| title_level(seniority_of(&title)).to_owned()),
            Self::Region => fields.country.as_deref().and_then(region),
        }
    }
}

impl IdealCustomerProfile {
    fn values(&self, dimension: Dimension) -> &[ProfileValue] {
        match dimension {
            Dimension::Industry => &self.industries,
            Dimension::CompanySize => &self.company_sizes,
            Dimension::TitleLevel => &self.title_levels,
            Dimension::Region => &self.regions,
        }
    }

    fn values_mut(&mut self, dimension: Dimension) -> &mut Vec<ProfileValue> {
        match dimension {
            Dimension::Industry => &mut self.industries,
            Dimension::CompanySize => &mut self.company_sizes,
            Dimension::TitleLevel => &mut self.title_levels,
            Dimension::Region => &mut self.regions,
        }
    }

    /// Returns whether any dimension has values to compare with.
    pub fn is_empty(&self) -> bool {
        Dimension::ALL
            .iter()
            .all(|dimension| self.values(*dimension).is_empty())
    }
}

/// Derives the profile from the fields of won deals, or returns `None` when
/// there are fewer than [`MIN_WON_DEALS`].
pub fn derive_profile(won: &[LeadFields]) -> Option<IdealCustomerProfile> {
    if won.len() < MIN_WON_DEALS {
        return None;
    }
    let mut profile = IdealCustomerProfile {
        won_deals: won.len(),
        industries: Vec::new(),
        company_sizes: Vec::new(),
        title_levels: Vec::new(),
        regions: Vec::new(),
    };
    for dimension in Dimension::ALL {
        *profile.values_mut(dimension) = common_values(won, dimension);
    }
    Some(profile)
}

/// Returns the values shared by at least [`MIN_SHARE`] of the won deals with
/// a known value, most frequent first (ties by value).
fn common_values(won: &[LeadFields], dimension: Dimension) -> Vec<ProfileValue> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for fields in won {
        if let Some(value) = dimension.value_of(fields) {
            *counts.entry(value).or_default() += 1;
        }
    }
    let known: usize = counts.values().sum();
    if known < MIN_KNOWN_VALUES {
        return Vec::new();
    }

    let mut values: Vec<ProfileValue> = counts
        .into_iter()
        .map(|(value, deals)| ProfileValue {
            value,
            deals,
            share: deals as f64 / known as f64,
        })
        .filter(|value| value.share >= MIN_SHARE)
        .collect();
    values.sort_by(|a, b| b.deals.cmp(&a.deals).then_with(|| a.value.cmp(&b.value)));
    values.truncate(MAX_VALUES);
    values
}

/// Compares a lead with the profile. Each dimension whose value is in the
/// profile adds [`MATCH_POINTS`], and each whose known value is not takes
/// [`MISS_POINTS`]. Unknown values count nothing.
pub fn match_lead(profile: &IdealCustomerProfile, fields: &LeadFields) -> IcpMatch {
    let mut matched = Vec::new();
    let mut differs = Vec::new();
    for dimension in Dimension::ALL {
        let values = profile.values(dimension);
        if values.is_empty() {
            continue;
        }
        let Some(value) = dimension.value_of(fields) else {
            continue;
        };
        let text = format!("{} {value}", dimension.label());
        if values.iter().any(|known| known.value == value) {
            matched.push(text);
        } else {
            differs.push(text);
        }
    }

    let adjustment = matched.len() as i32 * MATCH_POINTS - differs.len() as i32 * MISS_POINTS;
    IcpMatch {
        adjustment,
        reason: match_reason(profile.won_deals, &matched, &differs),
    }
}

fn match_reason(won_deals: usize, matched: &[String], differs: &[String]) -> String {
    let source = format!("ideal customer profile of {won_deals} won deals");
    match (matched.is_empty(), differs.is_empty()) {
        (true, true) => format!("nothing to compare with the {source}"),
        (false, true) => format!("matches the {source} on {}", matched.join(", ")),
        (true, false) => format!("differs from the {source} on {}", differs.join(", ")),
        (false, false) => format!(
            "matches the {source} on {}, differs on {}",
            matched.join(", "),
            differs.join(", ")
        ),
    }
}

/// Lower case with single spaces; `None` for blank text.
fn normalised(text: &str) -> Option<String> {
    let words = normalise_for_matching(text);
    let words = words.trim();
    (!words.is_empty()).then(|| words.to_owned())
}

fn region(country: &str) -> Option<String> {
    let country = normalised(country)?;
    let alias = REGION_ALIASES
        .iter()
        .find(|(spelling, _)| *spelling == country)
        .map(|(_, region)| (*region).to_owned());
    Some(alias.unwrap_or(country))
}

fn title_level(seniority: Seniority) -> &'static str {
    match seniority {
        Seniority::Executive => "executive",
        Seniority::Head => "head",
        Seniority::Manager => "manager",
        Seniority::Other => "other",
    }
}

/// Reads a head count from the first custom field named like one, such as
/// "51-200", "1,000+" or "35", and returns its band. A range counts by its
/// lower bound.
fn company_size_band(fields: &LeadFields) -> Option<&'static str> {
    let value = fields.custom_fields.iter().find_map(|(key, value)| {
        let key: String = key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        SIZE_KEYS.contains(&key.as_str()).then_some(value)
    })?;
    let digits: String = value
        .trim()
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .filter(char::is_ascii_digit)
        .collect();
    let count: u64 = digits.parse().ok()?;
    if count == 0 {
        return None;
    }
    SIZE_BANDS
        .iter()
        .find(|(upper, _)| count <= *upper)
        .map(|(_, band)| *band)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rekindle_domain::CustomFields;

    use super::*;

    fn fields(industry: &str, size: &str, title: &str, country: &str) -> LeadFields {
        let mut custom = BTreeMap::new();
        if !size.is_empty() {
            custom.insert("Employees".to_owned(), size.to_owned());
        }
        LeadFields {
            industry: Some(industry.to_owned()),
            job_title: Some(title.to_owned()),
            country: Some(country.to_owned()),
            custom_fields: CustomFields::new(custom).unwrap(),
            ..LeadFields::default()
        }
    }

    fn won_deals() -> Vec<LeadFields> {
        let mut won: Vec<LeadFields> = (0..20)
            .map(|_| fields("Software", "51-200", "Head of Sales", "UK"))
            .collect();
        won.extend((0..5).map(|_| fields("Retail", "1,500", "Store Manager", "Germany")));
        won
    }

    #[test]
    fn needs_enough_won_deals() {
        assert!(derive_profile(&won_deals()[..24]).is_none());
        assert!(derive_profile(&won_deals()).is_some());
    }

    #[test]
    fn profile_keeps_common_values() {
        let profile = derive_profile(&won_deals()).unwrap();
        let industries: Vec<&str> = profile
            .industries
            .iter()
            .map(|v| v.value.as_str())
            .collect();
        assert_eq!(industries, ["software", "retail"]);
        assert_eq!(profile.industries[0].deals, 20);
        assert!((profile.industries[0].share - 0.8).abs() < 1e-9);
        assert_eq!(profile.company_sizes[0].value, "51-200");
        assert_eq!(profile.company_sizes[1].value, "1001+");
        assert_eq!(profile.title_levels[0].value, "head");
        assert_eq!(profile.regions[0].value, "united kingdom");
    }

    #[test]
    fn rare_values_are_left_out() {
        let mut won: Vec<LeadFields> = (0..24)
            .map(|_| fields("Software", "", "CEO", "France"))
            .collect();
        won.push(fields("Mining", "", "CEO", "France"));
        let profile = derive_profile(&won).unwrap();
        assert_eq!(profile.industries.len(), 1);
        assert!(profile.company_sizes.is_empty(), "no size was known");
    }

    #[test]
    fn matching_lead_moves_up_and_says_why() {
        let profile = derive_profile(&won_deals()).unwrap();
        let lead = fields("software", "120", "Head of Marketing", "United Kingdom");
        let matched = match_lead(&profile, &lead);
        assert_eq!(matched.adjustment, 4 * MATCH_POINTS);
        assert_eq!(
            matched.reason,
            "matches the ideal customer profile of 25 won deals on industry software, \
             company size 51-200, title level head, region united kingdom"
        );
    }

    #[test]
    fn differing_lead_moves_down() {
        let profile = derive_profile(&won_deals()).unwrap();
        let lead = fields("Mining", "3", "Engineer", "Brazil");
        let matched = match_lead(&profile, &lead);
        assert_eq!(matched.adjustment, -4 * MISS_POINTS);
        assert!(
            matched.reason.starts_with("differs from"),
            "{}",
            matched.reason
        );
    }

    #[test]
    fn unknown_values_count_nothing() {
        let profile = derive_profile(&won_deals()).unwrap();
        let matched = match_lead(&profile, &LeadFields::default());
        assert_eq!(matched.adjustment, 0);
        assert!(
            matched.reason.starts_with("nothing to compare"),
            "{}",
            matched.reason
        );
    }

    #[test]
    fn size_reads_common_spellings() {
        for (key, value, band) in [
            ("Company Size", "51-200", "51-200"),
            ("# Employees", "1,000+", "201-1000"),
            ("employee_count", "7", "1-10"),
            ("Headcount", "about 40", "11-50"),
        ] {
            let mut custom = BTreeMap::new();
            custom.insert(key.to_owned(), value.to_owned());
            let lead = LeadFields {
                custom_fields: CustomFields::new(custom).unwrap(),
                ..LeadFields::default()
            };
            assert_eq!(company_size_band(&lead), Some(band), "{key}: {value}");
        }
    }
}
