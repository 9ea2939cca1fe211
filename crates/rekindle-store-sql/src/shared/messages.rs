// Message, reply and funnel queries, shared by both backends.

const MESSAGE_COLUMNS: &str = "id, campaign_id, step_id, enrollment_id, lead_id, channel, status, \
    variant, subject, alternate_subject, personalisation_elements, body, to_address, \
    rfc_message_id, provider_message_id, scheduled_at, sent_at, error, sending_identity_id";

fn message_from_row(row: &DbRow) -> Result<Message, StoreError> {
    let channel: String = row.try_get("channel").map_err(map_error)?;
    let status: String = row.try_get("status").map_err(map_error)?;
    let elements: Json<Vec<String>> = row.try_get("personalisation_elements").map_err(map_error)?;
    Ok(Message {
        id: MessageId(row.try_get("id").map_err(map_error)?),
        campaign_id: CampaignId(row.try_get("campaign_id").map_err(map_error)?),
        step_id: StepId(row.try_get("step_id").map_err(map_error)?),
        enrollment_id: EnrollmentId(row.try_get("enrollment_id").map_err(map_error)?),
        lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
        channel: parse_enum(&channel)?,
        status: parse_enum(&status)?,
        variant: row.try_get("variant").map_err(map_error)?,
        subject: row.try_get("subject").map_err(map_error)?,
        alternate_subject: row.try_get("alternate_subject").map_err(map_error)?,
        personalisation_elements: elements.0,
        body: row.try_get("body").map_err(map_error)?,
        to_address: row.try_get("to_address").map_err(map_error)?,
        rfc_message_id: row.try_get("rfc_message_id").map_err(map_error)?,
        provider_message_id: row.try_get("provider_message_id").map_err(map_error)?,
        scheduled_at: row.try_get("scheduled_at").map_err(map_error)?,
        sent_at: row.try_get("sent_at").map_err(map_error)?,
        error: row.try_get("error").map_err(map_error)?,
        sending_identity_id: row.try_get("sending_identity_id").map_err(map_error)?,
    })
}

async fn insert_message(
    conn: &mut Conn,
    account: AccountId,
    message: &NewMessage,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    sqlx::query(
        "INSERT INTO messages (id, account_id, campaign_id, step_id, enrollment_id, lead_id, \
         channel, status, variant, subject, alternate_subject, personalisation_elements, body, \
         to_address, rfc_message_id, scheduled_at, sending_identity_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
    )
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
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// Key that selects one message.
enum MessageKey<'a> {
    Id(MessageId),
    RfcMessageId(&'a str),
}

async fn get_message_by(
    conn: &mut Conn,
    account: AccountId,
    key: MessageKey<'_>,
) -> Result<Option<Message>, StoreError> {
    let column = match key {
        MessageKey::Id(_) => "id",
        MessageKey::RfcMessageId(_) => "rfc_message_id",
    };
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE account_id = $1 AND {column} = $2");
    let query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
    let query = match key {
        MessageKey::Id(id) => query.bind(id.0),
        MessageKey::RfcMessageId(text) => query.bind(text.to_owned()),
    };
    let row = query.fetch_optional(conn).await.map_err(map_error)?;
    row.as_ref().map(message_from_row).transpose()
}

async fn advance_message(
    conn: &mut Conn,
    account: AccountId,
    id: MessageId,
    next: MessageStatus,
    update: &MessageUpdate,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let current = get_message_by(&mut *conn, account, MessageKey::Id(id))
        .await?
        .ok_or_else(|| StoreError::not_found("message", id))?;
    if !current.status.can_advance_to(next) {
        return Ok(false);
    }

    // The status in the WHERE clause makes a concurrent change lose cleanly
    // instead of moving the status backwards.
    let now = micros(now);
    let result = sqlx::query(
        "UPDATE messages SET status = $4, updated_at = $5, \
         provider_message_id = coalesce($6, provider_message_id), error = coalesce($7, error), \
         sent_at = CASE WHEN $8 THEN $5 ELSE sent_at END \
         WHERE account_id = $1 AND id = $2 AND status = $3",
    )
    .bind(account.0)
    .bind(id.0)
    .bind(current.status.as_str())
    .bind(next.as_str())
    .bind(now)
    .bind(&update.provider_message_id)
    .bind(&update.error)
    .bind(update.sent)
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}

async fn planned_sends(
    conn: &mut Conn,
    account: AccountId,
    channel: Channel,
    since: DateTime<Utc>,
) -> Result<Vec<PlannedSend>, StoreError> {
    // Two batches placed at once would both see the same free slots, so the
    // account row stays locked until the caller commits its placements. On
    // SQLite the write transaction already holds the database.
    let lock = format!("SELECT id FROM accounts WHERE id = $1{}", dialect::FOR_NO_KEY_UPDATE);
    sqlx::query(AssertSqlSafe(lock))
        .bind(account.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error)?;

    // A send counts in the hour it happened, or the hour it is planned for
    // while it waits. A message sent late was scheduled before it was sent, so
    // the scheduled time alone narrows the scan.
    let rows = sqlx::query(
        "SELECT sending_identity_id, to_address, coalesce(sent_at, scheduled_at) AS at \
         FROM messages \
         WHERE account_id = $1 AND channel = $2 \
         AND status NOT IN ('cancelled', 'suppressed', 'failed') \
         AND (scheduled_at >= $3 OR sent_at >= $3)",
    )
    .bind(account.0)
    .bind(channel.as_str())
    .bind(micros(since))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            Ok(PlannedSend {
                sending_identity_id: row.try_get("sending_identity_id").map_err(map_error)?,
                to_address: row.try_get("to_address").map_err(map_error)?,
                at: row.try_get("at").map_err(map_error)?,
            })
        })
        .collect()
}

