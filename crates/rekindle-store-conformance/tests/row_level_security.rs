//! PostgreSQL row-level security, checked with raw SQL under the application
//! role: these queries have no tenant filter of their own, so only the policies
//! stand between them and other accounts' rows.

use chrono::Utc;
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Email, LeadId};
use rekindle_store::NewLead;
use rekindle_store_conformance::{Harness, create_account};
use rekindle_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection};

async fn seed(harness: &Harness) -> (rekindle_domain::AccountId, rekindle_domain::AccountId) {
    let store = harness.store();
    let acme = create_account(&*store, "Acme").await;
    let globex = create_account(&*store, "Globex").await;
    for (account, email) in [
        (acme, "a1@acme.example"),
        (acme, "a2@acme.example"),
        (globex, "g@globex.example"),
    ] {
        let mut tx = store.begin(account).await.unwrap();
        let fields = LeadFields {
            email: Some(Email::parse(email).unwrap()),
            ..LeadFields::default()
        };
        tx.insert_lead(
            &NewLead {
                id: LeadId::new(),
                fields,
                import_id: None,
                import_ref: None,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    (acme, globex)
}

#[tokio::test]
async fn raw_queries_see_only_the_current_account() {
    let Some(harness) = Harness::postgres("raw_queries_see_only_the_current_account").await else {
        return;
    };
    let (acme, globex) = seed(&harness).await;
    let Harness::Postgres { database, .. } = &harness else {
        unreachable!()
    };
    let mut conn = PgConnection::connect(&database.app_url).await.unwrap();

    let unset: i64 = sqlx::query_scalar("SELECT count(*) FROM leads")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(unset, 0, "with no account set, no rows are visible");
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(accounts, 0);

    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('rekindle.account_id', $1, true)")
        .bind(acme.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let visible: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT account_id FROM leads")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(visible.len(), 2);
    assert!(visible.iter().all(|id| *id == acme.0));

    let foreign = sqlx::query(
        "INSERT INTO leads (id, account_id, email, status, created_at, updated_at) \
         VALUES ($1, $2, 'x@globex.example', 'dormant', now(), now())",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(globex.0)
    .execute(&mut *tx)
    .await;
    assert!(foreign.is_err(), "writing another account's row must fail");
    tx.rollback().await.unwrap();

    // The setting was transaction-local, so the connection no longer has it.
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM leads")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(after, 0);
    conn.close().await.unwrap();
    harness.finish().await;
}

#[tokio::test]
async fn app_role_owns_nothing_and_cannot_bypass() {
    let Some(harness) = Harness::postgres("app_role_owns_nothing_and_cannot_bypass").await else {
        return;
    };
    let Harness::Postgres { database, .. } = &harness else {
        unreachable!()
    };
    let mut conn = PgConnection::connect(&database.app_url).await.unwrap();

    let (bypass, superuser): (bool, bool) =
        sqlx::query_as("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!bypass);
    assert!(!superuser);
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(owned, 0);

    let forced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN information_schema.columns col \
         ON col.table_name = c.relname AND col.column_name = 'account_id' AND col.table_schema = 'public' \
         WHERE c.relkind = 'r' AND NOT (c.relrowsecurity AND c.relforcerowsecurity)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        forced, 0,
        "every table with account_id has forced row-level security"
    );

    let tamper = sqlx::query("DELETE FROM audit_log")
        .execute(&mut conn)
        .await;
    assert!(
        tamper.is_err(),
        "the application role cannot delete audit entries"
    );
    conn.close().await.unwrap();

    let owner = PostgresStore::connect(&database.admin_url, 1).await;
    assert!(
        owner.is_err(),
        "connecting as a role that bypasses RLS is refused"
    );
    harness.finish().await;
}
