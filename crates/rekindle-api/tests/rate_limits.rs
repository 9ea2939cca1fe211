//! Rate limits through the HTTP API, with the in-process counters and with
//! Redis counters shared by two server instances.

mod common;

use std::time::Duration;

use common::{TestServer, expect_problem, settings};
use rekindle_api::ApiSettings;
use rekindle_ratelimit::{Limiters, Quota, RedisConfig};
use rekindle_store_conformance::Harness;
use serde_json::json;

fn per_minute(limit: u32) -> Quota {
    Quota::new(limit, Duration::from_secs(60)).unwrap()
}

fn tight(dir: &std::path::Path) -> ApiSettings {
    let mut settings = settings(dir);
    settings.limits.public_per_ip = per_minute(3);
    settings.limits.login_per_ip = per_minute(4);
    settings.limits.per_user = per_minute(5);
    settings.limits.ai_per_user = per_minute(2);
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_limits_answer_429_with_retry_after() {
    let harness = Harness::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = tight(dir.path());
    let server = TestServer::start_with(&harness, dir, settings, Limiters::in_memory(1000)).await;

    // Public routes: 3 per minute per IP.
    for _ in 0..3 {
        assert_eq!(
            server
                .client
                .get(server.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let response = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    expect_problem(response, 429, "rate_limited").await;

    // Sign-up and login share the small login budget (4): one sign-up, then logins.
    let owner = server.signup("Limited").await;
    let login = || {
        server
            .client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": owner.email, "password": "wrong password here" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(login().await.unwrap().status(), 401);
    }
    expect_problem(login().await.unwrap(), 429, "rate_limited").await;

    // Authenticated routes: 5 per minute for this user.
    for _ in 0..5 {
        assert_eq!(server.get(&owner, "/api/v1/leads").await.status(), 200);
    }
    let response = server.get(&owner, "/api/v1/leads").await;
    assert!(response.headers().contains_key("retry-after"));
    expect_problem(response, 429, "rate_limited").await;
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_operations_have_their_own_tighter_budget() {
    let harness = Harness::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path());
    settings.limits.ai_per_user = per_minute(2);
    let server = TestServer::start_with(&harness, dir, settings, Limiters::in_memory(1000)).await;
    let owner = server.signup("Thrifty").await;
    let lead = server.create_lead(&owner, "ai@example.com").await;

    for _ in 0..2 {
        assert_eq!(
            server
                .post(&owner, &format!("/api/v1/leads/{lead}/score"), json!({}))
                .await
                .status(),
            200
        );
    }
    let response = server
        .post(&owner, &format!("/api/v1/leads/{lead}/score"), json!({}))
        .await;
    expect_problem(response, 429, "rate_limited").await;
    // Ordinary reads are not affected.
    assert_eq!(
        server
            .get(&owner, &format!("/api/v1/leads/{lead}"))
            .await
            .status(),
        200
    );
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_redis_counters() {
    let Ok(url) = std::env::var("REKINDLE_TEST_REDIS_URL") else {
        eprintln!(
            "skipped: REKINDLE_TEST_REDIS_URL is not set, so the shared Redis counters are not tested"
        );
        return;
    };
    let harness = Harness::sqlite().await;
    let config = RedisConfig {
        key_prefix: format!("rekindle-test:{}:", uuid::Uuid::now_v7()),
        ..RedisConfig::default()
    };
    let mut servers = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path());
        settings.limits.per_user = per_minute(6);
        let limiters = Limiters::redis(&url, config.clone()).unwrap();
        servers.push(TestServer::start_with(&harness, dir, settings, limiters).await);
    }
    let (first, second) = (&servers[0], &servers[1]);
    let owner = first.signup("Shared").await;

    // Six requests split over both servers use up the user's budget of six...
    for index in 0..6 {
        let server = if index % 2 == 0 { first } else { second };
        assert_eq!(
            server.get(&owner, "/api/v1/leads").await.status(),
            200,
            "request {index}"
        );
    }
    // ...so the seventh is refused by either.
    expect_problem(
        first.get(&owner, "/api/v1/leads").await,
        429,
        "rate_limited",
    )
    .await;
    expect_problem(
        second.get(&owner, "/api/v1/leads").await,
        429,
        "rate_limited",
    )
    .await;
    harness.finish().await;
}

/// Sends `/healthz` with an `X-Forwarded-For` header and returns the status.
async fn health_from(server: &TestServer, forwarded_for: &str) -> u16 {
    server
        .client
        .get(server.url("/healthz"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_behind_trusted_proxies() {
    use rekindle_api::middleware::client_ip::{IpNet, TrustedProxies};

    // Without trusted proxies the header is ignored: every request is the
    // socket's 127.0.0.1 and shares one budget of 2.
    let harness = Harness::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let mut plain = settings(dir.path());
    plain.limits.public_per_ip = per_minute(2);
    let server = TestServer::start_with(&harness, dir, plain, Limiters::in_memory(100)).await;
    assert_eq!(health_from(&server, "198.51.100.1").await, 200);
    assert_eq!(health_from(&server, "198.51.100.2").await, 200);
    assert_eq!(health_from(&server, "198.51.100.3").await, 429);

    // Behind a trusted proxy on loopback, each forwarded client has its own budget.
    let dir = tempfile::tempdir().unwrap();
    let mut proxied = settings(dir.path());
    proxied.limits.public_per_ip = per_minute(2);
    proxied.trusted_proxies = TrustedProxies(vec![IpNet::parse("127.0.0.1/32").unwrap()]);
    let server = TestServer::start_with(&harness, dir, proxied, Limiters::in_memory(100)).await;
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(health_from(&server, client).await, 200, "{client}");
        assert_eq!(health_from(&server, client).await, 200, "{client}");
        assert_eq!(health_from(&server, client).await, 429, "{client}");
    }
    harness.finish().await;
}
