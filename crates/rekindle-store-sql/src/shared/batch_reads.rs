// Reads of many rows by id in one statement each, shared by both backends:
// a crew batch loads its 50 enrollments, leads, signals and consents with
// five statements instead of five per lead.

async fn get_leads(conn: &mut Conn, account: AccountId, ids: &[LeadId]) -> Result<Vec<Lead>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE account_id = {} AND id IN ({})",
        params(1, 1),
        params(2, ids.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
    for id in ids {
        query = query.bind(id.0);
    }
    let rows = query.fetch_all(conn).await.map_err(map_error)?;
    rows.iter().map(lead_from_row).collect()
}

async fn get_enrollments(
    conn: &mut Conn,
    account: AccountId,
    ids: &[EnrollmentId],
) -> Result<Vec<Enrollment>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE account_id = {} AND id IN ({})",
        params(1, 1),
        params(2, ids.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
    for id in ids {
        query = query.bind(id.0);
    }
    let rows = query.fetch_all(conn).await.map_err(map_error)?;
    rows.iter().map(enrollment_from_row).collect()
}

async fn list_signals_of(conn: &mut Conn, account: AccountId, leads: &[LeadId]) -> Result<Vec<Signal>, StoreError> {
    if leads.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, lead_id, kind, summary, source, created_at FROM lead_signals \
         WHERE account_id = {} AND lead_id IN ({}) ORDER BY id",
        params(1, 1),
        params(2, leads.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
    for lead in leads {
        query = query.bind(lead.0);
    }
    let rows = query.fetch_all(conn).await.map_err(map_error)?;
    rows.iter().map(signal_from_row).collect()
}

/// Returns each lead's latest consent record, for the leads that have one.
async fn latest_consents(
    conn: &mut Conn,
    account: AccountId,
    leads: &[LeadId],
) -> Result<Vec<(LeadId, ConsentBasis)>, StoreError> {
    if leads.is_empty() {
        return Ok(Vec::new());
    }
    // Oldest first, so the last row read for a lead is its latest, in the
    // order `consent_of` uses.
    let sql = format!(
        "SELECT lead_id, basis FROM consents WHERE account_id = {} AND lead_id IN ({}) \
         ORDER BY recorded_at, id",
        params(1, 1),
        params(2, leads.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
    for lead in leads {
        query = query.bind(lead.0);
    }
    let rows = query.fetch_all(conn).await.map_err(map_error)?;
    let mut latest: Vec<(LeadId, ConsentBasis)> = Vec::new();
    for row in &rows {
        let lead = LeadId(row.try_get("lead_id").map_err(map_error)?);
        let basis: String = row.try_get("basis").map_err(map_error)?;
        let basis: ConsentBasis = parse_enum(&basis)?;
        match latest.iter_mut().find(|(known, _)| *known == lead) {
            Some(entry) => entry.1 = basis,
            None => latest.push((lead, basis)),
        }
    }
    Ok(latest)
}
