// Accounts, the audit chain, crew runs and alerts, shared by both backends.

fn account_from_row(row: &DbRow) -> Result<Account, StoreError> {
    let plan: String = row.try_get("plan").map_err(map_error)?;
    Ok(Account {
        id: AccountId(row.try_get("id").map_err(map_error)?),
        name: row.try_get("name").map_err(map_error)?,
        sender_name: row.try_get("sender_name").map_err(map_error)?,
        sender_email: row.try_get("sender_email").map_err(map_error)?,
        postal_address: row.try_get("postal_address").map_err(map_error)?,
        time_zone: row.try_get("time_zone").map_err(map_error)?,
        acv_minor: row.try_get("acv_minor").map_err(map_error)?,
        currency: row.try_get("currency").map_err(map_error)?,
        plan: parse_enum(&plan)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}

async fn get_account(conn: &mut Conn, account: AccountId) -> Result<Account, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, sender_name, sender_email, postal_address, time_zone, acv_minor, \
         currency, plan, created_at FROM accounts WHERE id = $1",
    )
    .bind(account.0)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    let row = row.ok_or_else(|| StoreError::not_found("account", account))?;
    account_from_row(&row)
}

async fn create_account(
    conn: &mut Conn,
    new: &NewAccount,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Account, StoreError> {
    let id = AccountId::new();
    let now = micros(now);
    sqlx::query(
        "INSERT INTO accounts (id, name, sender_name, sender_email, postal_address, time_zone, \
         acv_minor, currency, plan, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(id.0)
    .bind(&new.name)
    .bind(&new.sender_name)
    .bind(&new.sender_email)
    .bind(&new.postal_address)
    .bind(&new.time_zone)
    .bind(new.acv_minor)
    .bind(&new.currency)
    .bind(new.plan.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;

    let record = AuditRecord::new(actor.clone(), "account.create", "account", Some(id.to_string()))
        .with_changes(serde_json::json!({ "name": new.name, "plan": new.plan }));
    append_audit(&mut *conn, id, &record, now).await?;
    get_account(conn, id).await
}

async fn list_account_ids(conn: &mut Conn) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM accounts ORDER BY id")
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    Ok(ids.into_iter().map(AccountId).collect())
}

async fn audit_head(conn: &mut Conn, account: AccountId) -> Result<AuditHead, StoreError> {
    let sql = format!(
        "SELECT audit_head_seq, audit_head_hash FROM accounts WHERE id = $1{}",
        dialect::FOR_NO_KEY_UPDATE
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?
        .ok_or_else(|| StoreError::not_found("account", account))?;
    Ok(AuditHead {
        account_id: account,
        seq: row.try_get("audit_head_seq").map_err(map_error)?,
        hash: row.try_get("audit_head_hash").map_err(map_error)?,
    })
}

/// Appends an entry to the account's chain. Reading the head locks the account
/// row (PostgreSQL) or runs in the single SQLite writer, so two transactions
/// never append the same `seq`; the unique key on `(account_id, seq)` backs it.
async fn append_audit(
    conn: &mut Conn,
    account: AccountId,
    record: &AuditRecord,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let head = audit_head(&mut *conn, account).await?;
    let mut entry = AuditEntry {
        account_id: account,
        seq: head.seq + 1,
        record: record.clone(),
        created_at: micros(now),
        prev_hash: head.hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);

    sqlx::query(
        "INSERT INTO audit_log (id, account_id, seq, actor_kind, actor_id, action, target_type, \
         target_id, changes, ip, request_id, created_at, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(Uuid::now_v7())
    .bind(account.0)
    .bind(entry.seq)
    .bind(record.actor.kind.as_str())
    .bind(&record.actor.id)
    .bind(&record.action)
    .bind(&record.target_type)
    .bind(&record.target_id)
    .bind(Json(&record.changes))
    .bind(&record.ip)
    .bind(&record.request_id)
    .bind(entry.created_at)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;

    sqlx::query("UPDATE accounts SET audit_head_seq = $2, audit_head_hash = $3 WHERE id = $1")
        .bind(account.0)
        .bind(entry.seq)
        .bind(&entry.hash)
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(entry.seq)
}

async fn list_audit(
    conn: &mut Conn,
    account: AccountId,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, actor_kind, actor_id, action, target_type, target_id, changes, ip, \
         request_id, created_at, prev_hash, hash FROM audit_log \
         WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(account.0)
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("actor_kind").map_err(map_error)?;
            let changes: Json<Value> = row.try_get("changes").map_err(map_error)?;
            Ok(AuditEntry {
                account_id: account,
                seq: row.try_get("seq").map_err(map_error)?,
                record: AuditRecord {
                    actor: Actor {
                        kind: parse_enum(&kind)?,
                        id: row.try_get("actor_id").map_err(map_error)?,
                    },
                    action: row.try_get("action").map_err(map_error)?,
                    target_type: row.try_get("target_type").map_err(map_error)?,
                    target_id: row.try_get("target_id").map_err(map_error)?,
                    changes: changes.0,
                    ip: row.try_get("ip").map_err(map_error)?,
                    request_id: row.try_get("request_id").map_err(map_error)?,
                },
                created_at: row.try_get("created_at").map_err(map_error)?,
                prev_hash: row.try_get("prev_hash").map_err(map_error)?,
                hash: row.try_get("hash").map_err(map_error)?,
            })
        })
        .collect()
}

async fn insert_alert(conn: &mut Conn, alert: &NewAlert, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alerts (id, account_id, severity, kind, message, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(AlertId::new().0)
    .bind(alert.account_id.map(|id| id.0))
    .bind(alert.severity.as_str())
    .bind(&alert.kind)
    .bind(&alert.message)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn list_alerts(conn: &mut Conn, limit: u32) -> Result<Vec<Alert>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, account_id, severity, kind, message, created_at FROM alerts \
         ORDER BY created_at DESC, id DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter().map(alert_from_row).collect()
}

/// Lists one account's alerts in id order, which is creation order.
async fn list_account_alerts(conn: &mut Conn, account: AccountId, page: PageRequest) -> Result<Page<Alert>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, account_id, severity, kind, message, created_at FROM alerts \
         WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(account.0)
    .bind(page.after_uuid())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    let items = rows.iter().map(alert_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

fn alert_from_row(row: &DbRow) -> Result<Alert, StoreError> {
    let severity: String = row.try_get("severity").map_err(map_error)?;
    let account: Option<Uuid> = row.try_get("account_id").map_err(map_error)?;
    Ok(Alert {
        id: AlertId(row.try_get("id").map_err(map_error)?),
        account_id: account.map(AccountId),
        severity: parse_enum(&severity)?,
        kind: row.try_get("kind").map_err(map_error)?,
        message: row.try_get("message").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}

async fn update_account(
    conn: &mut Conn,
    account: AccountId,
    changes: &AccountChanges,
    now: DateTime<Utc>,
) -> Result<Account, StoreError> {
    let result = sqlx::query(
        "UPDATE accounts SET name = COALESCE($2, name), sender_name = COALESCE($3, sender_name), \
         sender_email = COALESCE($4, sender_email), postal_address = COALESCE($5, postal_address), \
         time_zone = COALESCE($6, time_zone), acv_minor = COALESCE($7, acv_minor), \
         currency = COALESCE($8, currency), plan = COALESCE($9, plan), updated_at = $10 \
         WHERE id = $1",
    )
    .bind(account.0)
    .bind(&changes.name)
    .bind(&changes.sender_name)
    .bind(&changes.sender_email)
    .bind(&changes.postal_address)
    .bind(&changes.time_zone)
    .bind(changes.acv_minor)
    .bind(&changes.currency)
    .bind(changes.plan.map(Plan::as_str))
    .bind(micros(now))
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("account", account));
    }
    get_account(conn, account).await
}
