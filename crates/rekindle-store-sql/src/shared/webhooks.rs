// Provider webhook queries, shared by both backends: receipts, stored bodies,
// rejection counts, and the batched writes that apply events to messages.
// Statements with a list of values are built at run time with `params`, so
// each one uses a single placeholder style, and lists are cut into chunks
// below the backend's bind limit.

const RECEIPT_PARAMS: usize = 6;
const EVENT_PARAMS: usize = 8;
const ENGAGEMENT_PARAMS: usize = 11;
const LOCATION_COLUMNS: &str =
    "id, account_id, lead_id, channel, rfc_message_id, provider_message_id, sent_at";

fn location_from_row(row: &DbRow) -> Result<MessageLocation, StoreError> {
    let channel: String = row.try_get("channel").map_err(map_error)?;
    Ok(MessageLocation {
        message_id: MessageId(row.try_get("id").map_err(map_error)?),
        account_id: AccountId(row.try_get("account_id").map_err(map_error)?),
        lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
        channel: parse_enum(&channel)?,
        rfc_message_id: row.try_get("rfc_message_id").map_err(map_error)?,
        provider_message_id: row.try_get("provider_message_id").map_err(map_error)?,
        sent_at: row.try_get("sent_at").map_err(map_error)?,
    })
}

/// Inserts receipts for `account` (`None` for events that match no account)
/// and returns the ids of the rows inserted. A receipt whose event id or
/// composite key is already stored for its provider is skipped.
async fn insert_receipts(
    conn: &mut Conn,
    account: Option<AccountId>,
    receipts: &[NewReceipt],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, StoreError> {
    let now = micros(now);
    let mut inserted = Vec::with_capacity(receipts.len());
    for chunk in receipts.chunks(dialect::MAX_BIND_PARAMS / RECEIPT_PARAMS) {
        let rows = (0..chunk.len())
            .map(|row| format!("({})", params(row * RECEIPT_PARAMS + 1, RECEIPT_PARAMS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO webhook_receipts (id, account_id, provider, dedup_key, event_key, received_at) \
             VALUES {rows} ON CONFLICT DO NOTHING RETURNING id"
        );
        let mut query = sqlx::query_scalar::<_, Uuid>(AssertSqlSafe(sql));
        for receipt in chunk {
            query = query
                .bind(receipt.id)
                .bind(account.map(|id| id.0))
                .bind(receipt.provider.as_str())
                .bind(&receipt.dedup_key)
                .bind(&receipt.event_key)
                .bind(now);
        }
        inserted.extend(query.fetch_all(&mut *conn).await.map_err(map_error)?);
    }
    Ok(inserted)
}

async fn receipt_exists(conn: &mut Conn, provider: WebhookProvider, dedup_key: &str) -> Result<bool, StoreError> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM webhook_receipts WHERE provider = $1 AND dedup_key = $2")
            .bind(provider.as_str())
            .bind(dedup_key)
            .fetch_optional(conn)
            .await
            .map_err(map_error)?;
    Ok(found.is_some())
}

/// Locks the account's messages with these ids in id order, so two
/// transactions that apply events to overlapping messages wait for each other
/// instead of locking in opposite orders.
async fn lock_event_targets(
    conn: &mut Conn,
    account: AccountId,
    ids: &[MessageId],
) -> Result<Vec<EventTarget>, StoreError> {
    let mut targets = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(dialect::MAX_BIND_PARAMS - 1) {
        let sql = format!(
            "SELECT id, lead_id, enrollment_id, campaign_id, channel, status, to_address, sent_at \
             FROM messages WHERE account_id = {} AND id IN ({}) ORDER BY id{}",
            params(1, 1),
            params(2, chunk.len()),
            dialect::FOR_UPDATE
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
        for id in chunk {
            query = query.bind(id.0);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_error)? {
            let channel: String = row.try_get("channel").map_err(map_error)?;
            let status: String = row.try_get("status").map_err(map_error)?;
            targets.push(EventTarget {
                id: MessageId(row.try_get("id").map_err(map_error)?),
                lead_id: LeadId(row.try_get("lead_id").map_err(map_error)?),
                enrollment_id: EnrollmentId(row.try_get("enrollment_id").map_err(map_error)?),
                campaign_id: CampaignId(row.try_get("campaign_id").map_err(map_error)?),
                channel: parse_enum(&channel)?,
                status: parse_enum(&status)?,
                to_address: row.try_get("to_address").map_err(map_error)?,
                sent_at: row.try_get("sent_at").map_err(map_error)?,
                engagement: None,
            });
        }
    }

    let found: Vec<MessageId> = targets.iter().map(|target| target.id).collect();
    let mut counters = read_engagement(conn, account, &found).await?;
    for target in &mut targets {
        target.engagement = counters.remove(&target.id);
    }
    Ok(targets)
}

async fn read_engagement(
    conn: &mut Conn,
    account: AccountId,
    ids: &[MessageId],
) -> Result<std::collections::HashMap<MessageId, Engagement>, StoreError> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(dialect::MAX_BIND_PARAMS - 1) {
        let sql = format!(
            "SELECT message_id, opens, machine_opens, clicks, delivered_at, first_opened_at, \
             last_opened_at, first_clicked_at, last_clicked_at FROM message_engagement \
             WHERE account_id = {} AND message_id IN ({})",
            params(1, 1),
            params(2, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
        for id in chunk {
            query = query.bind(id.0);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_error)? {
            let id = MessageId(row.try_get("message_id").map_err(map_error)?);
            found.insert(id, engagement_from_row(&row)?);
        }
    }
    Ok(found)
}

fn engagement_from_row(row: &DbRow) -> Result<Engagement, StoreError> {
    Ok(Engagement {
        opens: row.try_get("opens").map_err(map_error)?,
        machine_opens: row.try_get("machine_opens").map_err(map_error)?,
        clicks: row.try_get("clicks").map_err(map_error)?,
        delivered_at: row.try_get("delivered_at").map_err(map_error)?,
        first_opened_at: row.try_get("first_opened_at").map_err(map_error)?,
        last_opened_at: row.try_get("last_opened_at").map_err(map_error)?,
        first_clicked_at: row.try_get("first_clicked_at").map_err(map_error)?,
        last_clicked_at: row.try_get("last_clicked_at").map_err(map_error)?,
    })
}

async fn get_engagement(
    conn: &mut Conn,
    account: AccountId,
    message: MessageId,
) -> Result<Option<Engagement>, StoreError> {
    Ok(read_engagement(conn, account, &[message]).await?.remove(&message))
}

async fn latest_sent_to_lead(
    conn: &mut Conn,
    account: AccountId,
    lead: LeadId,
    channel: Channel,
) -> Result<Option<MessageId>, StoreError> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE account_id = $1 AND lead_id = $2 AND channel = $3 \
         AND sent_at IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT 1",
    )
    .bind(account.0)
    .bind(lead.0)
    .bind(channel.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    Ok(id.map(MessageId))
}

async fn sent_activity(
    conn: &mut Conn,
    account: AccountId,
    enrollments: &[EnrollmentId],
) -> Result<Vec<SentActivity>, StoreError> {
    let mut sent = Vec::new();
    for chunk in enrollments.chunks(dialect::MAX_BIND_PARAMS - 1) {
        let sql = format!(
            "SELECT m.id, m.enrollment_id, s.position, m.channel, m.status, m.sent_at \
             FROM messages m JOIN campaign_steps s ON s.id = m.step_id \
             WHERE m.account_id = {} AND m.enrollment_id IN ({}) AND m.sent_at IS NOT NULL \
             ORDER BY m.enrollment_id, s.position",
            params(1, 1),
            params(2, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(account.0);
        for id in chunk {
            query = query.bind(id.0);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_error)? {
            let channel: String = row.try_get("channel").map_err(map_error)?;
            let status: String = row.try_get("status").map_err(map_error)?;
            sent.push(SentActivity {
                enrollment_id: EnrollmentId(row.try_get("enrollment_id").map_err(map_error)?),
                message_id: MessageId(row.try_get("id").map_err(map_error)?),
                position: row.try_get("position").map_err(map_error)?,
                channel: parse_enum(&channel)?,
                status: parse_enum(&status)?,
                sent_at: row.try_get("sent_at").map_err(map_error)?,
                engagement: None,
            });
        }
    }

    let ids: Vec<MessageId> = sent.iter().map(|message| message.message_id).collect();
    let mut counters = read_engagement(conn, account, &ids).await?;
    for message in &mut sent {
        message.engagement = counters.remove(&message.message_id);
    }
    Ok(sent)
}

/// Applies status changes. Changes without an error are grouped by their
/// `from` and `to` status into one UPDATE per group. The rare ones that carry
/// an error (bounces, failures) are written one by one.
async fn apply_status_changes(
    conn: &mut Conn,
    account: AccountId,
    changes: &[StatusChange],
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let now = micros(now);
    let mut moved = 0;
    let mut groups: std::collections::BTreeMap<(&'static str, &'static str), Vec<Uuid>> =
        std::collections::BTreeMap::new();
    for change in changes {
        match &change.error {
            None => groups
                .entry((change.from.as_str(), change.to.as_str()))
                .or_default()
                .push(change.message_id.0),
            Some(error) => {
                let result = sqlx::query(
                    "UPDATE messages SET status = $4, error = $5, updated_at = $6 \
                     WHERE account_id = $1 AND id = $2 AND status = $3",
                )
                .bind(account.0)
                .bind(change.message_id.0)
                .bind(change.from.as_str())
                .bind(change.to.as_str())
                .bind(error)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(map_error)?;
                moved += result.rows_affected();
            }
        }
    }

    for ((from, to), ids) in groups {
        for chunk in ids.chunks(dialect::MAX_BIND_PARAMS - 4) {
            let sql = format!(
                "UPDATE messages SET status = {}, updated_at = {} \
                 WHERE account_id = {} AND status = {} AND id IN ({})",
                params(1, 1),
                params(2, 1),
                params(3, 1),
                params(4, 1),
                params(5, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(to)
                .bind(now)
                .bind(account.0)
                .bind(from);
            for id in chunk {
                query = query.bind(*id);
            }
            moved += query.execute(&mut *conn).await.map_err(map_error)?.rows_affected();
        }
    }
    Ok(moved)
}

async fn insert_message_events(
    conn: &mut Conn,
    account: AccountId,
    events: &[NewMessageEvent],
) -> Result<(), StoreError> {
    for chunk in events.chunks(dialect::MAX_BIND_PARAMS / EVENT_PARAMS) {
        let rows = (0..chunk.len())
            .map(|row| format!("({})", params(row * EVENT_PARAMS + 1, EVENT_PARAMS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO message_events (id, account_id, message_id, kind, provider, \
             provider_event_id, occurred_at, payload) VALUES {rows} ON CONFLICT DO NOTHING"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for event in chunk {
            query = query
                .bind(event.id)
                .bind(account.0)
                .bind(event.message_id.0)
                .bind(event.kind.as_str())
                .bind(event.provider)
                .bind(&event.provider_event_id)
                .bind(micros(event.occurred_at))
                .bind(Json(&event.payload));
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}

async fn save_engagement(
    conn: &mut Conn,
    account: AccountId,
    rows: &[(MessageId, Engagement)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = micros(now);
    for chunk in rows.chunks(dialect::MAX_BIND_PARAMS / ENGAGEMENT_PARAMS) {
        let values = (0..chunk.len())
            .map(|row| format!("({})", params(row * ENGAGEMENT_PARAMS + 1, ENGAGEMENT_PARAMS)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO message_engagement (message_id, account_id, opens, machine_opens, clicks, \
             delivered_at, first_opened_at, last_opened_at, first_clicked_at, last_clicked_at, \
             updated_at) VALUES {values} ON CONFLICT (message_id) DO UPDATE SET \
             opens = excluded.opens, machine_opens = excluded.machine_opens, \
             clicks = excluded.clicks, delivered_at = excluded.delivered_at, \
             first_opened_at = excluded.first_opened_at, last_opened_at = excluded.last_opened_at, \
             first_clicked_at = excluded.first_clicked_at, \
             last_clicked_at = excluded.last_clicked_at, updated_at = excluded.updated_at"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, counters) in chunk {
            query = query
                .bind(id.0)
                .bind(account.0)
                .bind(counters.opens)
                .bind(counters.machine_opens)
                .bind(counters.clicks)
                .bind(counters.delivered_at.map(micros))
                .bind(counters.first_opened_at.map(micros))
                .bind(counters.last_opened_at.map(micros))
                .bind(counters.first_clicked_at.map(micros))
                .bind(counters.last_clicked_at.map(micros))
                .bind(now);
        }
        query.execute(&mut *conn).await.map_err(map_error)?;
    }
    Ok(())
}

async fn stop_lead_enrollments(
    conn: &mut Conn,
    account: AccountId,
    lead: LeadId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let now = micros(now);
    sqlx::query(
        "UPDATE messages SET status = 'cancelled', updated_at = $3 \
         WHERE account_id = $1 AND lead_id = $2 AND status = 'scheduled'",
    )
    .bind(account.0)
    .bind(lead.0)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    let stopped = sqlx::query(
        "UPDATE enrollments SET status = 'stopped', next_run_at = NULL, stop_reason = $3 \
         WHERE account_id = $1 AND lead_id = $2 AND status IN ('pending', 'active', 'paused')",
    )
    .bind(account.0)
    .bind(lead.0)
    .bind(reason)
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(stopped.rows_affected())
}

/// Finds messages of any account by our ids and by the provider's ids.
async fn locate_messages(
    conn: &mut Conn,
    ids: &[MessageId],
    provider_ids: &[String],
) -> Result<Vec<MessageLocation>, StoreError> {
    let mut found = Vec::with_capacity(ids.len() + provider_ids.len());
    for chunk in ids.chunks(dialect::MAX_BIND_PARAMS) {
        let sql = format!(
            "SELECT {LOCATION_COLUMNS} FROM messages WHERE id IN ({})",
            params(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.0);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_error)? {
            found.push(location_from_row(&row)?);
        }
    }
    found.extend(locate_by_column(conn, "provider_message_id", provider_ids).await?);
    Ok(found)
}

async fn locate_by_column(
    conn: &mut Conn,
    column: &'static str,
    values: &[String],
) -> Result<Vec<MessageLocation>, StoreError> {
    let mut found = Vec::new();
    for chunk in values.chunks(dialect::MAX_BIND_PARAMS) {
        let sql = format!(
            "SELECT {LOCATION_COLUMNS} FROM messages WHERE {column} IN ({})",
            params(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in chunk {
            query = query.bind(value);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_error)? {
            found.push(location_from_row(&row)?);
        }
    }
    Ok(found)
}

async fn locate_messages_by_rfc_ids(conn: &mut Conn, rfc_ids: &[String]) -> Result<Vec<MessageLocation>, StoreError> {
    locate_by_column(conn, "rfc_message_id", rfc_ids).await
}

async fn latest_message_to(
    conn: &mut Conn,
    address: &str,
    channels: &[Channel],
    accounts: Option<&[AccountId]>,
) -> Result<Option<MessageLocation>, StoreError> {
    if channels.is_empty() || accounts.is_some_and(|list| list.is_empty()) {
        return Ok(None);
    }
    let account_filter = match accounts {
        Some(list) => format!(" AND account_id IN ({})", params(2 + channels.len(), list.len())),
        None => String::new(),
    };
    let sql = format!(
        "SELECT {LOCATION_COLUMNS} FROM messages WHERE to_address = {} AND channel IN ({}) \
         AND sent_at IS NOT NULL{account_filter} ORDER BY sent_at DESC, id DESC LIMIT 1",
        params(1, 1),
        params(2, channels.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(address);
    for channel in channels {
        query = query.bind(channel.as_str());
    }
    for account in accounts.unwrap_or_default() {
        query = query.bind(account.0);
    }
    let row = query.fetch_optional(conn).await.map_err(map_error)?;
    row.as_ref().map(location_from_row).transpose()
}

async fn accounts_with_identity(conn: &mut Conn, channel: Channel, address: &str) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM sending_identities WHERE channel = $1 AND address = $2",
    )
    .bind(channel.as_str())
    .bind(address)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(ids.into_iter().map(AccountId).collect())
}

async fn insert_webhook_payload(
    conn: &mut Conn,
    payload: &NewWebhookPayload,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO webhook_payloads (id, provider, event_id, event_type, body, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(payload.id)
    .bind(payload.provider.as_str())
    .bind(&payload.event_id)
    .bind(&payload.event_type)
    .bind(&payload.body)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn get_webhook_payload(conn: &mut Conn, id: Uuid) -> Result<Option<WebhookPayload>, StoreError> {
    let row = sqlx::query(
        "SELECT id, provider, event_id, event_type, body, received_at, processed_at \
         FROM webhook_payloads WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let provider: String = row.try_get("provider").map_err(map_error)?;
    Ok(Some(WebhookPayload {
        id: row.try_get("id").map_err(map_error)?,
        provider: WebhookProvider::parse(&provider)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown webhook provider {provider:?}")))?,
        event_id: row.try_get("event_id").map_err(map_error)?,
        event_type: row.try_get("event_type").map_err(map_error)?,
        body: row.try_get("body").map_err(map_error)?,
        received_at: row.try_get("received_at").map_err(map_error)?,
        processed_at: row.try_get("processed_at").map_err(map_error)?,
    }))
}

async fn mark_webhook_payload_processed(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE webhook_payloads SET processed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(micros(now))
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

async fn record_webhook_rejection(
    conn: &mut Conn,
    rejection: &WebhookRejection,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use chrono::{DurationRound, TimeDelta};

    let hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    sqlx::query(
        "INSERT INTO webhook_rejections (id, provider, reason, hour, count, last_ip, last_request_id, last_at) \
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7) \
         ON CONFLICT (provider, reason, hour) DO UPDATE SET count = webhook_rejections.count + 1, \
         last_ip = excluded.last_ip, last_request_id = excluded.last_request_id, last_at = excluded.last_at",
    )
    .bind(Uuid::now_v7())
    .bind(rejection.provider)
    .bind(rejection.reason)
    .bind(micros(hour))
    .bind(&rejection.ip)
    .bind(&rejection.request_id)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn list_webhook_rejections(conn: &mut Conn, limit: u32) -> Result<Vec<RejectionCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT provider, reason, hour, count FROM webhook_rejections \
         ORDER BY hour DESC, provider, reason LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            Ok(RejectionCount {
                provider: row.try_get("provider").map_err(map_error)?,
                reason: row.try_get("reason").map_err(map_error)?,
                hour: row.try_get("hour").map_err(map_error)?,
                count: row.try_get("count").map_err(map_error)?,
            })
        })
        .collect()
}
