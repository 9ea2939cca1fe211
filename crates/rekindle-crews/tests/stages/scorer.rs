//! Scorer: tier boundaries, each factor's reasons, clamping and determinism.

use std::time::Duration;

use chrono::TimeDelta;
use rekindle_crews::{LeadScore, ScoreFactor, Scorer, ScorerInput, run_stage, score_lead};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Email, Tier};

use crate::common::{generated_fields, lead_id, now};

fn points(score: &LeadScore, factor: ScoreFactor) -> i32 {
    score
        .reasons
        .iter()
        .filter(|reason| reason.factor == factor)
        .map(|reason| reason.points)
        .sum()
}

fn contacted_days_ago(days: i64) -> LeadFields {
    LeadFields {
        email: Email::parse("lead@example.com").ok(),
        last_contacted_at: Some(now() - TimeDelta::days(days)),
        ..LeadFields::default()
    }
}

/// 40 baseline + 20 recency + 10 engagement + 5 manager + 4 fields = 79.
fn warm_79() -> LeadFields {
    LeadFields {
        first_name: Some("Anna".into()),
        job_title: Some("Sales Manager".into()),
        engagement_count: Some(10),
        ..contacted_days_ago(100)
    }
}

/// 40 baseline + 4 recency + 4 engagement + 1 title + 3 nurture + 7 fields = 59.
fn cold_59() -> LeadFields {
    LeadFields {
        first_name: Some("Tom".into()),
        last_name: Some("Becker".into()),
        company: Some("Fernweh Reisen".into()),
        job_title: Some("Analyst".into()),
        crm_status: Some("Nurture".into()),
        engagement_count: Some(1),
        ..contacted_days_ago(400)
    }
}

#[test]
fn tier_boundary_hot_and_warm() {
    let warm = score_lead(&warm_79(), now());
    assert_eq!(warm.score, 79, "{:#?}", warm.reasons);
    assert_eq!(warm.tier, Tier::Warm);

    let hot_fields = LeadFields {
        last_name: Some("Schmidt".into()),
        ..warm_79()
    };
    let hot = score_lead(&hot_fields, now());
    assert_eq!(hot.score, 80, "{:#?}", hot.reasons);
    assert_eq!(hot.tier, Tier::Hot);
}

#[test]
fn tier_boundary_warm_and_cold() {
    let cold = score_lead(&cold_59(), now());
    assert_eq!(cold.score, 59, "{:#?}", cold.reasons);
    assert_eq!(cold.tier, Tier::Cold);

    let warm_fields = LeadFields {
        notes: Some("Met at the trade show.".into()),
        ..cold_59()
    };
    let warm = score_lead(&warm_fields, now());
    assert_eq!(warm.score, 60, "{:#?}", warm.reasons);
    assert_eq!(warm.tier, Tier::Warm);
}

#[test]
fn recency_sweet_spot() {
    let cases = [
        (0, -15),
        (29, -15),
        (30, 14),
        (89, 14),
        (90, 20),
        (180, 20),
        (181, 14),
        (365, 14),
        (366, 4),
        (730, 4),
        (731, -6),
        (-3, 0),
    ];
    for (days, expected) in cases {
        let score = score_lead(&contacted_days_ago(days), now());
        assert_eq!(
            points(&score, ScoreFactor::Recency),
            expected,
            "{days} days"
        );
    }
}

#[test]
fn unknown_date_is_neutral() {
    let score = score_lead(&LeadFields::default(), now());
    assert_eq!(points(&score, ScoreFactor::Recency), 0);
    let recency = score
        .reasons
        .iter()
        .find(|reason| reason.factor == ScoreFactor::Recency)
        .unwrap();
    assert!(recency.detail.contains("unknown"), "{}", recency.detail);
}

#[test]
fn reasons_cover_every_factor() {
    let score = score_lead(&generated_fields(1), now());
    for factor in [
        ScoreFactor::Baseline,
        ScoreFactor::Recency,
        ScoreFactor::Engagement,
        ScoreFactor::CrmStatus,
        ScoreFactor::NoteCue,
        ScoreFactor::Seniority,
        ScoreFactor::Completeness,
    ] {
        assert!(
            score.reasons.iter().any(|reason| reason.factor == factor),
            "{factor:?} missing"
        );
    }
    assert!(score.reasons.iter().all(|reason| !reason.detail.is_empty()));
}

#[test]
fn score_is_clamped_sum_of_reasons() {
    for index in 0..200 {
        let score = score_lead(&generated_fields(index), now());
        let total: i32 = score.reasons.iter().map(|reason| reason.points).sum();
        assert_eq!(i32::from(score.score), total.clamp(0, 100), "lead {index}");
        assert_eq!(score.tier, Tier::from_score(score.score), "lead {index}");
    }
}

