// A/B decisions and the optimization and funnel reports, shared by both
// backends.

/// Replies that count as positive: the labels `interested` and
/// `meeting_request`.
const POSITIVE_REPLY_OF_MESSAGE: &str = "EXISTS (SELECT 1 FROM replies r \
    WHERE r.account_id = m.account_id AND r.message_id = m.id \
    AND r.label IN ('interested', 'meeting_request'))";

/// Replies that count as replies: all but automatic replies and bounces.
const REPLY_OF_MESSAGE: &str = "EXISTS (SELECT 1 FROM replies r \
    WHERE r.account_id = m.account_id AND r.message_id = m.id \
    AND r.label NOT IN ('auto_reply', 'out_of_office', 'bounce'))";

/// A confirmed or attended meeting that came from a reply to the message.
const MEETING_OF_MESSAGE: &str = "EXISTS (SELECT 1 FROM meetings mt \
    JOIN replies r ON r.id = mt.reply_id AND r.account_id = mt.account_id \
    WHERE mt.account_id = m.account_id AND r.message_id = m.id \
    AND mt.status IN ('confirmed', 'attended'))";

async fn count_ab_outcomes(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
) -> Result<Vec<AbVariantCount>, StoreError> {
    let sql = format!(
        "SELECT s.id AS step_id, s.position AS position, m.variant AS variant, \
           count(*) AS sends, count(*) FILTER (WHERE {POSITIVE_REPLY_OF_MESSAGE}) AS positive_replies \
         FROM messages m JOIN campaign_steps s ON s.id = m.step_id AND s.account_id = m.account_id \
         WHERE m.account_id = $1 AND m.campaign_id = $2 AND m.sent_at IS NOT NULL \
         GROUP BY s.id, s.position, m.variant ORDER BY s.position, m.variant"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(campaign.0)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            Ok(AbVariantCount {
                step_id: StepId(row.try_get("step_id").map_err(map_error)?),
                position: row.try_get("position").map_err(map_error)?,
                variant: row.try_get("variant").map_err(map_error)?,
                sends: row.try_get("sends").map_err(map_error)?,
                positive_replies: row.try_get("positive_replies").map_err(map_error)?,
            })
        })
        .collect()
}

async fn record_ab_decision(
    conn: &mut Conn,
    account: AccountId,
    step: StepId,
    decision: &StepAbDecision,
    now: DateTime<Utc>,
) -> Result<Option<u64>, StoreError> {
    // The `ab_winner IS NULL` condition keeps the first decision when two
    // deciders race: the second one changes no row.
    let stored = sqlx::query(
        "UPDATE campaign_steps SET ab_winner = $3, ab_decided_at = $4, ab_figures = $5 \
         WHERE account_id = $1 AND id = $2 AND ab_winner IS NULL",
    )
    .bind(account.0)
    .bind(step.0)
    .bind(&decision.winner)
    .bind(micros(decision.decided_at))
    .bind(Json(&decision.figures))
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    if stored.rows_affected() == 0 {
        let exists: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM campaign_steps WHERE account_id = $1 AND id = $2")
                .bind(account.0)
                .bind(step.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map_error)?;
        return match exists {
            Some(_) => Ok(None),
            None => Err(StoreError::not_found("campaign step", step)),
        };
    }

    // Both backends evaluate the right-hand sides on the old row, so the two
    // subjects swap places.
    // NOTE: on PostgreSQL a send job that read its message before this commit
    // still sends the subject it read, while the row shows the winner. SQLite
    // transactions start with BEGIN IMMEDIATE, so there the two never overlap.
    let switched = sqlx::query(
        "UPDATE messages SET subject = alternate_subject, alternate_subject = subject, \
         variant = $3, updated_at = $4 \
         WHERE account_id = $1 AND step_id = $2 AND status = 'scheduled' AND variant <> $3 \
         AND alternate_subject IS NOT NULL",
    )
    .bind(account.0)
    .bind(step.0)
    .bind(&decision.winner)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(Some(switched.rows_affected()))
}

async fn sent_message_outcomes(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
) -> Result<Vec<SentMessageOutcome>, StoreError> {
    let sql = format!(
        "SELECT m.personalisation_elements AS elements, m.sent_at AS sent_at, \
           l.time_zone AS lead_time_zone, {POSITIVE_REPLY_OF_MESSAGE} AS positive \
         FROM messages m JOIN leads l ON l.id = m.lead_id AND l.account_id = m.account_id \
         WHERE m.account_id = $1 AND m.campaign_id = $2 AND m.sent_at IS NOT NULL \
         ORDER BY m.sent_at, m.id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(campaign.0)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            let elements: Json<Vec<String>> = row.try_get("elements").map_err(map_error)?;
            Ok(SentMessageOutcome {
                personalisation_elements: elements.0,
                sent_at: row.try_get("sent_at").map_err(map_error)?,
                lead_time_zone: row.try_get("lead_time_zone").map_err(map_error)?,
                positive: row.try_get("positive").map_err(map_error)?,
            })
        })
        .collect()
}

async fn count_funnel_by_step_variant(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
) -> Result<Vec<StepVariantFunnel>, StoreError> {
    // A message counts once at every stage it reached. A reply proves
    // delivery; opens and clicks come from the status or the tracked
    // counters, because a reply replaces the opened or clicked status.
    let sql = format!(
        "SELECT s.position AS position, m.variant AS variant, \
           count(*) FILTER (WHERE m.status IN ('sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced')) AS sent, \
           count(*) FILTER (WHERE m.status IN ('delivered', 'opened', 'clicked', 'replied')) AS delivered, \
           count(*) FILTER (WHERE m.status IN ('opened', 'clicked') OR coalesce(e.opens, 0) > 0) AS opened, \
           count(*) FILTER (WHERE m.status = 'clicked' OR coalesce(e.clicks, 0) > 0) AS clicked, \
           count(*) FILTER (WHERE {REPLY_OF_MESSAGE}) AS replied, \
           count(*) FILTER (WHERE {POSITIVE_REPLY_OF_MESSAGE}) AS positive, \
           count(*) FILTER (WHERE {MEETING_OF_MESSAGE}) AS meetings \
         FROM messages m \
         JOIN campaign_steps s ON s.id = m.step_id AND s.account_id = m.account_id \
         LEFT JOIN message_engagement e ON e.message_id = m.id AND e.account_id = m.account_id \
         WHERE m.account_id = $1 AND m.campaign_id = $2 \
         GROUP BY s.position, m.variant ORDER BY s.position, m.variant"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(campaign.0)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            Ok(StepVariantFunnel {
                position: row.try_get("position").map_err(map_error)?,
                variant: row.try_get("variant").map_err(map_error)?,
                sent: row.try_get("sent").map_err(map_error)?,
                delivered: row.try_get("delivered").map_err(map_error)?,
                opened: row.try_get("opened").map_err(map_error)?,
                clicked: row.try_get("clicked").map_err(map_error)?,
                replied: row.try_get("replied").map_err(map_error)?,
                positive: row.try_get("positive").map_err(map_error)?,
                meetings: row.try_get("meetings").map_err(map_error)?,
            })
        })
        .collect()
}