async fn cancel_scheduled_messages(
    conn: &mut Conn,
    account: AccountId,
    enrollment: EnrollmentId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = sqlx::query(
        "UPDATE messages SET status = 'cancelled', updated_at = $3 \
         WHERE account_id = $1 AND enrollment_id = $2 AND status = 'scheduled'",
    )
    .bind(account.0)
    .bind(enrollment.0)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(result.rows_affected())
}

async fn list_messages(
    conn: &mut Conn,
    account: AccountId,
    campaign: Option<CampaignId>,
    page: PageRequest,
) -> Result<Page<Message>, StoreError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE account_id = $1 AND id > $2 \
         AND ($3 IS NULL OR campaign_id = $3) ORDER BY id LIMIT $4"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid())
        .bind(campaign.map(|id| id.0))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn count_messages_by_step(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
) -> Result<Vec<StepCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.position AS position, m.channel AS channel, m.status AS status, count(*) AS n \
         FROM messages m JOIN campaign_steps s ON s.id = m.step_id AND s.account_id = m.account_id \
         WHERE m.account_id = $1 AND m.campaign_id = $2 \
         GROUP BY s.position, m.channel, m.status ORDER BY s.position, m.status",
    )
    .bind(account.0)
    .bind(campaign.0)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            let channel: String = row.try_get("channel").map_err(map_error)?;
            let status: String = row.try_get("status").map_err(map_error)?;
            Ok(StepCount {
                position: row.try_get("position").map_err(map_error)?,
                channel: parse_enum(&channel)?,
                status: parse_enum(&status)?,
                count: row.try_get("n").map_err(map_error)?,
            })
        })
        .collect()
}

