//! Header mapping: CRM and language variants, overrides, custom fields and
//! signals.

use std::collections::BTreeMap;

use rekindle_import::{
    ColumnTarget, ImportError, ImportOptions, ImportReader, IssueReason, LeadField, MappingOrigin,
};

use crate::{accepted, import, import_text, warning_pairs};

fn targets(header: &str) -> Vec<ColumnTarget> {
    let text = format!("{header}\n");
    let reader = ImportReader::open(text.as_bytes(), ImportOptions::default()).expect("open");
    reader
        .columns()
        .iter()
        .map(|column| column.target.clone())
        .collect()
}

fn fields(list: &[LeadField]) -> Vec<ColumnTarget> {
    list.iter().copied().map(ColumnTarget::Field).collect()
}

#[test]
fn salesforce_headers() {
    use LeadField::*;
    let header = "Lead ID,First Name,Last Name,Email,Phone,Mobile,Account Name,Title,Industry,Website,Mailing City,Mailing Country,Description,Last Activity,Created Date,Lead Status";
    let wanted = fields(&[
        ExternalId,
        FirstName,
        LastName,
        Email,
        Phone,
        Phone,
        Company,
        JobTitle,
        Industry,
        Website,
        City,
        Country,
        Notes,
        LastContactedAt,
        CrmCreatedAt,
        CrmStatus,
    ]);
    assert_eq!(targets(header), wanted);
}

#[test]
fn salesforce_lead_source_is_custom() {
    let targets = targets("Contact ID,Email,Lead Source");
    assert_eq!(targets[0], ColumnTarget::Field(LeadField::ExternalId));
    assert_eq!(targets[2], ColumnTarget::Custom);
}

#[test]
fn pipedrive_headers() {
    use LeadField::*;
    let header = "Person - ID,Person - Name,Person - Email,Person - Phone,Organization - Name,Person - Job title";
    let wanted = fields(&[ExternalId, FullName, Email, Phone, Company, JobTitle]);
    assert_eq!(targets(header), wanted);
}

#[test]
fn apollo_headers() {
    use LeadField::*;
    let header = "First Name,Last Name,Title,Company,Email,Corporate Phone,Mobile Phone,Industry,Website,City,Country,Last Contacted,Apollo Contact Id";
    let wanted = fields(&[
        FirstName,
        LastName,
        JobTitle,
        Company,
        Email,
        Phone,
        Phone,
        Industry,
        Website,
        City,
        Country,
        LastContactedAt,
        ExternalId,
    ]);
    assert_eq!(targets(header), wanted);
}

#[test]
fn apollo_corporate_phone_beats_mobile() {
    let text = "Email,Mobile Phone,Corporate Phone\nana@verdemar.example,+34 612 345 678,+34 912 345 678\n";
    let records = import_text(text);
    let row = accepted(&records[0]);
    assert_eq!(
        row.fields.phone.as_ref().map(|phone| phone.as_str()),
        Some("+34912345678")
    );
    assert_eq!(
        row.fields.custom_fields.get("Mobile Phone"),
        Some("+34 612 345 678")
    );
}

#[test]
fn spanish_headers() {
    let text = "Nombre;Apellidos;Correo electrónico;Empresa;Cargo;Teléfono;Notas\n\
                José;Álvarez García;jose@verdemar.example;Verdemar Logística;Director;+34 912 345 678;Llamar en abril\n";
    let records = import_text(text);
    let fields = &accepted(&records[0]).fields;
    assert_eq!(fields.first_name.as_deref(), Some("José"));
    assert_eq!(fields.last_name.as_deref(), Some("Álvarez García"));
    assert_eq!(
        fields.email.as_ref().map(|email| email.as_str()),
        Some("jose@verdemar.example")
    );
    assert_eq!(fields.company.as_deref(), Some("Verdemar Logística"));
    assert_eq!(fields.job_title.as_deref(), Some("Director"));
    assert_eq!(
        fields.phone.as_ref().map(|phone| phone.as_str()),
        Some("+34912345678")
    );
    assert_eq!(fields.notes.as_deref(), Some("Llamar en abril"));
    assert!(fields.custom_fields.is_empty());
}

#[test]
fn french_headers() {
    let text = "Prénom,Nom,Courriel,Société,Poste,Téléphone,Remarques\n\
                Claire,Dubois,claire.dubois@atelier.example,Atelier Lumière SARL,Directrice générale,+33 1 23 45 67 89,À relancer\n";
    let records = import_text(text);
    let fields = &accepted(&records[0]).fields;
    assert_eq!(fields.first_name.as_deref(), Some("Claire"));
    assert_eq!(fields.last_name.as_deref(), Some("Dubois"));
    assert_eq!(
        fields.email.as_ref().map(|email| email.as_str()),
        Some("claire.dubois@atelier.example")
    );
    assert_eq!(fields.company.as_deref(), Some("Atelier Lumière SARL"));
    assert_eq!(fields.job_title.as_deref(), Some("Directrice générale"));
    assert_eq!(
        fields.phone.as_ref().map(|phone| phone.as_str()),
        Some("+33123456789")
    );
    assert_eq!(fields.notes.as_deref(), Some("À relancer"));
    assert!(fields.custom_fields.is_empty());
}

