//! Offline writer: lengths, placeholders, variety, missing data, untrusted text.

use std::collections::HashSet;

use rekindle_crews::text::{char_count, find_links, word_count};
use rekindle_crews::writer::{
    EMAIL_MAX_WORDS, EMAIL_MIN_WORDS, SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS, TEXT_BODY_MAX_CHARS,
};
use rekindle_crews::{Draft, MessageWriter, OfflineWriter, WriterRequest, research};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Channel, Tone};

use crate::common::{generated_fields, generated_signals, lead_id, now, sender};

const LEADS: u32 = 200;
const TONES: [Tone; 3] = [Tone::Friendly, Tone::Professional, Tone::Direct];

fn request(index: u32, channel: Channel, tone: Tone, step_index: u32) -> WriterRequest {
    let fields = generated_fields(index);
    WriterRequest {
        lead_id: lead_id(index),
        research: research(&fields, &generated_signals(index)),
        lead: fields,
        channel,
        tone,
        step_index,
        sender: sender(),
        now: now(),
        engagement: None,
    }
}

fn write(request: &WriterRequest) -> Draft {
    OfflineWriter
        .write_draft(request)
        .unwrap_or_else(|error| panic!("lead {}: {error}", request.lead_id))
}

/// Template leftovers and empty-field traces that must never reach a lead.
fn leftover(text: &str) -> Option<&'static str> {
    [
        "{",
        "}",
        "[First Name]",
        "[",
        "]",
        "{{",
        "Hi ,",
        "Dear ,",
        " ,",
        ",,",
        "first_name",
        "notes",
    ]
    .into_iter()
    .find(|pattern| text.contains(pattern))
}

#[test]
fn email_bodies_within_word_limits() {
    for tone in TONES {
        for step in 0..3 {
            for index in 0..LEADS {
                let draft = write(&request(index, Channel::Email, tone, step));
                let words = word_count(&draft.body);
                assert!(
                    (EMAIL_MIN_WORDS..=EMAIL_MAX_WORDS).contains(&words),
                    "lead {index}, {tone}, step {step}: {words} words\n{}",
                    draft.body
                );
            }
        }
    }
}

#[test]
fn email_subjects_within_char_limits() {
    for step in 0..3 {
        for index in 0..LEADS {
            let draft = write(&request(index, Channel::Email, Tone::Friendly, step));
            let subject = draft.subject.expect("email has a subject");
            let chars = char_count(&subject);
            assert!(
                (SUBJECT_MIN_CHARS..=SUBJECT_MAX_CHARS).contains(&chars),
                "lead {index}, step {step}: {chars} chars: {subject}"
            );
        }
    }
}

#[test]
fn text_messages_leave_room_for_opt_out() {
    for channel in [Channel::Sms, Channel::Whatsapp] {
        for tone in TONES {
            for index in 0..LEADS {
                let draft = write(&request(index, channel, tone, index % 3));
                assert_eq!(draft.subject, None);
                let chars = char_count(&draft.body);
                assert!(
                    chars <= TEXT_BODY_MAX_CHARS,
                    "lead {index}: {chars} chars: {}",
                    draft.body
                );
                assert!(
                    chars > 40,
                    "lead {index}: suspiciously short: {}",
                    draft.body
                );
            }
        }
    }
}

#[test]
fn no_placeholders_or_links() {
    for channel in [Channel::Email, Channel::Sms, Channel::Whatsapp] {
        for index in 0..LEADS {
            let draft = write(&request(index, channel, Tone::Professional, 0));
            let text = format!("{}\n{}", draft.subject.unwrap_or_default(), draft.body);
            assert_eq!(leftover(&text), None, "lead {index} {channel}:\n{text}");
            assert_eq!(
                find_links(&text),
                Vec::<String>::new(),
                "lead {index} {channel}:\n{text}"
            );
            assert!(
                !text.contains("evil.example") && !text.contains("phish"),
                "lead {index}:\n{text}"
            );
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "lead {index}: control character"
            );
        }
    }
}

#[test]
fn bodies_differ_between_leads() {
    for channel in [Channel::Email, Channel::Sms] {
        let bodies: HashSet<String> = (0..LEADS)
            .map(|index| write(&request(index, channel, Tone::Friendly, 0)).body)
            .collect();
        assert_eq!(bodies.len(), LEADS as usize, "{channel}: duplicate bodies");
    }
}

#[test]
fn phrasing_varies_with_same_facts() {
    // Identical fields for every lead: only the lead id differs, so any
    // variety comes from the stable hash.
    let fields = LeadFields {
        first_name: Some("Anna".into()),
        company: Some("Acme Ltd".into()),
        ..LeadFields::default()
    };
    let bodies: HashSet<String> = (0..50)
        .map(|index| {
            let mut request = request(index, Channel::Email, Tone::Friendly, 0);
            request.research = research(&fields, &[]);
            request.lead = fields.clone();
            write(&request).body
        })
        .collect();
    assert!(
        bodies.len() >= 45,
        "only {} distinct bodies of 50",
        bodies.len()
    );
    let openings: HashSet<String> = bodies
        .iter()
        .filter_map(|body| body.split("\n\n").nth(1))
        .map(|paragraph| paragraph.split(',').next().unwrap_or("").to_owned())
        .collect();
    assert!(
        openings.len() >= 5,
        "gap sentences vary too little: {openings:?}"
    );
}

