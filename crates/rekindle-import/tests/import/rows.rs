//! Row rules: contact validation, blank lines, footers, text and dates.

use rekindle_import::{DateOrder, ImportOptions, IssueReason};

use crate::{accepted, import, import_text, rejection, warning_pairs};

fn issue_pair(field: &str, reason: &str) -> (String, String) {
    (field.to_owned(), reason.to_owned())
}

#[test]
fn footer_line_rejected() {
    let text = "Record ID,Email,Phone\n5101,ana@verdemar.example,\nTotal: 42 records\n";
    let records = import_text(text);
    assert_eq!(records.len(), 2);

    let footer = &records[1];
    assert_eq!(footer.record_number, 2);
    assert_eq!(footer.line, 3);
    assert_eq!(footer.identifier.as_deref(), Some("Total: 42 records"));
    let issue = rejection(footer);
    assert_eq!(issue.field, "email");
    assert_eq!(issue.column, None);
    assert_eq!(issue.reason.to_string(), "missing email and phone");
}

#[test]
fn footer_in_email_column_rejected() {
    let records = import_text("email,phone\nana@verdemar.example,\nTotal: 42 records\n");
    let issue = rejection(&records[1]);
    assert_eq!(issue.field, "email");
    assert_eq!(issue.reason, IssueReason::InvalidEmail);
}

#[test]
fn blank_lines_skipped() {
    let text = "email,company\n\nana@verdemar.example,Verdemar\n   \n,\n\r\nbo@nordpeak.example,Nordpeak\n\n";
    let records = import_text(text);
    let positions: Vec<(u64, u64)> = records
        .iter()
        .map(|record| (record.record_number, record.line))
        .collect();
    assert_eq!(positions, vec![(1, 3), (2, 7)]);
    assert!(records.iter().all(|record| record.accepted().is_some()));
}

#[test]
fn line_numbers_with_crlf_and_quoted_breaks() {
    let text = "email,notes\r\n\r\nana@verdemar.example,\"one\r\ntwo\r\nthree\"\r\n\r\nbo@nordpeak.example,x";
    let records = import_text(text);
    let lines: Vec<u64> = records.iter().map(|record| record.line).collect();
    assert_eq!(lines, vec![3, 7]);
    assert_eq!(
        accepted(&records[0]).fields.notes.as_deref(),
        Some("one\r\ntwo\r\nthree")
    );
    assert_eq!(accepted(&records[1]).fields.notes.as_deref(), Some("x"));
}

#[test]
fn bare_carriage_return_lines() {
    let records =
        import_text("email;company\rana@verdemar.example;Verdemar\rbo@nordpeak.example;Nordpeak\r");
    let companies: Vec<Option<&str>> = records
        .iter()
        .map(|record| accepted(record).fields.company.as_deref())
        .collect();
    assert_eq!(companies, vec![Some("Verdemar"), Some("Nordpeak")]);
    assert_eq!(records[1].line, 3);
}

#[test]
fn leading_blank_lines_before_header() {
    let records = import_text("\n\nemail\nana@verdemar.example\n");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].line, 4);
}

#[test]
fn invalid_email_rejected_despite_phone() {
    let records = import_text("email,phone\nana@@verdemar.example,+34 912 345 678\n");
    let issue = rejection(&records[0]);
    assert_eq!(issue.field, "email");
    assert_eq!(issue.reason, IssueReason::InvalidEmail);
    assert_eq!(
        records[0].identifier.as_deref(),
        Some("ana@@verdemar.example")
    );
}

#[test]
fn invalid_phone_warning_with_email() {
    let records = import_text("email,phone\nana@verdemar.example,+34 12\n");
    let row = accepted(&records[0]);
    assert_eq!(row.fields.phone, None);
    assert_eq!(
        warning_pairs(row),
        vec![issue_pair("phone", "invalid phone")]
    );
}

#[test]
fn invalid_phone_rejects_without_email() {
    let records = import_text("email,phone\n,+34 12\n");
    let issue = rejection(&records[0]);
    assert_eq!(issue.field, "phone");
    assert_eq!(issue.reason, IssueReason::InvalidPhone);
    assert_eq!(issue.column.as_deref(), Some("phone"));
}

#[test]
fn national_phone_rejects_without_email() {
    let records = import_text("email,phone\n,030 12345678\n");
    let issue = rejection(&records[0]);
    assert_eq!(issue.field, "phone");
    assert_eq!(issue.reason, IssueReason::NoCountryCode);
}

#[test]
fn default_region_completes_national_phone() {
    let options = ImportOptions {
        default_region: Some("DE".to_owned()),
        ..ImportOptions::default()
    };
    let records = import(b"email,phone\n,030 12345678\n", options);
    let row = accepted(&records[0]);
    assert_eq!(
        row.fields.phone.as_ref().map(|phone| phone.as_str()),
        Some("+493012345678")
    );
    assert!(row.warnings.is_empty());
}

#[test]
fn unknown_default_region_is_file_error() {
    let options = ImportOptions {
        default_region: Some("XX".to_owned()),
        ..ImportOptions::default()
    };
    let error = rekindle_import::ImportReader::open(&b"email\n"[..], options)
        .err()
        .expect("unknown region fails");
    assert!(error.to_string().contains("\"XX\""), "{error}");
}

