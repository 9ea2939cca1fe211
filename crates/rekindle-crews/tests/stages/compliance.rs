//! Compliance gate: suppression, consent, footers, opt-out text, quiet hours.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rekindle_crews::text::char_count;
use rekindle_crews::{
    ComplianceGate, ComplianceInput, ComplianceViolation, Draft, TEXT_OPT_OUT, check_compliance,
    run_stage,
};
use rekindle_domain::{Channel, ConsentBasis, Email, ErrorClass, Phone};

use crate::common::{UNSUBSCRIBE_URL, lead_id, sender};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

fn email_input() -> ComplianceInput {
    ComplianceInput {
        lead_id: lead_id(1),
        draft: Draft {
            channel: Channel::Email,
            subject: Some("Picking up our conversation where we left off".into()),
            body: "Hi Anna,\n\nIt has been a while.".into(),
        },
        email: Email::parse("anna@example.com").ok(),
        phone: Phone::parse("+442079460958", None).ok(),
        suppressed: false,
        consent: Some(ConsentBasis::LegitimateInterest),
        business_contact: true,
        opt_out_noted: false,
        unsubscribe_url: UNSUBSCRIBE_URL.into(),
        sender: sender(),
        send_at: utc("2024-06-12T10:00:00Z"),
        lead_zone: chrono_tz::Europe::London,
    }
}

fn sms_input(send_at: &str, zone: Tz) -> ComplianceInput {
    ComplianceInput {
        draft: Draft {
            channel: Channel::Sms,
            subject: None,
            body: "Hi Anna, it's Sam Carter from Brightpath Analytics. Worth a call?".into(),
        },
        consent: Some(ConsentBasis::Consent),
        send_at: utc(send_at),
        lead_zone: zone,
        ..email_input()
    }
}

fn violations(input: &ComplianceInput) -> Vec<ComplianceViolation> {
    check_compliance(input).expect_err("the gate should reject this message")
}

#[test]
fn email_footer_has_link_and_address() {
    let message = check_compliance(&email_input()).expect("compliant email");
    assert!(
        message.footer.contains(UNSUBSCRIBE_URL),
        "{}",
        message.footer
    );
    assert!(
        message
            .footer
            .contains("1 Market Street, London EC1A 1BB, United Kingdom"),
        "{}",
        message.footer
    );
    assert!(
        message.footer.contains("Sam Carter, Brightpath Analytics"),
        "{}",
        message.footer
    );
    assert!(message.full_text().ends_with(UNSUBSCRIBE_URL));
    assert_eq!(message.body, "Hi Anna,\n\nIt has been a while.");
}

#[test]
fn legitimate_interest_needs_business_email() {
    let consumer = ComplianceInput {
        business_contact: false,
        ..email_input()
    };
    assert!(matches!(
        violations(&consumer)[..],
        [ComplianceViolation::NoLawfulBasis { .. }]
    ));

    let unknown_basis = ComplianceInput {
        consent: None,
        ..email_input()
    };
    assert!(
        check_compliance(&unknown_basis).is_ok(),
        "B2B email without a record is legitimate interest"
    );
}

#[test]
fn text_needs_consent() {
    for basis in [None, Some(ConsentBasis::LegitimateInterest)] {
        let input = ComplianceInput {
            consent: basis,
            ..sms_input("2024-06-12T10:00:00Z", chrono_tz::Europe::London)
        };
        assert!(
            matches!(
                violations(&input)[..],
                [ComplianceViolation::NoLawfulBasis { .. }]
            ),
            "{basis:?}"
        );
    }
    let contract = ComplianceInput {
        consent: Some(ConsentBasis::Contract),
        ..sms_input("2024-06-12T10:00:00Z", chrono_tz::Europe::London)
    };
    assert!(check_compliance(&contract).is_ok());
}

#[test]
fn withdrawn_consent_blocks() {
    for channel_input in [
        email_input(),
        sms_input("2024-06-12T10:00:00Z", chrono_tz::Europe::London),
    ] {
        let input = ComplianceInput {
            consent: Some(ConsentBasis::Withdrawn),
            ..channel_input
        };
        assert_eq!(
            violations(&input),
            vec![ComplianceViolation::ConsentWithdrawn]
        );
        assert_eq!(
            ComplianceViolation::ConsentWithdrawn.class(),
            ErrorClass::Permanent
        );
    }
}

#[test]
fn suppressed_and_opt_out_block() {
    let input = ComplianceInput {
        suppressed: true,
        opt_out_noted: true,
        ..email_input()
    };
    assert_eq!(
        violations(&input),
        vec![
            ComplianceViolation::Suppressed,
            ComplianceViolation::OptOutNoted
        ]
    );
}

