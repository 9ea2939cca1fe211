// Lead, signal and suppression queries, shared by both backends.

const LEAD_COLUMNS: &str = "id, account_id, external_id, email, phone, first_name, last_name, \
    company, job_title, industry, website, city, country, time_zone, notes, crm_status, \
    last_contacted_at, crm_created_at, engagement_count, custom_fields, status, score, tier, \
    score_reasons, import_id, import_ref, icp_adjustment, icp_reason, created_at, updated_at";

fn lead_from_row(row: &DbRow) -> Result<Lead, StoreError> {
    let email: Option<String> = row.try_get("email").map_err(map_error)?;
    let phone: Option<String> = row.try_get("phone").map_err(map_error)?;
    let custom: Json<Value> = row.try_get("custom_fields").map_err(map_error)?;
    let score: Option<i32> = row.try_get("score").map_err(map_error)?;
    let engagement: Option<i32> = row.try_get("engagement_count").map_err(map_error)?;
    let reasons: Json<Value> = row.try_get("score_reasons").map_err(map_error)?;

    let fields = LeadFields {
        external_id: row.try_get("external_id").map_err(map_error)?,
        email: email
            .map(|text| Email::parse(&text).map_err(|e| StoreError::Corrupt(format!("lead email: {e}"))))
            .transpose()?,
        phone: phone
            .map(|text| Phone::parse(&text, None).map_err(|e| StoreError::Corrupt(format!("lead phone: {e}"))))
            .transpose()?,
        first_name: row.try_get("first_name").map_err(map_error)?,
        last_name: row.try_get("last_name").map_err(map_error)?,
        company: row.try_get("company").map_err(map_error)?,
        job_title: row.try_get("job_title").map_err(map_error)?,
        industry: row.try_get("industry").map_err(map_error)?,
        website: row.try_get("website").map_err(map_error)?,
        city: row.try_get("city").map_err(map_error)?,
        country: row.try_get("country").map_err(map_error)?,
        time_zone: row.try_get("time_zone").map_err(map_error)?,
        notes: row.try_get("notes").map_err(map_error)?,
        crm_status: row.try_get("crm_status").map_err(map_error)?,
        last_contacted_at: row.try_get("last_contacted_at").map_err(map_error)?,
        crm_created_at: row.try_get("crm_created_at").map_err(map_error)?,
        engagement_count: engagement.map(|count| count.max(0) as u32),
        custom_fields: serde_json::from_value(custom.0)
            .map_err(|e| StoreError::Corrupt(format!("lead custom_fields: {e}")))?,
    };
    let status: String = row.try_get("status").map_err(map_error)?;
    let tier: Option<String> = row.try_get("tier").map_err(map_error)?;
    let import_id: Option<Uuid> = row.try_get("import_id").map_err(map_error)?;

    Ok(Lead {
        id: LeadId(row.try_get("id").map_err(map_error)?),
        account_id: AccountId(row.try_get("account_id").map_err(map_error)?),
        fields,
        status: parse_enum(&status)?,
        score: score.map(|value| value.clamp(0, 100) as u8),
        tier: parse_opt_enum(tier)?,
        score_reasons: reasons.0,
        import_id: import_id.map(ImportId),
        import_ref: row.try_get("import_ref").map_err(map_error)?,
        icp_adjustment: row.try_get("icp_adjustment").map_err(map_error)?,
        icp_reason: row.try_get("icp_reason").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
        updated_at: row.try_get("updated_at").map_err(map_error)?,
    })
}

/// Values bound per lead by `insert_leads`.
const LEAD_INSERT_PARAMS: usize = 24;

