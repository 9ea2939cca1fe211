//! Validation of one record and its conversion into lead fields.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use csv::ByteRecord;
use rekindle_domain::lead::{LeadFields, SignalInput};
use rekindle_domain::{ContactError, Email, Phone, PhoneOutcome};

use crate::custom::CustomFieldsBuilder;
use crate::dates::parse_date;
use crate::headers::{ColumnPlan, ColumnTarget, truncate_chars};
use crate::values::{parse_count, parse_time_zone, split_full_name};
use crate::{AcceptedRow, DateOrder, IssueReason, LeadField, RecordOutcome, RowIssue};

/// Maximum length of a record's identifier in reports, in characters.
const MAX_IDENTIFIER_CHARS: usize = 200;

/// The options that apply to every row.
#[derive(Debug, Clone)]
pub(crate) struct RowSettings {
    pub(crate) default_region: Option<String>,
    pub(crate) date_order: DateOrder,
    pub(crate) naive_time_zone: Tz,
    pub(crate) max_field_chars: usize,
}

/// Reads one non-blank record: returns its identifier for reports and the
/// accepted lead or the reason for rejecting it.
pub(crate) fn read_row(
    plan: &ColumnPlan,
    record: &ByteRecord,
    settings: &RowSettings,
) -> (Option<String>, RecordOutcome) {
    let (cells, invalid_text) = decode_cells(record, plan.columns.len());
    let row = RowReader::new(plan, cells);
    let identifier = row.identifier();

    let outcome = match row.check(record.len(), invalid_text, settings.max_field_chars) {
        Err(issue) => RecordOutcome::Rejected(issue),
        Ok(()) => match row.read(settings) {
            Ok(accepted) => RecordOutcome::Accepted(accepted),
            Err(issue) => RecordOutcome::Rejected(issue),
        },
    };
    (identifier, outcome)
}

/// Returns the trimmed cells, padded with empty cells up to the header's
/// width, and the first column whose bytes are not valid UTF-8 (left empty).
fn decode_cells(record: &ByteRecord, columns: usize) -> (Vec<&str>, Option<usize>) {
    let mut cells = Vec::with_capacity(record.len().max(columns));
    let mut invalid_text = None;

    for (index, bytes) in record.iter().enumerate() {
        match std::str::from_utf8(bytes) {
            Ok(text) => cells.push(text.trim()),
            Err(_) => {
                invalid_text.get_or_insert(index);
                cells.push("");
            }
        }
    }
    if cells.len() < columns {
        cells.resize(columns, "");
    }
    (cells, invalid_text)
}

struct RowReader<'a> {
    plan: &'a ColumnPlan,
    cells: Vec<&'a str>,
    /// Per column: whether its value went into a lead field or a signal.
    /// Columns with a value that is not used become custom fields.
    used: Vec<bool>,
    fields: LeadFields,
    signals: Vec<SignalInput>,
    warnings: Vec<RowIssue>,
}

