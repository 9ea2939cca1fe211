//! One error format for every failure, and the input bounds of SECURITY.md:
//! each violation is a 422 that names the field.

mod common;

use common::{TestServer, expect_problem};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_made_outside_handlers_are_problem_details() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let owner = server.signup("Errors").await;

    let response = server.get(&owner, "/api/v1/no-such-thing").await;
    expect_problem(response, 404, "route_not_found").await;

    let response = server.delete(&owner, "/api/v1/leads").await;
    expect_problem(response, 405, "method_not_allowed").await;

    let huge = "x".repeat(2 * 1024 * 1024);
    let response = server
        .client
        .post(server.url("/api/v1/leads"))
        .bearer_auth(&owner.token)
        .header("content-type", "application/json")
        .body(format!("{{\"notes\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 413, "payload_too_large").await;

    let response = server
        .client
        .post(server.url("/api/v1/leads"))
        .bearer_auth(&owner.token)
        .header("content-type", "text/plain")
        .body("email=x@example.com")
        .send()
        .await
        .unwrap();
    expect_problem(response, 415, "unsupported_media_type").await;

    let response = server
        .client
        .post(server.url("/api/v1/leads"))
        .bearer_auth(&owner.token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    expect_problem(response, 400, "malformed_json").await;

    // Security headers are on every response, errors included.
    let response = server.get(&owner, "/api/v1/leads/not-a-uuid").await;
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let problem = expect_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["field"], "id");
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bound_names_its_field() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let owner = server.signup("Bounds").await;
    let lead = server.create_lead(&owner, "bounded@example.com").await;

    let many_fields: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("field{i}"), json!("v"))).collect();
    let big_fields = json!({ "blob": "x".repeat(17 * 1024) });
    let campaign: Value = server
        .post(
            &owner,
            "/api/v1/campaigns",
            json!({ "name": "Bounds", "steps": [{ "channel": "email", "delay_days": 0 }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let campaign_id = campaign["id"].as_str().unwrap();
    let ids: Vec<String> = (0..1001)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let steps: Vec<Value> = (0..11)
        .map(|_| json!({ "channel": "email", "delay_days": 1 }))
        .collect();

    let cases: Vec<(&str, String, Value, &str)> = vec![
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "email": "not-an-email" }),
            "email",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "phone": "12" }),
            "phone",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "first_name": "Ann" }),
            "email",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "email": "a@example.com", "website": "ftp://example.com" }),
            "website",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "email": "a@example.com", "custom_fields": many_fields }),
            "custom_fields",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "email": "a@example.com", "custom_fields": big_fields }),
            "custom_fields",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "email": "a@example.com", "custom_fields": { "nested": { "a": 1 } } }),
            "custom_fields.nested",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "email": "a@example.com", "notes": "n".repeat(5001) }),
            "notes",
        ),
        (
            "POST",
            "/api/v1/leads".into(),
            json!({ "email": "a@example.com", "surprise": true }),
            "surprise",
        ),
        (
            "PATCH",
            format!("/api/v1/leads/{lead}"),
            json!({ "time_zone": "Mars/Olympus" }),
            "time_zone",
        ),
        (
            "POST",
            "/api/v1/campaigns".into(),
            json!({ "name": "Too long", "steps": steps }),
            "steps",
        ),
        (
            "POST",
            "/api/v1/campaigns".into(),
            json!({ "name": "Bad", "steps": [{ "channel": "fax", "delay_days": 0 }] }),
            "steps[0].channel",
        ),
        (
            "POST",
            "/api/v1/campaigns".into(),
            json!({ "name": "Bad", "steps": [{ "channel": "email", "delay_days": 400 }] }),
            "steps[0].delay_days",
        ),
        (
            "POST",
            "/api/v1/campaigns".into(),
            json!({ "name": "Bad", "window": { "weekdays": ["someday"], "start_hour": 9, "end_hour": 17 }, "steps": [{ "channel": "email", "delay_days": 0 }] }),
            "window.weekdays[0]",
        ),
        (
            "POST",
            "/api/v1/campaigns".into(),
            json!({ "name": "", "steps": [{ "channel": "email", "delay_days": 0 }] }),
            "name",
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{campaign_id}/enrollments"),
            json!({ "lead_ids": ids }),
            "lead_ids",
        ),
        (
            "POST",
            format!("/api/v1/campaigns/{campaign_id}/preview"),
            json!({ "lead_ids": ids[..6] }),
            "lead_ids",
        ),
        (
            "POST",
            "/api/v1/suppressions".into(),
            json!({ "kind": "email", "value": "nope" }),
            "value",
        ),
        (
            "POST",
            "/api/v1/replies".into(),
            json!({ "channel": "email", "from": "a@example.com", "text": "t".repeat(20_001) }),
            "text",
        ),
        (
            "PATCH",
            "/api/v1/account".into(),
            json!({ "currency": "pounds" }),
            "currency",
        ),
        (
            "PATCH",
            "/api/v1/account".into(),
            json!({ "postal_address": "short" }),
            "postal_address",
        ),
        (
            "GET",
            "/api/v1/leads?limit=201".into(),
            Value::Null,
            "limit",
        ),
        ("GET", "/api/v1/leads?limit=0".into(), Value::Null, "limit"),
        (
            "GET",
            "/api/v1/leads?cursor=page-two".into(),
            Value::Null,
            "cursor",
        ),
        (
            "GET",
            "/api/v1/leads?tier=lukewarm".into(),
            Value::Null,
            "tier",
        ),
        (
            "GET",
            "/api/v1/audit?limit=500".into(),
            Value::Null,
            "limit",
        ),
    ];
    for (method, path, body, field) in cases {
        let mut request = server
            .client
            .request(method.parse().unwrap(), server.url(&path))
            .bearer_auth(&owner.token);
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let problem: Value = response.json().await.unwrap();
        assert_eq!(status, 422, "{method} {path}: {problem}");
        assert_eq!(problem["field"], field, "{method} {path}: {problem}");
        assert_eq!(problem["code"], "validation_failed");
    }

    // Nothing invalid was stored: the one lead created above is the only lead.
    let leads: Value = server
        .get(&owner, "/api/v1/leads")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(leads["items"].as_array().unwrap().len(), 1);
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_emails_are_conflicts() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let owner = server.signup("Conflicts").await;
    server.create_lead(&owner, "same@example.com").await;
    let response = server
        .post(
            &owner,
            "/api/v1/leads",
            json!({ "email": "same@example.com" }),
        )
        .await;
    let problem = expect_problem(response, 409, "conflict").await;
    assert_eq!(problem["field"], "email");

    let response = server
        .client
        .post(server.url("/api/v1/auth/signup"))
        .json(&json!({ "account_name": "Again", "email": owner.email, "password": common::PASSWORD,
                       "postal_address": "1 Example Street, London", "time_zone": "Europe/London" }))
        .send()
        .await
        .unwrap();
    expect_problem(response, 409, "conflict").await;
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_only_configured_origins() {
    let harness = Harness::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path());
    settings.cors_origins = vec!["https://app.example.com".into()];
    let server = TestServer::start_with(
        &harness,
        dir,
        settings,
        rekindle_ratelimit::Limiters::in_memory(1000),
    )
    .await;
    let preflight = |origin: &'static str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/api/v1/leads"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = preflight("https://evil.example.net").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    harness.finish().await;
}
