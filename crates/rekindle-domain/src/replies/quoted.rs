//! Removal of quoted earlier messages and signatures from an email reply.

/// How many lines after a `From:` line are searched for a second header line
/// (`Sent:`, `To:`, `Subject:`) before the block counts as a quoted header.
const HEADER_BLOCK_LINES: usize = 4;

/// Lines that start the quoted original, a forwarded message, or the copy of
/// the original that a delivery status notification includes. Compared in
/// lower case after trimming.
const SEPARATOR_PREFIXES: &[&str] = &[
    "-----original message-----",
    "----- original message -----",
    "-------- original message --------",
    "----- original message",
    "-------- original-nachricht --------",
    "-----ursprungliche nachricht-----",
    "-----ursprüngliche nachricht-----",
    "-------- message d'origine --------",
    "----- mensaje original -----",
    "---------- forwarded message ---------",
    "begin forwarded message:",
    "------ this is a copy of the message",
    "--- below this line is a copy of the message",
];

/// Mobile-client signatures that end the reply's own text.
const SIGNATURE_PREFIXES: &[&str] = &["sent from my ", "get outlook for "];

/// Header names that open a quoted header block (English, German, French,
/// Spanish, Italian, Dutch mail clients).
const FROM_HEADERS: &[&str] = &["from:", "von:", "de :", "de:", "da:", "van:"];

/// Header names that follow the `From:` line in such a block.
const FOLLOWING_HEADERS: &[&str] = &[
    "sent:",
    "date:",
    "to:",
    "subject:",
    "cc:",
    "gesendet:",
    "datum:",
    "an:",
    "betreff:",
    "envoye :",
    "envoyé :",
    "envoye:",
    "envoyé:",
    "a :",
    "à :",
    "objet :",
    "objet:",
    "enviado:",
    "enviado el:",
    "para:",
    "asunto:",
    "inviato:",
    "oggetto:",
    "verzonden:",
    "aan:",
    "onderwerp:",
];

/// Returns the reply's own text: everything before the first quoted block
/// or signature, without lines quoted with `>`.
///
/// A quoted block starts at an attribution line (`On ... wrote:`, `Am ...
/// schrieb ...:`, `Le ... a écrit :`, `El ... escribió:`, also when a mail
/// client wrapped it onto two lines), at an `-----Original Message-----` style
/// separator, at a `From:`/`Von:` line followed by more header lines, at a
/// signature delimiter (`-- `), or at a "Sent from my ..." line. Line endings
/// become `\n`, and trailing blank or rule lines ("_____") are dropped.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = quoted_block_start(&lines).unwrap_or(lines.len());

    let mut own_lines: Vec<&str> = lines[..end]
        .iter()
        .copied()
        .filter(|line| !line.trim_start().starts_with('>'))
        .collect();

    while own_lines.last().is_some_and(|line| is_rule_line(line)) {
        own_lines.pop();
    }
    own_lines.join("\n").trim().to_owned()
}

/// Returns whether `line` is blank or a horizontal rule ("_____", "-----",
/// "=====") such as mail clients put above a quoted header block.
fn is_rule_line(line: &str) -> bool {
    line.trim()
        .chars()
        .all(|c| matches!(c, '_' | '-' | '=' | '*'))
}

/// Index of the first line that starts a quoted block or signature.
fn quoted_block_start(lines: &[&str]) -> Option<usize> {
    (0..lines.len()).find(|&index| starts_quoted_block(lines, index))
}

fn starts_quoted_block(lines: &[&str], index: usize) -> bool {
    let raw = lines[index];
    let line = raw.trim().to_lowercase();

    is_signature_delimiter(raw)
        || SEPARATOR_PREFIXES
            .iter()
            .any(|prefix| line.starts_with(prefix))
        || SIGNATURE_PREFIXES
            .iter()
            .any(|prefix| line.starts_with(prefix))
        || is_attribution(lines, index)
        || is_header_block(lines, index)
}

/// RFC 3676 section 4.3 delimits a signature with "-- " on its own line. Many
/// clients strip the trailing space, so "--" alone counts too.
fn is_signature_delimiter(line: &str) -> bool {
    let without_newline = line.trim_end_matches('\r');
    without_newline == "-- " || without_newline.trim() == "--"
}

/// Returns whether line `index` starts an attribution such as "On Tue, 3 Mar 2026 at 09:12, Sam <sam@x> wrote:",
/// possibly wrapped so that the second line ends with "wrote:".
fn is_attribution(lines: &[&str], index: usize) -> bool {
    let line = lines[index].trim().to_lowercase();
    if !starts_attribution(&line) {
        return false;
    }
    if ends_attribution(&line) {
        return true;
    }
    lines
        .get(index + 1)
        .is_some_and(|next| ends_attribution(&next.trim().to_lowercase()))
}

