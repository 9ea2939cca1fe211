//! The quality gate: the last check of a message before it is stored for
//! sending. It catches what an LLM writer (or a bug) can leave behind.

use std::fmt;

use async_trait::async_trait;
use rekindle_domain::{Channel, LeadId};
use serde::{Deserialize, Serialize};

use crate::compliance::{CompliantMessage, parse_unsubscribe_url};
use crate::stage::{Stage, StageError};
use crate::text::{PLACEHOLDER_CHARS, char_count, find_links, word_count};
use crate::writer::{
    EMAIL_MAX_WORDS, EMAIL_MIN_WORDS, SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS, TEXT_MESSAGE_MAX_CHARS,
};

/// A defect found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QualityIssue {
    EmptyBody,
    BodyWordCount { words: usize },
    MissingSubject,
    SubjectLength { chars: usize },
    Placeholder { text: String },
    DisallowedLink { link: String },
    MissingUnsubscribeLink,
    TextTooLong { chars: usize },
    GreetingArtefact { text: String },
}

impl fmt::Display for QualityIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyBody => write!(f, "message body is empty"),
            Self::BodyWordCount { words } => write!(
                f,
                "email body has {words} words, expected {EMAIL_MIN_WORDS} to {EMAIL_MAX_WORDS}"
            ),
            Self::MissingSubject => write!(f, "email has no subject"),
            Self::SubjectLength { chars } => write!(
                f,
                "subject has {chars} characters, expected {SUBJECT_MIN_CHARS} to {SUBJECT_MAX_CHARS}"
            ),
            Self::Placeholder { text } => write!(f, "leftover placeholder {text:?}"),
            Self::DisallowedLink { link } => {
                write!(
                    f,
                    "link {link:?} is not allowed: only the unsubscribe link may appear"
                )
            }
            Self::MissingUnsubscribeLink => write!(f, "email footer lacks the unsubscribe link"),
            Self::TextTooLong { chars } => write!(
                f,
                "text message has {chars} characters, over the limit of {TEXT_MESSAGE_MAX_CHARS}"
            ),
            Self::GreetingArtefact { text } => write!(f, "empty-field artefact {text:?}"),
        }
    }
}

/// Measurements of a message that passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Words in the body, footer excluded.
    pub body_words: usize,
    pub subject_chars: Option<usize>,
    /// Characters of the full text as sent, footer included.
    pub total_chars: usize,
}

/// Checks a message. `unsubscribe_url` is the only link allowed anywhere.
pub fn check_quality(
    message: &CompliantMessage,
    unsubscribe_url: &str,
) -> Result<QualityReport, Vec<QualityIssue>> {
    let allowed_link = parse_unsubscribe_url(unsubscribe_url)
        .ok()
        .map(|url| url.to_string());
    let full_text = message.full_text();
    let mut issues = Vec::new();

    if message.body.trim().is_empty() {
        issues.push(QualityIssue::EmptyBody);
    }
    match message.channel {
        Channel::Email => issues.extend(email_issues(message, allowed_link.as_deref())),
        Channel::Sms | Channel::Whatsapp => {
            let chars = char_count(&full_text);
            if chars > TEXT_MESSAGE_MAX_CHARS {
                issues.push(QualityIssue::TextTooLong { chars });
            }
        }
    }

    let subject = message.subject.as_deref().unwrap_or("");
    let without_allowed_link = match &allowed_link {
        Some(link) => full_text.replace(link.as_str(), " "),
        None => full_text.clone(),
    };
    issues.extend(link_issues(&without_allowed_link, subject));
    issues.extend(placeholder_issues(&format!(
        "{subject}\n{without_allowed_link}"
    )));
    issues.extend(artefact_issues(subject, &message.body));

    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(QualityReport {
        body_words: word_count(&message.body),
        subject_chars: message.subject.as_deref().map(char_count),
        total_chars: char_count(&full_text),
    })
}

