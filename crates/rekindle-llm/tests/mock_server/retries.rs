//! Timeouts, HTTP 429 and 5xx: retries, their limits and the circuit breaker.

use std::time::{Duration, Instant};

use rekindle_domain::ErrorClass;
use rekindle_llm::LlmError;
use rekindle_llm::budget::{BudgetKey, BudgetLedger, Cost};
use rekindle_llm::checks::NoChecks;
use rekindle_llm::circuit::CircuitState;
use rekindle_llm::testing::{MockLlmServer, MockReply};

use crate::support::{
    DEADLINE, TestSetup, account, draft_request, good_draft, memory_ledger, openai_client,
};

#[tokio::test]
async fn server_error_retried_then_succeeds() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::error(500, "internal error"));
    server.push(MockReply::openai_json(&good_draft()));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert_eq!(server.request_count(), 2);
    assert_eq!(outcome.requests, 2);
}

#[tokio::test]
async fn server_error_gives_up_after_retries() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(503, "overloaded"));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert!(
        matches!(error, LlmError::Status { status: 503, .. }),
        "{error}"
    );
    assert_eq!(error.class(), ErrorClass::Transient);
    assert_eq!(error.code(), "provider_error");
    assert!(error.to_string().contains("overloaded"), "{error}");
    // One request and two retries.
    assert_eq!(server.request_count(), 3);
    assert_eq!(outcome.usage.total(), 0, "an error status is not billed");
}

#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let server = MockLlmServer::start().await;
    server.push(MockReply::error(429, "slow down").with_header("retry-after", "1"));
    server.push(MockReply::openai_json(&good_draft()));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let started = Instant::now();
    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    assert_eq!(server.request_count(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried after {:?}, before the Retry-After of 1 s",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_with_long_wait_not_retried() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(429, "quota").with_header("retry-after", "3600"));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert_eq!(
        error,
        LlmError::RateLimited {
            provider: "openai",
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    assert_eq!(error.code(), "rate_limited");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn rate_limit_retried_until_limit() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(429, "slow down"));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    assert!(matches!(outcome.result, Err(LlmError::RateLimited { .. })));
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn timeout_retried_then_reported() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&good_draft()).with_delay(Duration::from_secs(3)));
    let setup = TestSetup {
        timeout: Duration::from_millis(200),
        ..TestSetup::default()
    };
    let ledger = memory_ledger();
    let client = openai_client(&server, &setup, ledger.clone());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert_eq!(
        error,
        LlmError::Timeout {
            provider: "openai",
            timeout: Duration::from_millis(200)
        }
    );
    assert_eq!(error.code(), "timeout");
    assert_eq!(server.request_count(), 3);

    // A timed-out prompt may still be billed, so its estimated input counts.
    assert!(outcome.usage.input_tokens > 0);
    assert_eq!(outcome.usage.output_tokens, 0);
    let key = BudgetKey {
        account_id: account(1).account_id,
        day: chrono::Utc::now().date_naive(),
    };
    let spend = ledger.spent(key).await.unwrap();
    assert_eq!(spend.reserved, Cost::ZERO);
    assert_eq!(spend.calls, 3);
}

#[tokio::test]
async fn deadline_cancels_and_releases_budget() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::openai_json(&good_draft()).with_delay(Duration::from_secs(3)));
    let ledger = memory_ledger();
    let client = openai_client(&server, &TestSetup::default(), ledger.clone());

    let deadline = Duration::from_millis(300);
    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, deadline)
        .await;
    assert_eq!(outcome.result, Err(LlmError::DeadlineExceeded { deadline }));
    assert_eq!(outcome.result.unwrap_err().code(), "deadline_exceeded");

    // The cancelled call's reservation is released by a spawned task.
    let key = BudgetKey {
        account_id: account(1).account_id,
        day: chrono::Utc::now().date_naive(),
    };
    let mut spend = ledger.spent(key).await.unwrap();
    for _ in 0..50 {
        if spend.reserved == Cost::ZERO {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        spend = ledger.spent(key).await.unwrap();
    }
    assert_eq!(spend.reserved, Cost::ZERO);
    assert_eq!(spend.calls, 1);
}

#[tokio::test]
async fn client_error_not_retried() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(400, "max_tokens is too large"));
    let client = openai_client(&server, &TestSetup::default(), memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert!(
        matches!(error, LlmError::Status { status: 400, .. }),
        "{error}"
    );
    assert_eq!(error.class(), ErrorClass::Permanent);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn unreadable_body_is_invalid_response() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::raw(200, "<html>gateway</html>"));
    let setup = TestSetup {
        max_retries: 0,
        ..TestSetup::default()
    };
    let client = openai_client(&server, &setup, memory_ledger());

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert_eq!(error.code(), "invalid_response", "{error}");
}

#[tokio::test]
async fn circuit_opens_after_five_failures() {
    let server = MockLlmServer::start().await;
    server.set_fallback(MockReply::error(502, "bad gateway"));
    let setup = TestSetup {
        max_retries: 0,
        ..TestSetup::default()
    };
    let client = openai_client(&server, &setup, memory_ledger());

    for _ in 0..5 {
        let outcome = client
            .generate(account(1), draft_request(), &NoChecks, DEADLINE)
            .await;
        assert!(matches!(
            outcome.result,
            Err(LlmError::Status { status: 502, .. })
        ));
    }
    assert_eq!(client.circuit_state(), CircuitState::Open);

    let outcome = client
        .generate(account(1), draft_request(), &NoChecks, DEADLINE)
        .await;
    let error = outcome.result.unwrap_err();
    assert!(matches!(error, LlmError::CircuitOpen { .. }), "{error}");
    assert_eq!(error.code(), "circuit_open");
    assert_eq!(server.request_count(), 5, "an open circuit sends nothing");
}