fn starts_attribution(line: &str) -> bool {
    ["on ", "am ", "le ", "el ", "il ", "op "]
        .iter()
        .any(|prefix| line.starts_with(prefix))
}

/// Returns whether a line ends an attribution: it contains the verb and ends with a
/// colon or the verb. German and Dutch put the name after the verb ("Am ...
/// schrieb Sam <sam@x>:").
fn ends_attribution(line: &str) -> bool {
    let without_colon = line.trim_end_matches(':').trim_end();
    [
        "wrote",
        "schrieb",
        "a écrit",
        "a ecrit",
        "escribió",
        "escribio",
        "ha scritto",
        "schreef",
    ]
    .iter()
    .any(|verb| without_colon.ends_with(verb) || (line.ends_with(':') && line.contains(verb)))
}

/// Returns whether line `index` is a `From:` line followed within a few lines
/// by another header line, as Outlook and other clients write above the quote.
fn is_header_block(lines: &[&str], index: usize) -> bool {
    let line = lines[index].trim().to_lowercase();
    if !FROM_HEADERS.iter().any(|header| line.starts_with(header)) {
        return false;
    }
    lines
        .iter()
        .skip(index + 1)
        .take(HEADER_BLOCK_LINES)
        .map(|next| next.trim().to_lowercase())
        .any(|next| {
            FOLLOWING_HEADERS
                .iter()
                .any(|header| next.starts_with(header))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribution_and_quote_removed() {
        let text = "Yes, Tuesday works.\n\nOn Tue, 3 Mar 2026 at 09:12, Sam <sam@rekindle.example> wrote:\n> Would you like a call?";
        assert_eq!(strip_quoted(text), "Yes, Tuesday works.");
    }

    #[test]
    fn wrapped_attribution_removed() {
        let text = "Not for us.\r\n\r\nOn Tue, 3 Mar 2026 at 09:12, Sam Carter <\r\nsam@rekindle.example> wrote:\r\n\r\nHi Maya, quick call?";
        assert_eq!(strip_quoted(text), "Not for us.");
    }

    #[test]
    fn foreign_attributions_removed() {
        let cases = [
            "Gerne.\n\nAm 03.03.2026 um 09:12 schrieb Sam <sam@rekindle.example>:\nHallo",
            "Avec plaisir.\n\nLe mar. 3 mars 2026 à 09:12, Sam <sam@rekindle.example> a écrit :\nBonjour",
            "Claro.\n\nEl mar, 3 mar 2026 a las 09:12, Sam (<sam@rekindle.example>) escribió:\nHola",
        ];
        for text in cases {
            let stripped = strip_quoted(text);
            assert!(!stripped.contains('\n'), "{stripped:?}");
            assert!(!stripped.contains("sam@"), "{stripped:?}");
        }
    }

    #[test]
    fn interleaved_quotes_removed() {
        let text = "> Would you like a call?\nYes please.\n> Or a demo?\nA demo too.";
        assert_eq!(strip_quoted(text), "Yes please.\nA demo too.");
    }

    #[test]
    fn original_message_separator_removed() {
        let text =
            "Take me off your list.\n\n-----Original Message-----\nFrom: Sam\nBook a demo today!";
        assert_eq!(strip_quoted(text), "Take me off your list.");
    }

    #[test]
    fn outlook_header_block_removed() {
        let text = "Kein Interesse.\n\n________________________________\nVon: Sam <sam@rekindle.example>\nGesendet: Montag, 2. März 2026 09:00\nAn: Maya\nBetreff: Kurze Frage\n\nHätten Sie Zeit für ein Gespräch?";
        assert_eq!(strip_quoted(text), "Kein Interesse.");
    }

    #[test]
    fn from_line_alone_is_kept() {
        let text = "From: the whole team, thanks!\nWe'll be in touch.";
        assert_eq!(strip_quoted(text), text);
    }

    #[test]
    fn signature_removed() {
        let text = "Call me tomorrow.\n-- \nMaya Patel\nCall us: +44 20 7946 0958";
        assert_eq!(strip_quoted(text), "Call me tomorrow.");

        let text = "Sounds good.\n\nSent from my iPhone";
        assert_eq!(strip_quoted(text), "Sounds good.");
    }

    #[test]
    fn bounce_copy_of_original_removed() {
        let text = "A message that you sent could not be delivered.\n\n------ This is a copy of the message, including all the headers. ------\nSubject: Quick question\n\nTo unsubscribe, click here.";
        assert_eq!(
            strip_quoted(text),
            "A message that you sent could not be delivered."
        );
    }

    #[test]
    fn text_without_quotes_unchanged() {
        let text = "On second thought, let's talk next week.";
        assert_eq!(strip_quoted(text), text);
    }
}
