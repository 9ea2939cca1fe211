//! Budget refusals and the concurrency caps, measured at the mock server.

use std::sync::Arc;
use std::time::Duration;

use rekindle_llm::budget::{BudgetKey, Cost};
use rekindle_llm::checks::NoChecks;
use rekindle_llm::testing::{MockLlmServer, MockReply};
use rekindle_llm::{LlmClient, LlmError};
use tokio::task::JoinSet;

use crate::support::{
    DEADLINE, TestSetup, account, draft_request, good_draft, memory_ledger, openai_client,
};

fn today_key(n: u128) -> BudgetKey {
    BudgetKey {
        account_id: account(n).account_id,
        day: chrono::Utc::now().date_naive(),
    }
}

#[tokio::test]
async fn exhausted_budget_refuses_call() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&good_draft()));
    let ledger = memory_ledger();
    let budget = Cost::from_usd(0.01);
    ledger.add_spend(
        today_key(1),
        budget.saturating_sub(Cost::from_nano_usd(1_000)),
    );
    let setup = TestSetup {
        daily_budget: budget,
        ..TestSetup::default()
    };
    let client = openai_client(&server, &setup, ledger);

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert!(matches!(error, LlmError::BudgetExceeded { .. }), "{error}");
    assert_eq!(error.code(), "budget_exceeded");
    assert!(
        error.to_string().contains("daily LLM budget of $0.010000"),
        "{error}"
    );
    assert_eq!(server.request_count(), 0, "a refused call sends nothing");
    assert_eq!(outcome.usage.total(), 0);

    // Another account of the same plan still has its own budget.
    let other = client
        .generate(account(2), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert!(other.result.is_ok(), "{:?}", other.result);
}

#[tokio::test]
async fn budget_smaller_than_one_call_refuses() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&good_draft()));
    // 400 output tokens at $2 per million alone are $0.0008.
    let setup = TestSetup {
        daily_budget: Cost::from_usd(0.0005),
        ..TestSetup::default()
    };
    let client = openai_client(&server, &setup, memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert!(matches!(
        outcome.result,
        Err(LlmError::BudgetExceeded { .. })
    ));
    assert_eq!(server.request_count(), 0);
}

async fn run_parallel(client: Arc<LlmClient>, accounts: &[u128]) -> usize {
    let mut tasks = JoinSet::new();
    for &n in accounts {
        let client = Arc::clone(&client);
        tasks.spawn(async move {
            client
                .generate(account(n), draft_request(), &NoChecks, DEADLINE)
                .await
                .result
        });
    }
    let mut succeeded = 0;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.expect("the task did not panic");
        assert!(result.is_ok(), "{result:?}");
        succeeded += 1;
    }
    succeeded
}

#[tokio::test]
async fn account_cap_limits_calls_in_flight() {
    let server = MockLlmServer::start().await;
    server
        .set_fallback(MockReply::openai_json(&good_draft()).with_delay(Duration::from_millis(300)));
    let setup = TestSetup {
        account_concurrency: 2,
        ..TestSetup::default()
    };
    let client = Arc::new(openai_client(&server, &setup, memory_ledger()));

    let succeeded = run_parallel(client, &[1; 6]).await;
    assert_eq!(succeeded, 6);
    assert_eq!(server.request_count(), 6);
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn global_cap_limits_calls_in_flight() {
    let server = MockLlmServer::start().await;
    server
        .set_fallback(MockReply::openai_json(&good_draft()).with_delay(Duration::from_millis(300)));
    let setup = TestSetup {
        account_concurrency: 4,
        global_concurrency: 3,
        ..TestSetup::default()
    };
    let client = Arc::new(openai_client(&server, &setup, memory_ledger()));

    let succeeded = run_parallel(client, &[1, 2, 3, 4, 5, 6, 7, 8]).await;
    assert_eq!(succeeded, 8);
    assert_eq!(server.max_in_flight(), 3);
}
