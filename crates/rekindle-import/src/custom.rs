//! Custom fields of one row, kept within the bounds of
//! `rekindle_domain::CustomFields`.

use std::collections::BTreeMap;

use rekindle_domain::custom_fields::{MAX_CUSTOM_FIELD_KEYS, MAX_CUSTOM_FIELDS_BYTES};
use rekindle_domain::{CustomFields, CustomFieldsError};

use crate::{IssueReason, RowIssue};

/// Collects custom fields in column order. A field that would pass a bound is
/// left out with a warning that names it.
#[derive(Default)]
pub(crate) struct CustomFieldsBuilder {
    map: BTreeMap<String, String>,
    /// Keys and values, in bytes, as the domain bound counts them.
    bytes: usize,
    warnings: Vec<RowIssue>,
}

impl CustomFieldsBuilder {
    pub(crate) fn insert(&mut self, key: &str, header: &str, value: &str) {
        let added = key.len() + value.len();
        let reason = if self.map.len() >= MAX_CUSTOM_FIELD_KEYS {
            IssueReason::TooManyCustomFields {
                max_keys: MAX_CUSTOM_FIELD_KEYS,
            }
        } else if self.bytes + added > MAX_CUSTOM_FIELDS_BYTES {
            IssueReason::CustomFieldsTooLarge {
                max_bytes: MAX_CUSTOM_FIELDS_BYTES,
            }
        } else {
            self.map.insert(key.to_owned(), value.to_owned());
            self.bytes += added;
            return;
        };
        self.warnings.push(RowIssue::new(key, Some(header), reason));
    }

    /// Returns the custom fields and a warning for every field left out.
    pub(crate) fn finish(mut self) -> (CustomFields, Vec<RowIssue>) {
        let keys: Vec<String> = self.map.keys().cloned().collect();
        match CustomFields::new(self.map) {
            Ok(fields) => (fields, self.warnings),
            // The checks in `insert` mirror the domain's bounds and the header
            // mapping makes keys valid, so this only runs if the domain's rules
            // change. Every key is then reported instead of dropped silently.
            Err(error) => {
                let reason = reason_for(&error);
                let dropped = keys.into_iter().map(|key| RowIssue::new(key, None, reason));
                self.warnings.extend(dropped);
                (CustomFields::default(), self.warnings)
            }
        }
    }
}

fn reason_for(error: &CustomFieldsError) -> IssueReason {
    match error {
        CustomFieldsError::TooManyKeys { .. } => IssueReason::TooManyCustomFields {
            max_keys: MAX_CUSTOM_FIELD_KEYS,
        },
        CustomFieldsError::TooLarge { .. } => IssueReason::CustomFieldsTooLarge {
            max_bytes: MAX_CUSTOM_FIELDS_BYTES,
        },
        CustomFieldsError::InvalidKey(_) => IssueReason::InvalidCustomFieldKey,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_bound_warns_with_name() {
        let mut builder = CustomFieldsBuilder::default();
        for index in 0..=MAX_CUSTOM_FIELD_KEYS {
            builder.insert(&format!("k{index}"), "h", "v");
        }
        let (fields, warnings) = builder.finish();
        assert_eq!(fields.len(), MAX_CUSTOM_FIELD_KEYS);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].field, format!("k{MAX_CUSTOM_FIELD_KEYS}"));
    }

    #[test]
    fn byte_bound_warns_and_keeps_smaller_fields() {
        let mut builder = CustomFieldsBuilder::default();
        builder.insert("big", "Big", &"x".repeat(MAX_CUSTOM_FIELDS_BYTES));
        builder.insert("small", "Small", "ok");
        let (fields, warnings) = builder.finish();
        assert_eq!(fields.get("small"), Some("ok"));
        assert_eq!(fields.get("big"), None);
        assert_eq!(warnings[0].field, "big");
        assert_eq!(
            warnings[0].reason,
            IssueReason::CustomFieldsTooLarge {
                max_bytes: MAX_CUSTOM_FIELDS_BYTES
            }
        );
    }
}
