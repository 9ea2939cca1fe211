//! Lead fields made safe to put into a message. Lead data comes from third-party
//! CSV files, so every field is cleaned, capped and stripped of links first.

use rekindle_domain::lead::LeadFields;

use crate::text::{PLACEHOLDER_CHARS, cap_at_word, clean_text, remove_links};

pub const MAX_FIRST_NAME_CHARS: usize = 40;
pub const MAX_COMPANY_CHARS: usize = 60;
pub const MAX_JOB_TITLE_CHARS: usize = 60;
pub const MAX_CRM_STATUS_CHARS: usize = 40;

/// Values that spreadsheets use for "no value".
const EMPTY_MARKERS: &[&str] = &[
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "undefined",
    "unknown",
    "-",
    "--",
    "?",
    "tbd",
];

/// Cleaned lead fields that a message may contain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SafeLead {
    pub first_name: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub crm_status: Option<String>,
}

impl SafeLead {
    pub fn from_fields(fields: &LeadFields) -> Self {
        Self {
            first_name: fields.greeting_name().and_then(safe_first_name),
            company: fields
                .company
                .as_deref()
                .and_then(|text| safe_phrase(text, MAX_COMPANY_CHARS)),
            job_title: fields
                .job_title
                .as_deref()
                .and_then(|text| safe_phrase(text, MAX_JOB_TITLE_CHARS)),
            crm_status: fields
                .crm_status
                .as_deref()
                .and_then(|text| safe_phrase(text, MAX_CRM_STATUS_CHARS)),
        }
    }
}

/// Returns a first name fit for a greeting, or `None` when the field contains
/// something else: a placeholder, an address, digits or an empty marker. Names
/// written in capitals are title-cased, and names in scripts without case stay
/// as they are.
fn safe_first_name(raw: &str) -> Option<String> {
    let suspicious = raw.contains(PLACEHOLDER_CHARS)
        || raw.contains(['@', '_', '%', '$', '/', '\\', '|', '='])
        || raw.chars().any(|c| c.is_ascii_digit());
    if suspicious {
        return None;
    }

    let cleaned = clean_text(raw, MAX_FIRST_NAME_CHARS);
    let words: Vec<&str> = cleaned.split(' ').take(3).collect();
    let name = words.join(" ");
    if is_empty_marker(&name) || !name.chars().any(char::is_alphabetic) {
        return None;
    }
    Some(fix_capitals(&name))
}

/// Cleans a company, title or status: no links, capped at a word boundary.
pub(crate) fn safe_phrase(raw: &str, max_chars: usize) -> Option<String> {
    if looks_like_template(raw) {
        return None;
    }
    // Underscores read as template field names ("company_name"), which the
    // quality gate rejects, so they become spaces.
    let spaced = raw.replace('_', " ");
    let cleaned = clean_text(&remove_links(&clean_text(&spaced, 500)), 500);
    let phrase = cap_at_word(
        cleaned.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '-')),
        max_chars,
    );
    let phrase = phrase.trim().to_owned();
    if phrase.is_empty() || is_empty_marker(&phrase) || !phrase.chars().any(char::is_alphanumeric) {
        return None;
    }
    Some(phrase)
}

/// Detects template markup in place of a value: `{{company}}`, `[Company]`, `%COMPANY%`.
fn looks_like_template(raw: &str) -> bool {
    raw.contains("{{") || raw.contains("}}") || raw.contains('[') || raw.matches('%').count() >= 2
}

fn is_empty_marker(text: &str) -> bool {
    EMPTY_MARKERS.contains(&text.to_lowercase().as_str())
}

/// Title-cases a name that is written entirely in capitals ("ANNA-LENA" becomes
/// "Anna-Lena"); any other name keeps its spelling ("McKenzie", "李娜").
fn fix_capitals(name: &str) -> String {
    let has_lower = name.chars().any(char::is_lowercase);
    let has_upper = name.chars().filter(|c| c.is_uppercase()).count() > 1;
    if has_lower || !has_upper {
        return name.to_owned();
    }

    let mut result = String::with_capacity(name.len());
    let mut start_of_word = true;
    for c in name.chars() {
        if start_of_word {
            result.push(c);
        } else {
            result.extend(c.to_lowercase());
        }
        start_of_word = !c.is_alphabetic();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(first_name: &str, company: &str) -> LeadFields {
        LeadFields {
            first_name: Some(first_name.into()),
            company: Some(company.into()),
            ..LeadFields::default()
        }
    }

    #[test]
    fn first_name_rejects_placeholders() {
        for raw in [
            "{{first_name}}",
            "[First Name]",
            "%FNAME%",
            "anna@example.com",
            "N/A",
            "user123",
            "  ",
        ] {
            assert_eq!(
                SafeLead::from_fields(&fields(raw, "Acme")).first_name,
                None,
                "{raw}"
            );
        }
    }

    #[test]
    fn first_name_keeps_scripts() {
        for raw in ["李娜", "Алексей", "محمد", "Zoë", "Ngọc Anh", "McKenzie"] {
            assert_eq!(
                SafeLead::from_fields(&fields(raw, "Acme"))
                    .first_name
                    .as_deref(),
                Some(raw)
            );
        }
    }

    #[test]
    fn first_name_fixes_capitals() {
        let lead = SafeLead::from_fields(&fields("ANNA-LENA", "Acme"));
        assert_eq!(lead.first_name.as_deref(), Some("Anna-Lena"));
    }

    #[test]
    fn first_name_strips_controls() {
        let lead = SafeLead::from_fields(&fields("Jo\u{0000}hn\u{202E}", "Acme"));
        assert_eq!(lead.first_name.as_deref(), Some("John"));
    }

    #[test]
    fn company_rejects_templates() {
        for raw in ["{{company}}", "[Company]", "%COMPANY%", "N/A"] {
            assert_eq!(
                SafeLead::from_fields(&fields("Anna", raw)).company,
                None,
                "{raw}"
            );
        }
        let lead = SafeLead::from_fields(&fields("Anna", "ACME_Corp {UK}"));
        assert_eq!(lead.company.as_deref(), Some("ACME Corp UK"));
    }

    #[test]
    fn company_loses_links_and_length() {
        let lead = SafeLead::from_fields(&fields("Anna", "Acme https://phish.example/login GmbH"));
        assert_eq!(lead.company.as_deref(), Some("Acme GmbH"));
        let long = "Word ".repeat(40);
        let capped = SafeLead::from_fields(&fields("Anna", &long))
            .company
            .unwrap();
        assert!(capped.chars().count() <= MAX_COMPANY_CHARS);
    }
}
