// Users, refresh tokens and API keys, shared by both backends. Lookups by email,
// token hash or key hash run on the system path, because the account is not
// known until the credential is found.

const USER_COLUMNS: &str = "id, account_id, email, role, external_subject, created_at";

fn user_from_row(row: &DbRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role").map_err(map_error)?;
    Ok(User {
        id: UserId(row.try_get("id").map_err(map_error)?),
        account_id: AccountId(row.try_get("account_id").map_err(map_error)?),
        email: row.try_get("email").map_err(map_error)?,
        role: parse_enum(&role)?,
        external_subject: row.try_get("external_subject").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}

async fn insert_user(
    conn: &mut Conn,
    account: AccountId,
    user: &NewUser,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let sql = format!(
        "INSERT INTO users (id, account_id, email, password_hash, role, external_subject, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(user.id.0)
        .bind(account.0)
        .bind(&user.email)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(&user.external_subject)
        .bind(micros(now))
        .fetch_one(conn)
        .await
        .map_err(map_error)?;
    user_from_row(&row)
}

async fn get_user(conn: &mut Conn, account: AccountId, id: UserId) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(user_from_row).transpose()
}

async fn list_users(conn: &mut Conn, account: AccountId, page: PageRequest) -> Result<Page<User>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(user_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |user| user.id.0))
}

async fn find_user_by_email(conn: &mut Conn, email: &str) -> Result<Option<UserCredentials>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(UserCredentials {
        user: user_from_row(&row)?,
        password_hash: row.try_get("password_hash").map_err(map_error)?,
    }))
}

async fn find_user_by_external_subject(conn: &mut Conn, subject: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE external_subject = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(subject)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(user_from_row).transpose()
}

async fn set_external_subject(conn: &mut Conn, user: UserId, subject: &str) -> Result<(), StoreError> {
    let result = sqlx::query("UPDATE users SET external_subject = $2 WHERE id = $1")
        .bind(user.0)
        .bind(subject)
        .execute(conn)
        .await
        .map_err(map_error)?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found("user", user));
    }
    Ok(())
}

async fn insert_refresh_token(
    conn: &mut Conn,
    token: &NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, account_id, user_id, family_id, token_hash, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token.id)
    .bind(token.account_id.0)
    .bind(token.user_id.0)
    .bind(token.family_id)
    .bind(&token.token_hash)
    .bind(micros(token.expires_at))
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn find_refresh_token(conn: &mut Conn, token_hash: &str) -> Result<Option<RefreshTokenRow>, StoreError> {
    let sql = format!(
        "SELECT id, account_id, user_id, family_id, expires_at, revoked_at FROM refresh_tokens \
         WHERE token_hash = $1{}",
        dialect::FOR_UPDATE
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(token_hash)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(RefreshTokenRow {
        id: row.try_get("id").map_err(map_error)?,
        account_id: AccountId(row.try_get("account_id").map_err(map_error)?),
        user_id: UserId(row.try_get("user_id").map_err(map_error)?),
        family_id: row.try_get("family_id").map_err(map_error)?,
        expires_at: row.try_get("expires_at").map_err(map_error)?,
        revoked_at: row.try_get("revoked_at").map_err(map_error)?,
    }))
}

async fn revoke_refresh_token(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(micros(now))
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

async fn revoke_refresh_family(
    conn: &mut Conn,
    account: AccountId,
    family: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $3 \
         WHERE account_id = $1 AND family_id = $2 AND revoked_at IS NULL",
    )
    .bind(account.0)
    .bind(family)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(result.rows_affected())
}

const API_KEY_COLUMNS: &str = "id, account_id, name, scopes, created_at, revoked_at";

fn api_key_from_row(row: &DbRow) -> Result<ApiKey, StoreError> {
    let scopes: Json<Vec<String>> = row.try_get("scopes").map_err(map_error)?;
    Ok(ApiKey {
        id: row.try_get("id").map_err(map_error)?,
        account_id: AccountId(row.try_get("account_id").map_err(map_error)?),
        name: row.try_get("name").map_err(map_error)?,
        scopes: scopes.0,
        created_at: row.try_get("created_at").map_err(map_error)?,
        revoked_at: row.try_get("revoked_at").map_err(map_error)?,
    })
}