impl<'a> RowReader<'a> {
    fn new(plan: &'a ColumnPlan, cells: Vec<&'a str>) -> Self {
        let used = vec![false; cells.len()];
        Self {
            plan,
            cells,
            used,
            fields: LeadFields::default(),
            signals: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn identifier(&self) -> Option<String> {
        let first_value = |field| {
            self.plan
                .columns_for(field)
                .iter()
                .map(|&index| self.cells[index])
                .find(|value| !value.is_empty())
        };
        first_value(LeadField::ExternalId)
            .or_else(|| first_value(LeadField::Email))
            .map(|value| truncate_chars(value, MAX_IDENTIFIER_CHARS))
    }

    /// Rejects records with undecodable text, fields past the header, or a
    /// field longer than `max_field_chars`.
    fn check(
        &self,
        field_count: usize,
        invalid_text: Option<usize>,
        max_field_chars: usize,
    ) -> Result<(), RowIssue> {
        let columns = self.plan.columns.len();
        if let Some(index) = invalid_text {
            let issue = if index < columns {
                self.column_issue(index, IssueReason::InvalidText)
            } else {
                RowIssue::new("row", None, IssueReason::InvalidText)
            };
            return Err(issue);
        }

        if self.cells[columns..].iter().any(|cell| !cell.is_empty()) {
            let reason = IssueReason::ExtraFields {
                fields: field_count,
                columns,
            };
            return Err(RowIssue::new("row", None, reason));
        }

        for column in &self.plan.columns {
            let cell = self.cells[column.index];
            let too_long = cell.len() > max_field_chars && cell.chars().count() > max_field_chars;
            if too_long && column.target != ColumnTarget::Ignore {
                let reason = IssueReason::FieldTooLong {
                    max_chars: max_field_chars,
                };
                return Err(self.column_issue(column.index, reason));
            }
        }
        Ok(())
    }

    fn read(mut self, settings: &RowSettings) -> Result<AcceptedRow, RowIssue> {
        self.read_contact(settings.default_region.as_deref())?;
        self.read_names();
        self.read_texts();
        self.read_dates(settings.date_order, settings.naive_time_zone);
        self.read_time_zone();
        self.read_engagement_count();
        self.read_signals();
        self.read_custom_fields();

        Ok(AcceptedRow {
            fields: self.fields,
            signals: self.signals,
            warnings: self.warnings,
        })
    }

    /// Applies the contact rules. An invalid email rejects the row. A phone
    /// that cannot be used is a warning when the row has an email, and the
    /// rejection reason when it has none. A row needs one of the two.
    fn read_contact(&mut self, default_region: Option<&str>) -> Result<(), RowIssue> {
        if let Some((index, raw)) = self.take(LeadField::Email) {
            let email = Email::parse(raw)
                .map_err(|_| self.column_issue(index, IssueReason::InvalidEmail))?;
            self.fields.email = Some(email);
        }

        let mut phone_issue = None;
        if let Some((index, raw)) = self.take(LeadField::Phone) {
            match Phone::read(raw, default_region) {
                PhoneOutcome::Valid(phone) => self.fields.phone = Some(phone),
                PhoneOutcome::Empty => {}
                PhoneOutcome::Invalid(error) => {
                    self.used[index] = false;
                    let reason = match error {
                        ContactError::NoCountryCode => IssueReason::NoCountryCode,
                        _ => IssueReason::InvalidPhone,
                    };
                    phone_issue = Some(self.column_issue(index, reason));
                }
            }
        }

        match (self.fields.email.is_some(), phone_issue) {
            (true, Some(issue)) => self.warnings.push(issue),
            (false, Some(issue)) => return Err(issue),
            (false, None) if self.fields.phone.is_none() => {
                let reason = IssueReason::MissingEmailAndPhone;
                return Err(RowIssue::new(LeadField::Email.as_str(), None, reason));
            }
            _ => {}
        }
        Ok(())
    }

    fn read_names(&mut self) {
        self.fields.first_name = self.take_text(LeadField::FirstName);
        self.fields.last_name = self.take_text(LeadField::LastName);
        if self.fields.first_name.is_some() || self.fields.last_name.is_some() {
            return;
        }

        if let Some((_, full)) = self.take(LeadField::FullName) {
            let (first, last) = split_full_name(full);
            self.fields.first_name = first;
            self.fields.last_name = last;
        }
    }

    fn read_texts(&mut self) {
        self.fields.external_id = self.take_text(LeadField::ExternalId);
        self.fields.company = self.take_text(LeadField::Company);
        self.fields.job_title = self.take_text(LeadField::JobTitle);
        self.fields.industry = self.take_text(LeadField::Industry);
        self.fields.website = self.take_text(LeadField::Website);
        self.fields.city = self.take_text(LeadField::City);
        self.fields.country = self.take_text(LeadField::Country);
        self.fields.notes = self.take_text(LeadField::Notes);
        self.fields.crm_status = self.take_text(LeadField::CrmStatus);
    }

    fn read_dates(&mut self, order: DateOrder, zone: Tz) {
        self.fields.last_contacted_at = self.take_date(LeadField::LastContactedAt, order, zone);
        self.fields.crm_created_at = self.take_date(LeadField::CrmCreatedAt, order, zone);
    }

    fn take_date(&mut self, field: LeadField, order: DateOrder, zone: Tz) -> Option<DateTime<Utc>> {
        let (index, raw) = self.take(field)?;
        let parsed = parse_date(raw, order, zone);
        if parsed.is_none() {
            self.reject_value(index, IssueReason::InvalidDate);
        }
        parsed
    }

    fn read_time_zone(&mut self) {
        let Some((index, raw)) = self.take(LeadField::TimeZone) else {
            return;
        };
        match parse_time_zone(raw) {
            Some(zone) => self.fields.time_zone = Some(zone.name().to_owned()),
            None => self.reject_value(index, IssueReason::UnknownTimeZone),
        }
    }

    /// Takes the largest count among the engagement columns rather than their
    /// sum, because CRM counts overlap (HubSpot's "Number of times contacted"
    /// is part of its "Number of Sales Activities"). The other counts are kept
    /// as custom fields.
    fn read_engagement_count(&mut self) {
        let mut best: Option<(usize, u32)> = None;
        for &index in self.plan.columns_for(LeadField::EngagementCount) {
            let raw = self.cells[index];
            if raw.is_empty() {
                continue;
            }
            match parse_count(raw) {
                Some(count) if best.is_none_or(|(_, max)| count > max) => {
                    best = Some((index, count));
                }
                Some(_) => {}
                None => self.reject_value(index, IssueReason::InvalidNumber),
            }
        }

        if let Some((index, count)) = best {
            self.used[index] = true;
            self.fields.engagement_count = Some(count);
        }
    }

    fn read_signals(&mut self) {
        for column in &self.plan.columns {
            let ColumnTarget::Signal { kind } = &column.target else {
                continue;
            };
            let value = self.cells[column.index];
            if value.is_empty() {
                continue;
            }
            self.used[column.index] = true;
            self.signals.push(SignalInput {
                kind: kind.clone(),
                summary: value.to_owned(),
                source: format!("import column {:?}", column.header),
            });
        }
    }

    /// Keeps every non-empty value that no lead field or signal used: custom
    /// columns, extra columns of a field, and values that failed to parse.
    fn read_custom_fields(&mut self) {
        let mut builder = CustomFieldsBuilder::default();
        for column in &self.plan.columns {
            let value = self.cells[column.index];
            let unused = !self.used[column.index] && !value.is_empty();
            if unused && column.target != ColumnTarget::Ignore {
                builder.insert(&column.custom_key, &column.header, value);
            }
        }

        let (custom_fields, warnings) = builder.finish();
        self.fields.custom_fields = custom_fields;
        self.warnings.extend(warnings);
    }

    /// Returns the best non-empty value for `field` and marks it used. Other
    /// columns of the field with the same value are marked used too, so an
    /// identical copy does not become a custom field.
    fn take(&mut self, field: LeadField) -> Option<(usize, &'a str)> {
        let columns = self.plan.columns_for(field);
        let index = columns
            .iter()
            .copied()
            .find(|&index| !self.cells[index].is_empty())?;
        let value = self.cells[index];

        for &other in columns {
            if self.cells[other] == value {
                self.used[other] = true;
            }
        }
        Some((index, value))
    }

    fn take_text(&mut self, field: LeadField) -> Option<String> {
        self.take(field).map(|(_, value)| value.to_owned())
    }

    /// Records a warning for a value that cannot be used and keeps the text
    /// as a custom field instead.
    fn reject_value(&mut self, index: usize, reason: IssueReason) {
        self.used[index] = false;
        let issue = self.column_issue(index, reason);
        self.warnings.push(issue);
    }

    fn column_issue(&self, index: usize, reason: IssueReason) -> RowIssue {
        let column = &self.plan.columns[index];
        let field = match &column.target {
            ColumnTarget::Field(field) => field.as_str(),
            _ => column.custom_key.as_str(),
        };
        RowIssue::new(field, Some(&column.header), reason)
    }
}
