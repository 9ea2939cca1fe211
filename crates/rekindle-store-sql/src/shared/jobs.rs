// Job queue queries, shared by both backends. Claiming is one UPDATE over a
// locked selection: `FOR UPDATE SKIP LOCKED` on PostgreSQL, and on SQLite the
// write transaction itself serialises claimers.

const JOB_COLUMNS: &str = "id, account_id, kind, payload, status, run_at, attempts, max_attempts, \
    lease_expires_at, last_error, error_class";

fn job_from_row(row: &DbRow) -> Result<Job, StoreError> {
    let account: Option<Uuid> = row.try_get("account_id").map_err(map_error)?;
    let payload: Json<Value> = row.try_get("payload").map_err(map_error)?;
    let status: String = row.try_get("status").map_err(map_error)?;
    let class: Option<String> = row.try_get("error_class").map_err(map_error)?;
    Ok(Job {
        id: JobId(row.try_get("id").map_err(map_error)?),
        account_id: account.map(AccountId),
        kind: row.try_get("kind").map_err(map_error)?,
        payload: payload.0,
        status: parse_enum(&status)?,
        run_at: row.try_get("run_at").map_err(map_error)?,
        attempts: row.try_get("attempts").map_err(map_error)?,
        max_attempts: row.try_get("max_attempts").map_err(map_error)?,
        lease_expires_at: row.try_get("lease_expires_at").map_err(map_error)?,
        last_error: row.try_get("last_error").map_err(map_error)?,
        error_class: parse_opt_enum(class)?,
    })
}

/// Inserts a job. A job whose unique key is already queued or running is not
/// inserted again, and the existing job's id is returned.
/// Moves the account's queued job with `unique_key` to `run_at` when that is
/// sooner. Returns whether a job moved.
async fn bring_job_forward(
    conn: &mut Conn,
    account: AccountId,
    unique_key: &str,
    run_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let run_at = micros(run_at);
    let moved = sqlx::query(
        "UPDATE jobs SET run_at = $3, updated_at = $3 \
         WHERE account_id = $1 AND unique_key = $2 AND status = 'queued' AND run_at > $3",
    )
    .bind(account.0)
    .bind(unique_key)
    .bind(run_at)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(moved.rows_affected() > 0)
}

async fn enqueue_job(
    conn: &mut Conn,
    account: Option<AccountId>,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<JobId, StoreError> {
    let id = JobId::new();
    let now = micros(now);
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, account_id, kind, payload, status, run_at, attempts, max_attempts, \
         unique_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $8, $8) ON CONFLICT DO NOTHING",
    )
    .bind(id.0)
    .bind(account.map(|id| id.0))
    .bind(&job.kind)
    .bind(Json(&job.payload))
    .bind(micros(job.run_at))
    .bind(job.max_attempts.max(1))
    .bind(&job.unique_key)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    if inserted.rows_affected() == 1 {
        return Ok(id);
    }

    let existing: Uuid = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE unique_key = $1 AND status IN ('queued', 'running')",
    )
    .bind(&job.unique_key)
    .fetch_one(conn)
    .await
    .map_err(map_error)?;
    Ok(JobId(existing))
}

async fn claim_jobs(
    conn: &mut Conn,
    worker: &str,
    kinds: &[&str],
    limit: u32,
    lease: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Job>, StoreError> {
    let kind_filter = if kinds.is_empty() {
        String::new()
    } else {
        format!("AND kind IN ({})", placeholders(5, kinds.len()))
    };
    // A running job whose lease expired belongs to a crashed worker and is
    // claimed again; its attempt still counts.
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_expires_at = $1, \
         locked_by = $2, updated_at = $3 \
         WHERE id IN (SELECT id FROM jobs \
             WHERE ((status = 'queued' AND run_at <= $3) OR (status = 'running' AND lease_expires_at < $3)) \
             {kind_filter} ORDER BY run_at, id LIMIT $4{lock}) \
         RETURNING {JOB_COLUMNS}",
        lock = dialect::SKIP_LOCKED,
    );
    let now = micros(now);
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(micros(now + lease))
        .bind(worker)
        .bind(now)
        .bind(i64::from(limit));
    for kind in kinds {
        query = query.bind(*kind);
    }
    let rows = query.fetch_all(conn).await.map_err(map_error)?;
    let mut jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>, _>>()?;
    jobs.sort_by_key(|job| (job.run_at, job.id));
    Ok(jobs)
}

