//! File-level limits and streaming.

use std::io::{self, Read};

use rekindle_import::{ImportError, ImportOptions, ImportReader};

use crate::import;

fn rows_text(count: usize) -> String {
    let mut text = String::from("email,company\n");
    for index in 0..count {
        text.push_str(&format!("lead{index}@nordpeak.example,Nordpeak AB\n"));
    }
    text
}

/// Reads every record and returns the first file-level error.
fn first_error(bytes: &[u8], options: ImportOptions) -> Option<ImportError> {
    match ImportReader::open(bytes, options) {
        Err(error) => Some(error),
        Ok(reader) => reader.filter_map(Result::err).next(),
    }
}

#[test]
fn too_many_columns_is_file_error() {
    let mut options = ImportOptions::default();
    options.limits.max_columns = 3;
    let error = ImportReader::open(&b"email,a,b,c\n"[..], options)
        .err()
        .expect("four columns fail");
    assert!(matches!(
        error,
        ImportError::TooManyColumns { count: 4, max: 3 }
    ));
    let message = error.to_string();
    assert!(message.contains("has 4"), "{message}");
    assert!(message.contains("max_columns"), "{message}");
}

#[test]
fn default_column_limit_is_200() {
    let header: Vec<String> = (0..201).map(|index| format!("c{index}")).collect();
    let text = format!("email,{}\n", header.join(","));
    let error = ImportReader::open(text.as_bytes(), ImportOptions::default())
        .err()
        .expect("202 columns fail");
    assert!(matches!(
        error,
        ImportError::TooManyColumns {
            count: 202,
            max: 200
        }
    ));
}

#[test]
fn file_size_limit_during_sniff() {
    let text = rows_text(50);
    let mut options = ImportOptions::default();
    options.limits.max_file_bytes = 100;
    let error = first_error(text.as_bytes(), options).expect("file too large");
    assert!(matches!(
        error,
        ImportError::FileTooLarge { max_bytes: 100 }
    ));
    let message = error.to_string();
    assert!(message.contains("100 bytes"), "{message}");
    assert!(message.contains("max_file_bytes"), "{message}");
}

#[test]
fn file_size_limit_while_streaming() {
    let text = rows_text(2_000);
    let mut options = ImportOptions::default();
    options.limits.sniff_bytes = 256;
    options.limits.max_file_bytes = 10_000;

    let reader = ImportReader::open(text.as_bytes(), options).expect("header fits");
    let results: Vec<_> = reader.collect();
    let (records, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert!(!records.is_empty());
    assert_eq!(errors.len(), 1, "one error, then the iteration ends");
    assert!(matches!(
        errors[0],
        Err(ImportError::FileTooLarge { max_bytes: 10_000 })
    ));
}

#[test]
fn file_size_limit_in_windows_1252() {
    let mut bytes = b"email,last_name\n".to_vec();
    for index in 0..500 {
        bytes.extend_from_slice(format!("lead{index}@bergbau.example,M").as_bytes());
        bytes.extend_from_slice(b"\xFCller\n");
    }
    let mut options = ImportOptions {
        encoding: Some("windows-1252".to_owned()),
        ..ImportOptions::default()
    };
    options.limits.sniff_bytes = 128;
    options.limits.max_file_bytes = 4_000;
    let error = first_error(&bytes, options).expect("file too large");
    assert!(matches!(
        error,
        ImportError::FileTooLarge { max_bytes: 4_000 }
    ));
}

#[test]
fn file_at_size_limit_passes() {
    let text = rows_text(10);
    let mut options = ImportOptions::default();
    options.limits.max_file_bytes = text.len() as u64;
    assert_eq!(import(text.as_bytes(), options).len(), 10);
}

#[test]
fn record_count_limit() {
    let text = rows_text(10);
    let mut options = ImportOptions::default();
    options.limits.max_records = Some(4);
    let results: Vec<_> = ImportReader::open(text.as_bytes(), options)
        .expect("open")
        .collect();
    assert_eq!(results.len(), 5);
    assert!(results[..4].iter().all(Result::is_ok));
    assert!(matches!(
        results[4],
        Err(ImportError::TooManyRecords { max: 4 })
    ));
}

#[test]
fn unclosed_quote_stops_at_record_limit() {
    let mut text = String::from("email,notes\nana@verdemar.example,\"never closed\n");
    text.push_str(&"filler line\n".repeat(30_000));
    let mut options = ImportOptions::default();
    options.limits.max_record_bytes = 1_024;
    let error = first_error(text.as_bytes(), options).expect("record too large");
    assert!(matches!(
        error,
        ImportError::RecordTooLarge {
            line: 2,
            max_bytes: 1_024
        }
    ));
    assert!(error.to_string().contains("unclosed quote"), "{error}");
}

#[test]
fn empty_file_is_file_error() {
    let error = first_error(b"", ImportOptions::default()).expect("empty fails");
    assert!(matches!(error, ImportError::MissingHeader));
    let blank = first_error(b"\n\n  \n", ImportOptions::default()).expect("blank fails");
    assert!(matches!(blank, ImportError::MissingHeader));
}

/// An endless CSV: a header, then the same row forever. Counts bytes handed out.
struct EndlessRows {
    header_left: &'static [u8],
    row: &'static [u8],
    offset: usize,
    bytes_read: u64,
}

impl Read for EndlessRows {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut written = 0;
        while written < buf.len() {
            if !self.header_left.is_empty() {
                buf[written] = self.header_left[0];
                self.header_left = &self.header_left[1..];
            } else {
                buf[written] = self.row[self.offset];
                self.offset = (self.offset + 1) % self.row.len();
            }
            written += 1;
        }
        self.bytes_read += written as u64;
        Ok(written)
    }
}

#[test]
fn streams_without_reading_whole_input() {
    let source = EndlessRows {
        header_left: b"email,company\n",
        row: b"ana@verdemar.example,Verdemar\n",
        offset: 0,
        bytes_read: 0,
    };
    let mut options = ImportOptions::default();
    options.limits.max_file_bytes = u64::MAX;

    let mut reader = ImportReader::open(source, options).expect("open");
    let taken = reader
        .by_ref()
        .take(10_000)
        .filter(|record| record.is_ok())
        .count();
    assert_eq!(taken, 10_000);
    let next = reader.next().expect("more records").expect("valid record");
    assert_eq!(next.record_number, 10_001);
}

#[test]
fn reader_is_send_for_files() {
    fn assert_send<T: Send>() {}
    assert_send::<ImportReader<std::fs::File>>();
}
