//! The checks an LLM draft must pass before it is used: the length limits of
//! this module's parent, no placeholders and links only from the allow list.
//! They include the quality gate's own placeholder and artefact rules, so a
//! draft that passes here is not rejected by the gate later for those.

use rekindle_domain::Channel;
use rekindle_llm::LlmOutput;
use rekindle_llm::checks::{CheckList, FieldRules, LinkAllowList, find_disallowed_links};

use super::{
    EMAIL_MAX_WORDS, EMAIL_MIN_WORDS, SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS, TEXT_BODY_MAX_CHARS,
};
use crate::quality::{artefact_issues, placeholder_issues};
use crate::text::find_links;

/// Builds the checks for a draft on `channel`.
pub(super) fn draft_checks(channel: Channel, allowed: &LinkAllowList) -> CheckList {
    let body = FieldRules::new("/body").links_only_from(allowed.clone());
    let lengths = match channel {
        Channel::Email => CheckList::new()
            .with(
                FieldRules::new("/subject")
                    .chars(SUBJECT_MIN_CHARS, SUBJECT_MAX_CHARS)
                    .links_only_from(allowed.clone()),
            )
            .with(body.words(EMAIL_MIN_WORDS, EMAIL_MAX_WORDS)),
        Channel::Sms | Channel::Whatsapp => {
            CheckList::new().with(body.chars(1, TEXT_BODY_MAX_CHARS))
        }
    };

    let allowed = allowed.clone();
    lengths.with(move |output: &LlmOutput| gate_rules(output, &allowed))
}

/// Applies the quality gate's placeholder, artefact and link rules to the
/// subject and body.
fn gate_rules(output: &LlmOutput, allowed: &LinkAllowList) -> Vec<String> {
    let Some(value) = output.as_json() else {
        return Vec::new();
    };
    let subject = value["subject"].as_str().unwrap_or("");
    let body = value["body"].as_str().unwrap_or("");
    let text = format!("{subject}\n{body}");

    let mut problems: Vec<String> = placeholder_issues(&text)
        .into_iter()
        .chain(artefact_issues(subject, body))
        .map(|issue| issue.to_string())
        .collect();

    // The gate finds links its own way. Add the ones that the allow list does
    // not cover and that the field rules, with the same allow list, missed.
    let reported_by_fields = find_disallowed_links(&text, allowed);
    for link in find_links(&text) {
        let host = link_host(&link);
        let allowed_host = host
            .as_deref()
            .is_some_and(|host| allowed.allows_host(host));
        let reported = reported_by_fields
            .iter()
            .any(|found| found.contains(&link) || link.contains(found.as_str()));
        if !allowed_host && !reported {
            problems.push(format!(
                "the message contains the link {link:?}, which is not allowed"
            ));
        }
    }
    problems
}

fn link_host(link: &str) -> Option<String> {
    let without_scheme = link.split_once("://").map_or(link, |(_, rest)| rest);
    let host = without_scheme
        .split(['/', '?', '#'])
        .next()?
        .rsplit('@')
        .next()?;
    Some(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use rekindle_llm::checks::OutputCheck;
    use serde_json::json;

    use super::*;

    fn body_of_words(count: usize) -> String {
        let mut words = vec!["Hi Anna,".to_owned()];
        words.extend((0..count.saturating_sub(4)).map(|_| "word".to_owned()));
        words.push("Best, Sam".to_owned());
        words.join(" ")
    }

    fn email(subject: &str, body: &str) -> LlmOutput {
        LlmOutput::Json(json!({"subject": subject, "body": body}))
    }

    const SUBJECT: &str = "Picking up our conversation where we left off";

    #[test]
    fn good_email_passes() {
        let checks = draft_checks(Channel::Email, &LinkAllowList::none());
        let problems = checks.check(&email(SUBJECT, &body_of_words(100)));
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn email_limits_are_enforced() {
        let checks = draft_checks(Channel::Email, &LinkAllowList::none());
        let problems = checks.check(&email("Hi", &body_of_words(30)));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("subject has 2 characters")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("body has 30 words")),
            "{problems:?}"
        );
    }

    #[test]
    fn placeholders_and_snake_case_are_rejected() {
        let checks = draft_checks(Channel::Email, &LinkAllowList::none());
        let body = format!("{} {{first_name}} company_name", body_of_words(100));
        let problems = checks.check(&email(SUBJECT, &body));
        assert!(
            problems.iter().any(|p| p.contains("{first_name}")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("company_name")),
            "{problems:?}"
        );
    }

    #[test]
    fn links_outside_allow_list_are_rejected() {
        let allowed = LinkAllowList::new(["brightpath.example"]);
        let checks = draft_checks(Channel::Email, &allowed);
        let body = format!(
            "{} see https://brightpath.example/demo or https://evil.example/x or acme.io",
            body_of_words(100)
        );
        let problems = checks.check(&email(SUBJECT, &body));
        let joined = problems.join("\n");
        assert!(joined.contains("https://evil.example/x"), "{joined}");
        assert!(joined.contains("acme.io"), "{joined}");
        assert!(!joined.contains("brightpath"), "{joined}");
        assert_eq!(joined.matches("evil.example").count(), 1, "{joined}");
    }

    #[test]
    fn text_message_length_is_enforced() {
        let checks = draft_checks(Channel::Sms, &LinkAllowList::none());
        let long = LlmOutput::Json(json!({"body": "word ".repeat(100).trim()}));
        let problems = checks.check(&long);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("body has 499 characters")),
            "{problems:?}"
        );
        let short = LlmOutput::Json(
            json!({"body": "Hi Anna, it's Sam from Brightpath. Worth a quick call?"}),
        );
        assert!(checks.check(&short).is_empty());
    }
}