#[test]
fn german_name_column_is_surname() {
    let records = import_text("Vorname,Name,E-Mail\nJörg,Müller,j@bergbau.example\n");
    let fields = &accepted(&records[0]).fields;
    assert_eq!(fields.first_name.as_deref(), Some("Jörg"));
    assert_eq!(fields.last_name.as_deref(), Some("Müller"));
}

#[test]
fn full_name_split_into_first_and_last() {
    let text = "Full Name,Email\nJan van der Berg,jan@dijk.example\n\"Okafor, Maya\",maya@brightlane.example\nCher,cher@example.com\n";
    let records = import_text(text);
    let names: Vec<(Option<&str>, Option<&str>)> = records
        .iter()
        .map(|record| {
            let fields = &accepted(record).fields;
            (fields.first_name.as_deref(), fields.last_name.as_deref())
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (Some("Jan"), Some("van der Berg")),
            (Some("Maya"), Some("Okafor")),
            (Some("Cher"), None),
        ]
    );
}

#[test]
fn full_name_kept_when_parts_present() {
    let text =
        "Name,First Name,Last Name,Email\nDr. Maya Okafor,Maya,Okafor,maya@brightlane.example\n";
    let records = import_text(text);
    let fields = &accepted(&records[0]).fields;
    assert_eq!(fields.first_name.as_deref(), Some("Maya"));
    assert_eq!(fields.last_name.as_deref(), Some("Okafor"));
    assert_eq!(fields.custom_fields.get("Name"), Some("Dr. Maya Okafor"));
}

#[test]
fn mapping_override_wins() {
    let text =
        "Contact,Phone Number,Stage,Zusatz\nana@verdemar.example,+34 912 345 678,Lead,Messe 2025\n";
    let options = ImportOptions {
        mapping: BTreeMap::from([
            ("contact".to_owned(), "email".to_owned()),
            ("Phone Number".to_owned(), "ignore".to_owned()),
            ("Stage".to_owned(), "custom".to_owned()),
            ("Zusatz".to_owned(), "Notes".to_owned()),
        ]),
        ..ImportOptions::default()
    };

    let reader = ImportReader::open(text.as_bytes(), options.clone()).expect("open");
    let origins: Vec<MappingOrigin> = reader
        .columns()
        .iter()
        .map(|column| column.origin)
        .collect();
    assert_eq!(origins, vec![MappingOrigin::Override; 4]);

    let records = import(text.as_bytes(), options);
    let fields = &accepted(&records[0]).fields;
    assert_eq!(
        fields.email.as_ref().map(|email| email.as_str()),
        Some("ana@verdemar.example")
    );
    assert_eq!(fields.phone, None);
    assert_eq!(fields.crm_status, None);
    assert_eq!(fields.custom_fields.get("Stage"), Some("Lead"));
    assert_eq!(fields.custom_fields.get("Phone Number"), None);
    assert_eq!(fields.notes.as_deref(), Some("Messe 2025"));
}

#[test]
fn override_errors_name_the_value() {
    let header = "Email,Notes\n";
    let unknown_column = ImportOptions {
        mapping: BTreeMap::from([("Emial".to_owned(), "email".to_owned())]),
        ..ImportOptions::default()
    };
    let error = ImportReader::open(header.as_bytes(), unknown_column)
        .err()
        .expect("unknown column fails");
    assert!(
        matches!(&error, ImportError::UnknownOverrideColumn { column, .. } if column == "Emial")
    );
    assert!(error.to_string().contains("\"Notes\""), "{error}");

    let unknown_target = ImportOptions {
        mapping: BTreeMap::from([("Notes".to_owned(), "salary".to_owned())]),
        ..ImportOptions::default()
    };
    let error = ImportReader::open(header.as_bytes(), unknown_target)
        .err()
        .expect("unknown target fails");
    assert!(
        matches!(&error, ImportError::UnknownOverrideTarget { target, .. } if target == "salary")
    );
    assert!(error.to_string().contains("first_name"), "{error}");
}

#[test]
fn missing_contact_column_is_file_error() {
    let error = ImportReader::open(
        &b"First Name,Company\nAna,Verdemar\n"[..],
        ImportOptions::default(),
    )
    .err()
    .expect("no contact column fails");
    assert!(matches!(error, ImportError::MissingContactColumn { .. }));
    let message = error.to_string();
    assert!(message.contains("\"First Name\""), "{message}");
    assert!(message.contains("mapping override"), "{message}");
}

