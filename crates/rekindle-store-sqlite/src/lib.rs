//! Rekindle's embedded SQLite backend: the default for a single machine.
//!
//! SQLite has no row-level security, so isolation comes from the shared
//! repository code, which filters every statement by the transaction's account.
//! Write transactions start with `BEGIN IMMEDIATE`, so concurrent writers queue
//! on the busy timeout instead of failing when they upgrade a read lock.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use rekindle_domain::AccountId;
use rekindle_store::{Backend, Store, StoreError, SystemTx, TenantTx};
use rekindle_store_sql::map_error;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

mod dialect {
    /// SQLite has no row locks; the single writer serialises transactions.
    pub const FOR_UPDATE: &str = "";
    pub const FOR_NO_KEY_UPDATE: &str = "";
    pub const SKIP_LOCKED: &str = "";
    /// Statements built at run time use anonymous `?` parameters, because
    /// binding named or numbered ones costs a linear scan each.
    pub const PARAM_STYLE: rekindle_store_sql::ParamStyle =
        rekindle_store_sql::ParamStyle::Anonymous;
    /// Bound parameters per multi-row statement, below SQLite's default limit
    /// of 32,766.
    pub const MAX_BIND_PARAMS: usize = 10_000;
}

mod repo {
    pub type Db = sqlx::Sqlite;

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

/// How long a writer waits for the database lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Invalid(format!(
                    "cannot create the data directory {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::connect(options, 8).await
    }

    /// Opens a database from a `sqlite:` URL, such as `sqlite::memory:`.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Invalid(format!("invalid SQLite URL {url:?}: {e}")))?
            .create_if_missing(true);
        // An in-memory database exists once per connection, so it needs a pool of one.
        let connections = if url.contains(":memory:") { 1 } else { 8 };
        Self::connect(options, connections).await
    }

    async fn connect(options: SqliteConnectOptions, connections: u32) -> Result<Self, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(map_error)?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Returns the underlying pool, for tests and maintenance commands.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn begin(&self, account: AccountId) -> Result<Box<dyn TenantTx>, StoreError> {
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_error)?;
        Ok(Box::new(repo::SqlTenantTx::new(tx, account)))
    }

    async fn begin_system(&self, component: &str) -> Result<Box<dyn SystemTx>, StoreError> {
        tracing::trace!(component, "system transaction");
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_error)?;
        Ok(Box::new(repo::SqlSystemTx::new(tx)))
    }
}

/// Runs raw SQL outside the repository, for maintenance and for tests that
/// tamper with the database on purpose.
pub async fn raw_execute(store: &SqliteStore, sql: &str) -> Result<(), StoreError> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&store.pool)
        .await
        .map(|_| ())
        .map_err(map_error)
}
