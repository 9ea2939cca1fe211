//! Rules for one text field of an output: length bounds, no placeholders and
//! links only from an allow list.

use serde_json::Value;

use super::OutputCheck;
use super::text::{
    LinkAllowList, char_count, find_disallowed_links, find_placeholders, word_count,
};
use crate::request::LlmOutput;

/// Rules for the string at a JSON pointer of the output (`/body`), or for the
/// whole text of a text output (pointer `""`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRules {
    pointer: String,
    /// The field may be absent or `null`; when present, the rules apply.
    optional: bool,
    words: Option<(usize, usize)>,
    chars: Option<(usize, usize)>,
    placeholders_allowed: bool,
    links: Option<LinkAllowList>,
}

impl FieldRules {
    /// Creates rules for a required field with no bounds, which rejects
    /// placeholders and allows every link until [`Self::links_only_from`].
    pub fn new(pointer: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            optional: false,
            words: None,
            chars: None,
            placeholders_allowed: false,
            links: None,
        }
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Bounds the number of words, both ends included.
    pub fn words(mut self, min: usize, max: usize) -> Self {
        self.words = Some((min, max));
        self
    }

    /// Bounds the number of characters, both ends included.
    pub fn chars(mut self, min: usize, max: usize) -> Self {
        self.chars = Some((min, max));
        self
    }

    pub fn allow_placeholders(mut self) -> Self {
        self.placeholders_allowed = true;
        self
    }

    pub fn links_only_from(mut self, allowed: LinkAllowList) -> Self {
        self.links = Some(allowed);
        self
    }

    fn field_name(&self) -> &str {
        match self.pointer.trim_start_matches('/') {
            "" => "output",
            name => name,
        }
    }

    /// Returns every problem of `text`.
    pub fn check_text(&self, text: &str) -> Vec<String> {
        let name = self.field_name();
        let mut problems = Vec::new();

        if let Some((min, max)) = self.words {
            let words = word_count(text);
            if !(min..=max).contains(&words) {
                problems.push(format!("{name} has {words} words, expected {min} to {max}"));
            }
        }
        if let Some((min, max)) = self.chars {
            let chars = char_count(text);
            if !(min..=max).contains(&chars) {
                problems.push(format!(
                    "{name} has {chars} characters, expected {min} to {max}"
                ));
            }
        }
        if !self.placeholders_allowed {
            for placeholder in find_placeholders(text) {
                problems.push(format!("{name} contains the placeholder {placeholder:?}"));
            }
        }
        if let Some(allowed) = &self.links {
            for link in find_disallowed_links(text, allowed) {
                problems.push(format!(
                    "{name} contains the link {link:?}, which is not allowed"
                ));
            }
        }
        problems
    }

    fn field_text<'a>(&self, output: &'a LlmOutput) -> Result<Option<&'a str>, String> {
        let name = self.field_name();
        match output {
            LlmOutput::Text(text) if self.pointer.is_empty() => Ok(Some(text)),
            LlmOutput::Text(_) => Err(format!("expected a JSON object with {name}, got text")),
            LlmOutput::Json(value) => match value.pointer(&self.pointer) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text)),
                Some(_) => Err(format!("{name} is not a string")),
            },
        }
    }
}

impl OutputCheck for FieldRules {
    fn check(&self, output: &LlmOutput) -> Vec<String> {
        match self.field_text(output) {
            Ok(Some(text)) => self.check_text(text),
            Ok(None) if self.optional => Vec::new(),
            Ok(None) => vec![format!("{} is missing", self.field_name())],
            Err(problem) => vec![problem],
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body_rules() -> FieldRules {
        FieldRules::new("/body")
            .words(3, 6)
            .links_only_from(LinkAllowList::new(["brightpath.example"]))
    }

    #[test]
    fn passes_good_field() {
        let output = LlmOutput::Json(json!({"body": "Hi Anna, see brightpath.example soon"}));
        assert!(body_rules().check(&output).is_empty());
    }

    #[test]
    fn reports_each_problem() {
        let output =
            LlmOutput::Json(json!({"body": "Hi {first_name} see https://evil.example now"}));
        let problems = body_rules().check(&output);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("placeholder \"{first_name}\""),
            "{problems:?}"
        );
        assert!(problems[1].contains("https://evil.example"), "{problems:?}");
    }

    #[test]
    fn reports_length() {
        let output = LlmOutput::Json(json!({"body": "Hi"}));
        assert_eq!(
            body_rules().check(&output),
            vec!["body has 1 words, expected 3 to 6"]
        );
        let subject = FieldRules::new("/subject").chars(5, 10);
        assert_eq!(
            subject.check(&LlmOutput::Json(json!({"subject": "Hi"}))),
            vec!["subject has 2 characters, expected 5 to 10"]
        );
    }

    #[test]
    fn missing_and_optional_fields() {
        let output = LlmOutput::Json(json!({"subject": null}));
        assert_eq!(body_rules().check(&output), vec!["body is missing"]);
        assert!(
            FieldRules::new("/subject")
                .optional()
                .check(&output)
                .is_empty()
        );
        let wrong_type = LlmOutput::Json(json!({"body": 5}));
        assert_eq!(
            body_rules().check(&wrong_type),
            vec!["body is not a string"]
        );
    }

    #[test]
    fn whole_text_output() {
        let rules = FieldRules::new("").chars(1, 5);
        assert!(rules.check(&LlmOutput::Text("Hello".into())).is_empty());
        assert_eq!(
            rules.check(&LlmOutput::Text("Hello there".into())),
            vec!["output has 11 characters, expected 1 to 5"]
        );
    }
}
