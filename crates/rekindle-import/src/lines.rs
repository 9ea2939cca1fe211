//! Line breaks as the CSV parser reads them: `\n` ends every line, the last
//! one included.
//!
//! The parser splits records at `\n` only, so that it consumes each record's
//! line break together with the record and its line count gives where the
//! record started. A `\r` before the `\n` stays at the end of the last field,
//! where trimming removes it.

use std::io::{self, Read};

pub(crate) struct LineBreaks<S> {
    inner: S,
    /// Whether the file ends its lines with a bare `\r`, as older Excel for
    /// Mac versions wrote CSV. Each `\r` is then read as `\n`.
    bare_carriage_returns: bool,
    last_byte: Option<u8>,
}

impl<S: Read> LineBreaks<S> {
    pub(crate) fn new(inner: S, bare_carriage_returns: bool) -> Self {
        Self {
            inner,
            bare_carriage_returns,
            last_byte: None,
        }
    }
}

impl<S: Read> Read for LineBreaks<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }

        let count = self.inner.read(buf)?;
        if count == 0 {
            // Give a last line without a line break its `\n`.
            let unterminated = self.last_byte.is_some_and(|byte| byte != b'\n');
            if unterminated {
                buf[0] = b'\n';
                self.last_byte = Some(b'\n');
                return Ok(1);
            }
            return Ok(0);
        }

        if self.bare_carriage_returns {
            for byte in &mut buf[..count] {
                if *byte == b'\r' {
                    *byte = b'\n';
                }
            }
        }
        self.last_byte = Some(buf[count - 1]);
        Ok(count)
    }
}

/// Returns whether a sample uses bare `\r` line breaks: it has a `\r` and no
/// `\n`.
pub(crate) fn has_bare_carriage_returns(text: &str) -> bool {
    text.contains('\r') && !text.contains('\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], bare: bool) -> Vec<u8> {
        let mut output = Vec::new();
        LineBreaks::new(input, bare)
            .read_to_end(&mut output)
            .expect("read from memory");
        output
    }

    #[test]
    fn adds_missing_final_line_break() {
        assert_eq!(read_all(b"a,b\n1,2", false), b"a,b\n1,2\n");
        assert_eq!(read_all(b"a,b\n", false), b"a,b\n");
        assert_eq!(read_all(b"", false), b"");
    }

    #[test]
    fn bare_carriage_returns_become_line_feeds() {
        assert_eq!(read_all(b"a,b\r1,2\r", true), b"a,b\n1,2\n");
        assert_eq!(read_all(b"a,b\r\n", false), b"a,b\r\n");
    }
}
