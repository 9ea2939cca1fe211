// Crew runs and their stage runs, shared by both backends.

const CREW_RUN_COLUMNS: &str = "c.id, c.crew, c.campaign_id, c.step_position, c.status, \
    c.leads_total, c.leads_failed, c.started_at, c.finished_at, \
    (SELECT CAST(coalesce(sum(s.tokens), 0) AS BIGINT) FROM stage_runs s \
     WHERE s.account_id = c.account_id AND s.crew_run_id = c.id) AS tokens, \
    (SELECT count(*) FROM stage_runs s \
     WHERE s.account_id = c.account_id AND s.crew_run_id = c.id AND s.fallback IS NOT NULL) AS fallbacks";

const STAGE_RUN_COLUMNS: &str = "id, crew_run_id, lead_id, stage, status, input_summary, duration_ms, \
    tokens, error_class, error, fallback, fallback_detail, created_at";

/// Values bound per stage run by `insert_stage_runs`.
const STAGE_RUN_INSERT_PARAMS: usize = 15;

fn crew_run_from_row(row: &DbRow) -> Result<CrewRun, StoreError> {
    let status: String = row.try_get("status").map_err(map_error)?;
    let campaign: Option<Uuid> = row.try_get("campaign_id").map_err(map_error)?;
    Ok(CrewRun {
        id: CrewRunId(row.try_get("id").map_err(map_error)?),
        crew: row.try_get("crew").map_err(map_error)?,
        campaign_id: campaign.map(CampaignId),
        step_position: row.try_get("step_position").map_err(map_error)?,
        status: parse_enum(&status)?,
        leads_total: row.try_get("leads_total").map_err(map_error)?,
        leads_failed: row.try_get("leads_failed").map_err(map_error)?,
        started_at: row.try_get("started_at").map_err(map_error)?,
        finished_at: row.try_get("finished_at").map_err(map_error)?,
        tokens: row.try_get("tokens").map_err(map_error)?,
        fallbacks: row.try_get("fallbacks").map_err(map_error)?,
    })
}