/// Inserts leads with multi-row INSERT statements, which cost one round trip
/// per chunk instead of one per lead.
async fn insert_leads(
    conn: &mut Conn,
    account: AccountId,
    leads: &[NewLead],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    for chunk in leads.chunks(dialect::MAX_BIND_PARAMS / LEAD_INSERT_PARAMS) {
        let rows = (0..chunk.len())
            .map(|row| {
                let first = row * LEAD_INSERT_PARAMS + 1;
                format!(
                    "({}, 'dormant', {})",
                    params(first, 20),
                    params(first + 20, 4)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO leads (id, account_id, external_id, email, phone, first_name, last_name, \
             company, job_title, industry, website, city, country, time_zone, notes, crm_status, \
             last_contacted_at, crm_created_at, engagement_count, custom_fields, status, \
             import_id, import_ref, created_at, updated_at) VALUES {rows}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for lead in chunk {
            let f = &lead.fields;
            query = query
                .bind(lead.id.0)
                .bind(account.0)
                .bind(&f.external_id)
                .bind(f.email.as_ref().map(Email::as_str))
                .bind(f.phone.as_ref().map(Phone::as_str))
                .bind(&f.first_name)
                .bind(&f.last_name)
                .bind(&f.company)
                .bind(&f.job_title)
                .bind(&f.industry)
                .bind(&f.website)
                .bind(&f.city)
                .bind(&f.country)
                .bind(&f.time_zone)
                .bind(&f.notes)
                .bind(&f.crm_status)
                .bind(f.last_contacted_at.map(micros))
                .bind(f.crm_created_at.map(micros))
                .bind(f.engagement_count.map(|count| count.min(i32::MAX as u32) as i32))
                .bind(Json(f.custom_fields.to_json()))
                .bind(lead.import_id.map(|id| id.0))
                .bind(&lead.import_ref)
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}

async fn update_lead_fields(
    conn: &mut Conn,
    account: AccountId,
    id: LeadId,
    f: &LeadFields,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE leads SET external_id = $3, email = $4, phone = $5, first_name = $6, \
         last_name = $7, company = $8, job_title = $9, industry = $10, website = $11, \
         city = $12, country = $13, time_zone = $14, notes = $15, crm_status = $16, \
         last_contacted_at = $17, crm_created_at = $18, engagement_count = $19, \
         custom_fields = $20, updated_at = $21 \
         WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(&f.external_id)
    .bind(f.email.as_ref().map(Email::as_str))
    .bind(f.phone.as_ref().map(Phone::as_str))
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.company)
    .bind(&f.job_title)
    .bind(&f.industry)
    .bind(&f.website)
    .bind(&f.city)
    .bind(&f.country)
    .bind(&f.time_zone)
    .bind(&f.notes)
    .bind(&f.crm_status)
    .bind(f.last_contacted_at.map(micros))
    .bind(f.crm_created_at.map(micros))
    .bind(f.engagement_count.map(|count| count.min(i32::MAX as u32) as i32))
    .bind(Json(f.custom_fields.to_json()))
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("lead", id));
    }
    Ok(())
}

async fn get_lead(conn: &mut Conn, account: AccountId, id: LeadId) -> Result<Option<Lead>, StoreError> {
    let sql = format!("SELECT {LEAD_COLUMNS} FROM leads WHERE account_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(lead_from_row).transpose()
}

async fn find_leads_by(
    conn: &mut Conn,
    account: AccountId,
    column: &str,
    values: &[String],
) -> Result<Vec<Lead>, StoreError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE account_id = {} AND {column} IN ({})",
        params(1, 1),
        params(2, values.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
    for value in values {
        query = query.bind(value);
    }
    let rows = query.fetch_all(conn).await.map_err(map_error)?;
    rows.iter().map(lead_from_row).collect()
}

async fn list_leads(
    conn: &mut Conn,
    account: AccountId,
    filter: &LeadFilter,
    page: PageRequest,
) -> Result<Page<Lead>, StoreError> {
    // Only the filters in use go into the statement, so the planner sees
    // `account_id = $1 AND id > $2 ORDER BY id` and walks the (account_id, id)
    // index for one page, instead of a generic plan for every optional filter.
    let mut conditions = String::new();
    let mut values: Vec<String> = Vec::new();
    let mut next = 3;
    let mut add = |conditions: &mut String, template: &str, value: String| {
        conditions.push_str(&template.replace("{}", &format!("${next}")));
        values.push(value);
        next += 1;
    };
    if let Some(tier) = filter.tier {
        add(&mut conditions, " AND tier = {}", tier.as_str().to_owned());
    }
    if let Some(status) = filter.status {
        add(&mut conditions, " AND status = {}", status.as_str().to_owned());
    }
    let search = filter.search.as_deref().map(like_pattern);
    if let Some(pattern) = search {
        add(
            &mut conditions,
            " AND (lower(email) LIKE {} ESCAPE '\\' OR lower(first_name) LIKE {} ESCAPE '\\' \
             OR lower(last_name) LIKE {} ESCAPE '\\' OR lower(company) LIKE {} ESCAPE '\\' \
             OR lower(external_id) LIKE {} ESCAPE '\\')",
            pattern,
        );
    }
    let import_param = filter.import_id.map(|_| {
        let param = next;
        next += 1;
        param
    });
    if let Some(param) = import_param {
        conditions.push_str(&format!(" AND import_id = ${param}"));
    }
    // By score, the cursor is still the last lead's id: its current ranked
    // score is read back to continue after it. A score that changes between
    // two pages can move a lead across the page boundary. The ranked score is
    // the score plus the profile adjustment; -1000 puts unscored leads last,
    // below any adjusted score.
    let (position, order) = match filter.order {
        LeadOrder::Created => ("id > $2", "id"),
        LeadOrder::ScoreDesc if page.after.is_none() => (
            "$2 = $2",
            "coalesce(score + icp_adjustment, -1000) DESC, id DESC",
        ),
        LeadOrder::ScoreDesc => (
            "(coalesce(score + icp_adjustment, -1000), id) < (SELECT coalesce(score + icp_adjustment, -1000), id \
             FROM leads WHERE account_id = $1 AND id = $2)",
            "coalesce(score + icp_adjustment, -1000) DESC, id DESC",
        ),
    };
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE account_id = $1 AND {position}{conditions} \
         ORDER BY {order} LIMIT ${next}"
    );

    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid());
    for value in values {
        query = query.bind(value);
    }
    if let Some(import) = filter.import_id {
        query = query.bind(import.0);
    }
    let rows = query
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let leads = rows.iter().map(lead_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(leads, page.limit, |lead| lead.id.0))
}

async fn set_lead_score(
    conn: &mut Conn,
    account: AccountId,
    id: LeadId,
    score: u8,
    tier: Tier,
    reasons: &Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE leads SET score = $3, tier = $4, score_reasons = $5, updated_at = $6 \
         WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(i32::from(score))
    .bind(tier.as_str())
    .bind(Json(reasons))
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("lead", id));
    }
    Ok(())
}

