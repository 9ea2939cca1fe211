//! The import reader: opens a CSV stream and yields one result per record.

use std::io::Read;

use csv::ByteRecord;
use encoding_rs::Encoding;
use rekindle_domain::contact::parse_region;

use crate::headers::{ColumnPlan, header_list};
use crate::limits::{
    CountingReader, READ_BUFFER_BYTES, RecordGuard, classify_csv_error, classify_io_error,
};
use crate::lines::{LineBreaks, has_bare_carriage_returns};
use crate::row::{RowSettings, read_row};
use crate::sniff::{detect_bom, sniff_delimiter, sniff_encoding};
use crate::source::Source;
use crate::{ColumnMapping, Detection, ImportError, ImportOptions, ImportRecord, SourceFormat};

/// Reads lead records from a CSV export, streaming: memory is bounded by the
/// sniff sample, the read buffer and the largest record, not by the file.
///
/// Iterating yields one `ImportRecord` per data record. A file-level error
/// (file too large, record too large, too many records, a read failure) is
/// yielded once as `Err` and ends the iteration.
pub struct ImportReader<R: Read> {
    csv: csv::Reader<RecordGuard<LineBreaks<Source<R>>>>,
    format: SourceFormat,
    plan: ColumnPlan,
    settings: RowSettings,
    max_records: Option<u64>,
    record: ByteRecord,
    records_read: u64,
    finished: bool,
}

impl<R: Read> ImportReader<R> {
    /// Detects the format, reads the header and maps its columns. Fails on
    /// invalid options, an empty file, a header with too many columns or
    /// without an email or phone column, or a file past the size limit.
    pub fn open(reader: R, options: ImportOptions) -> Result<Self, ImportError> {
        let forced_encoding = resolve_encoding(options.encoding.as_deref())?;
        check_delimiter(options.delimiter)?;
        check_region(options.default_region.as_deref())?;

        let limits = &options.limits;
        let mut counting = CountingReader::new(reader, limits.max_file_bytes);
        let (sample, complete) = read_sample(&mut counting, limits.sniff_bytes)?;
        let detected = detect_format(sample, complete, forced_encoding, options.delimiter);
        let format = detected.format;

        let source = Source::new(detected.sample, counting, format.encoding);
        let lines = LineBreaks::new(source, detected.bare_carriage_returns);
        let guard = RecordGuard::new(lines, limits.max_record_bytes);
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(format.delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(READ_BUFFER_BYTES)
            .from_reader(guard);

        let headers = read_header(&mut csv)?;
        if headers.len() > limits.max_columns {
            return Err(ImportError::TooManyColumns {
                count: headers.len(),
                max: limits.max_columns,
            });
        }
        let plan = ColumnPlan::resolve(&headers, &options.mapping)?;
        if !plan.has_contact_column() {
            let columns = header_list(&headers);
            return Err(ImportError::MissingContactColumn { columns });
        }

        let settings = RowSettings {
            default_region: options.default_region.clone(),
            date_order: options.resolved_date_order(),
            naive_time_zone: options.naive_time_zone.unwrap_or(chrono_tz::UTC),
            max_field_chars: limits.max_field_chars,
        };
        Ok(Self {
            csv,
            format,
            plan,
            settings,
            max_records: limits.max_records,
            record: ByteRecord::new(),
            records_read: 0,
            finished: false,
        })
    }

    /// Returns the encoding and delimiter in use, and how each was decided.
    pub fn format(&self) -> &SourceFormat {
        &self.format
    }

    /// Returns the mapping of every header column, in column order.
    pub fn columns(&self) -> &[ColumnMapping] {
        &self.plan.columns
    }

    /// Reads the next non-blank record, or `None` at the end of the file.
    fn next_record(&mut self) -> Result<Option<ImportRecord>, ImportError> {
        loop {
            let position = self.csv.position().clone();
            self.csv
                .get_mut()
                .start_record(position.byte(), position.line());

            let more = self
                .csv
                .read_byte_record(&mut self.record)
                .map_err(classify_csv_error)?;
            if !more {
                return Ok(None);
            }
            if is_blank(&self.record) {
                continue;
            }
            return self.process_record().map(Some);
        }
    }

    fn process_record(&mut self) -> Result<ImportRecord, ImportError> {
        self.records_read += 1;
        if let Some(max) = self.max_records
            && self.records_read > max
        {
            return Err(ImportError::TooManyRecords { max });
        }

        let line = self.start_line();
        let (identifier, outcome) = read_row(&self.plan, &self.record, &self.settings);
        Ok(ImportRecord {
            record_number: self.records_read,
            line,
            identifier,
            outcome,
        })
    }

    /// Returns the line where the record just read starts. The parser has
    /// consumed the record's own line break (see `lines.rs`), so the record
    /// started one line plus its quoted line breaks before the current line.
    fn start_line(&self) -> u64 {
        let line_after = self.csv.position().line();
        let inner_breaks: usize = self
            .record
            .iter()
            .map(|field| field.iter().filter(|&&byte| byte == b'\n').count())
            .sum();
        line_after.saturating_sub(1 + inner_breaks as u64)
    }
}

impl<R: Read> Iterator for ImportReader<R> {
    type Item = Result<ImportRecord, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let result = self.next_record();
        match result {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(error) => {
                self.finished = true;
                Some(Err(error))
            }
        }
    }
}

