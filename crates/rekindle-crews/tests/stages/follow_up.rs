//! Follow-ups from the offline writer that refer to what the lead did, and
//! their subject variants.

use rekindle_crews::engagement::{
    ClickedLink, EngagementContext, FollowUpSubjectInput, follow_up_subject_variants,
};
use rekindle_crews::text::{char_count, word_count};
use rekindle_crews::writer::{
    EMAIL_MAX_WORDS, EMAIL_MIN_WORDS, SUBJECT_MAX_CHARS, SUBJECT_MIN_CHARS, TEXT_BODY_MAX_CHARS,
};
use rekindle_crews::{Draft, OfflineWriter, WriterRequest, research};
use rekindle_domain::{Channel, Tone};

use crate::common::{generated_fields, generated_signals, lead_id, now, sender};

const LEADS: u32 = 120;
const TONES: [Tone; 3] = [Tone::Friendly, Tone::Professional, Tone::Direct];

/// Words that refer to a click. None of them may appear without one.
const CLICK_WORDS: [&str; 5] = ["click", "link", "had a look", "taking a look", "looked at"];
/// Words that would state an open, which tracking cannot prove.
const OPEN_WORDS: [&str; 4] = ["opened", "you read", "you saw", "noticed you open"];

fn engagement(previous: Channel) -> EngagementContext {
    EngagementContext {
        previous_channel: previous,
        days_since_previous: 5,
        previous_bounced: false,
        opened: false,
        clicked: None,
        question: None,
    }
}

fn clicked(label: Option<&str>) -> EngagementContext {
    EngagementContext {
        clicked: Some(ClickedLink {
            label: label.map(str::to_owned),
        }),
        ..engagement(Channel::Email)
    }
}

fn request(
    index: u32,
    channel: Channel,
    tone: Tone,
    engagement: Option<EngagementContext>,
) -> WriterRequest {
    let fields = generated_fields(index);
    WriterRequest {
        lead_id: lead_id(index),
        research: research(&fields, &generated_signals(index)),
        lead: fields,
        channel,
        tone,
        step_index: 1,
        sender: sender(),
        now: now(),
        engagement,
    }
}

fn write(request: &WriterRequest) -> Draft {
    OfflineWriter
        .write_draft(request)
        .unwrap_or_else(|error| panic!("lead {}: {error}", request.lead_id))
}

fn found<'a>(text: &str, words: &[&'a str]) -> Option<&'a str> {
    let lower = text.to_lowercase();
    words.iter().copied().find(|word| lower.contains(word))
}

fn assert_email_limits(draft: &Draft) {
    let words = word_count(&draft.body);
    assert!(
        (EMAIL_MIN_WORDS..=EMAIL_MAX_WORDS).contains(&words),
        "{words} words:\n{}",
        draft.body
    );
}

#[test]
fn email_mentions_clicked_label() {
    for index in 0..LEADS {
        let tone = TONES[(index % 3) as usize];
        let draft = write(&request(
            index,
            Channel::Email,
            tone,
            Some(clicked(Some("the pricing page"))),
        ));

        assert!(
            draft.body.contains("look at the pricing page"),
            "lead {index}:\n{}",
            draft.body
        );
        assert_email_limits(&draft);
    }
}

#[test]
fn email_without_click_never_mentions_one() {
    let contexts = [
        engagement(Channel::Email),
        EngagementContext {
            opened: true,
            ..engagement(Channel::Email)
        },
        EngagementContext {
            days_since_previous: 0,
            ..engagement(Channel::Email)
        },
        engagement(Channel::Sms),
    ];
    for index in 0..LEADS {
        for context in &contexts {
            let draft = write(&request(
                index,
                Channel::Email,
                Tone::Friendly,
                Some(context.clone()),
            ));
            let text = format!("{}\n{}", draft.subject.as_deref().unwrap_or(""), draft.body);

            assert_eq!(found(&text, &CLICK_WORDS), None, "lead {index}:\n{text}");
            assert_eq!(found(&text, &OPEN_WORDS), None, "lead {index}:\n{text}");
            assert_email_limits(&draft);
        }
    }
}

#[test]
fn email_after_text_names_the_text() {
    let draft = write(&request(
        3,
        Channel::Email,
        Tone::Friendly,
        Some(engagement(Channel::Sms)),
    ));

    assert!(
        draft.body.contains("I sent you a text 5 days ago"),
        "{}",
        draft.body
    );
}

#[test]
fn click_without_label_names_the_link() {
    let draft = write(&request(
        1,
        Channel::Email,
        Tone::Professional,
        Some(clicked(None)),
    ));

    assert!(
        draft.body.contains("the link in my last email"),
        "{}",
        draft.body
    );
}

