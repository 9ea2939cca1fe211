// The dormant-lead scan and the ideal customer profile, shared by both
// backends.

/// Selects dormant leads whose last activity falls in the window. The last
/// activity is the latest of the CRM's dates (or the lead's creation here),
/// the messages sent to it and its replies. So a lead qualifies when no
/// activity is later than `$3` and at least one is later than `$4`.
const DORMANT_CANDIDATES: &str = "SELECT l.id FROM leads l \
    WHERE l.account_id = $1 AND l.status = 'dormant' \
    AND coalesce(l.last_contacted_at, l.crm_created_at, l.created_at) <= $3 \
    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.account_id = $1 AND m.lead_id = l.id AND m.sent_at > $3) \
    AND NOT EXISTS (SELECT 1 FROM replies r WHERE r.account_id = $1 AND r.lead_id = l.id AND r.received_at > $3) \
    AND (coalesce(l.last_contacted_at, l.crm_created_at, l.created_at) > $4 \
         OR EXISTS (SELECT 1 FROM messages m WHERE m.account_id = $1 AND m.lead_id = l.id AND m.sent_at > $4) \
         OR EXISTS (SELECT 1 FROM replies r WHERE r.account_id = $1 AND r.lead_id = l.id AND r.received_at > $4)) \
    AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.account_id = $1 AND e.lead_id = l.id \
         AND (e.campaign_id = $2 OR e.status IN ('pending', 'active', 'paused'))) \
    ORDER BY coalesce(l.score + l.icp_adjustment, -1000) DESC, l.id LIMIT $5";

async fn enroll_dormant_leads(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
    window: &IdleWindow,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<EnrollmentId>, StoreError> {
    let leads: Vec<Uuid> = sqlx::query_scalar(DORMANT_CANDIDATES)
        .bind(account.0)
        .bind(campaign.0)
        .bind(micros(window.active_before))
        .bind(micros(window.active_after))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;

    let mut enrolled = Vec::with_capacity(leads.len());
    for lead in leads {
        let id = EnrollmentId::new();
        let result = sqlx::query(
            "INSERT INTO enrollments (id, account_id, campaign_id, lead_id, status, current_step, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5) ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(account.0)
        .bind(campaign.0)
        .bind(lead)
        .bind(micros(now))
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
        if result.rows_affected() == 1 {
            enrolled.push(id);
        }
    }
    Ok(enrolled)
}

async fn find_enrollment(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
    lead: LeadId,
) -> Result<Option<Enrollment>, StoreError> {
    let sql = format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE account_id = $1 AND campaign_id = $2 AND lead_id = $3"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(campaign.0)
        .bind(lead.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(enrollment_from_row).transpose()
}

async fn dormant_intake_campaigns(conn: &mut Conn) -> Result<Vec<(AccountId, CampaignId)>, StoreError> {
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT account_id, id FROM campaigns WHERE takes_dormant_leads AND status = 'active' \
         ORDER BY account_id, id",
    )
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(rows
        .into_iter()
        .map(|(account, campaign)| (AccountId(account), CampaignId(campaign)))
        .collect())
}

async fn accounts_with_won_leads(conn: &mut Conn, min: i64) -> Result<Vec<AccountId>, StoreError> {
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "SELECT account_id FROM leads WHERE status = 'won' GROUP BY account_id \
         HAVING count(*) >= $1 ORDER BY account_id",
    )
    .bind(min)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(rows.into_iter().map(AccountId).collect())
}

async fn count_leads_with_status(
    conn: &mut Conn,
    account: AccountId,
    status: LeadStatus,
) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT count(*) FROM leads WHERE account_id = $1 AND status = $2")
        .bind(account.0)
        .bind(status.as_str())
        .fetch_one(conn)
        .await
        .map_err(map_error)
}

async fn get_icp_profile(conn: &mut Conn, account: AccountId) -> Result<Option<IcpProfileRow>, StoreError> {
    let row = sqlx::query("SELECT won_deals, profile, derived_at FROM icp_profiles WHERE account_id = $1")
        .bind(account.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let profile: Json<Value> = row.try_get("profile").map_err(map_error)?;
    Ok(Some(IcpProfileRow {
        won_deals: row.try_get("won_deals").map_err(map_error)?,
        profile: profile.0,
        derived_at: row.try_get("derived_at").map_err(map_error)?,
    }))
}

async fn put_icp_profile(conn: &mut Conn, account: AccountId, profile: &IcpProfileRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO icp_profiles (account_id, won_deals, profile, derived_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id) DO UPDATE SET won_deals = excluded.won_deals, \
         profile = excluded.profile, derived_at = excluded.derived_at",
    )
    .bind(account.0)
    .bind(profile.won_deals)
    .bind(Json(&profile.profile))
    .bind(micros(profile.derived_at))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn leads_to_rank(
    conn: &mut Conn,
    account: AccountId,
    derived_at: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Lead>, StoreError> {
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE account_id = $1 AND status <> 'won' \
         AND (icp_ranked_at IS NULL OR icp_ranked_at < $2) ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(micros(derived_at))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter().map(lead_from_row).collect()
}

async fn set_icp_rankings(
    conn: &mut Conn,
    account: AccountId,
    rankings: &[IcpRanking],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for ranking in rankings {
        sqlx::query(
            "UPDATE leads SET icp_adjustment = $3, icp_reason = $4, icp_ranked_at = $5 \
             WHERE account_id = $1 AND id = $2",
        )
        .bind(account.0)
        .bind(ranking.lead_id.0)
        .bind(ranking.adjustment.clamp(-100, 100))
        .bind(&ranking.reason)
        .bind(micros(now))
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    Ok(())
}
