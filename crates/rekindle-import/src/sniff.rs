//! Detection of the byte-order mark, the encoding and the delimiter from the
//! sample at the start of the file.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Delimiters that detection chooses from, in order of preference on a tie.
pub const DELIMITER_CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Number of logical lines (header included) that delimiter detection reads.
const SNIFF_LINES: usize = 20;

/// Source of a decision about the file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// Set by `ImportOptions`.
    Override,
    /// Given by the byte-order mark at the start of the file.
    ByteOrderMark,
    /// Read from the sample at the start of the file.
    Sniffed,
    /// Nothing in the sample decided it, so the default was used.
    Default,
}

/// Encoding and delimiter of the file, and how each was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceFormat {
    pub encoding: &'static Encoding,
    pub encoding_detection: Detection,
    /// Whether the file started with a byte-order mark (it is removed).
    pub byte_order_mark: bool,
    pub delimiter: u8,
    pub delimiter_detection: Detection,
}

/// Returns the encoding named by a byte-order mark at the start of `sample`,
/// and the mark's length in bytes.
pub(crate) fn detect_bom(sample: &[u8]) -> Option<(&'static Encoding, usize)> {
    Encoding::for_bom(sample)
}

/// Chooses UTF-8 when the sample is valid UTF-8, else Windows-1252, the usual
/// encoding of CSV that Excel saves on Western European Windows. `complete` is
/// true when the sample is the whole file. When it is not, a character cut
/// at the sample's end is not an error.
pub(crate) fn sniff_encoding(sample: &[u8], complete: bool) -> &'static Encoding {
    match std::str::from_utf8(sample) {
        Ok(_) => UTF_8,
        Err(error) if error.error_len().is_none() && !complete => UTF_8,
        Err(_) => WINDOWS_1252,
    }
}

/// Chooses the candidate delimiter that appears in the header line and the
/// same number of times in the most data lines, counting only occurrences
/// outside double quotes. Returns `None` when no candidate is in the header.
pub(crate) fn sniff_delimiter(text: &str, complete: bool) -> Option<u8> {
    let lines = logical_lines(text, complete);
    let (header, rows) = lines.split_first()?;

    let mut best: Option<(u8, usize, usize)> = None;
    for candidate in DELIMITER_CANDIDATES {
        let header_count = count_unquoted(header, candidate);
        if header_count == 0 {
            continue;
        }
        let consistent = rows
            .iter()
            .filter(|row| count_unquoted(row, candidate) == header_count)
            .count();

        let better = match best {
            None => true,
            Some((_, best_consistent, best_count)) => {
                (consistent, header_count) > (best_consistent, best_count)
            }
        };
        if better {
            best = Some((candidate, consistent, header_count));
        }
    }
    best.map(|(candidate, _, _)| candidate)
}

/// Splits `text` into its first non-blank logical lines: line breaks inside
/// double quotes do not end a line. When the sample is not the whole file,
/// its last line may be cut short, so it is dropped.
fn logical_lines(text: &str, complete: bool) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;

    for (index, byte) in text.bytes().enumerate() {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                push_non_blank(&mut lines, &text[start..index]);
                start = index + 1;
                if lines.len() > SNIFF_LINES {
                    return lines;
                }
            }
            _ => {}
        }
    }

    if complete {
        push_non_blank(&mut lines, &text[start..]);
    }
    lines
}

fn push_non_blank<'a>(lines: &mut Vec<&'a str>, line: &'a str) {
    if !line.trim().is_empty() {
        lines.push(line);
    }
}

fn count_unquoted(line: &str, delimiter: u8) -> usize {
    let mut in_quotes = false;
    let mut count = 0;
    for byte in line.bytes() {
        if byte == b'"' {
            in_quotes = !in_quotes;
        } else if byte == delimiter && !in_quotes {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_utf8_cut_at_sample_end() {
        let text = "Jörg".as_bytes();
        let cut = &text[..2];
        assert_eq!(sniff_encoding(cut, false), UTF_8);
        assert_eq!(sniff_encoding(cut, true), WINDOWS_1252);
    }

    #[test]
    fn encoding_single_byte_umlaut() {
        assert_eq!(sniff_encoding(b"M\xFCller", true), WINDOWS_1252);
        assert_eq!(sniff_encoding(b"plain ascii", true), UTF_8);
    }

    #[test]
    fn delimiter_ignores_quoted_candidates() {
        let text = "a;b;c\n\"x,y\";2;3\n\"p,q,r\";5;6\n";
        assert_eq!(sniff_delimiter(text, true), Some(b';'));
    }

    #[test]
    fn delimiter_drops_cut_last_line() {
        let text = "a|b|c\n1|2|3\n4|5";
        assert_eq!(sniff_delimiter(text, false), Some(b'|'));
        assert_eq!(logical_lines(text, false).len(), 2);
    }

    #[test]
    fn delimiter_prefers_consistent_counts() {
        // Decimal commas appear in every row but not in the header.
        let text = "name\tamount\nA\t1,5\nB\t2,5\n";
        assert_eq!(sniff_delimiter(text, true), Some(b'\t'));
    }

    #[test]
    fn delimiter_none_for_single_column() {
        assert_eq!(sniff_delimiter("email\na@b.example\n", true), None);
    }

    #[test]
    fn quoted_line_break_stays_in_line() {
        let text = "a,b\n\"one\ntwo\",3\n";
        assert_eq!(logical_lines(text, true), vec!["a,b", "\"one\ntwo\",3"]);
    }
}