#[test]
fn writer_is_deterministic() {
    for index in [0, 17, 123] {
        let first = write(&request(index, Channel::Email, Tone::Direct, 1));
        let second = write(&request(index, Channel::Email, Tone::Direct, 1));
        assert_eq!(first, second);
    }
}

#[test]
fn first_message_acknowledges_gap() {
    let gap_words = [
        "while",
        "some time",
        "months",
        "long stretch",
        "ago",
        "a few months",
    ];
    for index in 0..LEADS {
        let draft = write(&request(index, Channel::Email, Tone::Friendly, 0));
        let opening = draft.body.split("\n\n").nth(1).unwrap_or("");
        assert!(
            gap_words.iter().any(|word| opening.contains(word)),
            "lead {index}: no gap acknowledged: {opening}"
        );
    }
}

#[test]
fn follow_ups_refer_to_earlier_message() {
    let markers = [
        "earlier note",
        "message I sent",
        "previous email",
        "short note recently",
        "last message",
    ];
    for index in 0..LEADS {
        let draft = write(&request(index, Channel::Email, Tone::Friendly, 1));
        assert!(
            markers.iter().any(|marker| draft.body.contains(marker)),
            "lead {index}: follow-up lacks a reference:\n{}",
            draft.body
        );
        let first = write(&request(index, Channel::Email, Tone::Friendly, 0));
        assert_ne!(
            first.body, draft.body,
            "lead {index}: follow-up repeats the first message"
        );
    }
}

#[test]
fn greeting_uses_non_latin_names() {
    for name in ["李娜", "Алексей", "محمد", "たかし", "Ξανθή"] {
        let mut request = request(1, Channel::Email, Tone::Friendly, 0);
        request.lead.first_name = Some(name.into());
        let draft = write(&request);
        let greeting = draft.body.lines().next().unwrap_or("");
        assert!(greeting.contains(name), "{name}: {greeting}");
        assert!(greeting.ends_with(','), "{greeting}");
    }
}

#[test]
fn missing_fields_give_clean_greeting() {
    let fields = LeadFields::default();
    for tone in TONES {
        for channel in [Channel::Email, Channel::Sms] {
            let mut request = request(3, channel, tone, 0);
            request.research = research(&fields, &[]);
            request.lead = fields.clone();
            let draft = write(&request);
            let first_line = draft.body.lines().next().unwrap_or("");
            assert!(
                ["Hi there,", "Hello there,", "Hello,", "Good day,"]
                    .iter()
                    .any(|greeting| first_line.starts_with(greeting)),
                "{tone} {channel}: {first_line}"
            );
            assert_eq!(leftover(&draft.body), None, "{}", draft.body);
        }
    }
}

#[test]
fn uses_notes_and_signals() {
    let mut request = request(1, Channel::Email, Tone::Friendly, 0);
    request.lead.notes = Some("Asked for pricing, call me after Q3 planning.".into());
    request.research = research(&request.lead, &[]);
    let draft = write(&request);
    assert!(draft.body.contains("Q3 planning"), "{}", draft.body);

    let mut request = request.clone();
    request.lead.notes = None;
    let signal = rekindle_domain::lead::SignalInput {
        kind: "funding".into(),
        summary: "Closed a Series B round".into(),
        source: "import".into(),
    };
    request.research = research(&request.lead, &[signal]);
    let draft = write(&request);
    // The signal reads as part of the sentence, so its opening verb takes a small letter.
    assert!(
        draft.body.contains("closed a Series B round"),
        "{}",
        draft.body
    );
}

#[test]
fn signature_names_sender() {
    let draft = write(&request(5, Channel::Email, Tone::Professional, 0));
    assert!(
        draft.body.ends_with("Sam Carter\nBrightpath Analytics"),
        "{}",
        draft.body
    );
    let text = write(&request(5, Channel::Sms, Tone::Professional, 0));
    assert!(text.body.contains("Sam Carter"), "{}", text.body);
}

#[test]
fn missing_sender_is_invalid_input() {
    let mut request = request(5, Channel::Email, Tone::Friendly, 0);
    request.sender.name = " \u{0007} ".into();
    let error = OfflineWriter.write_draft(&request).unwrap_err();
    assert_eq!(error.class, rekindle_domain::ErrorClass::InvalidInput);
    assert!(error.message.contains("sender name"), "{error}");
}

#[tokio::test]
async fn trait_matches_direct_call() {
    let request = request(9, Channel::Whatsapp, Tone::Direct, 0);
    let through_trait = OfflineWriter
        .write(&request)
        .await
        .expect("offline writer succeeds");
    assert_eq!(through_trait, write(&request));
    assert_eq!(OfflineWriter.name(), "offline");
}
