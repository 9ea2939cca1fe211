// Campaign, step and enrollment queries, shared by both backends.

const CAMPAIGN_COLUMNS: &str =
    "id, name, status, tone, sending_window, track_engagement, takes_dormant_leads, created_at, launched_at";
const ENROLLMENT_COLUMNS: &str =
    "id, campaign_id, lead_id, status, current_step, next_run_at, stop_reason";

fn campaign_from_row(row: &DbRow) -> Result<Campaign, StoreError> {
    let status: String = row.try_get("status").map_err(map_error)?;
    let tone: String = row.try_get("tone").map_err(map_error)?;
    let window: Json<SendingWindow> = row.try_get("sending_window").map_err(map_error)?;
    Ok(Campaign {
        id: CampaignId(row.try_get("id").map_err(map_error)?),
        name: row.try_get("name").map_err(map_error)?,
        status: parse_enum(&status)?,
        tone: parse_enum(&tone)?,
        window: window.0,
        tracking: row.try_get("track_engagement").map_err(map_error)?,
        takes_dormant_leads: row.try_get("takes_dormant_leads").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
        launched_at: row.try_get("launched_at").map_err(map_error)?,
    })
}

fn step_from_row(row: &DbRow) -> Result<Step, StoreError> {
    let channel: String = row.try_get("channel").map_err(map_error)?;
    let delay: i32 = row.try_get("delay_days").map_err(map_error)?;
    Ok(Step {
        id: StepId(row.try_get("id").map_err(map_error)?),
        campaign_id: CampaignId(row.try_get("campaign_id").map_err(map_error)?),
        position: row.try_get("position").map_err(map_error)?,
        spec: StepSpec {
            channel: parse_enum(&channel)?,
            delay_days: delay.max(0) as u32,
        },
        ab_decision: ab_decision_from_row(row)?,
    })
}

/// Reads a step's A/B decision, whose three columns are set together.
fn ab_decision_from_row(row: &DbRow) -> Result<Option<StepAbDecision>, StoreError> {
    let winner: Option<String> = row.try_get("ab_winner").map_err(map_error)?;
    let decided_at: Option<DateTime<Utc>> = row.try_get("ab_decided_at").map_err(map_error)?;
    let figures: Option<Json<Value>> = row.try_get("ab_figures").map_err(map_error)?;
    Ok(match (winner, decided_at) {
        (Some(winner), Some(decided_at)) => Some(StepAbDecision {
            winner,
            decided_at,
            figures: figures.map(|figures| figures.0).unwrap_or(Value::Null),
        }),
        _ => None,
    })
}

fn enrollment_from_row(row: &DbRow) -> Result<Enrollment, StoreError> {
    let status: String = row.try_get("status").map_err(map_error)?;
    Ok(Enrollment {
        id: EnrollmentId(row.try_get("id").map_err(map_error)?),
        campaign_id: CampaignId(row.try_get("campaign_id").map_err(map_error)?),
        lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
        status: parse_enum(&status)?,
        current_step: row.try_get("current_step").map_err(map_error)?,
        next_run_at: row.try_get("next_run_at").map_err(map_error)?,
        stop_reason: row.try_get("stop_reason").map_err(map_error)?,
    })
}

async fn create_campaign(
    conn: &mut Conn,
    account: AccountId,
    id: CampaignId,
    spec: &CampaignSpec,
    now: DateTime<Utc>,
) -> Result<(Campaign, Vec<Step>), StoreError> {
    spec.validate().map_err(|e| StoreError::Invalid(e.to_string()))?;
    let now = micros(now);
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, status, tone, sending_window, created_at, updated_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $6)",
    )
    .bind(id.0)
    .bind(account.0)
    .bind(spec.name.trim())
    .bind(spec.tone.as_str())
    .bind(Json(&spec.window))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;

    let mut steps = Vec::with_capacity(spec.steps.len());
    for (index, step_spec) in spec.steps.iter().enumerate() {
        let step = Step {
            id: StepId::new(),
            campaign_id: id,
            position: index as i32 + 1,
            spec: step_spec.clone(),
            ab_decision: None,
        };
        sqlx::query(
            "INSERT INTO campaign_steps (id, account_id, campaign_id, position, channel, delay_days) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(step.id.0)
        .bind(account.0)
        .bind(id.0)
        .bind(step.position)
        .bind(step.spec.channel.as_str())
        .bind(step.spec.delay_days as i32)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
        steps.push(step);
    }

    let campaign = Campaign {
        id,
        name: spec.name.trim().to_owned(),
        status: CampaignStatus::Draft,
        tone: spec.tone,
        window: spec.window.clone(),
        tracking: true,
        takes_dormant_leads: false,
        created_at: now,
        launched_at: None,
    };
    Ok((campaign, steps))
}

async fn get_campaign(conn: &mut Conn, account: AccountId, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
    let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE account_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(campaign_from_row).transpose()
}

