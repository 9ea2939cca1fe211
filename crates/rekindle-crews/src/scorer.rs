//! The scorer: how worth reviving a lead is, 0 to 100, with its reasons.
//!
//! The score is a baseline plus the points of each factor, clamped to 0..=100.
//! It depends only on the lead's fields and the instant `now`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{LeadId, Tier};
use serde::{Deserialize, Serialize};

use crate::cues::{NoteCue, find_cues};
use crate::seniority::{Seniority, seniority_of};
use crate::stage::{Stage, StageError};
use crate::text::{clean_text, contains_phrase, normalise_for_matching};

/// Points every lead starts from.
pub const BASELINE_POINTS: i32 = 40;
/// Maximum points all positive note cues together can add.
pub const MAX_POSITIVE_CUE_POINTS: i32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreFactor {
    Baseline,
    Recency,
    Engagement,
    CrmStatus,
    NoteCue,
    Seniority,
    Completeness,
}

/// One factor's contribution to a score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreReason {
    pub factor: ScoreFactor,
    pub points: i32,
    pub detail: String,
}

/// A lead's revivability score with the reasons that add up to it (before the
/// clamp to 0..=100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadScore {
    pub score: u8,
    pub tier: Tier,
    pub reasons: Vec<ScoreReason>,
}

/// Scores a lead as of `now`.
pub fn score_lead(fields: &LeadFields, now: DateTime<Utc>) -> LeadScore {
    let mut reasons = vec![reason(
        ScoreFactor::Baseline,
        BASELINE_POINTS,
        "starting points for every lead",
    )];
    reasons.push(recency_reason(fields.last_contacted_at, now));
    reasons.push(engagement_reason(fields.engagement_count));
    reasons.push(crm_status_reason(fields.crm_status.as_deref()));
    reasons.extend(note_reasons(fields.notes.as_deref()));
    reasons.push(seniority_reason(fields.job_title.as_deref()));
    reasons.push(completeness_reason(fields));

    let total: i32 = reasons.iter().map(|reason| reason.points).sum();
    let score = u8::try_from(total.clamp(0, 100)).unwrap_or(0);
    LeadScore {
        score,
        tier: Tier::from_score(score),
        reasons,
    }
}

fn reason(factor: ScoreFactor, points: i32, detail: impl Into<String>) -> ScoreReason {
    ScoreReason {
        factor,
        points,
        detail: detail.into(),
    }
}

