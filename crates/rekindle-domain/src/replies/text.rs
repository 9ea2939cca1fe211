//! Text normalisation shared by the cue matcher and the date reader.

/// Maximum number of characters of a reply that the classifier reads. A reply's
/// own text is short, and the bound keeps the work linear in a known size even
/// when a sender pastes megabytes.
pub const MAX_ANALYSED_CHARS: usize = 32 * 1024;

/// Lowercases `text`, folds accented Latin letters to ASCII, unifies apostrophes
/// and dashes, and collapses every run of whitespace to one space.
///
/// Folding lets one cue match both "désinscrire" and "desinscrire", because
/// people often type without accents. Only the first `MAX_ANALYSED_CHARS`
/// characters are kept.
pub fn normalize(text: &str) -> String {
    let mut output = String::with_capacity(text.len().min(MAX_ANALYSED_CHARS));
    let mut pending_space = false;

    for character in text.chars().take(MAX_ANALYSED_CHARS) {
        if character.is_whitespace() {
            pending_space = !output.is_empty();
            continue;
        }
        if pending_space {
            output.push(' ');
            pending_space = false;
        }
        for lower in character.to_lowercase() {
            push_folded(&mut output, lower);
        }
    }
    output
}

/// Appends the ASCII form of one lowercase character, or the character itself
/// when it has no ASCII form.
fn push_folded(output: &mut String, character: char) {
    let folded = match character {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        'ß' => {
            output.push_str("ss");
            return;
        }
        'œ' => {
            output.push_str("oe");
            return;
        }
        '\u{2018}' | '\u{2019}' | '\u{02bc}' | '`' | '\u{00b4}' => '\'',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
        '\u{201c}' | '\u{201d}' | '\u{00ab}' | '\u{00bb}' => '"',
        other => other,
    };
    output.push(folded);
}

/// Words that turn the phrase after them into its opposite ("don't call me",
/// "no need to book"). Compared against whole words of normalised text.
const NEGATORS: &[&str] = &[
    "no",
    "not",
    "never",
    "don't",
    "dont",
    "doesn't",
    "doesnt",
    "didn't",
    "didnt",
    "won't",
    "wont",
    "wouldn't",
    "wouldnt",
    "can't",
    "cant",
    "cannot",
    "couldn't",
    "shouldn't",
    "isn't",
    "aren't",
    "without",
    "stop",
    "nor",
    "neither",
    "nicht",
    "kein",
    "keine",
    "keinen",
    "pas",
    "jamais",
    "nunca",
];

/// Words that cancel a negator right before them: "can't wait to chat" and
/// "don't hesitate to call me" are positive.
const NEGATION_IDIOMS: &[&str] = &["wait", "hesitate", "mind"];

/// How many words before a phrase are searched for a negator.
const NEGATION_WINDOW_WORDS: usize = 4;

/// Returns whether the phrase starting at byte `start` of normalised `text` is negated
/// by a word shortly before it in the same clause.
pub fn is_negated(text: &str, start: usize) -> bool {
    let before = &text[..start];
    let clause_start = before
        .rfind(['.', ',', ';', ':', '!', '?', '(', ')'])
        .map_or(0, |index| index + 1);
    let clause = &before[clause_start..];
    let clause = clause.rsplit(" but ").next().unwrap_or(clause);

    let words: Vec<&str> = clause.split_whitespace().collect();
    let window_start = words.len().saturating_sub(NEGATION_WINDOW_WORDS);
    let window = &words[window_start..];

    window.iter().enumerate().any(|(index, word)| {
        let followed_by_idiom = window
            .get(index + 1)
            .is_some_and(|next| NEGATION_IDIOMS.contains(next));
        NEGATORS.contains(word) && !followed_by_idiom
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_and_collapses() {
        assert_eq!(normalize("  Désinscrire\r\n  MOI  "), "desinscrire moi");
        assert_eq!(normalize("Don\u{2019}t — Straße"), "don't - strasse");
        assert_eq!(normalize("März"), "marz");
    }

    #[test]
    fn normalize_bounds_length() {
        let long = "a".repeat(MAX_ANALYSED_CHARS + 100);
        assert_eq!(normalize(&long).len(), MAX_ANALYSED_CHARS);
    }

    #[test]
    fn negation_within_clause() {
        let text = "no need to book anything";
        assert!(is_negated(text, text.find("book").unwrap()));

        let text = "don't call me";
        assert!(is_negated(text, text.find("call").unwrap()));

        let text = "no, call me tomorrow";
        assert!(!is_negated(text, text.find("call").unwrap()));

        let text = "not now but let's talk in may";
        assert!(!is_negated(text, text.find("let's").unwrap()));
    }

    #[test]
    fn negation_idioms_stay_positive() {
        let text = "can't wait to chat";
        assert!(!is_negated(text, text.find("chat").unwrap()));

        let text = "don't hesitate to call me";
        assert!(!is_negated(text, text.find("call").unwrap()));
    }
}
