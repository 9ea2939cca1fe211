// Writes of many rows in one statement per chunk, shared by both backends: a
// crew batch stores the scores, messages, enrollment changes and send jobs
// of its 50 leads with four statements instead of four per lead. Updates
// join a VALUES list, whose columns both engines name column1, column2, ...

/// Values bound per row by `set_lead_scores`.
const SCORE_PARAMS: usize = 4;
/// Values bound per row by `update_enrollments`.
const ENROLLMENT_PARAMS: usize = 5;
/// Values bound per row by `insert_messages`.
const MESSAGE_PARAMS: usize = 18;
/// Values bound per row by `enqueue_jobs`.
const JOB_PARAMS: usize = 9;

/// Builds `(?, ?, ...), (?, ?, ...)` for `rows` rows of `width` values,
/// numbered from `first`.
fn value_rows(first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", params(first + row * width, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn set_lead_scores(
    conn: &mut Conn,
    account: AccountId,
    scores: &[LeadScoreUpdate],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in scores.chunks(dialect::MAX_BIND_PARAMS / SCORE_PARAMS - 1) {
        // Placeholders in text order, as SQLite binds anonymous ones.
        let sql = format!(
            "UPDATE leads SET score = v.column2, tier = v.column3, score_reasons = v.column4, \
             updated_at = {} FROM (VALUES {}) AS v WHERE leads.account_id = {} AND leads.id = v.column1",
            params(1, 1),
            value_rows(2, chunk.len(), SCORE_PARAMS),
            params(2 + chunk.len() * SCORE_PARAMS, 1),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(micros(now));
        for score in chunk {
            query = query
                .bind(score.lead_id.0)
                .bind(i32::from(score.score))
                .bind(score.tier.as_str())
                .bind(Json(&score.reasons));
        }
        let result = query.bind(account.0).execute(&mut *conn).await.map_err(map_error)?;
        if (result.rows_affected() as usize) < chunk.len() {
            return Err(StoreError::not_found("lead", "of a score update"));
        }
    }
    Ok(())
}

async fn update_enrollments(
    conn: &mut Conn,
    account: AccountId,
    updates: &[EnrollmentUpdate],
) -> Result<(), StoreError> {
    for chunk in updates.chunks(dialect::MAX_BIND_PARAMS / ENROLLMENT_PARAMS - 1) {
        let sql = format!(
            "UPDATE enrollments SET status = v.column2, current_step = v.column3, \
             next_run_at = v.column4, stop_reason = v.column5 FROM (VALUES {}) AS v \
             WHERE enrollments.account_id = {} AND enrollments.id = v.column1",
            value_rows(1, chunk.len(), ENROLLMENT_PARAMS),
            params(1 + chunk.len() * ENROLLMENT_PARAMS, 1),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for update in chunk {
            query = query
                .bind(update.id.0)
                .bind(update.status.as_str())
                .bind(update.current_step)
                .bind(update.next_run_at.map(micros))
                .bind(update.stop_reason.as_deref());
        }
        let result = query.bind(account.0).execute(&mut *conn).await.map_err(map_error)?;
        if (result.rows_affected() as usize) < chunk.len() {
            return Err(StoreError::not_found("enrollment", "of a batch update"));
        }
    }
    Ok(())
}

async fn insert_messages(
    conn: &mut Conn,
    account: AccountId,
    messages: &[NewMessage],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    for chunk in messages.chunks(dialect::MAX_BIND_PARAMS / MESSAGE_PARAMS) {
        let rows = (0..chunk.len())
            .map(|row| {
                let first = row * MESSAGE_PARAMS + 1;
                format!("({}, 'scheduled', {})", params(first, 7), params(first + 7, 11))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO messages (id, account_id, campaign_id, step_id, enrollment_id, lead_id, \
             channel, status, variant, subject, alternate_subject, personalisation_elements, body, \
             to_address, rfc_message_id, scheduled_at, sending_identity_id, created_at, updated_at) \
             VALUES {rows}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for message in chunk {
            query = query
                .bind(message.id.0)
                .bind(account.0)
                .bind(message.campaign_id.0)
                .bind(message.step_id.0)
                .bind(message.enrollment_id.0)
                .bind(message.lead_id.0)
                .bind(message.channel.as_str())
                .bind(&message.variant)
                .bind(&message.subject)
                .bind(&message.alternate_subject)
                .bind(Json(&message.personalisation_elements))
                .bind(&message.body)
                .bind(&message.to_address)
                .bind(&message.rfc_message_id)
                .bind(micros(message.scheduled_at))
                .bind(message.sending_identity_id)
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}

/// Enqueues jobs of this account; a job whose unique key is already queued
/// or running is skipped, as `enqueue_job` skips it.
async fn enqueue_jobs(
    conn: &mut Conn,
    account: AccountId,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    for chunk in jobs.chunks(dialect::MAX_BIND_PARAMS / JOB_PARAMS) {
        let rows = (0..chunk.len())
            .map(|row| {
                let first = row * JOB_PARAMS + 1;
                format!(
                    "({}, 'queued', {}, 0, {})",
                    params(first, 4),
                    params(first + 4, 1),
                    params(first + 5, 4)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO jobs (id, account_id, kind, payload, status, run_at, attempts, \
             max_attempts, unique_key, created_at, updated_at) VALUES {rows} ON CONFLICT DO NOTHING"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for job in chunk {
            query = query
                .bind(JobId::new().0)
                .bind(account.0)
                .bind(&job.kind)
                .bind(Json(&job.payload))
                .bind(micros(job.run_at))
                .bind(job.max_attempts.max(1))
                .bind(&job.unique_key)
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}