async fn set_lead_status(
    conn: &mut Conn,
    account: AccountId,
    id: LeadId,
    status: LeadStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE leads SET status = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("lead", id));
    }
    Ok(())
}

async fn count_leads_by_tier(
    conn: &mut Conn,
    account: AccountId,
) -> Result<Vec<(Option<Tier>, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT tier, count(*) AS n FROM leads WHERE account_id = $1 GROUP BY tier ORDER BY tier",
    )
    .bind(account.0)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            let tier: Option<String> = row.try_get("tier").map_err(map_error)?;
            let count: i64 = row.try_get("n").map_err(map_error)?;
            Ok((parse_opt_enum(tier)?, count))
        })
        .collect()
}

/// Inserts signals of several leads with multi-row INSERT statements.
async fn insert_signals(
    conn: &mut Conn,
    account: AccountId,
    signals: &[(LeadId, SignalInput)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    const PARAMS: usize = 7;
    let now = micros(now);
    for chunk in signals.chunks(dialect::MAX_BIND_PARAMS / PARAMS) {
        let rows = (0..chunk.len())
            .map(|row| format!("({})", params(row * PARAMS + 1, PARAMS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO lead_signals (id, account_id, lead_id, kind, summary, source, created_at) VALUES {rows}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (lead, signal) in chunk {
            query = query
                .bind(SignalId::new().0)
                .bind(account.0)
                .bind(lead.0)
                .bind(&signal.kind)
                .bind(&signal.summary)
                .bind(&signal.source)
                .bind(now);
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}

async fn list_signals(conn: &mut Conn, account: AccountId, lead: LeadId) -> Result<Vec<Signal>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, lead_id, kind, summary, source, created_at FROM lead_signals \
         WHERE account_id = $1 AND lead_id = $2 ORDER BY id",
    )
    .bind(account.0)
    .bind(lead.0)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter().map(signal_from_row).collect()
}

fn signal_from_row(row: &DbRow) -> Result<Signal, StoreError> {
    Ok(Signal {
        id: SignalId(row.try_get("id").map_err(map_error)?),
        lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
        input: SignalInput {
            kind: row.try_get("kind").map_err(map_error)?,
            summary: row.try_get("summary").map_err(map_error)?,
            source: row.try_get("source").map_err(map_error)?,
        },
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}

async fn suppressed_values(
    conn: &mut Conn,
    account: AccountId,
    kind: ContactKind,
    values: &[String],
) -> Result<Vec<String>, StoreError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT value FROM suppressions WHERE (account_id = {} OR account_id IS NULL) \
         AND kind = {} AND value IN ({})",
        params(1, 1),
        params(2, 1),
        params(3, values.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0).bind(kind.as_str());
    for value in values {
        query = query.bind(value);
    }
    let rows = query.fetch_all(conn).await.map_err(map_error)?;
    rows.iter()
        .map(|row| row.try_get::<String, _>("value").map_err(map_error))
        .collect()
}

async fn add_suppression(
    conn: &mut Conn,
    account: AccountId,
    kind: ContactKind,
    value: &str,
    reason: SuppressionReason,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "INSERT INTO suppressions (id, account_id, kind, value, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(SuppressionId::new().0)
    .bind(account.0)
    .bind(kind.as_str())
    .bind(value)
    .bind(reason.as_str())
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}

/// Builds a case-insensitive `LIKE` pattern that matches `text` anywhere, with
/// `%`, `_` and the escape character itself taken literally.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

async fn delete_lead(conn: &mut Conn, account: AccountId, id: LeadId) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM leads WHERE account_id = $1 AND id = $2")
        .bind(account.0)
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}

fn suppression_from_row(row: &DbRow) -> Result<Suppression, StoreError> {
    let account: Option<Uuid> = row.try_get("account_id").map_err(map_error)?;
    let kind: String = row.try_get("kind").map_err(map_error)?;
    let reason: String = row.try_get("reason").map_err(map_error)?;
    Ok(Suppression {
        id: SuppressionId(row.try_get("id").map_err(map_error)?),
        account_id: account.map(AccountId),
        kind: parse_enum(&kind)?,
        value: row.try_get("value").map_err(map_error)?,
        reason: parse_enum(&reason)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}

async fn list_suppressions(
    conn: &mut Conn,
    account: AccountId,
    kind: Option<ContactKind>,
    page: PageRequest,
) -> Result<Page<Suppression>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, account_id, kind, value, reason, created_at FROM suppressions \
         WHERE (account_id = $1 OR account_id IS NULL) AND id > $2 AND ($3 IS NULL OR kind = $3) \
         ORDER BY id LIMIT $4",
    )
    .bind(account.0)
    .bind(page.after_uuid())
    .bind(kind.map(ContactKind::as_str))
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    let items = rows.iter().map(suppression_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn remove_suppression(conn: &mut Conn, account: AccountId, id: SuppressionId) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM suppressions WHERE account_id = $1 AND id = $2")
        .bind(account.0)
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}

async fn record_consent(
    conn: &mut Conn,
    account: AccountId,
    lead: LeadId,
    basis: ConsentBasis,
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO consents (id, account_id, lead_id, basis, source, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(account.0)
    .bind(lead.0)
    .bind(basis.as_str())
    .bind(source)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn consent_of(conn: &mut Conn, account: AccountId, lead: LeadId) -> Result<Option<ConsentBasis>, StoreError> {
    let basis: Option<String> = sqlx::query_scalar(
        "SELECT basis FROM consents WHERE account_id = $1 AND lead_id = $2 \
         ORDER BY recorded_at DESC, id DESC LIMIT 1",
    )
    .bind(account.0)
    .bind(lead.0)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    parse_opt_enum(basis)
}