async fn complete_job(conn: &mut Conn, id: JobId, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = 'succeeded', lease_expires_at = NULL, locked_by = NULL, \
         updated_at = $2 WHERE id = $1",
    )
    .bind(id.0)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn complete_account_job(conn: &mut Conn, account: AccountId, id: JobId, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = 'succeeded', lease_expires_at = NULL, locked_by = NULL, \
         updated_at = $3 WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn fail_job(
    conn: &mut Conn,
    id: JobId,
    error: &str,
    class: ErrorClass,
    retry: JobRetry,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (status, run_at) = match retry {
        JobRetry::At(at) => ("queued", Some(micros(at))),
        JobRetry::Dead => ("dead", None),
    };
    sqlx::query(
        "UPDATE jobs SET status = $2, run_at = coalesce($3, run_at), last_error = $4, \
         error_class = $5, lease_expires_at = NULL, locked_by = NULL, updated_at = $6 WHERE id = $1",
    )
    .bind(id.0)
    .bind(status)
    .bind(run_at)
    .bind(error)
    .bind(class.as_str())
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn list_jobs(
    conn: &mut Conn,
    status: Option<JobStatus>,
    page: PageRequest,
) -> Result<Page<Job>, StoreError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE id > $1 AND ($2 IS NULL OR status = $2) \
         ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(page.after_uuid())
        .bind(status.map(JobStatus::as_str))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(job_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn retry_dead_job(conn: &mut Conn, id: JobId, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $2, updated_at = $2 \
         WHERE id = $1 AND status = 'dead'",
    )
    .bind(id.0)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}

/// Deletes a dead job, of one account when `account` is set.
async fn discard_dead_job(
    conn: &mut Conn,
    account: Option<AccountId>,
    id: JobId,
) -> Result<Option<DiscardedJob>, StoreError> {
    let owner: Option<Option<Uuid>> = sqlx::query_scalar(
        "DELETE FROM jobs WHERE id = $1 AND status = 'dead' \
         AND ($2 IS NULL OR account_id = $2) RETURNING account_id",
    )
    .bind(id.0)
    .bind(account.map(|account| account.0))
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    Ok(owner.map(|owner| DiscardedJob {
        id,
        account_id: owner.map(AccountId),
    }))
}

async fn queue_state(
    conn: &mut Conn,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
    let now = micros(now);
    let due: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE (status = 'queued' AND run_at <= $1) \
         OR (status = 'running' AND lease_expires_at < $1)",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;
    let next: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT min(run_at) FROM jobs WHERE status = 'queued' AND run_at > $1",
    )
    .bind(now)
    .fetch_one(conn)
    .await
    .map_err(map_error)?;
    Ok((due, next))
}

async fn list_account_jobs(
    conn: &mut Conn,
    account: AccountId,
    status: Option<JobStatus>,
    page: PageRequest,
) -> Result<Page<Job>, StoreError> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE account_id = $1 AND id > $2 \
         AND ($3 IS NULL OR status = $3) ORDER BY id LIMIT $4"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid())
        .bind(status.map(JobStatus::as_str))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(job_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn retry_account_job(
    conn: &mut Conn,
    account: AccountId,
    id: JobId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $3, updated_at = $3 \
         WHERE account_id = $1 AND id = $2 AND status = 'dead'",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}

async fn defer_job(conn: &mut Conn, id: JobId, run_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), StoreError> {
    // The claim counted an attempt; a deferral gives it back.
    sqlx::query(
        "UPDATE jobs SET status = 'queued', run_at = $2, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
         lease_expires_at = NULL, locked_by = NULL, updated_at = $3 WHERE id = $1",
    )
    .bind(id.0)
    .bind(micros(run_at))
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}
