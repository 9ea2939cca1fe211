//! Encoding and delimiter detection, and their overrides.

use rekindle_import::{Detection, ImportError, ImportOptions, ImportReader, IssueReason};

use crate::{accepted, import, import_text, rejection};

fn sniffed_delimiter(text: &str) -> u8 {
    let reader = ImportReader::open(text.as_bytes(), ImportOptions::default()).expect("open");
    assert_eq!(reader.format().delimiter_detection, Detection::Sniffed);
    reader.format().delimiter
}

#[test]
fn semicolon_tab_pipe_sniffed() {
    let semicolon =
        "email;company\nana@verdemar.example;\"Verdemar; S.L.\"\nbo@nordpeak.example;Nordpeak\n";
    let tab = "email\tcompany\tnotes\nana@verdemar.example\tVerdemar, S.L.\t1,5\n";
    let pipe = "email|company\nana@verdemar.example|Verdemar, S.L.\n";
    assert_eq!(sniffed_delimiter(semicolon), b';');
    assert_eq!(sniffed_delimiter(tab), b'\t');
    assert_eq!(sniffed_delimiter(pipe), b'|');
}

#[test]
fn sniffed_delimiter_splits_fields() {
    let records = import_text("email|company\nana@verdemar.example|Verdemar, S.L.\n");
    let row = accepted(&records[0]);
    assert_eq!(row.fields.company.as_deref(), Some("Verdemar, S.L."));

    let tab = import_text("email\tcompany\nana@verdemar.example\tVerdemar; S.L.\n");
    assert_eq!(
        accepted(&tab[0]).fields.company.as_deref(),
        Some("Verdemar; S.L.")
    );
}

#[test]
fn windows_1252_detected_and_decoded() {
    // "Müller" and "Société" as Excel writes them on Western European Windows.
    let bytes = b"Vorname;Nachname;E-Mail;Firma\r\nJ\xF6rg;M\xFCller;j.mueller@bergbau.example;Soci\xE9t\xE9 G\xE9n\xE9rale\r\n";
    let reader = ImportReader::open(&bytes[..], ImportOptions::default()).expect("open");
    assert_eq!(reader.format().encoding, encoding_rs::WINDOWS_1252);
    assert_eq!(reader.format().encoding_detection, Detection::Sniffed);
    assert_eq!(reader.format().delimiter, b';');

    let records: Vec<_> = reader.map(|record| record.expect("record")).collect();
    let row = accepted(&records[0]);
    assert_eq!(row.fields.first_name.as_deref(), Some("Jörg"));
    assert_eq!(row.fields.last_name.as_deref(), Some("Müller"));
    assert_eq!(row.fields.company.as_deref(), Some("Société Générale"));
}

#[test]
fn encoding_override_wins() {
    // Valid UTF-8 for "Müller"; read as Windows-1252 it is "MÃ¼ller".
    let bytes = "email,last_name\nj@bergbau.example,Müller\n".as_bytes();
    let detected = import(bytes, ImportOptions::default());
    assert_eq!(
        accepted(&detected[0]).fields.last_name.as_deref(),
        Some("Müller")
    );

    let options = ImportOptions {
        encoding: Some("windows-1252".to_owned()),
        ..ImportOptions::default()
    };
    let reader = ImportReader::open(bytes, options.clone()).expect("open");
    assert_eq!(reader.format().encoding_detection, Detection::Override);
    let forced = import(bytes, options);
    assert_eq!(
        accepted(&forced[0]).fields.last_name.as_deref(),
        Some("MÃ¼ller")
    );
}

#[test]
fn latin1_label_reads_single_byte_file() {
    let options = ImportOptions {
        encoding: Some("latin1".to_owned()),
        ..ImportOptions::default()
    };
    let records = import(b"email,last_name\nj@bergbau.example,M\xFCller\n", options);
    assert_eq!(
        accepted(&records[0]).fields.last_name.as_deref(),
        Some("Müller")
    );
}

