//! The decision: which label wins when a reply has cues for several.

use std::cmp::Reverse;

use crate::{ObjectionKind, ReplyLabel};

use super::cues::{CueHit, Strength};

/// Labels from the highest precedence to the lowest. The reasons are in the
/// module documentation of `replies`.
pub const PRECEDENCE: [ReplyLabel; 10] = [
    ReplyLabel::OptOut,
    ReplyLabel::Bounce,
    ReplyLabel::OutOfOffice,
    ReplyLabel::AutoReply,
    ReplyLabel::NotInterested,
    ReplyLabel::Referral,
    ReplyLabel::Objection,
    ReplyLabel::MeetingRequest,
    ReplyLabel::Interested,
    ReplyLabel::Question,
];

/// Confidence of a label decided by a strong cue.
pub const STRONG_CONFIDENCE: f32 = 0.9;
/// Confidence of a label decided by a weak cue.
pub const WEAK_CONFIDENCE: f32 = 0.6;
/// Confidence of the fallback label when no cue matched.
pub const FALLBACK_CONFIDENCE: f32 = 0.2;
/// Subtracted when another label has a cue at least as strong as the winner's.
pub const CONFLICT_PENALTY: f32 = 0.2;

/// Label given to a reply without any cue. A question pauses the sequence and
/// notifies the user, so a person reads what the rules could not.
pub const FALLBACK_LABEL: ReplyLabel = ReplyLabel::Question;

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub label: ReplyLabel,
    pub objection: Option<ObjectionKind>,
    pub confidence: f32,
}

/// Position of `label` in the precedence order.
pub fn precedence_rank(label: ReplyLabel) -> usize {
    PRECEDENCE
        .iter()
        .position(|candidate| *candidate == label)
        .unwrap_or(PRECEDENCE.len())
}

/// Picks the label: the first label in precedence order that has a strong
/// cue, else the first that has a weak cue, else `FALLBACK_LABEL`.
pub fn decide(hits: &[CueHit]) -> Decision {
    let strengths: Vec<(ReplyLabel, Strength)> = hits
        .iter()
        .map(|hit| (hit.label, effective_strength(hit, hits)))
        .collect();

    let winner = [Strength::Strong, Strength::Weak]
        .into_iter()
        .find_map(|wanted| {
            PRECEDENCE.into_iter().find_map(|label| {
                strengths
                    .contains(&(label, wanted))
                    .then_some((label, wanted))
            })
        });

    let Some((label, strength)) = winner else {
        return Decision {
            label: FALLBACK_LABEL,
            objection: None,
            confidence: FALLBACK_CONFIDENCE,
        };
    };

    Decision {
        label,
        objection: objection_kind(label, hits),
        confidence: confidence(label, strength, &strengths),
    }
}

/// Returns the strength a hit counts with. A weak absence cue ("on holiday")
/// counts as strong when the subject marks the reply as automatic ("Automatic
/// reply: ..."), because then no person wrote it.
fn effective_strength(hit: &CueHit, hits: &[CueHit]) -> Strength {
    let automatic_subject = hits.iter().any(|other| other.name == "auto_reply.subject");
    if hit.label == ReplyLabel::OutOfOffice && automatic_subject {
        Strength::Strong
    } else {
        hit.strength
    }
}

fn confidence(label: ReplyLabel, strength: Strength, strengths: &[(ReplyLabel, Strength)]) -> f32 {
    let base = match strength {
        Strength::Strong => STRONG_CONFIDENCE,
        Strength::Weak => WEAK_CONFIDENCE,
    };
    let conflicting = strengths
        .iter()
        .any(|(other, other_strength)| *other != label && *other_strength >= strength);

    if conflicting {
        base - CONFLICT_PENALTY
    } else {
        base
    }
}

/// Returns the kind of the strongest objection cue, the earliest one on a tie.
fn objection_kind(label: ReplyLabel, hits: &[CueHit]) -> Option<ObjectionKind> {
    if label != ReplyLabel::Objection {
        return None;
    }
    hits.iter()
        .filter(|hit| hit.label == ReplyLabel::Objection)
        .max_by_key(|hit| (hit.strength, Reverse(hit.position)))
        .and_then(|hit| hit.objection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(label: ReplyLabel, strength: Strength, position: usize) -> CueHit {
        CueHit {
            label,
            name: "test.cue",
            strength,
            objection: None,
            position,
            negated: false,
        }
    }

    #[test]
    fn precedence_lists_every_label_once() {
        for label in ReplyLabel::ALL {
            assert_eq!(
                PRECEDENCE
                    .iter()
                    .filter(|candidate| *candidate == label)
                    .count(),
                1,
                "{label}"
            );
        }
    }

    #[test]
    fn earlier_label_wins_among_strong() {
        let hits = [
            hit(ReplyLabel::MeetingRequest, Strength::Strong, 0),
            hit(ReplyLabel::OptOut, Strength::Strong, 10),
        ];
        let decision = decide(&hits);
        assert_eq!(decision.label, ReplyLabel::OptOut);
        assert_eq!(decision.confidence, STRONG_CONFIDENCE - CONFLICT_PENALTY);
    }

    #[test]
    fn strong_cue_beats_earlier_weak_cue() {
        let hits = [
            hit(ReplyLabel::OutOfOffice, Strength::Weak, 0),
            hit(ReplyLabel::MeetingRequest, Strength::Strong, 10),
        ];
        let decision = decide(&hits);
        assert_eq!(decision.label, ReplyLabel::MeetingRequest);
        assert_eq!(decision.confidence, STRONG_CONFIDENCE);
    }

    #[test]
    fn weak_cues_follow_precedence() {
        let hits = [
            hit(ReplyLabel::Question, Strength::Weak, 0),
            hit(ReplyLabel::Interested, Strength::Weak, 10),
        ];
        let decision = decide(&hits);
        assert_eq!(decision.label, ReplyLabel::Interested);
        assert_eq!(decision.confidence, WEAK_CONFIDENCE - CONFLICT_PENALTY);
    }

    #[test]
    fn no_cue_falls_back() {
        let decision = decide(&[]);
        assert_eq!(decision.label, FALLBACK_LABEL);
        assert_eq!(decision.confidence, FALLBACK_CONFIDENCE);
    }

    #[test]
    fn objection_kind_prefers_strong_then_earliest() {
        let mut price = hit(ReplyLabel::Objection, Strength::Strong, 20);
        price.objection = Some(ObjectionKind::Price);
        let mut timing = hit(ReplyLabel::Objection, Strength::Strong, 5);
        timing.objection = Some(ObjectionKind::Timing);

        let decision = decide(&[price, timing]);
        assert_eq!(decision.objection, Some(ObjectionKind::Timing));
    }
}