async fn insert_reply(
    conn: &mut Conn,
    account: AccountId,
    reply: &NewReply,
    now: DateTime<Utc>,
) -> Result<ReplyId, StoreError> {
    let id = ReplyId::new();
    sqlx::query(
        "INSERT INTO replies (id, account_id, lead_id, message_id, channel, from_address, subject, \
         body, label, objection, return_date, received_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id.0)
    .bind(account.0)
    .bind(reply.lead_id.0)
    .bind(reply.message_id.map(|id| id.0))
    .bind(reply.channel.as_str())
    .bind(&reply.from_address)
    .bind(&reply.subject)
    .bind(&reply.body)
    .bind(reply.label.as_str())
    .bind(reply.objection.map(ObjectionKind::as_str))
    .bind(reply.return_date)
    .bind(micros(reply.received_at))
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(id)
}

async fn list_replies(conn: &mut Conn, account: AccountId, page: PageRequest) -> Result<Page<Reply>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, lead_id, message_id, channel, label, objection, return_date, received_at \
         FROM replies WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(account.0)
    .bind(page.after_uuid())
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    let items = rows
        .iter()
        .map(|row| {
            let channel: String = row.try_get("channel").map_err(map_error)?;
            let label: String = row.try_get("label").map_err(map_error)?;
            let objection: Option<String> = row.try_get("objection").map_err(map_error)?;
            let message_id: Option<Uuid> = row.try_get("message_id").map_err(map_error)?;
            Ok(Reply {
                id: ReplyId(row.try_get("id").map_err(map_error)?),
                lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
                message_id: message_id.map(MessageId),
                channel: parse_enum(&channel)?,
                label: parse_enum(&label)?,
                objection: parse_opt_enum(objection)?,
                return_date: row.try_get("return_date").map_err(map_error)?,
                received_at: row.try_get("received_at").map_err(map_error)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

async fn funnel(conn: &mut Conn, account: AccountId, campaign: Option<CampaignId>) -> Result<Funnel, StoreError> {
    let campaign = campaign.map(|id| id.0);
    // A campaign's funnel starts from its enrolled leads, the account's from all.
    let leads: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leads l WHERE l.account_id = $1 AND ($2 IS NULL OR EXISTS \
         (SELECT 1 FROM enrollments e WHERE e.account_id = l.account_id AND e.lead_id = l.id \
          AND e.campaign_id = $2))",
    )
    .bind(account.0)
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;
    let enrolled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM enrollments WHERE account_id = $1 AND ($2 IS NULL OR campaign_id = $2)",
    )
    .bind(account.0)
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;

    // Each message counts once at every stage it reached: an opened message was
    // also sent and delivered.
    let row = sqlx::query(
        "SELECT \
           count(*) FILTER (WHERE status = 'scheduled') AS scheduled, \
           count(*) FILTER (WHERE status IN ('sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced')) AS sent, \
           count(*) FILTER (WHERE status IN ('delivered', 'opened', 'clicked', 'replied')) AS delivered, \
           count(*) FILTER (WHERE status IN ('opened', 'clicked', 'replied')) AS opened, \
           count(*) FILTER (WHERE status IN ('clicked', 'replied')) AS clicked \
         FROM messages WHERE account_id = $1 AND ($2 IS NULL OR campaign_id = $2)",
    )
    .bind(account.0)
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;

    let replies = sqlx::query(
        "SELECT count(DISTINCT r.lead_id) AS replied, \
           count(DISTINCT r.lead_id) FILTER (WHERE r.label IN ('meeting_request', 'interested')) AS positive, \
           count(DISTINCT r.lead_id) FILTER (WHERE r.label = 'opt_out') AS opted_out \
         FROM replies r WHERE r.account_id = $1 AND r.label NOT IN ('auto_reply', 'out_of_office', 'bounce') \
         AND ($2 IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.account_id = r.account_id \
              AND m.id = r.message_id AND m.campaign_id = $2))",
    )
    .bind(account.0)
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;

    let meetings: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM meetings WHERE account_id = $1 AND status IN ('confirmed', 'attended')",
    )
    .bind(account.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;

    Ok(Funnel {
        leads,
        enrolled,
        scheduled: row.try_get("scheduled").map_err(map_error)?,
        sent: row.try_get("sent").map_err(map_error)?,
        delivered: row.try_get("delivered").map_err(map_error)?,
        opened: row.try_get("opened").map_err(map_error)?,
        clicked: row.try_get("clicked").map_err(map_error)?,
        replied: replies.try_get("replied").map_err(map_error)?,
        positive: replies.try_get("positive").map_err(map_error)?,
        opted_out: replies.try_get("opted_out").map_err(map_error)?,
        meetings,
    })
}

async fn count_messages_by_variant(
    conn: &mut Conn,
    account: AccountId,
    campaign: CampaignId,
) -> Result<Vec<VariantCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.position AS position, m.variant AS variant, m.status AS status, count(*) AS n \
         FROM messages m JOIN campaign_steps s ON s.id = m.step_id AND s.account_id = m.account_id \
         WHERE m.account_id = $1 AND m.campaign_id = $2 \
         GROUP BY s.position, m.variant, m.status ORDER BY s.position, m.variant, m.status",
    )
    .bind(account.0)
    .bind(campaign.0)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get("status").map_err(map_error)?;
            Ok(VariantCount {
                position: row.try_get("position").map_err(map_error)?,
                variant: row.try_get("variant").map_err(map_error)?,
                status: parse_enum(&status)?,
                count: row.try_get("n").map_err(map_error)?,
            })
        })
        .collect()
}

const MEETING_COLUMNS: &str = "id, lead_id, reply_id, status, starts_at, duration_minutes, \
    proposed_slots, draft_subject, draft_body, created_at";

async fn insert_meeting(
    conn: &mut Conn,
    account: AccountId,
    meeting: &NewMeeting,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    sqlx::query(
        "INSERT INTO meetings (id, account_id, lead_id, reply_id, status, duration_minutes, \
         proposed_slots, draft_subject, draft_body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(meeting.id.0)
    .bind(account.0)
    .bind(meeting.lead_id.0)
    .bind(meeting.reply_id.map(|id| id.0))
    .bind(meeting.status.as_str())
    .bind(meeting.duration_minutes)
    .bind(Json(&meeting.proposed_slots))
    .bind(&meeting.draft_subject)
    .bind(&meeting.draft_body)
    .bind(now)
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn list_meetings(conn: &mut Conn, account: AccountId, page: PageRequest) -> Result<Page<Meeting>, StoreError> {
    let sql = format!(
        "SELECT {MEETING_COLUMNS} FROM meetings WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(meeting_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |item| item.id.0))
}

fn meeting_from_row(row: &DbRow) -> Result<Meeting, StoreError> {
    let status: String = row.try_get("status").map_err(map_error)?;
    let reply: Option<Uuid> = row.try_get("reply_id").map_err(map_error)?;
    let slots: Json<Value> = row.try_get("proposed_slots").map_err(map_error)?;
    Ok(Meeting {
        id: MeetingId(row.try_get("id").map_err(map_error)?),
        lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
        reply_id: reply.map(ReplyId),
        status: parse_enum(&status)?,
        starts_at: row.try_get("starts_at").map_err(map_error)?,
        duration_minutes: row.try_get("duration_minutes").map_err(map_error)?,
        proposed_slots: slots.0,
        draft_subject: row.try_get("draft_subject").map_err(map_error)?,
        draft_body: row.try_get("draft_body").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}