#[test]
fn engagement_and_crm_status() {
    let fields = |count: Option<u32>, status: &str| LeadFields {
        engagement_count: count,
        crm_status: Some(status.into()),
        ..LeadFields::default()
    };
    let cases = [
        (Some(0), "Closed lost", -4, 6),
        (Some(2), "Opportunity", 4, 10),
        (Some(5), "Bad timing", 8, 10),
        (Some(30), "UNQUALIFIED", 10, -20),
        (None, "Closed won", 0, -10),
        (None, "Something else", 0, 0),
    ];
    for (count, status, engagement, crm) in cases {
        let score = score_lead(&fields(count, status), now());
        assert_eq!(
            points(&score, ScoreFactor::Engagement),
            engagement,
            "{count:?}"
        );
        assert_eq!(points(&score, ScoreFactor::CrmStatus), crm, "{status}");
    }
}

#[test]
fn note_cues_positive_and_negative() {
    let notes_points = |notes: &str| {
        let fields = LeadFields {
            notes: Some(notes.into()),
            ..LeadFields::default()
        };
        points(&score_lead(&fields, now()), ScoreFactor::NoteCue)
    };
    assert_eq!(notes_points("Asked for pricing."), 10);
    assert_eq!(notes_points("Very interested."), 6);
    assert_eq!(notes_points("Not interested."), -25);
    assert_eq!(notes_points("Please unsubscribe me"), -50);
    assert_eq!(notes_points("Left the company"), -30);
    assert_eq!(notes_points("Contact too recent"), -10);
    assert_eq!(notes_points("Nothing useful here"), 0);
    // Pricing 10 + call me after 8 + re-evaluating 8 + case study 6 is capped at 20.
    assert_eq!(
        notes_points("Asked for pricing, call me after Q3, re-evaluating, wants a case study"),
        20
    );
}

#[test]
fn cap_is_explained() {
    let fields = LeadFields {
        notes: Some("Asked for pricing, call me after Q3, re-evaluating".into()),
        ..LeadFields::default()
    };
    let score = score_lead(&fields, now());
    let capped = score
        .reasons
        .iter()
        .find(|reason| reason.detail.contains("cap"))
        .expect("a capped cue");
    assert_eq!(capped.points, 2, "{:#?}", score.reasons);
}

#[test]
fn seniority_in_four_languages() {
    let title_points = |title: &str| {
        let fields = LeadFields {
            job_title: Some(title.into()),
            ..LeadFields::default()
        };
        points(&score_lead(&fields, now()), ScoreFactor::Seniority)
    };
    for (title, expected) in [
        ("Chief Revenue Officer", 12),
        ("Geschäftsführer", 12),
        ("VP Marketing", 9),
        ("Head of Sales", 9),
        ("Leiterin Einkauf", 9),
        ("Directrice marketing", 9),
        ("Director Comercial", 9),
        ("Office Manager", 5),
        ("Gerente", 5),
        ("Sales Associate", 1),
    ] {
        assert_eq!(title_points(title), expected, "{title}");
    }
}

#[test]
fn score_clamps_both_ends() {
    let best = LeadFields {
        first_name: Some("Anna".into()),
        last_name: Some("Lee".into()),
        company: Some("Acme".into()),
        job_title: Some("CEO".into()),
        notes: Some("Asked for pricing, re-evaluating, call me after Q3".into()),
        crm_status: Some("Opportunity".into()),
        engagement_count: Some(20),
        ..contacted_days_ago(120)
    };
    assert_eq!(score_lead(&best, now()).score, 100);

    let worst = LeadFields {
        notes: Some("Not interested, unsubscribe, left the company".into()),
        crm_status: Some("Unqualified".into()),
        engagement_count: Some(0),
        ..contacted_days_ago(3)
    };
    let score = score_lead(&worst, now());
    assert_eq!(score.score, 0);
    assert_eq!(score.tier, Tier::Cold);
}

#[test]
fn score_is_deterministic() {
    for index in [0, 50, 199] {
        assert_eq!(
            score_lead(&generated_fields(index), now()),
            score_lead(&generated_fields(index), now())
        );
    }
}

#[tokio::test]
async fn stage_records_score() {
    let input = ScorerInput {
        lead_id: lead_id(7),
        fields: warm_79(),
        now: now(),
    };
    let (result, record) = run_stage(&Scorer, input, Duration::from_secs(1)).await;
    assert_eq!(result.expect("scorer succeeds").score, 79);
    assert_eq!(record.stage, "scorer");
    assert_eq!(record.output["score"], 79);
    assert_eq!(record.output["tier"], "warm");
    assert!(
        !record.input_summary.contains("Anna"),
        "{}",
        record.input_summary
    );
}
