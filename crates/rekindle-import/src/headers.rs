//! Header mapping: which lead field, custom field or signal each column fills.

use std::collections::{BTreeMap, HashSet};

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::aliases::{FIELD_PREFIXES, SIGNAL_WORDS, find_alias};
use crate::{ImportError, LeadField};

/// Maximum length of a custom-field key in characters, as
/// `rekindle_domain::CustomFields` allows.
const MAX_CUSTOM_KEY_CHARS: usize = 100;

/// Signal kind for a column whose name marks a signal but not which one.
const GENERIC_SIGNAL_KIND: &str = "trigger";

/// Destination of a column's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnTarget {
    Field(LeadField),
    /// A custom field under `ColumnMapping::custom_key`.
    Custom,
    /// One `SignalInput` of this kind per non-empty value.
    Signal {
        kind: String,
    },
    Ignore,
}

/// Reason a column has its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingOrigin {
    /// The mapping override named the column.
    Override,
    /// The header is a known column name of a CRM or spreadsheet.
    KnownName,
    /// The header contains a word that marks signals ("Funding", "Intent").
    SignalName,
    /// The header is not known, so the column is kept as a custom field.
    Unknown,
}

/// The resolved mapping of one column, for the import report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    /// 0-based position of the column.
    pub index: usize,
    /// The header cell as written, trimmed.
    pub header: String,
    pub target: ColumnTarget,
    pub origin: MappingOrigin,
    /// Rank among columns that fill the same field: the non-empty value with
    /// the lowest priority wins, and the others are kept as custom fields.
    pub priority: u8,
    /// Key under which the column's value is kept when it becomes a custom
    /// field: the header, made unique and at most 100 characters.
    pub custom_key: String,
}

/// The mapping of every column, with the columns of each field in the order
/// they are tried.
#[derive(Debug, Clone)]
pub(crate) struct ColumnPlan {
    pub(crate) columns: Vec<ColumnMapping>,
    by_field: Vec<Vec<usize>>,
}

/// Normalises a column name for matching: lower case, accents folded (`é` to
/// `e`, `ß` to `ss`), and everything but letters and digits removed.
pub fn normalize_header(header: &str) -> String {
    let mut normalized = String::with_capacity(header.len());
    for c in header.nfd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            match lower {
                'ß' => normalized.push_str("ss"),
                'æ' => normalized.push_str("ae"),
                'œ' => normalized.push_str("oe"),
                'ø' => normalized.push('o'),
                'ł' => normalized.push('l'),
                'đ' => normalized.push('d'),
                c if c.is_alphanumeric() => normalized.push(c),
                _ => {}
            }
        }
    }
    normalized
}

impl ColumnPlan {
    /// Maps every header cell, applying the override first.
    pub(crate) fn resolve(
        headers: &[String],
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, ImportError> {
        let override_targets = resolve_overrides(headers, overrides)?;
        let custom_keys = unique_custom_keys(headers);

        let mut columns: Vec<ColumnMapping> = headers
            .iter()
            .zip(override_targets)
            .zip(custom_keys)
            .enumerate()
            .map(|(index, ((header, forced), custom_key))| {
                let (target, origin, priority) = match forced {
                    Some(target) => (target, MappingOrigin::Override, 0),
                    None => map_by_name(header),
                };
                ColumnMapping {
                    index,
                    header: header.clone(),
                    target,
                    origin,
                    priority,
                    custom_key,
                }
            })
            .collect();

        apply_name_context(&mut columns);
        let by_field = group_by_field(&columns);
        Ok(Self { columns, by_field })
    }

    /// Columns that fill `field`, best first.
    pub(crate) fn columns_for(&self, field: LeadField) -> &[usize] {
        &self.by_field[field.index()]
    }

    /// Returns whether some column fills the email or the phone number.
    pub(crate) fn has_contact_column(&self) -> bool {
        !self.columns_for(LeadField::Email).is_empty()
            || !self.columns_for(LeadField::Phone).is_empty()
    }
}

/// Maps a header by its name alone: a known name, a known name after a CRM
/// prefix, a signal word, or else a custom field.
fn map_by_name(header: &str) -> (ColumnTarget, MappingOrigin, u8) {
    let normalized = normalize_header(header);
    if normalized.is_empty() {
        return (ColumnTarget::Custom, MappingOrigin::Unknown, 0);
    }

    let unprefixed = FIELD_PREFIXES
        .iter()
        .filter_map(|prefix| normalized.strip_prefix(prefix))
        .find_map(find_alias);
    if let Some(alias) = find_alias(&normalized).or(unprefixed) {
        return (
            ColumnTarget::Field(alias.field),
            MappingOrigin::KnownName,
            alias.priority,
        );
    }

    if let Some(kind) = signal_kind(&normalized) {
        let target = ColumnTarget::Signal {
            kind: kind.to_owned(),
        };
        return (target, MappingOrigin::SignalName, 0);
    }
    (ColumnTarget::Custom, MappingOrigin::Unknown, 0)
}

fn signal_kind(normalized: &str) -> Option<&'static str> {
    SIGNAL_WORDS
        .iter()
        .find(|(word, _)| normalized.contains(word))
        .map(|(_, kind)| *kind)
}

