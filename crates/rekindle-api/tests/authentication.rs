//! Authentication through the HTTP API: the route table, sessions, refresh
//! token rotation and reuse, API keys and their scopes, and the audit trail.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{PASSWORD, TEST_KEY, TestServer, expect_problem};
use rekindle_api::PUBLIC_ROUTES;
use rekindle_auth::{ACCESS_TOKEN_KEY_PURPOSE, AccessTokenIssuer, derive_key};
use rekindle_domain::{AccountId, UserId, UserRole};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

/// Every route in the OpenAPI document, as (method, path with ids filled in).
async fn all_routes(server: &TestServer) -> Vec<(String, String, String)> {
    let document: Value = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
            routes.push((method.to_uppercase(), path.clone(), concrete));
        }
    }
    assert!(
        routes.len() > 40,
        "the document lists {} routes",
        routes.len()
    );
    routes
}

fn token(audience: &str, key: &[u8], issued: chrono::DateTime<Utc>) -> String {
    AccessTokenIssuer::new(
        derive_key(key, ACCESS_TOKEN_KEY_PURPOSE),
        "rekindle".into(),
        audience.into(),
        Duration::from_secs(900),
    )
    .unwrap()
    .issue(UserId::new(), AccountId::new(), UserRole::Owner, issued)
    .unwrap()
    .token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_outside_the_public_list_rejects_bad_credentials() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let now = Utc::now();
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("Bearer not.a.jwt".into())),
        (
            "wrong scheme",
            Some(format!("Basic {}", token("rekindle-api", TEST_KEY, now))),
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                token("rekindle-api", TEST_KEY, now - chrono::Duration::hours(2))
            )),
        ),
        (
            "wrong signature",
            Some(format!(
                "Bearer {}",
                token(
                    "rekindle-api",
                    b"another-key-of-some-length-0123456789",
                    now
                )
            )),
        ),
        (
            "wrong audience",
            Some(format!("Bearer {}", token("another-api", TEST_KEY, now))),
        ),
        (
            "unknown API key",
            Some(format!("Bearer rk_live_{}", "A".repeat(43))),
        ),
    ];

    let mut checked = 0;
    for (method, template, path) in all_routes(&server).await {
        let route = format!("{method} {template}");
        if PUBLIC_ROUTES.contains(&route.as_str()) {
            continue;
        }
        for (name, header) in &credentials {
            let mut request = server
                .client
                .request(method.parse().unwrap(), server.url(&path))
                .header("content-type", "application/json")
                .body("{}");
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{route} with a {name} credential");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{route} with a {name} credential"
            );
            let body: Value = response.json().await.unwrap();
            assert!(
                body["code"].is_string() && body["request_id"].is_string(),
                "{route}: {body}"
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} checks ran");
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_are_exactly_the_documented_ones() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let routes: Vec<String> = all_routes(&server)
        .await
        .into_iter()
        .map(|(method, template, _)| format!("{method} {template}"))
        .collect();
    for public in PUBLIC_ROUTES {
        if *public == "GET /api/v1/openapi.json" {
            continue;
        }
        assert!(
            routes.contains(&public.to_string()),
            "{public} is not a route"
        );
    }
    // Liveness says nothing but that the process is up.
    let health: Value = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({ "status": "ok" }));
    // Readiness needs the operator token.
    let response = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, "invalid_operator_token").await;
    let ready: Value = server
        .client
        .get(server.url("/readyz"))
        .bearer_auth("operator-token-for-tests")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"]["ok"], true);
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refresh_rotation_reuse_and_logout() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let owner = server.signup("Brightlane").await;

    // Wrong password: 401, and the failure is audited.
    let response = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": owner.email, "password": "not the password at all" }))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, "invalid_credentials").await;

    let login: Value = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": owner.email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first_refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let me: Value = server
        .client
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(login["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["email"], owner.email.as_str());
    assert_eq!(me["user"]["role"], "owner");

    // Refresh rotates: the new token works once, the old one is now spent.
    let refresh = |token: String| {
        let server = &server;
        async move {
            server
                .client
                .post(server.url("/api/v1/auth/refresh"))
                .json(&json!({ "refresh_token": token }))
                .send()
                .await
                .unwrap()
        }
    };
    let rotated: Value = refresh(first_refresh.clone()).await.json().await.unwrap();
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);

    // Reusing the first token revokes the whole family, so the second fails too.
    expect_problem(refresh(first_refresh).await, 401, "refresh_token_reused").await;
    expect_problem(refresh(second_refresh).await, 401, "refresh_token_reused").await;

    // Logout ends the signup session.
    let response = server
        .post(
            &owner,
            "/api/v1/auth/logout",
            json!({ "refresh_token": owner.refresh }),
        )
        .await;
    assert_eq!(response.status(), 204);
    expect_problem(
        refresh(owner.refresh.clone()).await,
        401,
        "refresh_token_reused",
    )
    .await;

    let audit: Value = server
        .get(&owner, "/api/v1/audit?limit=200")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    for expected in [
        "account.create",
        "user.create",
        "auth.login_failed",
        "auth.login",
        "auth.refresh_reuse",
        "auth.logout",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let failed = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "auth.login_failed")
        .unwrap();
    assert_eq!(failed["ip"], "127.0.0.1");
    assert!(failed["request_id"].is_string());
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_shown_once_scoped_and_revocable() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let owner = server.signup("Keyholder").await;

    let created: Value = server
        .post(
            &owner,
            "/api/v1/api-keys",
            json!({ "name": "CRM sync", "scopes": ["leads:read"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("rk_live_"));
    let listed: Value = server
        .get(&owner, "/api/v1/api-keys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["name"], "CRM sync");
    assert!(
        listed["items"][0].get("secret").is_none(),
        "the key is shown only once"
    );

    let with_key = |method: reqwest::Method, path: &str| {
        server
            .client
            .request(method, server.url(path))
            .bearer_auth(&secret)
            .header("content-type", "application/json")
    };
    let response = with_key(reqwest::Method::GET, "/api/v1/leads")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A read scope does not allow writing, nor managing keys.
    let response = with_key(reqwest::Method::POST, "/api/v1/leads")
        .body(r#"{"email":"x@example.com"}"#)
        .send()
        .await
        .unwrap();
    expect_problem(response, 403, "forbidden").await;
    let response = with_key(reqwest::Method::GET, "/api/v1/api-keys")
        .send()
        .await
        .unwrap();
    expect_problem(response, 403, "forbidden").await;

    let key_id = created["id"].as_str().unwrap();
    let response = server
        .delete(&owner, &format!("/api/v1/api-keys/{key_id}"))
        .await;
    assert_eq!(response.status(), 204);
    let response = with_key(reqwest::Method::GET, "/api/v1/leads")
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, "invalid_api_key").await;

    let response = server
        .post(
            &owner,
            "/api/v1/api-keys",
            json!({ "name": "bad", "scopes": ["leads:delete"] }),
        )
        .await;
    let problem = expect_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["field"], "scopes[0]");
    harness.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_cannot_administer_the_account() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let owner = server.signup("Roles").await;
    let response = server
        .post(
            &owner,
            "/api/v1/users",
            json!({ "email": "member@roles.example.com", "role": "member", "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let login: Value = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": "member@roles.example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let member = common::Session {
        token: login["access_token"].as_str().unwrap().to_owned(),
        refresh: login["refresh_token"].as_str().unwrap().to_owned(),
        account_id: owner.account_id.clone(),
        email: "member@roles.example.com".into(),
    };
    assert_eq!(server.get(&member, "/api/v1/leads").await.status(), 200);
    for path in ["/api/v1/audit", "/api/v1/users", "/api/v1/api-keys"] {
        expect_problem(server.get(&member, path).await, 403, "forbidden").await;
    }
    let response = server
        .patch(&member, "/api/v1/account", json!({ "plan": "pro" }))
        .await;
    expect_problem(response, 403, "forbidden").await;
    harness.finish().await;
}

const SUPABASE_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

fn supabase_token(subject: &str, audience: &str) -> String {
    let now = Utc::now().timestamp();
    let claims = json!({
        "sub": subject, "aud": audience, "role": "authenticated",
        "email": "external@example.com", "iat": now, "exp": now + 600,
        "iss": "https://project.supabase.co/auth/v1",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SUPABASE_SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_provider_tokens_map_to_linked_users() {
    let harness = Harness::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path());
    settings.external_identity = Some(rekindle_auth::ExternalConfig::shared_secret(
        SUPABASE_SECRET.as_bytes().to_vec(),
    ));
    let server = TestServer::start_with(
        &harness,
        dir,
        settings,
        rekindle_ratelimit::Limiters::in_memory(1000),
    )
    .await;
    let owner = server.signup("Federated").await;
    let response = server
        .post(
            &owner,
            "/api/v1/users",
            json!({ "email": "external@example.com", "role": "member", "external_subject": "supabase-user-1" }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());

    let me = server
        .client
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(supabase_token("supabase-user-1", "authenticated"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["user"]["email"], "external@example.com");
    assert_eq!(me["user"]["role"], "member");
    assert_eq!(me["account"]["id"], owner.account_id.as_str());

    // A subject nobody linked, and a token for another audience, are refused.
    let response = server
        .client
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(supabase_token("supabase-user-2", "authenticated"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, "unknown_external_user").await;
    let response = server
        .client
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(supabase_token("supabase-user-1", "anon"))
        .send()
        .await
        .unwrap();
    expect_problem(response, 401, "wrong_audience").await;
    // Our own tokens keep working next to the provider's.
    assert_eq!(server.get(&owner, "/api/v1/auth/me").await.status(), 200);
    harness.finish().await;
}
