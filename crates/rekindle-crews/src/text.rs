//! Text helpers shared by the stages: cleaning untrusted lead text, counting
//! words and characters, finding links and placeholders, and phrase matching.

/// Characters that template engines use for placeholders. Lead text never keeps
/// them, and the quality gate rejects a message that contains any of them.
pub const PLACEHOLDER_CHARS: [char; 6] = ['{', '}', '[', ']', '<', '>'];

/// Cleans untrusted text: removes control and invisible formatting characters
/// (including bidirectional overrides), removes placeholder characters, collapses
/// whitespace and caps the length at a word boundary.
pub fn clean_text(input: &str, max_chars: usize) -> String {
    let visible: String = input
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .filter(|c| !PLACEHOLDER_CHARS.contains(c))
        .collect();
    let collapsed = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    cap_at_word(&collapsed, max_chars)
}

/// Zero-width, bidirectional and byte-order characters (Unicode category Cf in
/// the ranges that appear in pasted text).
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Shortens text to at most `max_chars` characters, cutting at the last space
/// when there is one, so that no word is cut in half.
pub fn cap_at_word(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max_chars).collect();
    match cut.rfind(' ') {
        Some(space) if space > 0 => cut[..space].trim_end().to_owned(),
        _ => cut,
    }
}

/// Removes links and email addresses from cleaned text. A bare domain such as
/// `Booking.com` keeps its first label (`Booking`), because mail clients turn
/// bare domains into links.
pub fn remove_links(text: &str) -> String {
    let tokens: Vec<String> = text
        .split(' ')
        .filter_map(|token| {
            let core = trim_punctuation(token);
            if core.contains('@')
                || has_scheme(core)
                || core.to_ascii_lowercase().starts_with("www.")
            {
                None
            } else if is_domain_like(core) {
                core.split('.').next().map(str::to_owned)
            } else {
                Some(token.to_owned())
            }
        })
        .filter(|token| !token.is_empty())
        .collect();
    tokens.join(" ")
}

/// Finds every link in a message: URLs with a scheme, `www.` addresses and bare
/// domains. Returns the tokens with surrounding punctuation trimmed.
pub fn find_links(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(trim_punctuation)
        .filter(|token| {
            has_scheme(token)
                || token.to_ascii_lowercase().starts_with("www.")
                || is_domain_like(token)
        })
        .map(str::to_owned)
        .collect()
}

fn has_scheme(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    lower.contains("://") || lower.starts_with("mailto:") || lower.starts_with("tel:")
}

/// Checks for a token shaped like `name.tld` or `name.tld/path`: labels of
/// letters, digits or hyphens, and a last label of 2 to 24 letters.
fn is_domain_like(token: &str) -> bool {
    let host = token.split('/').next().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|label| label.is_empty()) {
        return false;
    }
    let all_labels_valid = labels
        .iter()
        .all(|label| label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let tld = labels[labels.len() - 1];
    let tld_valid = (2..=24).contains(&tld.len()) && tld.chars().all(|c| c.is_ascii_alphabetic());
    all_labels_valid && tld_valid
}

fn trim_punctuation(token: &str) -> &str {
    token.trim_matches(|c: char| {
        matches!(
            c,
            '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '\''
        )
    })
}

/// Number of words, counted as runs of non-whitespace.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Number of Unicode scalar values, the unit for subject and SMS limits.
pub fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// Lower-cases text and turns every run of non-alphanumeric characters into a
/// single space, with a space at each end, so that `contains_phrase` matches
/// whole words only (`cto` does not match inside `director`).
pub fn normalise_for_matching(text: &str) -> String {
    let mut normalised = String::with_capacity(text.len() + 2);
    normalised.push(' ');
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            normalised.push(c);
        } else if !normalised.ends_with(' ') {
            normalised.push(' ');
        }
    }
    if !normalised.ends_with(' ') {
        normalised.push(' ');
    }
    normalised
}

/// Checks whether normalised text contains a phrase as whole words. The phrase is
/// normalised the same way, so `re-evaluating` matches `re evaluating`.
pub fn contains_phrase(normalised: &str, phrase: &str) -> bool {
    normalised.contains(&normalise_for_matching(phrase))
}

/// Blanks out every whole-word occurrence of a phrase, so that a later search
/// for a shorter phrase (`interested` after `not interested`) cannot match it.
pub fn blank_phrase(normalised: &mut String, phrase: &str) -> bool {
    let needle = normalise_for_matching(phrase);
    if !normalised.contains(&needle) {
        return false;
    }
    let blank = format!(" {} ", "_".repeat(needle.len().saturating_sub(2)));
    *normalised = normalised.replace(&needle, &blank);
    true
}

/// Returns the English name of `month` (1 to 12), or an empty string for
/// any other number.
pub fn month_name(month: u32) -> &'static str {
    u8::try_from(month)
        .ok()
        .and_then(|number| chrono::Month::try_from(number).ok())
        .map_or("", |month| month.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_removes_controls() {
        let dirty = "Ana\u{0007}\u{202E}lia\r\n  {{first_name}} [Company]\u{200B}";
        assert_eq!(clean_text(dirty, 100), "Analia first_name Company");
    }

    #[test]
    fn clean_text_caps_at_word() {
        assert_eq!(clean_text("one two three four", 11), "one two");
        assert_eq!(clean_text("abcdefghij", 4), "abcd");
        assert_eq!(clean_text("李娜 王芳", 10), "李娜 王芳");
    }

    #[test]
    fn remove_links_drops_urls() {
        let text =
            "see https://evil.example/x or www.evil.example, mail bob@x.io at Booking.com today";
        assert_eq!(remove_links(text), "see or mail at Booking today");
    }

    #[test]
    fn find_links_sees_all_forms() {
        let links = find_links(
            "Visit https://a.example/u?t=1, www.b.example or c.example/x. Version 2.5 ok",
        );
        assert_eq!(
            links,
            vec!["https://a.example/u?t=1", "www.b.example", "c.example/x"]
        );
    }

    #[test]
    fn find_links_ignores_abbreviations() {
        assert!(find_links("e.g. this, i.e. that, version 3.10, Mr. Smith").is_empty());
    }

    #[test]
    fn phrase_matching_uses_whole_words() {
        let title = normalise_for_matching("Director of Sales");
        assert!(!contains_phrase(&title, "cto"));
        assert!(contains_phrase(&title, "director"));
        let notes = normalise_for_matching("Currently Re-Evaluating vendors.");
        assert!(contains_phrase(&notes, "re-evaluating"));
    }

    #[test]
    fn blank_phrase_hides_match() {
        let mut notes = normalise_for_matching("She is not interested.");
        assert!(blank_phrase(&mut notes, "not interested"));
        assert!(!contains_phrase(&notes, "interested"));
    }

    #[test]
    fn counts_words_and_chars() {
        assert_eq!(word_count(" Hi  Anna,\nhow are you? "), 5);
        assert_eq!(char_count("Grüße 李"), 7);
    }
}