/// In German and French sheets, "Name" or "Nom" beside a first-name column is
/// the surname ("Vorname, Name"). A `name` column is therefore the last name
/// when the file has a first-name column and no last-name column.
fn apply_name_context(columns: &mut [ColumnMapping]) {
    let has = |columns: &[ColumnMapping], field| {
        columns
            .iter()
            .any(|column| column.target == ColumnTarget::Field(field))
    };
    if !has(columns, LeadField::FirstName) || has(columns, LeadField::LastName) {
        return;
    }

    for column in columns.iter_mut() {
        let is_plain_name =
            column.origin == MappingOrigin::KnownName && normalize_header(&column.header) == "name";
        if is_plain_name {
            column.target = ColumnTarget::Field(LeadField::LastName);
        }
    }
}

fn group_by_field(columns: &[ColumnMapping]) -> Vec<Vec<usize>> {
    let mut by_field = vec![Vec::new(); LeadField::ALL.len()];
    for column in columns {
        if let ColumnTarget::Field(field) = column.target {
            by_field[field.index()].push(column.index);
        }
    }
    for indexes in &mut by_field {
        indexes.sort_by_key(|&index| (columns[index].priority, index));
    }
    by_field
}

/// Returns, per column, the target that the override forces, if any.
fn resolve_overrides(
    headers: &[String],
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<Option<ColumnTarget>>, ImportError> {
    let mut forced = vec![None; headers.len()];
    for (column, target) in overrides {
        let indexes = matching_columns(headers, column);
        if indexes.is_empty() {
            return Err(ImportError::UnknownOverrideColumn {
                column: column.clone(),
                available: header_list(headers),
            });
        }
        for index in indexes {
            forced[index] = Some(parse_target(column, target, &headers[index])?);
        }
    }
    Ok(forced)
}

/// Columns whose header equals `name`, or failing that, equals it after
/// normalisation.
fn matching_columns(headers: &[String], name: &str) -> Vec<usize> {
    let exact: Vec<usize> = (0..headers.len())
        .filter(|&index| headers[index] == name.trim())
        .collect();
    if !exact.is_empty() {
        return exact;
    }

    let wanted = normalize_header(name);
    (0..headers.len())
        .filter(|&index| !wanted.is_empty() && normalize_header(&headers[index]) == wanted)
        .collect()
}

fn parse_target(column: &str, target: &str, header: &str) -> Result<ColumnTarget, ImportError> {
    let trimmed = target.trim();
    let lower = trimmed.to_lowercase();
    match lower.as_str() {
        "ignore" => return Ok(ColumnTarget::Ignore),
        "custom" => return Ok(ColumnTarget::Custom),
        "signal" => {
            let kind = signal_kind(&normalize_header(header)).unwrap_or(GENERIC_SIGNAL_KIND);
            return Ok(ColumnTarget::Signal {
                kind: kind.to_owned(),
            });
        }
        _ => {}
    }

    if let Some(kind) = lower.strip_prefix("signal:").map(str::trim)
        && !kind.is_empty()
    {
        return Ok(ColumnTarget::Signal {
            kind: kind.to_owned(),
        });
    }
    LeadField::from_name(trimmed)
        .map(ColumnTarget::Field)
        .ok_or_else(|| ImportError::UnknownOverrideTarget {
            column: column.to_owned(),
            target: target.to_owned(),
            fields: LeadField::ALL.map(LeadField::as_str).join(", "),
        })
}

/// Custom-field keys for every column: the header, or `column N` when it is
/// blank, cut to 100 characters and numbered (`Notes (2)`) when repeated.
fn unique_custom_keys(headers: &[String]) -> Vec<String> {
    let mut used = HashSet::new();
    let mut keys = Vec::with_capacity(headers.len());

    for (index, header) in headers.iter().enumerate() {
        let base = if header.trim().is_empty() {
            format!("column {}", index + 1)
        } else {
            header.clone()
        };

        let mut key = truncate_chars(&base, MAX_CUSTOM_KEY_CHARS);
        let mut copy = 2;
        while used.contains(&key) {
            let suffix = format!(" ({copy})");
            let room = MAX_CUSTOM_KEY_CHARS - suffix.chars().count();
            key = format!("{}{suffix}", truncate_chars(&base, room));
            copy += 1;
        }
        used.insert(key.clone());
        keys.push(key);
    }
    keys
}

pub(crate) fn truncate_chars(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// Lists the headers, quoted, for an error message.
pub(crate) fn header_list(headers: &[String]) -> String {
    headers
        .iter()
        .map(|header| format!("{header:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(headers: &[&str]) -> ColumnPlan {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        ColumnPlan::resolve(&headers, &BTreeMap::new()).unwrap()
    }

    fn target(plan: &ColumnPlan, index: usize) -> &ColumnTarget {
        &plan.columns[index].target
    }

    #[test]
    fn normalize_folds_case_accents_punctuation() {
        assert_eq!(normalize_header(" E-Mail "), "email");
        assert_eq!(normalize_header("Correo electrónico"), "correoelectronico");
        assert_eq!(normalize_header("Apellido(s)"), "apellidos");
        assert_eq!(normalize_header("Person - Name"), "personname");
        assert_eq!(normalize_header("Straße"), "strasse");
        assert_eq!(normalize_header("Société"), "societe");
    }

    #[test]
    fn pipedrive_prefixes_are_stripped() {
        let plan = plan(&[
            "Person - Email - Work",
            "Person - Phone",
            "Organization - Name",
        ]);
        assert_eq!(target(&plan, 0), &ColumnTarget::Field(LeadField::Email));
        assert_eq!(target(&plan, 1), &ColumnTarget::Field(LeadField::Phone));
        assert_eq!(target(&plan, 2), &ColumnTarget::Field(LeadField::Company));
    }

    #[test]
    fn german_name_beside_vorname_is_surname() {
        let plan = plan(&["Vorname", "Name", "E-Mail"]);
        assert_eq!(target(&plan, 1), &ColumnTarget::Field(LeadField::LastName));

        let english = super::tests::plan(&["Name", "Email"]);
        assert_eq!(
            target(&english, 0),
            &ColumnTarget::Field(LeadField::FullName)
        );
    }

    #[test]
    fn signal_words_make_signal_columns() {
        let plan = plan(&["Email", "Recent News", "Latest Funding", "Buying Intent"]);
        let kinds: Vec<_> = plan.columns[1..]
            .iter()
            .map(|column| column.target.clone())
            .collect();
        assert_eq!(
            kinds,
            vec![
                ColumnTarget::Signal {
                    kind: "news".into()
                },
                ColumnTarget::Signal {
                    kind: "funding".into()
                },
                ColumnTarget::Signal {
                    kind: "intent".into()
                },
            ]
        );
    }

    #[test]
    fn priority_orders_field_columns() {
        let plan = plan(&["Lifecycle Stage", "Lead Status", "Mobile", "Phone"]);
        assert_eq!(plan.columns_for(LeadField::CrmStatus), &[1, 0]);
        assert_eq!(plan.columns_for(LeadField::Phone), &[3, 2]);
    }

    #[test]
    fn custom_keys_are_unique_and_bounded() {
        let long = "x".repeat(150);
        let headers = vec!["Notes".to_owned(), "".to_owned(), long.clone(), long];
        let keys = unique_custom_keys(&headers);
        assert_eq!(keys[0], "Notes");
        assert_eq!(keys[1], "column 2");
        assert_eq!(keys[2].chars().count(), 100);
        assert_eq!(keys[3].chars().count(), 100);
        assert!(keys[3].ends_with(" (2)"));
    }

    #[test]
    fn override_target_spellings() {
        assert_eq!(
            parse_target("c", "ignore", "c").unwrap(),
            ColumnTarget::Ignore
        );
        assert_eq!(
            parse_target("c", "First Name", "c").unwrap(),
            ColumnTarget::Field(LeadField::FirstName)
        );
        assert_eq!(
            parse_target("c", "signal:expansion", "c").unwrap(),
            ColumnTarget::Signal {
                kind: "expansion".into()
            }
        );
        assert!(matches!(
            parse_target("c", "salary", "c"),
            Err(ImportError::UnknownOverrideTarget { .. })
        ));
    }
}