/// Rates the time since the last contact. 30 to 365 days is the sweet spot,
/// peaking at 90 to 180 days. Sooner is too recent for a "been a while"
/// message, and interest fades after a year.
fn recency_reason(last_contacted_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> ScoreReason {
    let Some(last) = last_contacted_at else {
        return reason(
            ScoreFactor::Recency,
            0,
            "last contact date unknown: neutral",
        );
    };
    let days = (now - last).num_days();
    let (points, judgement) = match days {
        ..0 => (0, "date is in the future, so it is ignored"),
        0..=29 => (-15, "too recent for a reactivation message"),
        30..=89 => (14, "dormant long enough to re-engage"),
        90..=180 => (20, "the best range for a revival"),
        181..=365 => (14, "still within the first year"),
        366..=730 => (4, "over a year ago, so interest has faded"),
        _ => (-6, "over two years ago, so the contact is cold"),
    };
    reason(
        ScoreFactor::Recency,
        points,
        format!("last contacted {days} days ago: {judgement}"),
    )
}

fn engagement_reason(engagement_count: Option<u32>) -> ScoreReason {
    let Some(count) = engagement_count else {
        return reason(
            ScoreFactor::Engagement,
            0,
            "engagement history unknown: neutral",
        );
    };
    let points = match count {
        0 => -4,
        1..=2 => 4,
        3..=9 => 8,
        _ => 10,
    };
    reason(
        ScoreFactor::Engagement,
        points,
        format!("{count} earlier engagements (opens, replies, meetings)"),
    )
}

/// CRM statuses by how promising a revival is, most specific phrases first.
const CRM_STATUSES: &[(&[&str], i32, &str)] = &[
    (
        &[
            "do not contact",
            "unqualified",
            "disqualified",
            "junk",
            "spam",
        ],
        -20,
        "was ruled out",
    ),
    (
        &["closed won", "customer", "won"],
        -10,
        "is already a customer",
    ),
    (
        &["opportunity", "proposal", "negotiation"],
        10,
        "was an open opportunity",
    ),
    (
        &["bad timing", "not now"],
        10,
        "stalled on timing, which may have changed",
    ),
    (&["closed lost", "lost"], 6, "had a real deal that was lost"),
    (
        &["demo no show", "no show"],
        4,
        "booked a demo but did not attend",
    ),
    (&["nurture"], 3, "was in nurture"),
    (
        &["no response", "unresponsive", "no reply"],
        2,
        "stopped responding",
    ),
];

fn crm_status_reason(status: Option<&str>) -> ScoreReason {
    let Some(status) = status
        .map(|text| clean_text(text, 40))
        .filter(|text| !text.is_empty())
    else {
        return reason(ScoreFactor::CrmStatus, 0, "no CRM status: neutral");
    };
    let normalised = normalise_for_matching(&status);
    let matched = CRM_STATUSES.iter().find(|(phrases, _, _)| {
        phrases
            .iter()
            .any(|phrase| contains_phrase(&normalised, phrase))
    });
    match matched {
        Some((_, points, meaning)) => reason(
            ScoreFactor::CrmStatus,
            *points,
            format!("CRM status \"{status}\": the lead {meaning}"),
        ),
        None => reason(
            ScoreFactor::CrmStatus,
            0,
            format!("CRM status \"{status}\" not recognised: neutral"),
        ),
    }
}

fn cue_points(cue: NoteCue) -> i32 {
    match cue {
        NoteCue::AskedForPricing => 10,
        NoteCue::CallMeAfter => 8,
        NoteCue::ReEvaluating => 8,
        NoteCue::Interested => 6,
        NoteCue::NextYear => 6,
        NoteCue::CaseStudy => 6,
        NoteCue::Budget => 5,
        NoteCue::NotInterested => -25,
        NoteCue::Unsubscribe => -50,
        NoteCue::LeftCompany => -30,
        NoteCue::TooRecent => -10,
        NoteCue::NoBudget => -8,
    }
}

/// Returns one reason per cue. Positive cues together add at most
/// [`MAX_POSITIVE_CUE_POINTS`], taken from the strongest first.
fn note_reasons(notes: Option<&str>) -> Vec<ScoreReason> {
    let Some(notes) = notes.filter(|text| !text.trim().is_empty()) else {
        return vec![reason(ScoreFactor::NoteCue, 0, "no notes")];
    };
    let mut cues = find_cues(notes);
    if cues.is_empty() {
        return vec![reason(
            ScoreFactor::NoteCue,
            0,
            "notes contain no known cue",
        )];
    }

    cues.sort_by_key(|cue| std::cmp::Reverse(cue_points(*cue)));
    let mut positive_left = MAX_POSITIVE_CUE_POINTS;
    cues.into_iter()
        .map(|cue| {
            let full = cue_points(cue);
            if full <= 0 {
                return reason(
                    ScoreFactor::NoteCue,
                    full,
                    format!("notes: {}", cue.label()),
                );
            }
            let granted = full.min(positive_left);
            positive_left -= granted;
            let detail = if granted < full {
                format!(
                    "notes: {} (limited by the {MAX_POSITIVE_CUE_POINTS}-point cap for note cues)",
                    cue.label()
                )
            } else {
                format!("notes: {}", cue.label())
            };
            reason(ScoreFactor::NoteCue, granted, detail)
        })
        .collect()
}

fn seniority_reason(job_title: Option<&str>) -> ScoreReason {
    let Some(title) = job_title
        .map(|text| clean_text(text, 60))
        .filter(|text| !text.is_empty())
    else {
        return reason(ScoreFactor::Seniority, 0, "no job title: neutral");
    };
    let (points, level) = match seniority_of(&title) {
        Seniority::Executive => (12, "executive or founder"),
        Seniority::Head => (9, "VP, head or director"),
        Seniority::Manager => (5, "manager"),
        Seniority::Other => (1, "individual contributor or unknown level"),
    };
    reason(
        ScoreFactor::Seniority,
        points,
        format!("job title \"{title}\": {level}"),
    )
}

/// Gives one point per useful field, so a complete record gets 8.
fn completeness_reason(fields: &LeadFields) -> ScoreReason {
    let present =
        |value: &Option<String>| value.as_deref().is_some_and(|text| !text.trim().is_empty());
    let checks = [
        fields.email.is_some() || fields.phone.is_some(),
        present(&fields.first_name),
        present(&fields.last_name),
        present(&fields.company),
        present(&fields.job_title),
        present(&fields.notes),
        fields.last_contacted_at.is_some(),
        present(&fields.crm_status),
    ];
    let count = checks.iter().filter(|check| **check).count();
    let points = i32::try_from(count).unwrap_or(0);
    reason(
        ScoreFactor::Completeness,
        points,
        format!("{count} of {} useful fields present", checks.len()),
    )
}

/// Input of the scorer stage.
#[derive(Debug, Clone)]
pub struct ScorerInput {
    pub lead_id: LeadId,
    pub fields: LeadFields,
    pub now: DateTime<Utc>,
}

/// Rule-based scorer stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scorer;

#[async_trait]
impl Stage for Scorer {
    type Input = ScorerInput;
    type Output = LeadScore;

    fn name(&self) -> &'static str {
        "scorer"
    }

    fn input_summary(&self, input: &ScorerInput) -> String {
        format!(
            "lead {}: last contact {}, engagement {}, notes {}",
            input.lead_id,
            if input.fields.last_contacted_at.is_some() {
                "known"
            } else {
                "unknown"
            },
            input
                .fields
                .engagement_count
                .map_or_else(|| "unknown".to_owned(), |count| count.to_string()),
            if input.fields.notes.is_some() {
                "present"
            } else {
                "absent"
            },
        )
    }

    async fn run(&self, input: ScorerInput) -> Result<LeadScore, StageError> {
        Ok(score_lead(&input.fields, input.now))
    }
}
