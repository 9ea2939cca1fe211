//! Size limits, and the readers that enforce them while the file streams in.

use std::io::{self, Read};

use crate::ImportError;

/// Bounds on what one import accepts. Every limit is checked while reading, so
/// memory stays bounded by these values and not by the size of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLimits {
    /// Maximum size of the raw file, in bytes. Default 256 MiB, an estimate of
    /// about a million typical CRM rows.
    pub max_file_bytes: u64,
    /// Maximum number of columns in the header. Default 200.
    pub max_columns: usize,
    /// Maximum length of one field after decoding, in characters (Unicode scalar
    /// values). A longer field rejects its row. Default 10,000.
    pub max_field_chars: usize,
    /// Maximum size of one record after decoding, in bytes, quoted line breaks
    /// included. A longer record stops the import, because it usually means an
    /// unclosed quote that swallows the rest of the file. Default 1 MiB.
    pub max_record_bytes: u64,
    /// Maximum number of data records (the header and blank lines do not count).
    /// `None`, the default, means no limit besides `max_file_bytes`.
    pub max_records: Option<u64>,
    /// Size of the sample read first to detect the encoding and delimiter, in
    /// bytes. Default 64 KiB.
    pub sniff_bytes: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 256 * 1024 * 1024,
            max_columns: 200,
            max_field_chars: 10_000,
            max_record_bytes: 1024 * 1024,
            max_records: None,
            sniff_bytes: 64 * 1024,
        }
    }
}

/// Size of the CSV reader's read-ahead buffer, in bytes. The record guard allows
/// this much slack because bytes in the buffer are read but not yet parsed.
pub(crate) const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A limit crossed inside a reader. It travels through `csv` and the decoder
/// as the payload of an `io::Error` and becomes an `ImportError` at the top.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LimitBreach {
    #[error("file longer than {max_bytes} bytes")]
    FileBytes { max_bytes: u64 },
    #[error("record at line {line} longer than {max_bytes} bytes")]
    RecordBytes { line: u64, max_bytes: u64 },
}

/// Turns an I/O error into the typed limit error it carries, if any.
pub(crate) fn classify_io_error(error: io::Error) -> ImportError {
    let breach = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitBreach>());
    match breach {
        Some(LimitBreach::FileBytes { max_bytes }) => ImportError::FileTooLarge {
            max_bytes: *max_bytes,
        },
        Some(LimitBreach::RecordBytes { line, max_bytes }) => ImportError::RecordTooLarge {
            line: *line,
            max_bytes: *max_bytes,
        },
        None => ImportError::Io(error),
    }
}

/// Turns a `csv` error into an `ImportError`, keeping limit breaches typed.
pub(crate) fn classify_csv_error(error: csv::Error) -> ImportError {
    if error.is_io_error() {
        if let csv::ErrorKind::Io(io_error) = error.into_kind() {
            return classify_io_error(io_error);
        }
        return ImportError::Io(io::Error::other("unknown I/O error from the CSV reader"));
    }
    ImportError::Csv(error)
}

/// Counts the raw bytes of the file and fails once they pass `max_bytes`.
pub(crate) struct CountingReader<R> {
    inner: R,
    bytes_read: u64,
    max_bytes: u64,
}

impl<R: Read> CountingReader<R> {
    pub(crate) fn new(inner: R, max_bytes: u64) -> Self {
        Self {
            inner,
            bytes_read: 0,
            max_bytes,
        }
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.bytes_read += count as u64;
        if self.bytes_read > self.max_bytes {
            return Err(io::Error::other(LimitBreach::FileBytes {
                max_bytes: self.max_bytes,
            }));
        }
        Ok(count)
    }
}

/// Sits between the decoded text and the CSV parser and fails when the record
/// being parsed grows past `max_bytes`. The import reader moves the record start
/// forward after every record it reads.
pub(crate) struct RecordGuard<S> {
    inner: S,
    bytes_passed: u64,
    record_start: u64,
    record_line: u64,
    max_bytes: u64,
}

impl<S: Read> RecordGuard<S> {
    pub(crate) fn new(inner: S, max_bytes: u64) -> Self {
        Self {
            inner,
            bytes_passed: 0,
            record_start: 0,
            record_line: 1,
            max_bytes,
        }
    }

    /// Marks where the next record starts, as a byte offset into the decoded
    /// text and a 1-based line number.
    pub(crate) fn start_record(&mut self, byte: u64, line: u64) {
        self.record_start = byte;
        self.record_line = line;
    }
}

impl<S: Read> Read for RecordGuard<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let in_progress = self.bytes_passed.saturating_sub(self.record_start);
        if in_progress > self.max_bytes + READ_BUFFER_BYTES as u64 {
            return Err(io::Error::other(LimitBreach::RecordBytes {
                line: self.record_line,
                max_bytes: self.max_bytes,
            }));
        }

        let count = self.inner.read(buf)?;
        self.bytes_passed += count as u64;
        Ok(count)
    }
}
