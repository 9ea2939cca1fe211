//! Acceptance of a completion: not cut off, parsed strictly, valid against
//! the schema, and passing the caller's checks.

use serde_json::Value;

use crate::checks::OutputCheck;
use crate::request::{Completion, LlmOutput};
use crate::schema::OutputSchema;

/// Returns the output, or the reason it is rejected as one sentence the
/// model can act on in a retry.
pub(crate) fn accept(
    completion: &Completion,
    schema: Option<&OutputSchema>,
    checks: &dyn OutputCheck,
) -> Result<LlmOutput, String> {
    if completion.truncated {
        return Err(
            "the reply was cut off at the maximum number of tokens: write a shorter reply".into(),
        );
    }

    let output = match (schema, &completion.output) {
        (None, output) => output.clone(),
        (Some(schema), LlmOutput::Json(value)) => {
            schema.validate(value)?;
            LlmOutput::Json(value.clone())
        }
        (Some(schema), LlmOutput::Text(text)) => {
            let value = parse_json_reply(text)?;
            schema.validate(&value)?;
            LlmOutput::Json(value)
        }
    };

    let problems = checks.check(&output);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(output)
}

/// Parses a reply that must be exactly one JSON object. The only tolerance
/// is a Markdown code fence around it, which models add even when the prompt
/// forbids it. Any other text before or after the object rejects the reply.
pub fn parse_json_reply(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let unfenced = strip_code_fence(trimmed).unwrap_or(trimmed);

    let value: Value = serde_json::from_str(unfenced).map_err(|error| {
        format!("the reply is not valid JSON ({error}): reply with one JSON object only")
    })?;
    if !value.is_object() {
        return Err("the reply is JSON but not an object: reply with one JSON object".into());
    }
    Ok(value)
}

/// Returns the inside of a text wrapped in one code fence (```json ... ```).
fn strip_code_fence(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("```")?.strip_suffix("```")?;
    let (language, rest) = inner.split_once('\n')?;
    let language = language.trim();
    if !(language.is_empty() || language.eq_ignore_ascii_case("json")) {
        return None;
    }
    Some(rest.trim())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::checks::{FieldRules, NoChecks};
    use crate::request::TokenUsage;

    fn completion(text: &str) -> Completion {
        Completion {
            output: LlmOutput::Text(text.into()),
            usage: TokenUsage::default(),
            truncated: false,
        }
    }

    fn schema() -> OutputSchema {
        OutputSchema::new(
            "draft",
            json!({
                "type": "object",
                "properties": {"body": {"type": "string"}},
                "required": ["body"],
                "additionalProperties": false
            }),
        )
        .unwrap()
    }

    #[test]
    fn parses_plain_and_fenced_json() {
        assert_eq!(parse_json_reply(" {\"a\": 1} \n").unwrap(), json!({"a": 1}));
        assert_eq!(
            parse_json_reply("```json\n{\"a\": 1}\n```").unwrap(),
            json!({"a": 1})
        );
    }

    #[test]
    fn rejects_text_around_json() {
        for reply in [
            "Sure! {\"a\": 1}",
            "{\"a\": 1} Hope this helps",
            "{\"a\": 1",
            "[1, 2]",
            "```python\n{\"a\": 1}\n```",
            "",
        ] {
            assert!(parse_json_reply(reply).is_err(), "{reply:?}");
        }
    }

    #[test]
    fn accepts_valid_output() {
        let output = accept(
            &completion("{\"body\": \"Hi\"}"),
            Some(&schema()),
            &NoChecks,
        )
        .unwrap();
        assert_eq!(output, LlmOutput::Json(json!({"body": "Hi"})));
    }

    #[test]
    fn rejects_schema_violation() {
        let reason = accept(
            &completion("{\"body\": \"Hi\", \"to\": \"attacker@example.com\"}"),
            Some(&schema()),
            &NoChecks,
        )
        .unwrap_err();
        assert!(reason.contains("draft schema"), "{reason}");
    }

    #[test]
    fn rejects_failed_checks() {
        let checks = FieldRules::new("/body").words(2, 5);
        let reason =
            accept(&completion("{\"body\": \"Hi\"}"), Some(&schema()), &checks).unwrap_err();
        assert_eq!(reason, "body has 1 words, expected 2 to 5");
    }

    #[test]
    fn rejects_truncated_output() {
        let mut cut = completion("{\"body\": \"Hi");
        cut.truncated = true;
        let reason = accept(&cut, Some(&schema()), &NoChecks).unwrap_err();
        assert!(reason.contains("cut off"), "{reason}");
    }

    #[test]
    fn tool_output_is_validated() {
        let tool = Completion {
            output: LlmOutput::Json(json!({"body": 3})),
            usage: TokenUsage::default(),
            truncated: false,
        };
        assert!(accept(&tool, Some(&schema()), &NoChecks).is_err());
    }
}
