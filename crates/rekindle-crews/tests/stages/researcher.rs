//! Researcher: signals from the lead's data, imported signals, hook choice.

use std::time::Duration;

use rekindle_crews::{Hook, NoteCue, Researcher, ResearcherInput, research, run_stage};
use rekindle_domain::lead::{LeadFields, SignalInput};

use crate::common::lead_id;

fn imported(kind: &str, summary: &str) -> SignalInput {
    SignalInput {
        kind: kind.into(),
        summary: summary.into(),
        source: "import".into(),
    }
}

fn lead() -> LeadFields {
    LeadFields {
        company: Some("Acme Ltd".into()),
        job_title: Some("Head of Sales".into()),
        crm_status: Some("Bad timing".into()),
        notes: Some("Asked for pricing. Call me after the trade fair.".into()),
        ..LeadFields::default()
    }
}

#[test]
fn signals_from_own_data() {
    let result = research(&lead(), &[]);
    let kinds: Vec<&str> = result
        .signals
        .iter()
        .map(|signal| signal.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["note_cue", "note_cue", "crm_status", "role", "company"]
    );
    let summaries: Vec<&str> = result
        .signals
        .iter()
        .map(|signal| signal.summary.as_str())
        .collect();
    assert!(summaries.contains(&"asked for pricing"), "{summaries:?}");
    assert!(summaries.contains(&"Head of Sales"), "{summaries:?}");
}

#[test]
fn trigger_beats_note_cue() {
    let result = research(&lead(), &[imported("Funding", "Raised a Series A.")]);
    assert_eq!(
        result.hook,
        Hook::Trigger {
            signal_kind: "funding".into(),
            summary: "Raised a Series A".into()
        }
    );
}

#[test]
fn call_back_cue_carries_period() {
    let result = research(&lead(), &[]);
    assert_eq!(
        result.hook,
        Hook::NoteCue {
            cue: NoteCue::CallMeAfter,
            period: Some("the trade fair".into())
        }
    );
}

#[test]
fn hook_falls_back_in_order() {
    let no_notes = LeadFields {
        notes: None,
        ..lead()
    };
    assert_eq!(research(&no_notes, &[]).hook, Hook::Timing);

    let no_status = LeadFields {
        crm_status: None,
        ..no_notes.clone()
    };
    assert_eq!(
        research(&no_status, &[]).hook,
        Hook::Role {
            title: "Head of Sales".into()
        }
    );

    assert_eq!(research(&LeadFields::default(), &[]).hook, Hook::General);

    let lost = LeadFields {
        crm_status: Some("Closed Lost".into()),
        ..no_notes
    };
    assert_eq!(research(&lost, &[]).hook, Hook::LostDeal);
}

#[test]
fn negative_cues_are_not_hooks() {
    let fields = LeadFields {
        notes: Some("Not interested right now.".into()),
        ..LeadFields::default()
    };
    let result = research(&fields, &[]);
    assert_eq!(result.hook, Hook::General);
    assert!(
        result
            .signals
            .iter()
            .any(|signal| signal.summary == "said not interested")
    );
}

#[test]
fn imported_signals_are_cleaned() {
    let signals = [
        imported(
            "Job Change!",
            "Joined Beta Corp as CMO, see https://evil.example/cmo\u{202E} {{x}}",
        ),
        imported("", "kind is missing"),
        imported("hiring", "   "),
    ];
    let result = research(&LeadFields::default(), &signals);
    assert_eq!(result.signals.len(), 1, "{:?}", result.signals);
    let signal = &result.signals[0];
    assert_eq!(signal.kind, "job_change");
    assert_eq!(signal.summary, "Joined Beta Corp as CMO");
    assert!(!signal.summary.contains("evil"));
}

#[test]
fn clause_with_link_is_dropped() {
    let summary =
        "Raised a Series B of EUR 2.5m, details at https://news.example/a. Hiring in Berlin";
    let result = research(&LeadFields::default(), &[imported("funding", summary)]);
    assert_eq!(
        result.signals[0].summary,
        "Raised a Series B of EUR 2.5m, Hiring in Berlin"
    );
}

#[test]
fn long_summary_is_capped() {
    let long = "expansion ".repeat(40);
    let result = research(&LeadFields::default(), &[imported("expansion", &long)]);
    let Hook::Trigger { summary, .. } = &result.hook else {
        panic!("expected a trigger hook, got {:?}", result.hook);
    };
    assert!(summary.chars().count() <= rekindle_crews::researcher::MAX_SIGNAL_SUMMARY_CHARS);
}

#[test]
fn opt_out_note_is_flagged() {
    let fields = LeadFields {
        notes: Some("Asked us to unsubscribe her.".into()),
        ..LeadFields::default()
    };
    assert!(research(&fields, &[]).opt_out_noted);
    assert!(!research(&lead(), &[]).opt_out_noted);
}

#[tokio::test]
async fn stage_summary_has_no_notes() {
    let input = ResearcherInput {
        lead_id: lead_id(1),
        fields: lead(),
        signals: vec![imported("funding", "Raised a Series A")],
    };
    let (result, record) = run_stage(&Researcher, input, Duration::from_secs(1)).await;
    assert!(result.is_ok());
    assert_eq!(record.stage, "researcher");
    assert!(
        record.input_summary.contains("1 imported signals"),
        "{}",
        record.input_summary
    );
    assert!(
        !record.input_summary.contains("pricing"),
        "{}",
        record.input_summary
    );
    assert_eq!(record.output["hook"]["kind"], "trigger");
}
