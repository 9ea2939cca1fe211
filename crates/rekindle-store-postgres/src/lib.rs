//! Rekindle's PostgreSQL backend, for a fleet of API and worker processes.
//!
//! Two roles are involved. The owner (the URL given to `migrate`) creates the
//! tables and row-level security policies; the application role `rekindle_app`
//! owns nothing, has no BYPASSRLS, and is what `PostgresStore` connects as. Each
//! tenant transaction sets `rekindle.account_id` with `set_config(..., true)`,
//! which lasts only until the transaction ends, so a pooled connection never
//! carries one tenant's setting into another's work.

use std::time::Duration;

use async_trait::async_trait;
use rekindle_domain::AccountId;
use rekindle_store::{Backend, Store, StoreError, SystemTx, TenantTx};
use rekindle_store_sql::map_error;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

mod dialect {
    pub const FOR_UPDATE: &str = " FOR UPDATE";
    /// Locks a row against other writers without blocking inserts that
    /// reference it: a foreign-key check takes FOR KEY SHARE, which FOR
    /// UPDATE would wait for. Two transactions that each inserted a row
    /// pointing at the account and then locked the account row FOR UPDATE
    /// would deadlock.
    pub const FOR_NO_KEY_UPDATE: &str = " FOR NO KEY UPDATE";
    pub const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";
    pub const PARAM_STYLE: rekindle_store_sql::ParamStyle =
        rekindle_store_sql::ParamStyle::Numbered;
    /// Bound parameters per multi-row statement, below the protocol's 65,535.
    pub const MAX_BIND_PARAMS: usize = 30_000;
}

mod repo {
    pub type Db = sqlx::Postgres;

    include!("../../rekindle-store-sql/src/shared/prelude.rs");
    include!("../../rekindle-store-sql/src/shared/leads.rs");
    include!("../../rekindle-store-sql/src/shared/imports.rs");
    include!("../../rekindle-store-sql/src/shared/campaigns.rs");
    include!("../../rekindle-store-sql/src/shared/messages.rs");
    include!("../../rekindle-store-sql/src/shared/jobs.rs");
    include!("../../rekindle-store-sql/src/shared/audit.rs");
    include!("../../rekindle-store-sql/src/shared/crew_runs.rs");
    include!("../../rekindle-store-sql/src/shared/ai_budget.rs");
    include!("../../rekindle-store-sql/src/shared/dormant.rs");
    include!("../../rekindle-store-sql/src/shared/batch_reads.rs");
    include!("../../rekindle-store-sql/src/shared/batch_writes.rs");
    include!("../../rekindle-store-sql/src/shared/identity.rs");
    include!("../../rekindle-store-sql/src/shared/webhooks.rs");
    include!("../../rekindle-store-sql/src/shared/optimization.rs");
    include!("../../rekindle-store-sql/src/shared/tx.rs");
}

pub mod testing;

/// Name of the application role created by the grant script.
pub const APP_ROLE: &str = "rekindle_app";

/// Grants for the application role, run by the owner after every migration.
const GRANT_APP_ROLE_SQL: &str = include_str!("../sql/grant_app_role.sql");

/// Upper bound on every statement, so a stuck query cannot hold a worker.
const STATEMENT_TIMEOUT: &str = "30s";

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects as the application role. `url` must name a role without
    /// BYPASSRLS that owns no table; `check_role` verifies that.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Invalid(format!("invalid PostgreSQL URL: {e}")))?;
        let options = options.options([("statement_timeout", STATEMENT_TIMEOUT)]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(map_error)?;
        let store = Self { pool };
        store.check_role().await?;
        Ok(store)
    }

    /// Rejects a connection whose role would bypass row-level security.
    async fn check_role(&self) -> Result<(), StoreError> {
        let (name, bypass): (String, bool) = sqlx::query_as(
            "SELECT rolname::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(map_error)?;
        if bypass {
            return Err(StoreError::Invalid(format!(
                "the database role {name:?} is a superuser or has BYPASSRLS, so row-level security \
                 would not apply: connect as {APP_ROLE:?} (set database.url) and keep the owner \
                 role for database.admin_url"
            )));
        }
        Ok(())
    }

    /// Applies the migrations as the owner role at `admin_url`, then creates and
    /// grants the application role.
    pub async fn migrate(admin_url: &str) -> Result<(), StoreError> {
        let mut conn = PgConnection::connect(admin_url).await.map_err(map_error)?;
        sqlx::migrate!("./migrations")
            .run(&mut conn)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        sqlx::raw_sql(GRANT_APP_ROLE_SQL)
            .execute(&mut conn)
            .await
            .map_err(|e| StoreError::Migration(format!("granting {APP_ROLE}: {e}")))?;
        conn.close().await.map_err(map_error)
    }

    /// Derives the application role's URL from the owner's URL by replacing the
    /// user name, for set-ups where both use the same authentication (local
    /// trust, or a password set by the operator in `password`).
    pub fn app_url_from_admin(
        admin_url: &str,
        password: Option<&str>,
    ) -> Result<String, StoreError> {
        let mut url = url::Url::parse(admin_url)
            .map_err(|e| StoreError::Invalid(format!("invalid PostgreSQL URL: {e}")))?;
        url.set_username(APP_ROLE)
            .and_then(|_| url.set_password(password))
            .map_err(|_| {
                StoreError::Invalid("the PostgreSQL URL cannot carry a user name".into())
            })?;
        Ok(url.to_string())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn begin(&self, account: AccountId) -> Result<Box<dyn TenantTx>, StoreError> {
        // BEGIN and the tenant setting travel in one round trip, as one simple
        // query. The id is a formatted UUID (hex digits and hyphens only), so
        // writing it into the statement cannot inject SQL.
        let begin = format!(
            "BEGIN; SELECT set_config('rekindle.account_id', '{}', true)",
            account.0.hyphenated()
        );
        let tx = self
            .pool
            .begin_with(sqlx::AssertSqlSafe(begin))
            .await
            .map_err(map_error)?;
        Ok(Box::new(repo::SqlTenantTx::new(tx, account)))
    }

    async fn begin_system(&self, component: &str) -> Result<Box<dyn SystemTx>, StoreError> {
        tracing::trace!(component, "system transaction");
        let tx = self
            .pool
            .begin_with("BEGIN; SELECT set_config('rekindle.system', 'on', true)")
            .await
            .map_err(map_error)?;
        Ok(Box::new(repo::SqlSystemTx::new(tx)))
    }
}
