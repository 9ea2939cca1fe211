//! The JSON schema an output must match, compiled once.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::error::LlmSetupError;

/// Most validation errors listed in one rejection reason.
const MAX_REPORTED_ERRORS: usize = 3;

/// A named JSON schema with its compiled validator. The name is sent to the
/// provider (OpenAI's `json_schema.name`, Anthropic's tool name), so it may
/// contain only ASCII letters, digits, `_` and `-`, at most 64 of them, as
/// both APIs require.
#[derive(Clone)]
pub struct OutputSchema {
    name: String,
    schema: Value,
    validator: Arc<jsonschema::Validator>,
}

impl OutputSchema {
    /// Compiles `schema`. The schema must not refer to external documents,
    /// because this crate is built without jsonschema's HTTP resolver.
    pub fn new(name: impl Into<String>, schema: Value) -> Result<Self, LlmSetupError> {
        let name = name.into();
        let valid_name = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            return Err(LlmSetupError::InvalidSchema {
                name,
                reason: "the name must be 1 to 64 ASCII letters, digits, '_' or '-'".into(),
            });
        }

        let validator =
            jsonschema::validator_for(&schema).map_err(|error| LlmSetupError::InvalidSchema {
                name: name.clone(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            name,
            schema,
            validator: Arc::new(validator),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Validates `value`, returning the first few errors with their JSON
    /// pointers as one reason.
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        let errors: Vec<String> = self
            .validator
            .iter_errors(value)
            .take(MAX_REPORTED_ERRORS)
            .map(|error| {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() { "/" } else { path.as_str() };
                format!("{at}: {error}")
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "output does not match the {} schema: {}",
                self.name,
                errors.join("; ")
            ))
        }
    }
}

impl fmt::Debug for OutputSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputSchema")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn draft_schema() -> OutputSchema {
        OutputSchema::new(
            "draft",
            json!({
                "type": "object",
                "properties": {
                    "subject": {"type": "string"},
                    "body": {"type": "string", "minLength": 1}
                },
                "required": ["subject", "body"],
                "additionalProperties": false
            }),
        )
        .unwrap()
    }

    #[test]
    fn schema_accepts_matching_value() {
        let schema = draft_schema();
        assert_eq!(
            schema.validate(&json!({"subject": "Hello", "body": "Hi Anna"})),
            Ok(())
        );
    }

    #[test]
    fn schema_reports_paths() {
        let schema = draft_schema();
        let reason = schema
            .validate(&json!({"subject": 7, "body": "", "to": "x@example.com"}))
            .unwrap_err();
        assert!(reason.contains("/subject"), "{reason}");
        assert!(reason.contains("/body"), "{reason}");
        assert!(reason.contains("draft schema"), "{reason}");
    }

    #[test]
    fn schema_rejects_bad_names() {
        for name in ["", "has space", "ü", &"x".repeat(65)] {
            assert!(OutputSchema::new(name, json!({})).is_err(), "{name:?}");
        }
    }

    #[test]
    fn schema_rejects_invalid_schema() {
        let error = OutputSchema::new("bad", json!({"type": "not-a-type"})).unwrap_err();
        assert!(
            matches!(error, LlmSetupError::InvalidSchema { .. }),
            "{error}"
        );
    }
}
