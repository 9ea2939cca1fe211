//! Cues: regular expressions over normalised text, each pointing to one label.

mod automatic;
mod intent;
mod objection;
mod opt_out;

use std::sync::LazyLock;

use regex::Regex;

use crate::{Channel, ObjectionKind, ReplyLabel};

use super::text::is_negated;

/// Weight of a cue's evidence for its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Suggests the label, but a strong cue of a later label outranks it.
    Weak,
    /// Decides the label unless an earlier label in the precedence order also
    /// has a strong cue.
    Strong,
}

/// Part of the reply that a cue is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The reply's own text, after quotes are removed and normalised.
    Body,
    /// The subject line, normalised.
    Subject,
}

/// The channels a cue applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    All,
    /// SMS and WhatsApp, where carrier keywords such as END or QUIT apply.
    TextMessages,
}

/// One cue as written in the tables.
#[derive(Debug, Clone, Copy)]
pub struct CueSpec {
    pub name: &'static str,
    pub pattern: &'static str,
    pub strength: Strength,
    pub scope: Scope,
    pub channels: Channels,
    /// Whether a negator shortly before the match ("don't", "no need to")
    /// turns the cue into a weak not-interested cue.
    pub negatable: bool,
    pub objection: Option<ObjectionKind>,
}

impl CueSpec {
    pub const fn strong(name: &'static str, pattern: &'static str) -> Self {
        Self {
            name,
            pattern,
            strength: Strength::Strong,
            scope: Scope::Body,
            channels: Channels::All,
            negatable: false,
            objection: None,
        }
    }

    pub const fn weak(name: &'static str, pattern: &'static str) -> Self {
        Self {
            strength: Strength::Weak,
            ..Self::strong(name, pattern)
        }
    }

    pub const fn in_subject(self) -> Self {
        Self {
            scope: Scope::Subject,
            ..self
        }
    }

    pub const fn text_messages_only(self) -> Self {
        Self {
            channels: Channels::TextMessages,
            ..self
        }
    }

    pub const fn negatable(self) -> Self {
        Self {
            negatable: true,
            ..self
        }
    }

    pub const fn objection(self, kind: ObjectionKind) -> Self {
        Self {
            objection: Some(kind),
            ..self
        }
    }
}

/// The cues of one label.
pub struct CueGroup {
    pub label: ReplyLabel,
    pub cues: &'static [CueSpec],
}

/// Every cue table. The order here does not matter: the decision applies the
/// precedence order.
const GROUPS: &[CueGroup] = &[
    opt_out::OPT_OUT,
    automatic::BOUNCE,
    automatic::OUT_OF_OFFICE,
    automatic::AUTO_REPLY,
    intent::NOT_INTERESTED,
    intent::REFERRAL,
    objection::OBJECTION,
    intent::MEETING_REQUEST,
    intent::INTERESTED,
    intent::QUESTION,
];

struct CompiledCue {
    label: ReplyLabel,
    spec: &'static CueSpec,
    regex: Regex,
}

static COMPILED: LazyLock<Vec<CompiledCue>> = LazyLock::new(compile_all);

fn compile_all() -> Vec<CompiledCue> {
    GROUPS
        .iter()
        .flat_map(|group| group.cues.iter().map(move |spec| (group.label, spec)))
        .map(|(label, spec)| CompiledCue {
            label,
            spec,
            // The patterns are constants, and a unit test compiles every one.
            regex: Regex::new(spec.pattern).unwrap_or_else(|error| {
                panic!("cue {} has an invalid pattern: {error}", spec.name)
            }),
        })
        .collect()
}

/// A cue found in a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CueHit {
    /// The label the hit counts for: a negated meeting or interest cue counts
    /// as a weak not-interested cue.
    pub label: ReplyLabel,
    pub name: &'static str,
    pub strength: Strength,
    pub objection: Option<ObjectionKind>,
    /// Byte offset of the match in its scope's text.
    pub position: usize,
    pub negated: bool,
}

impl CueHit {
    /// Name reported in a classification, with a `negated:` prefix for a cue
    /// whose meaning a negator reversed.
    pub fn display_name(&self) -> String {
        if self.negated {
            format!("negated:{}", self.name)
        } else {
            self.name.to_owned()
        }
    }
}

/// Finds every cue in the normalised `body` and `subject`, one hit per cue.
pub fn find_hits(channel: Channel, body: &str, subject: &str) -> Vec<CueHit> {
    COMPILED
        .iter()
        .filter(|cue| applies_to(cue.spec.channels, channel))
        .filter_map(|cue| {
            let text = match cue.spec.scope {
                Scope::Body => body,
                Scope::Subject => subject,
            };
            find_hit(cue, text)
        })
        .collect()
}

fn applies_to(channels: Channels, channel: Channel) -> bool {
    match channels {
        Channels::All => true,
        Channels::TextMessages => matches!(channel, Channel::Sms | Channel::Whatsapp),
    }
}

/// Returns the first plain match of a cue, or else its first negated match.
fn find_hit(cue: &CompiledCue, text: &str) -> Option<CueHit> {
    let mut negated_start = None;

    for found in cue.regex.find_iter(text) {
        if cue.spec.negatable && is_negated(text, found.start()) {
            negated_start.get_or_insert(found.start());
            continue;
        }
        return Some(hit(cue, found.start(), false));
    }
    negated_start.map(|start| hit(cue, start, true))
}

fn hit(cue: &CompiledCue, position: usize, negated: bool) -> CueHit {
    let (label, strength) = if negated {
        (ReplyLabel::NotInterested, Strength::Weak)
    } else {
        (cue.label, cue.spec.strength)
    };
    CueHit {
        label,
        name: cue.spec.name,
        strength,
        objection: cue.spec.objection,
        position,
        negated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(
            COMPILED.len(),
            GROUPS.iter().map(|g| g.cues.len()).sum::<usize>()
        );
    }

    #[test]
    fn cue_names_are_unique_and_prefixed() {
        let mut names = std::collections::HashSet::new();
        for group in GROUPS {
            for cue in group.cues {
                assert!(names.insert(cue.name), "duplicate cue {}", cue.name);
                let prefix = format!("{}.", group.label.as_str());
                assert!(cue.name.starts_with(&prefix), "{} lacks {prefix}", cue.name);
            }
        }
    }

    #[test]
    fn objection_cues_carry_a_kind() {
        for group in GROUPS {
            for cue in group.cues {
                let is_objection = group.label == ReplyLabel::Objection;
                assert_eq!(cue.objection.is_some(), is_objection, "{}", cue.name);
            }
        }
    }

    #[test]
    fn negated_cue_counts_as_not_interested() {
        let hits = find_hits(Channel::Email, "no need to book a call", "");
        let negated: Vec<&CueHit> = hits.iter().filter(|hit| hit.negated).collect();
        assert!(!negated.is_empty(), "{hits:?}");
        for hit in negated {
            assert_eq!(hit.label, ReplyLabel::NotInterested);
            assert_eq!(hit.strength, Strength::Weak);
        }
    }

    #[test]
    fn text_message_keywords_skip_email() {
        let sms = find_hits(Channel::Sms, "end", "");
        assert!(sms.iter().any(|hit| hit.label == ReplyLabel::OptOut));

        let email = find_hits(Channel::Email, "end", "");
        assert!(email.iter().all(|hit| hit.label != ReplyLabel::OptOut));
    }
}
