// Import and import report queries, shared by both backends.

async fn create_import(
    conn: &mut Conn,
    account: AccountId,
    id: ImportId,
    file_name: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO imports (id, account_id, file_name, status, created_at) \
         VALUES ($1, $2, $3, 'running', $4)",
    )
    .bind(id.0)
    .bind(account.0)
    .bind(file_name)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn update_import(
    conn: &mut Conn,
    account: AccountId,
    id: ImportId,
    status: ImportStatus,
    counts: &ImportCounts,
    details: &ImportDetails,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let finished = matches!(status, ImportStatus::Completed | ImportStatus::Failed);
    let result = sqlx::query(
        "UPDATE imports SET status = $3, records = $4, imported = $5, merged = $6, \
         duplicates = $7, rejected = $8, suppressed = $9, warnings = $10, \
         encoding = coalesce($11, encoding), delimiter = coalesce($12, delimiter), \
         error = $13, finished_at = $14 WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(counts.records)
    .bind(counts.imported)
    .bind(counts.merged)
    .bind(counts.duplicates)
    .bind(counts.rejected)
    .bind(counts.suppressed)
    .bind(counts.warnings)
    .bind(&details.encoding)
    .bind(&details.delimiter)
    .bind(&details.error)
    .bind(finished.then(|| micros(now)))
    .execute(conn)
    .await
    .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("import", id));
    }
    Ok(())
}

const IMPORT_COLUMNS: &str = "id, file_name, status, encoding, delimiter, records, imported, merged, \
    duplicates, rejected, suppressed, warnings, error, created_at, finished_at";

fn import_from_row(row: &DbRow) -> Result<Import, StoreError> {
    let status: String = row.try_get("status").map_err(map_error)?;
    Ok(Import {
        id: ImportId(row.try_get("id").map_err(map_error)?),
        file_name: row.try_get("file_name").map_err(map_error)?,
        status: parse_enum(&status)?,
        encoding: row.try_get("encoding").map_err(map_error)?,
        delimiter: row.try_get("delimiter").map_err(map_error)?,
        counts: ImportCounts {
            records: row.try_get("records").map_err(map_error)?,
            imported: row.try_get("imported").map_err(map_error)?,
            merged: row.try_get("merged").map_err(map_error)?,
            duplicates: row.try_get("duplicates").map_err(map_error)?,
            rejected: row.try_get("rejected").map_err(map_error)?,
            suppressed: row.try_get("suppressed").map_err(map_error)?,
            warnings: row.try_get("warnings").map_err(map_error)?,
        },
        error: row.try_get("error").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
        finished_at: row.try_get("finished_at").map_err(map_error)?,
    })
}

async fn get_import(conn: &mut Conn, account: AccountId, id: ImportId) -> Result<Option<Import>, StoreError> {
    let sql = format!("SELECT {IMPORT_COLUMNS} FROM imports WHERE account_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(import_from_row).transpose()
}

async fn list_imports(conn: &mut Conn, account: AccountId, page: PageRequest) -> Result<Page<Import>, StoreError> {
    let sql = format!(
        "SELECT {IMPORT_COLUMNS} FROM imports WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(import_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn insert_import_rows(
    conn: &mut Conn,
    account: AccountId,
    id: ImportId,
    rows: &[ImportRowReport],
) -> Result<(), StoreError> {
    const PARAMS: usize = 9;
    for chunk in rows.chunks(dialect::MAX_BIND_PARAMS / PARAMS) {
        let values = (0..chunk.len())
            .map(|row| format!("({})", params(row * PARAMS + 1, PARAMS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO import_rows (account_id, import_id, record_number, line, identifier, \
             outcome, field, reason, duplicate_of) VALUES {values}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for report in chunk {
            query = query
                .bind(account.0)
                .bind(id.0)
                .bind(report.record_number)
                .bind(report.line)
                .bind(&report.identifier)
                .bind(report.outcome.as_str())
                .bind(&report.field)
                .bind(&report.reason)
                .bind(&report.duplicate_of);
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}

async fn list_import_rows(
    conn: &mut Conn,
    account: AccountId,
    id: ImportId,
    after_record: i64,
    limit: u32,
) -> Result<Vec<ImportRowReport>, StoreError> {
    let rows = sqlx::query(
        "SELECT record_number, line, identifier, outcome, field, reason, duplicate_of \
         FROM import_rows WHERE account_id = $1 AND import_id = $2 AND record_number > $3 \
         ORDER BY record_number, id LIMIT $4",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(after_record)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            let outcome: String = row.try_get("outcome").map_err(map_error)?;
            Ok(ImportRowReport {
                record_number: row.try_get("record_number").map_err(map_error)?,
                line: row.try_get("line").map_err(map_error)?,
                identifier: row.try_get("identifier").map_err(map_error)?,
                outcome: parse_enum(&outcome)?,
                field: row.try_get("field").map_err(map_error)?,
                reason: row.try_get("reason").map_err(map_error)?,
                duplicate_of: row.try_get("duplicate_of").map_err(map_error)?,
            })
        })
        .collect()
}
