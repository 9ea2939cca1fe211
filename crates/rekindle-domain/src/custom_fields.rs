//! Custom fields: the columns of an import that are not standard lead fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Maximum number of custom-field keys on one lead.
pub const MAX_CUSTOM_FIELD_KEYS: usize = 50;
/// Maximum total size of one lead's custom fields, keys and values, in bytes.
pub const MAX_CUSTOM_FIELDS_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomFieldsError {
    #[error("too many custom fields: {count} keys, at most {MAX_CUSTOM_FIELD_KEYS} allowed")]
    TooManyKeys { count: usize },
    #[error("custom fields too large: {bytes} bytes, at most {MAX_CUSTOM_FIELDS_BYTES} allowed")]
    TooLarge { bytes: usize },
    #[error("invalid custom field key {0:?}: keys must be 1 to 100 characters")]
    InvalidKey(String),
}

/// A flat map of string keys to string values, within the bounds above.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct CustomFields(BTreeMap<String, String>);

impl CustomFields {
    pub fn new(map: BTreeMap<String, String>) -> Result<Self, CustomFieldsError> {
        if map.len() > MAX_CUSTOM_FIELD_KEYS {
            return Err(CustomFieldsError::TooManyKeys { count: map.len() });
        }
        if let Some(key) = map
            .keys()
            .find(|k| k.trim().is_empty() || k.chars().count() > 100)
        {
            return Err(CustomFieldsError::InvalidKey(key.clone()));
        }
        let bytes = map.iter().map(|(k, v)| k.len() + v.len()).sum();
        if bytes > MAX_CUSTOM_FIELDS_BYTES {
            return Err(CustomFieldsError::TooLarge { bytes });
        }
        Ok(Self(map))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Merges `other` into `self`, keeping existing values and adding new keys
    /// while the bounds allow. Returns the keys that did not fit.
    pub fn merge_missing(&mut self, other: &CustomFields) -> Vec<String> {
        let mut skipped = Vec::new();
        for (key, value) in other.iter() {
            if self.0.contains_key(key) {
                continue;
            }
            let mut candidate = self.0.clone();
            candidate.insert(key.to_owned(), value.to_owned());
            match CustomFields::new(candidate) {
                Ok(merged) => *self = merged,
                Err(_) => skipped.push(key.to_owned()),
            }
        }
        skipped
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }
}

impl TryFrom<BTreeMap<String, String>> for CustomFields {
    type Error = CustomFieldsError;

    fn try_from(value: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<CustomFields> for BTreeMap<String, String> {
    fn from(value: CustomFields) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced() {
        let many: BTreeMap<_, _> = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(
            CustomFields::new(many),
            Err(CustomFieldsError::TooManyKeys { count: 51 })
        );

        let big = BTreeMap::from([("k".to_owned(), "x".repeat(MAX_CUSTOM_FIELDS_BYTES))]);
        assert!(matches!(
            CustomFields::new(big),
            Err(CustomFieldsError::TooLarge { .. })
        ));

        let ok = BTreeMap::from([("Umsatzpotenzial".to_owned(), "8.000,50".to_owned())]);
        assert_eq!(
            CustomFields::new(ok).unwrap().get("Umsatzpotenzial"),
            Some("8.000,50")
        );
    }
}
