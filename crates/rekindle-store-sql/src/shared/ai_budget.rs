// The LLM budget ledger: a row per account and UTC day, and a usage row per
// request, shared by both backends. Amounts are nano-dollars.

/// Minutes without a reservation or settlement after which a day's open
/// reservations are taken as left by a process that died mid-call. Every
/// LLM request ends well within this: each agent's deadline is at most 20 s.
const STALE_RESERVATION_MINUTES: i64 = 15;

async fn reserve_ai_budget(
    conn: &mut Conn,
    account: AccountId,
    day: NaiveDate,
    estimate: i64,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<AiReservation, StoreError> {
    // One statement creates the day's row or adds to it, only while cost,
    // reservations and the estimate stay within the limit. Its row lock
    // orders concurrent reservations; on PostgreSQL a waiting one re-checks
    // the condition against the row the first one committed. The SELECT's
    // WHERE also settles SQLite's parsing of an upsert from a SELECT.
    // Reservations on a row untouched since $6 belong to requests that can no
    // longer be running, so they are dropped rather than kept until the day
    // ends.
    let reserved = sqlx::query(
        "INSERT INTO ai_budget_days (account_id, day, reserved_nano_usd, updated_at) \
         SELECT $1, $2, $3, $5 WHERE $3 <= $4 \
         ON CONFLICT (account_id, day) DO UPDATE SET \
         reserved_nano_usd = CASE WHEN ai_budget_days.updated_at < $6 THEN 0 \
         ELSE ai_budget_days.reserved_nano_usd END + excluded.reserved_nano_usd, \
         updated_at = excluded.updated_at \
         WHERE ai_budget_days.cost_nano_usd + CASE WHEN ai_budget_days.updated_at < $6 THEN 0 \
         ELSE ai_budget_days.reserved_nano_usd END + excluded.reserved_nano_usd <= $4",
    )
    .bind(account.0)
    .bind(day)
    .bind(estimate)
    .bind(limit)
    .bind(micros(now))
    .bind(micros(now - chrono::Duration::minutes(STALE_RESERVATION_MINUTES)))
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    if reserved.rows_affected() == 1 {
        return Ok(AiReservation::Reserved);
    }

    let spend = ai_spend(conn, account, day).await?;
    Ok(AiReservation::Exceeded {
        committed_nano_usd: spend.cost_nano_usd.saturating_add(spend.reserved_nano_usd),
    })
}

async fn settle_ai_budget(
    conn: &mut Conn,
    account: AccountId,
    day: NaiveDate,
    reserved: i64,
    usage: &NewAiUsage,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // The usage row first, so the day's row stays locked for one statement.
    // cost_micros keeps the column of the first data model; it rounds up.
    let cost_micros = usage.cost_nano_usd.saturating_add(999) / 1_000;
    sqlx::query(
        "INSERT INTO ai_usage (id, account_id, day, provider, model, operation, input_tokens, \
         output_tokens, cost_micros, cost_nano_usd, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(Uuid::now_v7())
    .bind(account.0)
    .bind(day)
    .bind(&usage.provider)
    .bind(&usage.model)
    .bind(&usage.operation)
    .bind(usage.input_tokens)
    .bind(usage.output_tokens)
    .bind(cost_micros)
    .bind(usage.cost_nano_usd)
    .bind(micros(now))
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;

    // The reservation made the row; the upsert still records the usage if
    // the row is gone.
    sqlx::query(
        "INSERT INTO ai_budget_days (account_id, day, cost_nano_usd, input_tokens, output_tokens, \
         calls, updated_at) VALUES ($1, $2, $4, $5, $6, 1, $7) \
         ON CONFLICT (account_id, day) DO UPDATE SET \
         reserved_nano_usd = CASE WHEN ai_budget_days.reserved_nano_usd > $3 \
         THEN ai_budget_days.reserved_nano_usd - $3 ELSE 0 END, \
         cost_nano_usd = ai_budget_days.cost_nano_usd + excluded.cost_nano_usd, \
         input_tokens = ai_budget_days.input_tokens + excluded.input_tokens, \
         output_tokens = ai_budget_days.output_tokens + excluded.output_tokens, \
         calls = ai_budget_days.calls + 1, updated_at = excluded.updated_at",
    )
    .bind(account.0)
    .bind(day)
    .bind(reserved)
    .bind(usage.cost_nano_usd)
    .bind(usage.input_tokens)
    .bind(usage.output_tokens)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn ai_spend(conn: &mut Conn, account: AccountId, day: NaiveDate) -> Result<AiDailySpend, StoreError> {
    let row = sqlx::query(
        "SELECT cost_nano_usd, reserved_nano_usd, input_tokens, output_tokens, calls \
         FROM ai_budget_days WHERE account_id = $1 AND day = $2",
    )
    .bind(account.0)
    .bind(day)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    let Some(row) = row else {
        return Ok(AiDailySpend::default());
    };
    Ok(AiDailySpend {
        cost_nano_usd: row.try_get("cost_nano_usd").map_err(map_error)?,
        reserved_nano_usd: row.try_get("reserved_nano_usd").map_err(map_error)?,
        input_tokens: row.try_get("input_tokens").map_err(map_error)?,
        output_tokens: row.try_get("output_tokens").map_err(map_error)?,
        calls: row.try_get("calls").map_err(map_error)?,
    })
}