async fn insert_api_key(
    conn: &mut Conn,
    account: AccountId,
    key: &NewApiKey,
    now: DateTime<Utc>,
) -> Result<ApiKey, StoreError> {
    let sql = format!(
        "INSERT INTO api_keys (id, account_id, name, key_hash, scopes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {API_KEY_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(key.id)
        .bind(account.0)
        .bind(&key.name)
        .bind(&key.key_hash)
        .bind(Json(&key.scopes))
        .bind(micros(now))
        .fetch_one(conn)
        .await
        .map_err(map_error)?;
    api_key_from_row(&row)
}

async fn list_api_keys(conn: &mut Conn, account: AccountId, page: PageRequest) -> Result<Page<ApiKey>, StoreError> {
    let sql = format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(page.after_uuid())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let items = rows.iter().map(api_key_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |key| key.id))
}

async fn revoke_api_key(conn: &mut Conn, account: AccountId, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE api_keys SET revoked_at = $3 WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(account.0)
    .bind(id)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}

async fn find_api_key(conn: &mut Conn, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
    let sql = format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(key_hash)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(api_key_from_row).transpose()
}

async fn set_password(
    conn: &mut Conn,
    account: AccountId,
    user: UserId,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let updated = sqlx::query("UPDATE users SET password_hash = $3 WHERE account_id = $1 AND id = $2")
        .bind(account.0)
        .bind(user.0)
        .bind(password_hash)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::not_found("user", user));
    }
    let revoked = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $3 \
         WHERE account_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(account.0)
    .bind(user.0)
    .bind(micros(now))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(revoked.rows_affected())
}

const SENDING_IDENTITY_COLUMNS: &str =
    "id, channel, address, display_name, hourly_cap, daily_cap, warm_up_start, paused, created_at";

fn sending_identity_from_row(row: &DbRow) -> Result<SendingIdentityRow, StoreError> {
    let channel: String = row.try_get("channel").map_err(map_error)?;
    let hourly: Option<i32> = row.try_get("hourly_cap").map_err(map_error)?;
    let daily: Option<i32> = row.try_get("daily_cap").map_err(map_error)?;
    Ok(SendingIdentityRow {
        id: row.try_get("id").map_err(map_error)?,
        channel: parse_enum(&channel)?,
        address: row.try_get("address").map_err(map_error)?,
        display_name: row.try_get("display_name").map_err(map_error)?,
        hourly_cap: hourly.map(|cap| cap.max(1) as u32),
        daily_cap: daily.map(|cap| cap.max(1) as u32),
        warm_up_start: row.try_get("warm_up_start").map_err(map_error)?,
        paused: row.try_get("paused").map_err(map_error)?,
        created_at: row.try_get("created_at").map_err(map_error)?,
    })
}

fn cap_value(cap: Option<u32>) -> Option<i32> {
    cap.map(|cap| cap.min(i32::MAX as u32) as i32)
}

async fn insert_sending_identity(
    conn: &mut Conn,
    account: AccountId,
    identity: &SendingIdentityRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sending_identities (id, account_id, channel, address, display_name, \
         hourly_cap, daily_cap, warm_up_start, paused, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(identity.id)
    .bind(account.0)
    .bind(identity.channel.as_str())
    .bind(&identity.address)
    .bind(&identity.display_name)
    .bind(cap_value(identity.hourly_cap))
    .bind(cap_value(identity.daily_cap))
    .bind(identity.warm_up_start)
    .bind(identity.paused)
    .bind(micros(identity.created_at))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn list_sending_identities(conn: &mut Conn, account: AccountId) -> Result<Vec<SendingIdentityRow>, StoreError> {
    let sql = format!(
        "SELECT {SENDING_IDENTITY_COLUMNS} FROM sending_identities WHERE account_id = $1 ORDER BY id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    rows.iter().map(sending_identity_from_row).collect()
}

async fn update_sending_identity(
    conn: &mut Conn,
    account: AccountId,
    id: Uuid,
    changes: &SendingIdentityChanges,
) -> Result<Option<SendingIdentityRow>, StoreError> {
    let sql = format!(
        "UPDATE sending_identities SET display_name = COALESCE($3, display_name), \
         hourly_cap = COALESCE($4, hourly_cap), daily_cap = COALESCE($5, daily_cap), \
         paused = COALESCE($6, paused) WHERE account_id = $1 AND id = $2 \
         RETURNING {SENDING_IDENTITY_COLUMNS}"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id)
        .bind(&changes.display_name)
        .bind(cap_value(changes.hourly_cap))
        .bind(cap_value(changes.daily_cap))
        .bind(changes.paused)
        .fetch_optional(conn)
        .await
        .map_err(map_error)?;
    row.as_ref().map(sending_identity_from_row).transpose()
}

async fn delete_sending_identity(conn: &mut Conn, account: AccountId, id: Uuid) -> Result<bool, StoreError> {
    let result = sqlx::query("DELETE FROM sending_identities WHERE account_id = $1 AND id = $2")
        .bind(account.0)
        .bind(id)
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(result.rows_affected() == 1)
}