fn resolve_encoding(label: Option<&str>) -> Result<Option<&'static Encoding>, ImportError> {
    let Some(label) = label else {
        return Ok(None);
    };
    let unknown = || ImportError::UnknownEncoding {
        label: label.to_owned(),
    };
    let encoding = Encoding::for_label(label.trim().as_bytes()).ok_or_else(unknown)?;

    // The "replacement" encoding decodes any input to a single U+FFFD; it only
    // exists to neutralise labels of unsafe encodings such as ISO-2022-KR.
    if encoding == encoding_rs::REPLACEMENT {
        return Err(unknown());
    }
    Ok(Some(encoding))
}

fn check_delimiter(delimiter: Option<u8>) -> Result<(), ImportError> {
    match delimiter {
        Some(byte) if !byte.is_ascii() || matches!(byte, b'"' | b'\n' | b'\r') => {
            Err(ImportError::InvalidDelimiter {
                delimiter: char::from(byte),
            })
        }
        _ => Ok(()),
    }
}

fn check_region(region: Option<&str>) -> Result<(), ImportError> {
    match region {
        Some(region) if parse_region(region).is_err() => Err(ImportError::UnknownRegion {
            region: region.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Reads up to `max_bytes` from the start of the file. Returns the bytes and
/// whether they are the whole file.
fn read_sample<R: Read>(
    reader: &mut CountingReader<R>,
    max_bytes: usize,
) -> Result<(Vec<u8>, bool), ImportError> {
    let mut sample = Vec::with_capacity(max_bytes.min(64 * 1024));
    reader
        .by_ref()
        .take(max_bytes as u64)
        .read_to_end(&mut sample)
        .map_err(classify_io_error)?;
    let complete = sample.len() < max_bytes;
    Ok((sample, complete))
}

/// Format decisions made from the sample at the start of the file.
struct DetectedFormat {
    format: SourceFormat,
    /// The sample without its byte-order mark.
    sample: Vec<u8>,
    bare_carriage_returns: bool,
}

/// Decides the encoding and delimiter and strips the byte-order mark. The
/// overrides win. Otherwise a byte-order mark decides the encoding, and the
/// sample decides what is left.
fn detect_format(
    mut sample: Vec<u8>,
    complete: bool,
    forced_encoding: Option<&'static Encoding>,
    forced_delimiter: Option<u8>,
) -> DetectedFormat {
    let bom = detect_bom(&sample);
    if let Some((_, length)) = bom {
        sample.drain(..length);
    }

    let (encoding, encoding_detection) = match (forced_encoding, bom) {
        (Some(encoding), _) => (encoding, Detection::Override),
        (None, Some((encoding, _))) => (encoding, Detection::ByteOrderMark),
        (None, None) => (sniff_encoding(&sample, complete), Detection::Sniffed),
    };

    let (text, _) = encoding.decode_without_bom_handling(&sample);
    let bare_carriage_returns = has_bare_carriage_returns(&text);
    let (delimiter, delimiter_detection) = match forced_delimiter {
        Some(delimiter) => (delimiter, Detection::Override),
        None => {
            let text = if bare_carriage_returns {
                text.replace('\r', "\n").into()
            } else {
                text
            };
            match sniff_delimiter(&text, complete) {
                Some(delimiter) => (delimiter, Detection::Sniffed),
                None => (b',', Detection::Default),
            }
        }
    };

    let format = SourceFormat {
        encoding,
        encoding_detection,
        byte_order_mark: bom.is_some(),
        delimiter,
        delimiter_detection,
    };
    DetectedFormat {
        format,
        sample,
        bare_carriage_returns,
    }
}

/// Reads the first non-blank record as the header, with each name trimmed.
fn read_header<S: Read>(csv: &mut csv::Reader<S>) -> Result<Vec<String>, ImportError> {
    let mut record = ByteRecord::new();
    loop {
        let more = csv
            .read_byte_record(&mut record)
            .map_err(classify_csv_error)?;
        if !more {
            return Err(ImportError::MissingHeader);
        }
        if !is_blank(&record) {
            break;
        }
    }

    let headers = record
        .iter()
        .map(|name| String::from_utf8_lossy(name).trim().to_owned())
        .collect();
    Ok(headers)
}

/// Returns whether all fields are empty or spaces, as in a line of bare
/// delimiters that spreadsheets leave below the data.
fn is_blank(record: &ByteRecord) -> bool {
    record
        .iter()
        .all(|field| field.iter().all(u8::is_ascii_whitespace))
}