fn email_issues(message: &CompliantMessage, allowed_link: Option<&str>) -> Vec<QualityIssue> {
    let mut issues = Vec::new();
    let words = word_count(&message.body);
    if !(EMAIL_MIN_WORDS..=EMAIL_MAX_WORDS).contains(&words) {
        issues.push(QualityIssue::BodyWordCount { words });
    }

    match message.subject.as_deref().map(str::trim) {
        None | Some("") => issues.push(QualityIssue::MissingSubject),
        Some(subject) => {
            let chars = char_count(subject);
            if !(SUBJECT_MIN_CHARS..=SUBJECT_MAX_CHARS).contains(&chars) {
                issues.push(QualityIssue::SubjectLength { chars });
            }
        }
    }

    let has_link = allowed_link.is_some_and(|link| message.footer.contains(link));
    if !has_link {
        issues.push(QualityIssue::MissingUnsubscribeLink);
    }
    issues
}

/// Reports every link left once the allowed link is removed.
fn link_issues(text_without_allowed: &str, subject: &str) -> Vec<QualityIssue> {
    find_links(&format!("{subject}\n{text_without_allowed}"))
        .into_iter()
        .map(|link| QualityIssue::DisallowedLink { link })
        .collect()
}

/// Template leftovers: placeholder brackets, `%NAME%`, `$name` and
/// snake_case field names such as `first_name`.
pub(crate) fn placeholder_issues(text: &str) -> Vec<QualityIssue> {
    let mut issues = Vec::new();
    for token in text.split_whitespace() {
        let bracketed = token.contains(PLACEHOLDER_CHARS);
        let percent = token.matches('%').count() >= 2;
        let dollar =
            token.starts_with('$') && token.chars().nth(1).is_some_and(char::is_alphabetic);
        let core = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        let snake = core.contains('_') && core.chars().any(char::is_alphabetic);
        if bracketed || percent || dollar || snake {
            issues.push(QualityIssue::Placeholder {
                text: token.to_owned(),
            });
        }
    }
    issues
}

/// Traces of an empty field: "Hi ,", "Dear,", doubled commas and spaces
/// before punctuation or doubled inside a line.
pub(crate) fn artefact_issues(subject: &str, body: &str) -> Vec<QualityIssue> {
    let mut issues = Vec::new();
    for line in std::iter::once(subject).chain(body.lines()) {
        let trimmed = line.trim();
        let bad_pattern = [" ,", " .", " ;", " :", " !", " ?", ",,", "  "]
            .into_iter()
            .find(|pattern| trimmed.contains(pattern));
        let bare_greeting = matches!(trimmed, "Dear," | "Hi," | "Hey,");
        if bad_pattern.is_some() || bare_greeting {
            issues.push(QualityIssue::GreetingArtefact {
                text: trimmed.chars().take(40).collect(),
            });
        }
    }
    issues
}

/// Input of the quality gate stage.
#[derive(Debug, Clone)]
pub struct QualityInput {
    pub lead_id: LeadId,
    pub message: CompliantMessage,
    pub unsubscribe_url: String,
}

/// Rule-based quality gate stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct QualityGate;

#[async_trait]
impl Stage for QualityGate {
    type Input = QualityInput;
    type Output = QualityReport;

    fn name(&self) -> &'static str {
        "quality"
    }

    fn input_summary(&self, input: &QualityInput) -> String {
        format!(
            "lead {}: {}, {} body words, subject {}",
            input.lead_id,
            input.message.channel,
            word_count(&input.message.body),
            input.message.subject.as_deref().map_or_else(
                || "absent".to_owned(),
                |subject| format!("{} chars", char_count(subject))
            ),
        )
    }

    async fn run(&self, input: QualityInput) -> Result<QualityReport, StageError> {
        check_quality(&input.message, &input.unsubscribe_url).map_err(|issues| {
            let message = issues
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            StageError::invalid_input(message)
        })
    }
}