#[test]
fn unsafe_label_is_not_quoted() {
    let draft = write(&request(
        1,
        Channel::Email,
        Tone::Friendly,
        Some(clicked(Some("https://evil.example/pricing"))),
    ));

    assert!(!draft.body.contains("evil"), "{}", draft.body);
    assert!(
        draft.body.contains("the link in my last email"),
        "{}",
        draft.body
    );
}

#[test]
fn email_thanks_for_question() {
    let context = EngagementContext {
        question: Some("Does it work with Salesforce?".into()),
        ..engagement(Channel::Email)
    };
    for index in 0..LEADS {
        let draft = write(&request(
            index,
            Channel::Email,
            Tone::Direct,
            Some(context.clone()),
        ));

        assert!(
            draft.body.contains("question"),
            "lead {index}:\n{}",
            draft.body
        );
        assert!(!draft.body.contains("Salesforce"), "{}", draft.body);
        assert_email_limits(&draft);
    }
}

#[test]
fn text_mentions_click_only_with_one() {
    for index in 0..LEADS {
        let with_click = write(&request(
            index,
            Channel::Sms,
            Tone::Friendly,
            Some(clicked(Some("the case study"))),
        ));
        assert!(
            with_click
                .body
                .contains("Saw you had a look at the case study."),
            "lead {index}: {}",
            with_click.body
        );
        assert!(char_count(&with_click.body) <= TEXT_BODY_MAX_CHARS);

        let without = write(&request(
            index,
            Channel::Sms,
            Tone::Friendly,
            Some(engagement(Channel::Sms)),
        ));
        assert_eq!(
            found(&without.body, &CLICK_WORDS),
            None,
            "lead {index}: {}",
            without.body
        );
    }
}

#[test]
fn text_after_bounced_email_says_so() {
    let context = EngagementContext {
        previous_bounced: true,
        ..engagement(Channel::Email)
    };
    let draft = write(&request(2, Channel::Sms, Tone::Friendly, Some(context)));

    assert!(
        draft.body.contains("My earlier email did not reach you."),
        "{}",
        draft.body
    );
    assert!(!draft.body.contains("Following up"), "{}", draft.body);
}

#[test]
fn first_message_ignores_engagement() {
    for index in 0..20 {
        let mut with_context = request(
            index,
            Channel::Email,
            Tone::Friendly,
            Some(clicked(Some("the pricing page"))),
        );
        with_context.step_index = 0;
        let mut without = with_context.clone();
        without.engagement = None;

        assert_eq!(write(&with_context), write(&without), "lead {index}");
    }
}

fn subject_input(index: u32, engagement: EngagementContext) -> FollowUpSubjectInput {
    let fields = generated_fields(index);
    FollowUpSubjectInput {
        lead_id: lead_id(index),
        hook: research(&fields, &generated_signals(index)).hook,
        fields,
        step_index: 1,
        engagement,
    }
}

fn assert_subject_length(subject: &str) {
    let chars = char_count(subject);
    assert!(
        (SUBJECT_MIN_CHARS..=SUBJECT_MAX_CHARS).contains(&chars),
        "{chars} characters: {subject:?}"
    );
}

#[test]
fn subjects_refer_to_click() {
    for index in 0..LEADS {
        let variants =
            follow_up_subject_variants(&subject_input(index, clicked(Some("the pricing page"))));

        assert!(variants.a.contains("the pricing page"), "{variants:?}");
        assert!(variants.b.contains("the pricing page"), "{variants:?}");
        assert!(variants.a.ends_with(|c: char| c != '?'), "{variants:?}");
        assert!(variants.b.ends_with('?'), "{variants:?}");
        assert_subject_length(&variants.a);
        assert_subject_length(&variants.b);
    }
}

#[test]
fn subjects_without_click_never_mention_one() {
    for index in 0..LEADS {
        let variants =
            follow_up_subject_variants(&subject_input(index, engagement(Channel::Email)));

        for subject in [&variants.a, &variants.b] {
            assert_eq!(found(subject, &CLICK_WORDS), None, "{subject:?}");
            assert_subject_length(subject);
        }
        assert_ne!(variants.a, variants.b);
    }
}

#[test]
fn subjects_refer_to_question() {
    let context = EngagementContext {
        question: Some("How long does setup take?".into()),
        ..engagement(Channel::Email)
    };
    for index in 0..LEADS {
        let variants = follow_up_subject_variants(&subject_input(index, context.clone()));

        assert!(variants.a.contains("question"), "{variants:?}");
        assert!(variants.b.contains("question"), "{variants:?}");
        assert_subject_length(&variants.a);
        assert_subject_length(&variants.b);
    }
}

#[test]
fn subject_assignment_is_stable_per_lead() {
    let first = follow_up_subject_variants(&subject_input(7, clicked(None)));
    let mut later = subject_input(7, engagement(Channel::Email));
    later.step_index = 3;
    let second = follow_up_subject_variants(&later);

    assert_eq!(first.assigned, second.assigned);
}