fn stage_run_from_row(row: &DbRow) -> Result<StageRun, StoreError> {
    let status: String = row.try_get("status").map_err(map_error)?;
    let lead: Option<Uuid> = row.try_get("lead_id").map_err(map_error)?;
    let error_class: Option<String> = row.try_get("error_class").map_err(map_error)?;
    Ok(StageRun {
        id: StageRunId(row.try_get("id").map_err(map_error)?),
        crew_run_id: CrewRunId(row.try_get("crew_run_id").map_err(map_error)?),
        lead_id: lead.map(LeadId),
        stage: row.try_get("stage").map_err(map_error)?,
        status: parse_enum(&status)?,
        input_summary: row.try_get("input_summary").map_err(map_error)?,
        duration_ms: row.try_get("duration_ms").map_err(map_error)?,
        tokens: row.try_get("tokens").map_err(map_error)?,
        error_class: parse_opt_enum(error_class)?,
        error: row.try_get("error").map_err(map_error)?,
        fallback: row.try_get("fallback").map_err(map_error)?,
        fallback_detail: row.try_get("fallback_detail").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}

async fn insert_crew_run(conn: &mut Conn, account: AccountId, run: &NewCrewRun) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO crew_runs (id, account_id, crew, campaign_id, step_position, status, leads_total, started_at) \
         VALUES ($1, $2, $3, $4, $5, 'running', $6, $7)",
    )
    .bind(run.id.0)
    .bind(account.0)
    .bind(&run.crew)
    .bind(run.campaign_id.map(|id| id.0))
    .bind(run.step_position)
    .bind(run.leads_total)
    .bind(micros(run.started_at))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn finish_crew_run(
    conn: &mut Conn,
    account: AccountId,
    id: CrewRunId,
    status: RunStatus,
    leads_failed: i32,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE crew_runs SET status = $3, leads_failed = $4, finished_at = $5 \
         WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(leads_failed)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// Inserts stage runs with multi-row INSERT statements: a batch of 50 leads
/// has up to 350 of them, and one round trip per row would dominate the
/// batch's transaction on PostgreSQL.
async fn insert_stage_runs(
    conn: &mut Conn,
    account: AccountId,
    runs: &[NewStageRun],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    for chunk in runs.chunks(dialect::MAX_BIND_PARAMS / STAGE_RUN_INSERT_PARAMS) {
        let rows = (0..chunk.len())
            .map(|row| format!("({})", params(row * STAGE_RUN_INSERT_PARAMS + 1, STAGE_RUN_INSERT_PARAMS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO stage_runs (id, account_id, crew_run_id, lead_id, stage, status, \
             input_summary, output, duration_ms, tokens, error_class, error, fallback, \
             fallback_detail, created_at) VALUES {rows}"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for run in chunk {
            query = query
                .bind(StageRunId::new().0)
                .bind(account.0)
                .bind(run.crew_run_id.0)
                .bind(run.lead_id.map(|id| id.0))
                .bind(&run.stage)
                .bind(run.status.as_str())
                .bind(&run.input_summary)
                .bind(Json(&run.output))
                .bind(run.duration_ms)
                .bind(run.tokens)
                .bind(run.error_class.map(ErrorClass::as_str))
                .bind(&run.error)
                .bind(&run.fallback)
                .bind(&run.fallback_detail)
                .bind(now);
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}

async fn list_stage_runs(conn: &mut Conn, account: AccountId, run: CrewRunId) -> Result<Vec<StageRun>, StoreError> {
    // Ids are UUIDv7 made in insertion order, so id order is run order.
    let sql = format!(
        "SELECT {STAGE_RUN_COLUMNS} FROM stage_runs WHERE account_id = $1 AND crew_run_id = $2 ORDER BY id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(run.0)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter().map(stage_run_from_row).collect()
}

async fn stage_outputs(
    conn: &mut Conn,
    account: AccountId,
    run: CrewRunId,
    leads: &[LeadId],
) -> Result<Vec<StageOutput>, StoreError> {
    let mut outputs = Vec::new();
    for chunk in leads.chunks(dialect::MAX_BIND_PARAMS - 2) {
        let sql = format!(
            "SELECT lead_id, stage, output FROM stage_runs \
             WHERE account_id = {} AND crew_run_id = {} AND status = 'succeeded' \
             AND lead_id IN ({}) ORDER BY id",
            params(1, 1),
            params(2, 1),
            params(3, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0).bind(run.0);
        for lead in chunk {
            query = query.bind(lead.0);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_error)? {
            let output: Json<Value> = row.try_get("output").map_err(map_error)?;
            outputs.push(StageOutput {
                lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
                stage: row.try_get("stage").map_err(map_error)?,
                output: output.0,
            });
        }
    }
    Ok(outputs)
}

async fn list_crew_runs(
    conn: &mut Conn,
    account: AccountId,
    filter: &CrewRunFilter,
    page: PageRequest,
) -> Result<Page<CrewRun>, StoreError> {
    // Newest first: the cursor is the last run of the previous page, and the
    // next page contains the older runs.
    let sql = format!(
        "SELECT {CREW_RUN_COLUMNS} FROM crew_runs c WHERE c.account_id = $1 \
         AND ($2 IS NULL OR c.id < $2) AND ($3 IS NULL OR c.campaign_id = $3) \
         AND ($4 IS NULL OR c.status = $4) ORDER BY c.id DESC LIMIT $5"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after.map(|cursor| cursor.0))
        .bind(filter.campaign_id.map(|id| id.0))
        .bind(filter.status.map(RunStatus::as_str))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(crew_run_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn get_crew_run(conn: &mut Conn, account: AccountId, id: CrewRunId) -> Result<Option<CrewRun>, StoreError> {
    let sql = format!("SELECT {CREW_RUN_COLUMNS} FROM crew_runs c WHERE c.account_id = $1 AND c.id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(crew_run_from_row).transpose()
}