#[test]
fn text_kept_exactly_but_trimmed() {
    let text = "email,notes,company\n  ana@verdemar.example ,\"  Line one,\r\n\"\"quoted\"\" 😀 Ωμέγα  \",  さくら株式会社\t\n";
    let row = accepted(&import_text(text)[0]).clone();
    assert_eq!(
        row.fields.notes.as_deref(),
        Some("Line one,\r\n\"quoted\" 😀 Ωμέγα")
    );
    assert_eq!(row.fields.company.as_deref(), Some("さくら株式会社"));
    assert_eq!(
        row.fields.email.as_ref().map(|email| email.as_str()),
        Some("ana@verdemar.example")
    );
}

#[test]
fn field_too_long_rejects_naming_field() {
    let mut options = ImportOptions::default();
    options.limits.max_field_chars = 20;
    let long_notes = "é".repeat(21);
    let text = format!(
        "Email,Notes,Memo\nana@verdemar.example,{long_notes},ok\nbo@nordpeak.example,short,{long_notes}\ncy@nordpeak.example,{},ok\n",
        "é".repeat(20)
    );
    let records = import(text.as_bytes(), options);

    let notes = rejection(&records[0]);
    assert_eq!(notes.field, "notes");
    assert_eq!(notes.column.as_deref(), Some("Notes"));
    assert_eq!(notes.reason, IssueReason::FieldTooLong { max_chars: 20 });
    assert_eq!(notes.reason.to_string(), "longer than 20 characters");

    let memo = rejection(&records[1]);
    assert_eq!(memo.field, "Memo");

    // Exactly at the limit, counted in characters rather than bytes.
    assert!(records[2].accepted().is_some());
}

#[test]
fn extra_fields_rejected() {
    let text =
        "email,company\nana@verdemar.example,Verdemar, S.L.\nbo@nordpeak.example,Nordpeak,,\n";
    let records = import_text(text);
    let issue = rejection(&records[0]);
    assert_eq!(issue.field, "row");
    assert_eq!(
        issue.reason,
        IssueReason::ExtraFields {
            fields: 3,
            columns: 2
        }
    );
    // Trailing empty fields are harmless.
    assert!(records[1].accepted().is_some());
}

#[test]
fn short_rows_read_missing_as_empty() {
    let records = import_text("company,email,phone\nVerdemar,ana@verdemar.example\n");
    let row = accepted(&records[0]);
    assert_eq!(row.fields.company.as_deref(), Some("Verdemar"));
    assert_eq!(row.fields.phone, None);
}

#[test]
fn unparseable_date_is_warning() {
    let text =
        "Email,Last Activity Date,Create Date\nana@verdemar.example,last spring,14.03.2026\n";
    let row = accepted(&import_text(text)[0]).clone();
    assert_eq!(row.fields.last_contacted_at, None);
    assert_eq!(
        row.fields.crm_created_at.map(|time| time.to_rfc3339()),
        Some("2026-03-14T00:00:00+00:00".to_owned())
    );
    assert_eq!(
        warning_pairs(&row),
        vec![issue_pair("last_contacted_at", "invalid date")]
    );
    assert_eq!(
        row.fields.custom_fields.get("Last Activity Date"),
        Some("last spring")
    );
}

#[test]
fn date_order_option_and_region() {
    let text = b"Email,Last Contacted\nana@verdemar.example,03/04/2026\n";
    let read = |options: ImportOptions| {
        let records = import(text, options);
        accepted(&records[0])
            .fields
            .last_contacted_at
            .map(|time| time.date_naive().to_string())
    };

    assert_eq!(
        read(ImportOptions::default()),
        Some("2026-04-03".to_owned())
    );
    let month_first = ImportOptions {
        date_order: Some(DateOrder::MonthFirst),
        ..ImportOptions::default()
    };
    assert_eq!(read(month_first), Some("2026-03-04".to_owned()));
    let us = ImportOptions {
        default_region: Some("US".to_owned()),
        ..ImportOptions::default()
    };
    assert_eq!(read(us), Some("2026-03-04".to_owned()));
}

#[test]
fn naive_time_zone_option() {
    let options = ImportOptions {
        naive_time_zone: Some(chrono_tz::Europe::Berlin),
        ..ImportOptions::default()
    };
    let records = import(
        b"Email,Create Date\nana@verdemar.example,2026-07-01 12:00\n",
        options,
    );
    assert_eq!(
        accepted(&records[0])
            .fields
            .crm_created_at
            .map(|time| time.to_rfc3339()),
        Some("2026-07-01T10:00:00+00:00".to_owned())
    );
}

#[test]
fn identifier_prefers_external_id() {
    let text = "Record ID,Email\n77,ana@verdemar.example\n,bo@nordpeak.example\n";
    let records = import_text(text);
    assert_eq!(records[0].identifier.as_deref(), Some("77"));
    assert_eq!(
        records[1].identifier.as_deref(),
        Some("bo@nordpeak.example")
    );
}
