//! Throwaway databases for tests: each test gets its own database on the server
//! named by `REKINDLE_TEST_DATABASE_URL`, migrated, and dropped afterwards.

use sqlx::{Connection, PgConnection};

use crate::{PostgresStore, map_error};
use rekindle_store::StoreError;

/// Environment variable naming the PostgreSQL server for tests, as an owner
/// (superuser) URL such as `postgres://postgres@127.0.0.1:5432/postgres`.
pub const TEST_DATABASE_ENV: &str = "REKINDLE_TEST_DATABASE_URL";

pub struct TestDatabase {
    server_url: url::Url,
    name: String,
    pub admin_url: String,
    pub app_url: String,
}

impl TestDatabase {
    /// Creates and migrates a fresh database, or returns `None` (after printing
    /// why) when `REKINDLE_TEST_DATABASE_URL` is unset.
    pub async fn create(test: &str) -> Result<Option<Self>, StoreError> {
        let Ok(server) = std::env::var(TEST_DATABASE_ENV) else {
            eprintln!(
                "skipped {test}: {TEST_DATABASE_ENV} is not set, so no PostgreSQL server is available"
            );
            return Ok(None);
        };
        let server_url = url::Url::parse(&server)
            .map_err(|e| StoreError::Invalid(format!("invalid {TEST_DATABASE_ENV}: {e}")))?;
        let name = format!("rekindle_test_{}", uuid::Uuid::new_v4().simple());

        let mut conn = PgConnection::connect(server_url.as_str())
            .await
            .map_err(map_error)?;
        let create = format!("CREATE DATABASE {name}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .map_err(map_error)?;
        conn.close().await.map_err(map_error)?;

        let mut admin = server_url.clone();
        admin.set_path(&name);
        let admin_url = admin.to_string();
        PostgresStore::migrate(&admin_url).await?;
        let app_url = PostgresStore::app_url_from_admin(&admin_url, None)?;
        Ok(Some(Self {
            server_url,
            name,
            admin_url,
            app_url,
        }))
    }

    /// Connects as the application role.
    pub async fn store(&self) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect(&self.app_url, 4).await
    }

    /// Drops the database. Call it at the end of the test; a failed test leaves
    /// its database behind for inspection.
    pub async fn drop_database(self) -> Result<(), StoreError> {
        let mut conn = PgConnection::connect(self.server_url.as_str())
            .await
            .map_err(map_error)?;
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut conn)
            .await
            .map_err(map_error)?;
        conn.close().await.map_err(map_error)
    }
}
