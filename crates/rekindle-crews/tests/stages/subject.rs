//! Subject optimizer: two variants within limits and a stable, balanced split.

use std::collections::HashSet;

use rekindle_crews::text::char_count;
use rekindle_crews::{SubjectInput, SubjectVariant, assign_variant, research, subject_variants};

use crate::common::{generated_fields, generated_signals, lead_id};

fn input(index: u32, step_index: u32, draft_subject: Option<&str>) -> SubjectInput {
    let fields = generated_fields(index);
    SubjectInput {
        lead_id: lead_id(index),
        hook: research(&fields, &generated_signals(index)).hook,
        fields,
        step_index,
        draft_subject: draft_subject.map(str::to_owned),
        engagement: None,
    }
}

#[test]
fn variants_within_limits() {
    for step in 0..3 {
        for index in 0..200 {
            let variants = subject_variants(&input(index, step, None));
            for subject in [&variants.a, &variants.b] {
                let chars = char_count(subject);
                assert!(
                    (40..=60).contains(&chars),
                    "lead {index}: {chars} chars: {subject}"
                );
                assert!(
                    !subject.contains(['{', '}', '[', ']']),
                    "lead {index}: {subject}"
                );
            }
            assert_ne!(variants.a, variants.b, "lead {index}");
            assert!(
                variants.b.ends_with('?'),
                "variant B is a question: {}",
                variants.b
            );
        }
    }
}

#[test]
fn subjects_vary_between_leads() {
    let subjects: HashSet<String> = (0..200)
        .map(|index| subject_variants(&input(index, 0, None)).a)
        .collect();
    assert!(
        subjects.len() >= 40,
        "only {} distinct subjects",
        subjects.len()
    );
}

#[test]
fn assignment_is_stable_and_balanced() {
    let mut a_count = 0;
    for index in 0..400 {
        let variant = assign_variant(lead_id(index));
        assert_eq!(variant, assign_variant(lead_id(index)));
        if variant == SubjectVariant::A {
            a_count += 1;
        }
    }
    assert!(
        (160..=240).contains(&a_count),
        "{a_count} of 400 leads got variant A"
    );
}

#[test]
fn assigned_subject_matches_variant() {
    for index in 0..20 {
        let variants = subject_variants(&input(index, 0, None));
        let expected = match assign_variant(lead_id(index)) {
            SubjectVariant::A => &variants.a,
            SubjectVariant::B => &variants.b,
        };
        assert_eq!(variants.subject(), expected.as_str());
        assert_eq!(variants.assigned, assign_variant(lead_id(index)));
    }
}

#[test]
fn usable_draft_subject_is_variant_a() {
    let draft = "A subject written by the writer, long enough";
    assert_eq!(subject_variants(&input(3, 0, Some(draft))).a, draft);
}

#[test]
fn unusable_draft_subject_is_replaced() {
    for bad in [
        "Too short",
        "A subject with a {placeholder} that is long enough",
        "Read more at https://example.com/a-long-enough-path",
        "A subject that goes on and on well past the sixty character limit of the gate",
    ] {
        let variants = subject_variants(&input(3, 0, Some(bad)));
        assert_ne!(variants.a, bad);
        assert!(
            (40..=60).contains(&char_count(&variants.a)),
            "{}",
            variants.a
        );
    }
}