async fn list_steps(conn: &mut Conn, account: AccountId, campaign: CampaignId) -> Result<Vec<Step>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, campaign_id, position, channel, delay_days, ab_winner, ab_decided_at, ab_figures \
         FROM campaign_steps \
         WHERE account_id = $1 AND campaign_id = $2 ORDER BY position",
    )
    .bind(account.0)
    .bind(campaign.0)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter().map(step_from_row).collect()
}

async fn set_campaign_status(
    conn: &mut Conn,
    account: AccountId,
    id: CampaignId,
    status: CampaignStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let launched = status == CampaignStatus::Active;
    let result = sqlx::query(
        "UPDATE campaigns SET status = $3, updated_at = $4, \
         launched_at = CASE WHEN $5 AND launched_at IS NULL THEN $4 ELSE launched_at END \
         WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(micros(now))
    .bind(launched)
    .execute(conn)
    .await
    .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("campaign", id));
    }
    Ok(())
}

async fn enroll_new_leads(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
    leads: &[LeadId],
    now: DateTime<Utc>,
) -> Result<Vec<EnrollmentId>, StoreError> {
    let mut added = Vec::new();
    for lead in leads {
        // The SELECT makes a lead of another account (or a missing one) insert
        // nothing instead of failing, and the unique key skips enrolled leads.
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO enrollments (id, account_id, campaign_id, lead_id, status, current_step, created_at) \
             SELECT $1, $2, $3, id, 'pending', 0, $5 FROM leads WHERE account_id = $2 AND id = $4 \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(EnrollmentId::new().0)
        .bind(account.0)
        .bind(campaign.0)
        .bind(lead.0)
        .bind(micros(now))
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error)?;
        added.extend(inserted.map(EnrollmentId));
    }
    Ok(added)
}

async fn list_enrollments(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
    page: PageRequest,
) -> Result<Page<Enrollment>, StoreError> {
    let sql = format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE account_id = $1 AND campaign_id = $2 \
         AND id > $3 ORDER BY id LIMIT $4"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(campaign.0)
        .bind(page.after_uuid())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(enrollment_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn get_enrollment(
    conn: &mut Conn,
    account: AccountId,
    id: EnrollmentId,
) -> Result<Option<Enrollment>, StoreError> {
    let sql = format!("SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE account_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(enrollment_from_row).transpose()
}

async fn update_enrollment(
    conn: &mut Conn,
    account: AccountId,
    id: EnrollmentId,
    status: EnrollmentStatus,
    current_step: i32,
    next_run_at: Option<DateTime<Utc>>,
    stop_reason: Option<&str>,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "UPDATE enrollments SET status = $3, current_step = $4, next_run_at = $5, stop_reason = $6 \
         WHERE account_id = $1 AND id = $2",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(status.as_str())
    .bind(current_step)
    .bind(next_run_at.map(micros))
    .bind(stop_reason)
    .execute(conn)
    .await
    .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("enrollment", id));
    }
    Ok(())
}

async fn active_enrollments_of_lead(
    conn: &mut Conn,
    account: AccountId,
    lead: LeadId,
) -> Result<Vec<Enrollment>, StoreError> {
    let sql = format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE account_id = $1 AND lead_id = $2 \
         AND status IN ('pending', 'active', 'paused') ORDER BY id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(lead.0)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter().map(enrollment_from_row).collect()
}

async fn due_paused_enrollments(
    conn: &mut Conn,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(AccountId, Enrollment)>, StoreError> {
    let sql = format!(
        "SELECT account_id, {ENROLLMENT_COLUMNS} FROM enrollments WHERE status = 'paused' \
         AND next_run_at IS NOT NULL AND next_run_at <= $1 ORDER BY next_run_at, id LIMIT $2"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            let account: Uuid = row.try_get("account_id").map_err(map_error)?;
            Ok((AccountId(account), enrollment_from_row(row)?))
        })
        .collect()
}

async fn list_campaigns(conn: &mut Conn, account: AccountId, page: PageRequest) -> Result<Page<Campaign>, StoreError> {
    let sql = format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(campaign_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn update_campaign(
    conn: &mut Conn,
    account: AccountId,
    id: CampaignId,
    changes: &CampaignChanges,
    now: DateTime<Utc>,
) -> Result<Campaign, StoreError> {
    let sql = format!(
        "UPDATE campaigns SET name = COALESCE($3, name), tone = COALESCE($4, tone), \
         sending_window = COALESCE($5, sending_window), \
         track_engagement = COALESCE($7, track_engagement), \
         takes_dormant_leads = COALESCE($8, takes_dormant_leads), updated_at = $6 \
         WHERE account_id = $1 AND id = $2 RETURNING {CAMPAIGN_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .bind(&changes.name)
        .bind(changes.tone.map(Tone::as_str))
        .bind(changes.window.as_ref().map(Json))
        .bind(micros(now))
        .bind(changes.tracking)
        .bind(changes.takes_dormant_leads)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    let row = row.ok_or_else(|| StoreError::not_found("campaign", id))?;
    campaign_from_row(&row)
}

async fn delete_campaign(conn: &mut Conn, account: AccountId, id: CampaignId) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM campaigns WHERE account_id = $1 AND id = $2")
        .bind(account.0)
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}
