//! Harness for the storage conformance suite: opens a fresh store of each kind
//! and offers the raw access that tampering and row-level security tests need.

use std::sync::Arc;

use chrono::Utc;
use rekindle_domain::{AccountId, Plan};
use rekindle_store::{Actor, NewAccount, Store};
use rekindle_store_postgres::PostgresStore;
use rekindle_store_postgres::testing::TestDatabase;
use rekindle_store_sqlite::SqliteStore;

/// A store under test, with what is needed to reach behind it.
pub enum Harness {
    Sqlite {
        store: Arc<SqliteStore>,
        _dir: tempfile::TempDir,
    },
    Postgres {
        store: Arc<PostgresStore>,
        database: TestDatabase,
    },
}

impl Harness {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&dir.path().join("test.sqlite"))
            .await
            .expect("open SQLite store");
        Harness::Sqlite {
            store: Arc::new(store),
            _dir: dir,
        }
    }

    /// Returns `None`, after printing why, when no PostgreSQL server is configured.
    pub async fn postgres(test: &str) -> Option<Self> {
        let database = TestDatabase::create(test)
            .await
            .expect("create test database")?;
        let store = database
            .store()
            .await
            .expect("connect as the application role");
        Some(Harness::Postgres {
            store: Arc::new(store),
            database,
        })
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Harness::Sqlite { store, .. } => store.clone(),
            Harness::Postgres { store, .. } => store.clone(),
        }
    }

    /// Runs SQL as the owner, outside the repository and its protections.
    pub async fn owner_execute(&self, sql: &str) {
        if let Err(error) = self.owner_try_execute(sql).await {
            panic!("owner SQL failed: {error}\n{sql}");
        }
    }

    /// Like `owner_execute`, returning the database error instead of panicking.
    pub async fn owner_try_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        let statement = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()));
        match self {
            Harness::Sqlite { store, .. } => statement.execute(store.pool()).await.map(|_| ()),
            Harness::Postgres { database, .. } => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&database.admin_url).await?;
                statement.execute(&mut conn).await.map(|_| ())
            }
        }
    }

    /// SQL literal for a UUID in this backend's storage form.
    pub fn uuid_literal(&self, id: uuid::Uuid) -> String {
        match self {
            Harness::Sqlite { .. } => format!("X'{}'", id.simple()),
            Harness::Postgres { .. } => format!("'{id}'::uuid"),
        }
    }

    pub async fn finish(self) {
        if let Harness::Postgres { store, database } = self {
            store.pool().close().await;
            database.drop_database().await.expect("drop test database");
        }
    }
}

/// Creates an account through the system path.
pub async fn create_account(store: &dyn Store, name: &str) -> AccountId {
    let mut tx = store
        .begin_system("test")
        .await
        .expect("system transaction");
    let account = tx
        .create_account(
            &NewAccount {
                name: name.to_owned(),
                sender_name: "Sam Carter".into(),
                sender_email: "sam@rekindle.example".into(),
                postal_address: "1 Example Street, London EC1A 1AA, United Kingdom".into(),
                time_zone: "Europe/London".into(),
                acv_minor: 250_000,
                currency: "GBP".into(),
                plan: Plan::Pro,
            },
            &Actor::system("test"),
            Utc::now(),
        )
        .await
        .expect("create account");
    tx.commit().await.expect("commit account");
    account.id
}