#[test]
fn unknown_encoding_is_file_error() {
    let options = ImportOptions {
        encoding: Some("klingon-8".to_owned()),
        ..ImportOptions::default()
    };
    let error = ImportReader::open(&b"email\n"[..], options)
        .err()
        .expect("unknown label fails");
    assert!(matches!(&error, ImportError::UnknownEncoding { label } if label == "klingon-8"));
    let message = error.to_string();
    assert!(message.contains("\"klingon-8\""), "{message}");
    assert!(message.contains("windows-1252"), "{message}");
}

#[test]
fn delimiter_override_wins() {
    // Comma and semicolon tie here and detection prefers the comma, which
    // leaves no email column.
    let text = "email;notes,extra\nana@verdemar.example;1,2\n";
    let sniffed = ImportReader::open(text.as_bytes(), ImportOptions::default());
    assert!(matches!(
        sniffed,
        Err(ImportError::MissingContactColumn { .. })
    ));

    let options = ImportOptions {
        delimiter: Some(b';'),
        ..ImportOptions::default()
    };
    let reader = ImportReader::open(text.as_bytes(), options.clone()).expect("open");
    assert_eq!(reader.format().delimiter, b';');
    assert_eq!(reader.format().delimiter_detection, Detection::Override);
    let headers: Vec<&str> = reader
        .columns()
        .iter()
        .map(|column| column.header.as_str())
        .collect();
    assert_eq!(headers, vec!["email", "notes,extra"]);

    let records = import(text.as_bytes(), options);
    let row = accepted(&records[0]);
    assert_eq!(row.fields.custom_fields.get("notes,extra"), Some("1,2"));
}

#[test]
fn invalid_delimiter_is_file_error() {
    let options = ImportOptions {
        delimiter: Some(b'"'),
        ..ImportOptions::default()
    };
    let error = ImportReader::open(&b"email\n"[..], options)
        .err()
        .expect("quote as delimiter fails");
    assert!(matches!(
        error,
        ImportError::InvalidDelimiter { delimiter: '"' }
    ));
}

#[test]
fn utf16_with_bom_is_transcoded() {
    let text = "email\tlast_name\r\nana@verdemar.example\tÁlvarez\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }

    let reader = ImportReader::open(&bytes[..], ImportOptions::default()).expect("open");
    assert_eq!(reader.format().encoding, encoding_rs::UTF_16LE);
    assert_eq!(reader.format().encoding_detection, Detection::ByteOrderMark);
    assert_eq!(reader.format().delimiter, b'\t');
    let records: Vec<_> = reader.map(|record| record.expect("record")).collect();
    assert_eq!(
        accepted(&records[0]).fields.last_name.as_deref(),
        Some("Álvarez")
    );
}

#[test]
fn invalid_utf8_after_sample_rejects_row() {
    let mut bytes = b"email,last_name\n".to_vec();
    for index in 0..20 {
        bytes.extend_from_slice(format!("lead{index}@nordpeak.example,Lindqvist\n").as_bytes());
    }
    bytes.extend_from_slice(b"late@nordpeak.example,M\xFCller\n");

    // A 64-byte sample ends long before the Windows-1252 byte.
    let mut options = ImportOptions::default();
    options.limits.sniff_bytes = 64;
    let records = import(&bytes, options);

    assert_eq!(records.len(), 21);
    assert!(
        records[..20]
            .iter()
            .all(|record| record.accepted().is_some())
    );
    let issue = rejection(&records[20]);
    assert_eq!(issue.field, "last_name");
    assert_eq!(issue.reason, IssueReason::InvalidText);
}

#[test]
fn bom_removed_from_first_header() {
    let records = import(
        b"\xEF\xBB\xBFemail,first_name\nana@verdemar.example,Ana\n",
        ImportOptions::default(),
    );
    assert_eq!(
        accepted(&records[0]).fields.first_name.as_deref(),
        Some("Ana")
    );
    assert!(accepted(&records[0]).fields.custom_fields.is_empty());
}

#[test]
fn invalid_utf8_past_header_rejects_row() {
    let options = ImportOptions {
        encoding: Some("utf-8".to_owned()),
        ..ImportOptions::default()
    };
    let records = import(b"email\nana@verdemar.example,M\xFCller\n", options);
    let issue = rejection(&records[0]);
    assert_eq!(issue.field, "row");
    assert_eq!(issue.reason, IssueReason::InvalidText);
}
