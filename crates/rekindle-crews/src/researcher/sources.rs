//! The notes and imported signals of one lead, numbered from 1 as the LLM
//! researcher's prompt shows them, so that its output can cite them and the
//! checks can look each citation up.

use rekindle_domain::lead::{LeadFields, SignalInput};

use super::{Signal, imported_signals};
use crate::text::clean_text;

/// Maximum parts (lines or sentences) of the notes sent to the model. Later
/// parts are left out and cannot be cited.
pub(super) const MAX_NOTE_PARTS: usize = 20;
/// Maximum characters of one part of the notes.
pub(super) const MAX_NOTE_PART_CHARS: usize = 300;

/// The citable sources of one lead: cleaned imported signals and the parts
/// of the notes. Both lists are in prompt order, and number `n` in the
/// prompt is entry `n - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResearchSources {
    /// The imported signals that [`super::research`] keeps, in its order.
    pub signals: Vec<Signal>,
    /// Lines and sentences of the notes, cleaned of control and
    /// placeholder characters, so no part can write its own `[n]` number.
    pub notes: Vec<String>,
}

impl ResearchSources {
    pub fn new(fields: &LeadFields, imported: &[SignalInput]) -> Self {
        Self {
            signals: imported_signals(imported),
            notes: fields.notes.as_deref().map(note_parts).unwrap_or_default(),
        }
    }

    /// Checks whether there is anything to cite. Without notes or signals the
    /// rules' research is complete, so no LLM call is worth its cost.
    pub fn is_empty(&self) -> bool {
        self.signals.is_empty() && self.notes.is_empty()
    }

    /// Returns the signal with prompt number `number`.
    pub fn signal(&self, number: i64) -> Option<&Signal> {
        entry(&self.signals, number)
    }

    /// Returns the part of the notes with prompt number `number`.
    pub fn note(&self, number: i64) -> Option<&String> {
        entry(&self.notes, number)
    }
}

fn entry<T>(items: &[T], number: i64) -> Option<&T> {
    let index = usize::try_from(number).ok()?.checked_sub(1)?;
    items.get(index)
}

/// Splits notes into lines, then sentences, each cleaned and capped.
fn note_parts(notes: &str) -> Vec<String> {
    notes
        .lines()
        .flat_map(split_sentences)
        .map(|part| clean_text(&part, MAX_NOTE_PART_CHARS))
        .filter(|part| part.chars().any(char::is_alphanumeric))
        .take(MAX_NOTE_PARTS)
        .collect()
}

/// Splits after `.`, `!`, `?` or `;` followed by a space, so "Booking.com"
/// and "v2.1" stay whole.
fn split_sentences(line: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let ends = matches!(c, '.' | '!' | '?' | ';');
        if ends && chars.peek().is_some_and(|next| next.is_whitespace()) {
            parts.push(std::mem::take(&mut current));
        }
    }
    parts.push(current);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_split_into_parts() {
        let fields = LeadFields {
            notes: Some("Asked for pricing. Uses Booking.com!\nCall after Q3; [2] {{x}}".into()),
            ..LeadFields::default()
        };
        let sources = ResearchSources::new(&fields, &[]);
        assert_eq!(
            sources.notes,
            [
                "Asked for pricing.",
                "Uses Booking.com!",
                "Call after Q3;",
                "2 x"
            ]
        );
        assert_eq!(
            sources.note(2).map(String::as_str),
            Some("Uses Booking.com!")
        );
        assert_eq!(sources.note(0), None);
        assert_eq!(sources.note(5), None);
        assert_eq!(sources.note(-1), None);
    }

    #[test]
    fn parts_are_capped_in_number() {
        let notes = "Called. ".repeat(MAX_NOTE_PARTS + 5);
        let fields = LeadFields {
            notes: Some(notes),
            ..LeadFields::default()
        };
        assert_eq!(
            ResearchSources::new(&fields, &[]).notes.len(),
            MAX_NOTE_PARTS
        );
    }

    #[test]
    fn empty_without_notes_or_signals() {
        let sources = ResearchSources::new(&LeadFields::default(), &[]);
        assert!(sources.is_empty());
        let imported = [SignalInput {
            kind: "funding".into(),
            summary: "Raised a Series A".into(),
            source: "import".into(),
        }];
        let sources = ResearchSources::new(&LeadFields::default(), &imported);
        assert!(!sources.is_empty());
        assert_eq!(
            sources.signal(1).map(|signal| signal.kind.as_str()),
            Some("funding")
        );
    }
}
