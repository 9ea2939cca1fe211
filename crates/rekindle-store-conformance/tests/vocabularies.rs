//! Every status column's CHECK list in both migrations equals the vocabulary
//! the domain crate defines, value for value.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rekindle_domain::*;

fn migration(backend: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../rekindle-store-{backend}/migrations/0001_data_model.sql"
    ));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Returns the values of `column IN (...)` inside `CREATE TABLE table`.
fn check_values(sql: &str, table: &str, column: &str) -> BTreeSet<String> {
    let start = sql
        .find(&format!("CREATE TABLE {table} ("))
        .unwrap_or_else(|| panic!("table {table} not found"));
    let body = &sql[start..];
    let end = body.find("\n);").expect("end of CREATE TABLE");
    let body = &body[..end];
    let marker = format!("CHECK ({column} IN (");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no CHECK on {table}.{column}"));
    let list = &body[at + marker.len()..];
    let list = &list[..list.find(')').expect("end of IN list")];
    list.split(',')
        .map(|value| value.trim().trim_matches('\'').to_owned())
        .collect()
}

fn vocabulary<T: std::fmt::Display>(values: &[T]) -> BTreeSet<String> {
    values.iter().map(ToString::to_string).collect()
}

#[test]
fn check_lists_match_domain_vocabularies() {
    let cases: Vec<(&str, &str, BTreeSet<String>)> = vec![
        ("accounts", "plan", vocabulary(Plan::ALL)),
        ("users", "role", vocabulary(UserRole::ALL)),
        ("imports", "status", vocabulary(ImportStatus::ALL)),
        ("import_rows", "outcome", vocabulary(ImportRowOutcome::ALL)),
        ("leads", "status", vocabulary(LeadStatus::ALL)),
        ("leads", "tier", vocabulary(Tier::ALL)),
        ("campaigns", "status", vocabulary(CampaignStatus::ALL)),
        ("campaigns", "tone", vocabulary(Tone::ALL)),
        ("campaign_steps", "channel", vocabulary(Channel::ALL)),
        ("enrollments", "status", vocabulary(EnrollmentStatus::ALL)),
        ("messages", "channel", vocabulary(Channel::ALL)),
        ("messages", "status", vocabulary(MessageStatus::ALL)),
        ("message_events", "kind", vocabulary(MessageEventKind::ALL)),
        ("replies", "label", vocabulary(ReplyLabel::ALL)),
        ("replies", "objection", vocabulary(ObjectionKind::ALL)),
        ("suppressions", "kind", vocabulary(ContactKind::ALL)),
        ("suppressions", "reason", vocabulary(SuppressionReason::ALL)),
        ("consents", "basis", vocabulary(ConsentBasis::ALL)),
        (
            "calendar_connections",
            "status",
            vocabulary(CalendarConnectionStatus::ALL),
        ),
        ("meetings", "status", vocabulary(MeetingStatus::ALL)),
        ("invoices", "status", vocabulary(InvoiceStatus::ALL)),
        ("jobs", "status", vocabulary(JobStatus::ALL)),
        ("jobs", "error_class", vocabulary(ErrorClass::ALL)),
        ("crew_runs", "status", vocabulary(RunStatus::ALL)),
        ("stage_runs", "status", vocabulary(RunStatus::ALL)),
        ("alerts", "severity", vocabulary(AlertSeverity::ALL)),
        ("audit_log", "actor_kind", vocabulary(ActorKind::ALL)),
    ];
    for backend in ["sqlite", "postgres"] {
        let sql = migration(backend);
        for (table, column, expected) in &cases {
            assert_eq!(
                &check_values(&sql, table, column),
                expected,
                "{backend}: {table}.{column}"
            );
        }
    }
}
