//! Quality gate: word and character limits, placeholders, links, artefacts.

use std::time::Duration;

use rekindle_crews::{
    CompliantMessage, QualityGate, QualityInput, QualityIssue, check_quality, run_stage,
};
use rekindle_domain::{Channel, ErrorClass};

use crate::common::{UNSUBSCRIBE_URL, lead_id};

fn words(count: usize) -> String {
    let mut body = String::from("Hi Anna,\n\n");
    body.push_str(&vec!["word"; count - 2].join(" "));
    body
}

fn email(body: String, subject: &str) -> CompliantMessage {
    CompliantMessage {
        channel: Channel::Email,
        subject: Some(subject.into()),
        body,
        footer: format!("--\nSent by Sam\n1 Market Street\nUnsubscribe: {UNSUBSCRIBE_URL}"),
    }
}

fn sms(body: String) -> CompliantMessage {
    CompliantMessage {
        channel: Channel::Sms,
        subject: None,
        body,
        footer: "Reply STOP to opt out.".into(),
    }
}

const SUBJECT: &str = "Picking up our conversation where we left off";

fn issues(message: &CompliantMessage) -> Vec<QualityIssue> {
    check_quality(message, UNSUBSCRIBE_URL).expect_err("the gate should reject this message")
}

#[test]
fn word_count_boundaries() {
    for (count, ok) in [(79, false), (80, true), (150, true), (151, false)] {
        let result = check_quality(&email(words(count), SUBJECT), UNSUBSCRIBE_URL);
        assert_eq!(result.is_ok(), ok, "{count} words: {result:?}");
        match result {
            Ok(report) => assert_eq!(report.body_words, count),
            Err(found) => assert_eq!(found, vec![QualityIssue::BodyWordCount { words: count }]),
        }
    }
}

#[test]
fn subject_length_boundaries() {
    for (length, ok) in [(39, false), (40, true), (60, true), (61, false)] {
        let subject = "s".repeat(length);
        let result = check_quality(&email(words(100), &subject), UNSUBSCRIBE_URL);
        assert_eq!(result.is_ok(), ok, "{length} chars: {result:?}");
        if let Err(found) = result {
            assert_eq!(found, vec![QualityIssue::SubjectLength { chars: length }]);
        }
    }
}

#[test]
fn subject_counts_characters_not_bytes() {
    let subject = "Ä".repeat(40);
    assert!(check_quality(&email(words(100), &subject), UNSUBSCRIBE_URL).is_ok());
}

#[test]
fn missing_subject() {
    let mut message = email(words(100), SUBJECT);
    message.subject = None;
    assert_eq!(issues(&message), vec![QualityIssue::MissingSubject]);
}

#[test]
fn sms_length_boundaries() {
    let footer_chars = " Reply STOP to opt out.".len();
    let ok = sms("a".repeat(320 - footer_chars));
    assert_eq!(
        check_quality(&ok, UNSUBSCRIBE_URL)
            .expect("320 is allowed")
            .total_chars,
        320
    );
    let long = sms("a".repeat(321 - footer_chars));
    assert_eq!(
        issues(&long),
        vec![QualityIssue::TextTooLong { chars: 321 }]
    );
}

#[test]
fn placeholders_are_found() {
    for leftover in [
        "{{first_name}}",
        "[First Name]",
        "{company}",
        "%FIRST_NAME%",
        "$firstName",
        "company_name",
        "<name>",
    ] {
        let body = format!("{}\nHello {leftover} there.", words(100));
        let found = issues(&email(body, SUBJECT));
        assert!(
            found
                .iter()
                .any(|issue| matches!(issue, QualityIssue::Placeholder { .. })),
            "{leftover}: {found:?}"
        );
    }
    let found = issues(&email(
        words(100),
        "Hello {{first_name}}, picking up where we left",
    ));
    assert!(
        found
            .iter()
            .any(|issue| matches!(issue, QualityIssue::Placeholder { .. })),
        "{found:?}"
    );
}

#[test]
fn only_unsubscribe_link_allowed() {
    let body = format!(
        "{} see https://calendly.example/sam or www.brightpath.example",
        words(100)
    );
    let found = issues(&email(body, SUBJECT));
    assert_eq!(
        found,
        vec![
            QualityIssue::DisallowedLink {
                link: "https://calendly.example/sam".into()
            },
            QualityIssue::DisallowedLink {
                link: "www.brightpath.example".into()
            },
        ]
    );
    let sms_link = sms("Hi Anna, book at brightpath.example/book today".into());
    assert_eq!(
        issues(&sms_link),
        vec![QualityIssue::DisallowedLink {
            link: "brightpath.example/book".into()
        }]
    );
}

#[test]
fn email_needs_unsubscribe_link() {
    let mut message = email(words(100), SUBJECT);
    message.footer = "--\nSent by Sam\n1 Market Street".into();
    assert_eq!(issues(&message), vec![QualityIssue::MissingUnsubscribeLink]);
}

#[test]
fn greeting_artefacts() {
    for artefact in [
        "Hi ,",
        "Dear,",
        "Hello Anna ,",
        "Thanks,, Sam",
        "Hi  there,",
    ] {
        let body = format!("{artefact}\n\n{}", vec!["word"; 98].join(" "));
        let found = issues(&email(body, SUBJECT));
        assert!(
            found
                .iter()
                .any(|issue| matches!(issue, QualityIssue::GreetingArtefact { .. })),
            "{artefact}: {found:?}"
        );
    }
}

#[test]
fn empty_body() {
    let found = issues(&sms("  ".into()));
    assert!(found.contains(&QualityIssue::EmptyBody), "{found:?}");
}

#[tokio::test]
async fn stage_reports_all_issues() {
    let input = QualityInput {
        lead_id: lead_id(1),
        message: email(format!("Hi ,\n\n{}", words(10)), "short"),
        unsubscribe_url: UNSUBSCRIBE_URL.into(),
    };
    let (result, record) = run_stage(&QualityGate, input, Duration::from_secs(1)).await;
    let error = result.expect_err("rejected");
    assert_eq!(error.class, ErrorClass::InvalidInput);
    assert!(error.message.contains("words"), "{error}");
    assert!(
        error.message.contains("subject has 5 characters"),
        "{error}"
    );
    assert!(error.message.contains("artefact"), "{error}");
    assert_eq!(record.stage, "quality");
    assert!(
        !record.input_summary.contains("Hi ,"),
        "{}",
        record.input_summary
    );
}