#[test]
fn unknown_columns_become_custom_fields() {
    let text = "Email,Umsatzpotenzial,Lead Source\nana@verdemar.example,\"8.000,50\",Trade show\n";
    let records = import_text(text);
    let fields = &accepted(&records[0]).fields;
    assert_eq!(
        fields.custom_fields.get("Umsatzpotenzial"),
        Some("8.000,50")
    );
    assert_eq!(fields.custom_fields.get("Lead Source"), Some("Trade show"));
    assert_eq!(fields.custom_fields.len(), 2);
}

#[test]
fn custom_field_key_bound_warns() {
    let extra: Vec<String> = (1..=55).map(|index| format!("Extra {index}")).collect();
    let values: Vec<String> = (1..=55).map(|index| format!("v{index}")).collect();
    let text = format!(
        "Email,{}\nana@verdemar.example,{}\n",
        extra.join(","),
        values.join(",")
    );
    let row = accepted(&import_text(&text)[0]).clone();

    assert_eq!(row.fields.custom_fields.len(), 50);
    assert_eq!(row.fields.custom_fields.get("Extra 50"), Some("v50"));
    assert_eq!(row.fields.custom_fields.get("Extra 51"), None);
    let warned: Vec<&str> = row
        .warnings
        .iter()
        .map(|issue| issue.field.as_str())
        .collect();
    assert_eq!(
        warned,
        vec!["Extra 51", "Extra 52", "Extra 53", "Extra 54", "Extra 55"]
    );
    assert!(
        row.warnings
            .iter()
            .all(|issue| issue.reason == IssueReason::TooManyCustomFields { max_keys: 50 })
    );
}

#[test]
fn custom_field_byte_bound_warns() {
    // Two values of 9,000 bytes pass the field limit but not 16 KiB together.
    let big = "x".repeat(9_000);
    let text = format!("Email,Background,History,Tag\nana@verdemar.example,{big},{big},vip\n");
    let row = accepted(&import_text(&text)[0]).clone();

    assert_eq!(
        row.fields.custom_fields.get("Background"),
        Some(big.as_str())
    );
    assert_eq!(row.fields.custom_fields.get("History"), None);
    assert_eq!(row.fields.custom_fields.get("Tag"), Some("vip"));
    assert_eq!(
        warning_pairs(&row),
        vec![(
            "History".to_owned(),
            "custom fields larger than 16384 bytes".to_owned()
        )]
    );
}

#[test]
fn signal_columns_become_signals() {
    let text = "Email,Recent News,Hiring,Job Change,Intent Topic,Trigger\n\
                ana@verdemar.example,Opened a Madrid office,3 sales roles,,Route planning,Raised Series B\n";
    let row = accepted(&import_text(text)[0]).clone();
    let signals: Vec<(&str, &str)> = row
        .signals
        .iter()
        .map(|signal| (signal.kind.as_str(), signal.summary.as_str()))
        .collect();
    assert_eq!(
        signals,
        vec![
            ("news", "Opened a Madrid office"),
            ("hiring", "3 sales roles"),
            ("intent", "Route planning"),
            ("trigger", "Raised Series B"),
        ]
    );
    assert_eq!(row.signals[0].source, "import column \"Recent News\"");
    assert!(row.fields.custom_fields.is_empty());
}

#[test]
fn time_zone_validated() {
    let text =
        "Email,Time Zone\nana@verdemar.example,europe/madrid\nbo@nordpeak.example,Mars/Olympus\n";
    let records = import_text(text);

    let valid = accepted(&records[0]);
    assert_eq!(valid.fields.time_zone.as_deref(), Some("Europe/Madrid"));

    let invalid = accepted(&records[1]);
    assert_eq!(invalid.fields.time_zone, None);
    assert_eq!(
        warning_pairs(invalid),
        vec![("time_zone".to_owned(), "unknown time zone".to_owned())]
    );
    assert_eq!(
        invalid.fields.custom_fields.get("Time Zone"),
        Some("Mars/Olympus")
    );
}

#[test]
fn engagement_count_takes_largest() {
    let text = "Email,Number of Sales Activities,Times Contacted,Emails Opened\n\
                ana@verdemar.example,12,4,\n\
                bo@nordpeak.example,,\"1,204\",lots\n";
    let records = import_text(text);

    let first = accepted(&records[0]);
    assert_eq!(first.fields.engagement_count, Some(12));
    assert_eq!(first.fields.custom_fields.get("Times Contacted"), Some("4"));

    let second = accepted(&records[1]);
    assert_eq!(second.fields.engagement_count, Some(1204));
    assert_eq!(
        warning_pairs(second),
        vec![("engagement_count".to_owned(), "invalid number".to_owned())]
    );
    assert_eq!(
        second.fields.custom_fields.get("Emails Opened"),
        Some("lots")
    );
}