#[test]
fn missing_email_data_is_invalid_input() {
    let input = ComplianceInput {
        email: None,
        unsubscribe_url: "javascript:alert(1)".into(),
        sender: rekindle_crews::SenderIdentity {
            postal_address: " \n ".into(),
            ..sender()
        },
        draft: Draft {
            subject: None,
            ..email_input().draft
        },
        ..email_input()
    };
    let found = violations(&input);
    assert!(
        found.contains(&ComplianceViolation::MissingRecipient {
            channel: Channel::Email
        }),
        "{found:?}"
    );
    assert!(
        found.contains(&ComplianceViolation::MissingSubject),
        "{found:?}"
    );
    assert!(
        found.contains(&ComplianceViolation::MissingPostalAddress),
        "{found:?}"
    );
    assert!(
        found.iter().any(|violation| matches!(
            violation,
            ComplianceViolation::InvalidUnsubscribeUrl { .. }
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .all(|violation| violation.class() == ErrorClass::InvalidInput)
    );
}

#[test]
fn missing_sender_is_rejected() {
    let input = ComplianceInput {
        sender: rekindle_crews::SenderIdentity {
            name: String::new(),
            company: " ".into(),
            postal_address: "1 Market Street".into(),
        },
        ..email_input()
    };
    assert_eq!(
        violations(&input),
        vec![ComplianceViolation::MissingSenderIdentity]
    );
}

#[test]
fn sms_gets_opt_out_text() {
    let message = check_compliance(&sms_input(
        "2024-06-12T10:00:00Z",
        chrono_tz::Europe::London,
    ))
    .expect("compliant");
    assert_eq!(message.footer, TEXT_OPT_OUT);
    assert!(
        message
            .full_text()
            .ends_with("Worth a call? Reply STOP to opt out."),
        "{}",
        message.full_text()
    );
}

#[test]
fn sms_names_sender_when_body_does_not() {
    let mut input = sms_input("2024-06-12T10:00:00Z", chrono_tz::Europe::London);
    input.draft.body = "Hi Anna, worth a quick call this month?".into();
    let message = check_compliance(&input).expect("compliant");
    assert!(
        message.body.starts_with("Brightpath Analytics: Hi Anna"),
        "{}",
        message.body
    );
}

#[test]
fn sms_limit_includes_opt_out() {
    let fits = 320 - TEXT_OPT_OUT.len() - 1;
    let mut input = sms_input("2024-06-12T10:00:00Z", chrono_tz::Europe::London);
    input.draft.body = format!("Sam Carter {}", "x".repeat(fits - 11));
    let message = check_compliance(&input).expect("exactly 320 characters is allowed");
    assert_eq!(char_count(&message.full_text()), 320);

    input.draft.body.push('y');
    assert_eq!(
        violations(&input),
        vec![ComplianceViolation::TextTooLong { chars: 321 }]
    );
}

#[test]
fn quiet_hours_in_lead_zone() {
    let london = chrono_tz::Europe::London;
    let new_york = chrono_tz::America::New_York;
    // June: London is UTC+1, New York UTC-4.
    let cases = [
        ("2024-06-12T06:59:00Z", london, false),
        ("2024-06-12T07:00:00Z", london, true),
        ("2024-06-12T19:59:00Z", london, true),
        ("2024-06-12T20:00:00Z", london, false),
        ("2024-06-12T11:59:00Z", new_york, false),
        ("2024-06-12T12:00:00Z", new_york, true),
        ("2024-06-13T00:59:00Z", new_york, true),
        ("2024-06-13T01:00:00Z", new_york, false),
    ];
    for (send_at, zone, allowed) in cases {
        let result = check_compliance(&sms_input(send_at, zone));
        assert_eq!(result.is_ok(), allowed, "{send_at} in {zone}: {result:?}");
        if let Err(found) = result {
            assert!(
                matches!(found[..], [ComplianceViolation::QuietHours { .. }]),
                "{found:?}"
            );
        }
    }
}

#[test]
fn quiet_hours_do_not_apply_to_email() {
    let input = ComplianceInput {
        send_at: utc("2024-06-12T23:30:00Z"),
        ..email_input()
    };
    assert!(check_compliance(&input).is_ok());
}

#[test]
fn quiet_hours_message_is_clear() {
    let found = violations(&sms_input(
        "2024-06-12T21:30:00Z",
        chrono_tz::Europe::London,
    ));
    let message = found[0].to_string();
    assert!(
        message.contains("2024-06-12 22:30 Europe/London"),
        "{message}"
    );
    assert!(message.contains("before 08:00 or from 21:00"), "{message}");
}

#[tokio::test]
async fn stage_error_class() {
    let blocked = ComplianceInput {
        suppressed: true,
        email: None,
        ..email_input()
    };
    let (result, record) = run_stage(&ComplianceGate, blocked, Duration::from_secs(1)).await;
    let error = result.expect_err("blocked");
    assert_eq!(
        error.class,
        ErrorClass::Permanent,
        "a policy block outranks missing data"
    );
    assert!(
        error.message.contains("suppressed") && error.message.contains("no contact"),
        "{error}"
    );
    assert_eq!(record.stage, "compliance");

    let invalid = ComplianceInput {
        email: None,
        ..email_input()
    };
    let (result, _) = run_stage(&ComplianceGate, invalid, Duration::from_secs(1)).await;
    assert_eq!(result.expect_err("invalid").class, ErrorClass::InvalidInput);
}
