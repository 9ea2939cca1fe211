//! The LLM budget ledger in the database: reservations from two stores
//! (two connection pools, as two processes of a fleet have) on the same
//! database never pass the daily limit together, and settling replaces them
//! with the real cost, and a reservation left by a process that died is
//! dropped once the account's row is idle. Runs on SQLite and on PostgreSQL.

#[allow(dead_code, reason = "this test binary uses only the backend macro")]
mod common;

use std::sync::Arc;

use chrono::NaiveDate;
use rekindle_domain::AccountId;
use rekindle_llm::budget::{BudgetKey, BudgetLedger, Cost, LedgerError, UsageRecord};
use rekindle_llm::{AgentRole, TokenUsage};
use rekindle_services::ai_ledger::StoreLedger;
use rekindle_store::{AiReservation, Store};
use rekindle_store_conformance::{Harness, create_account};

on_both_backends!(
    reservations_hold_across_stores => reservations_hold_across_stores,
    stale_reservation_is_dropped => stale_reservation_is_dropped,
);

/// Opens a second store on the harness's database.
async fn second_store(harness: &Harness) -> Arc<dyn Store> {
    match harness {
        Harness::Sqlite { _dir, .. } => Arc::new(
            rekindle_store_sqlite::SqliteStore::open(&_dir.path().join("test.sqlite"))
                .await
                .unwrap(),
        ),
        Harness::Postgres { database, .. } => Arc::new(database.store().await.unwrap()),
    }
}

fn usage(key: BudgetKey, cost: u64) -> UsageRecord {
    UsageRecord {
        account_id: key.account_id,
        day: key.day,
        provider: "openai",
        model: "mock-model".into(),
        role: AgentRole::Writer,
        usage: TokenUsage::new(120, 80),
        cost: Cost::from_nano_usd(cost),
    }
}

async fn reservations_hold_across_stores(harness: &Harness) {
    let account: AccountId = create_account(&*harness.store(), "Ledger Ltd").await;
    let ledgers: [Arc<dyn BudgetLedger>; 2] = [
        Arc::new(StoreLedger::new(harness.store())),
        Arc::new(StoreLedger::new(second_store(harness).await)),
    ];
    let key = BudgetKey {
        account_id: account,
        day: NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
    };
    let limit = Cost::from_nano_usd(1_000);

    // Twenty reservations of 100 race for a limit of 1,000: ten fit.
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..20 {
        let ledger = Arc::clone(&ledgers[index % 2]);
        tasks.spawn(async move { ledger.reserve(key, Cost::from_nano_usd(100), limit).await });
    }
    let mut reserved = 0;
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(()) => reserved += 1,
            Err(LedgerError::Exceeded { committed }) => {
                assert!(committed.nano_usd() > 900, "rejected at {committed}");
            }
            Err(other) => panic!("the ledger failed: {other}"),
        }
    }
    assert_eq!(reserved, 10);
    let spend = ledgers[1].spent(key).await.unwrap();
    assert_eq!(spend.reserved, Cost::from_nano_usd(1_000));
    assert_eq!(spend.cost, Cost::ZERO);

    // Each call used 50 of its 100: settling frees the rest.
    for index in 0..10 {
        ledgers[index % 2]
            .settle(key, Cost::from_nano_usd(100), &usage(key, 50))
            .await
            .unwrap();
    }
    let spend = ledgers[0].spent(key).await.unwrap();
    assert_eq!(spend.reserved, Cost::ZERO);
    assert_eq!(spend.cost, Cost::from_nano_usd(500));
    assert_eq!(spend.calls, 10);
    assert_eq!(spend.usage, TokenUsage::new(1_200, 800));

    // 500 spent: five more reservations of 100 fit, the sixth does not.
    for _ in 0..5 {
        ledgers[0]
            .reserve(key, Cost::from_nano_usd(100), limit)
            .await
            .unwrap();
    }
    let rejected = ledgers[1]
        .reserve(key, Cost::from_nano_usd(100), limit)
        .await;
    assert_eq!(
        rejected,
        Err(LedgerError::Exceeded {
            committed: Cost::from_nano_usd(1_000)
        })
    );

    // Another day has its own budget.
    let tomorrow = BudgetKey {
        day: key.day.succ_opt().unwrap(),
        ..key
    };
    ledgers[1]
        .reserve(tomorrow, Cost::from_nano_usd(1_000), limit)
        .await
        .unwrap();
}

/// Checks that a reservation never settled, as after a crash mid-call,
/// blocks the budget while the row is busy and is dropped after 15 idle
/// minutes.
async fn stale_reservation_is_dropped(harness: &Harness) {
    let account: AccountId = create_account(&*harness.store(), "Crashed Ltd").await;
    let day = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
    let start = day.and_hms_opt(9, 0, 0).unwrap().and_utc();
    let reserve = |estimate: i64, minutes: i64| {
        let store = harness.store();
        async move {
            let mut tx = store.begin(account).await.unwrap();
            let at = start + chrono::Duration::minutes(minutes);
            let outcome = tx
                .reserve_ai_budget(day, estimate, 1_000, at)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            outcome
        }
    };

    assert_eq!(reserve(700, 0).await, AiReservation::Reserved);
    assert!(
        matches!(reserve(700, 10).await, AiReservation::Exceeded { .. }),
        "the open reservation still counts 10 minutes later"
    );
    // The failed attempt does not touch the row, so it has been idle since
    // the first reservation.
    assert_eq!(reserve(700, 16).await, AiReservation::Reserved);

    let mut tx = harness.store().begin(account).await.unwrap();
    let spend = tx.ai_spend(day).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(spend.reserved_nano_usd, 700);
}
