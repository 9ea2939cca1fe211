//! What owners and admins run the account with: dead jobs, the audit chain
//! check, and password changes.

mod common;

use common::{PASSWORD, TestServer, expect_problem};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

on_both_backends!(
    sending_identities_are_managed => sending_identities_are_managed,
    dead_jobs_are_listed_and_retried => dead_jobs_are_listed_and_retried,
    dead_jobs_are_discarded => dead_jobs_are_discarded,
    audit_verify_detects_tampering => audit_verify_detects_tampering,
);

async fn dead_jobs_are_listed_and_retried(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Operations").await;
    let job = common::dead_job(&server, &owner).await;

    let dead: Value = server
        .get(&owner, "/api/v1/jobs?status=dead")
        .await
        .json()
        .await
        .unwrap();
    let items = dead["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], job.as_str());
    assert_eq!(items[0]["error_class"], "permanent");

    let response = server
        .post(&owner, &format!("/api/v1/jobs/{job}/retry"), json!({}))
        .await;
    assert_eq!(response.status(), 202);
    let queued: Value = server
        .get(&owner, "/api/v1/jobs?status=queued")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queued["items"][0]["id"], job.as_str());
    assert_eq!(queued["items"][0]["attempts"], 0);
    // Only a dead job can be retried.
    let response = server
        .post(&owner, &format!("/api/v1/jobs/{job}/retry"), json!({}))
        .await;
    expect_problem(response, 404, "not_found").await;
    let response = server.delete(&owner, &format!("/api/v1/jobs/{job}")).await;
    expect_problem(response, 404, "not_found").await;
}

async fn dead_jobs_are_discarded(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Discards").await;
    let other = server.signup("Someone Else").await;
    let job = common::dead_job(&server, &owner).await;

    let response = server.delete(&other, &format!("/api/v1/jobs/{job}")).await;
    expect_problem(response, 404, "not_found").await;
    let response = server.delete(&owner, &format!("/api/v1/jobs/{job}")).await;
    assert_eq!(response.status(), 204);

    let all: Value = server
        .get(&owner, "/api/v1/jobs")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&job.as_str()), "discarded job still listed");
    let audit: Value = server
        .get(&owner, "/api/v1/audit")
        .await
        .json()
        .await
        .unwrap();
    let discards = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "job.discard" && entry["target_id"] == job.as_str())
        .count();
    assert_eq!(discards, 1);
}

async fn audit_verify_detects_tampering(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Audited").await;
    server.create_lead(&owner, "audited@example.com").await;

    let report: Value = server
        .get(&owner, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["intact"], true, "{report}");
    assert!(report["entries"].as_u64().unwrap() >= 3);

    // The owner switches the append-only triggers off to tamper, as an attacker
    // with database access could.
    let disable = match harness {
        Harness::Sqlite { .. } => "DROP TRIGGER IF EXISTS audit_log_no_update;",
        Harness::Postgres { .. } => "ALTER TABLE audit_log DISABLE TRIGGER USER;",
    };
    harness
        .owner_execute(&format!(
            "{disable} UPDATE audit_log SET action = 'lead.read' WHERE action = 'lead.create';"
        ))
        .await;
    let report: Value = server
        .get(&owner, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["intact"], false, "{report}");
    assert!(
        report["problem"].as_str().unwrap().contains("modified"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_ends_other_sessions() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let owner = server.signup("Rotating").await;

    let response = server
        .post(&owner, "/api/v1/auth/password", json!({ "current_password": "not it at all", "new_password": "another long passphrase" }))
        .await;
    let problem = expect_problem(response, 422, "validation_failed").await;
    assert_eq!(problem["field"], "current_password");

    let response = server
        .post(
            &owner,
            "/api/v1/auth/password",
            json!({ "current_password": PASSWORD, "new_password": "another long passphrase" }),
        )
        .await;
    assert_eq!(response.status(), 204);

    // The sign-up session's refresh token no longer works; the new password does.
    let response = server
        .client
        .post(server.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": owner.refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let login = |password: &str| {
        server
            .client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": owner.email, "password": password }))
            .send()
    };
    assert_eq!(login(PASSWORD).await.unwrap().status(), 401);
    assert_eq!(
        login("another long passphrase").await.unwrap().status(),
        200
    );
    harness.finish().await;
}

async fn sending_identities_are_managed(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let owner = server.signup("Senders").await;
    let created = server
        .post(
            &owner,
            "/api/v1/sending-identities",
            json!({ "channel": "email", "address": "Sales@Senders.example.com", "daily_cap": 300,
                    "warm_up_start": "2026-11-01" }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["address"], "sales@senders.example.com");
    assert_eq!(created["daily_cap"], 300);
    assert_eq!(created["warm_up_start"], "2026-11-01");
    let id = created["id"].as_str().unwrap().to_owned();

    let again = server
        .post(
            &owner,
            "/api/v1/sending-identities",
            json!({ "channel": "email", "address": "sales@senders.example.com" }),
        )
        .await;
    expect_problem(again, 409, "conflict").await;
    let bad = server
        .post(
            &owner,
            "/api/v1/sending-identities",
            json!({ "channel": "sms", "address": "12" }),
        )
        .await;
    assert_eq!(
        expect_problem(bad, 422, "validation_failed").await["field"],
        "address"
    );
    let bad = server
        .post(
            &owner,
            "/api/v1/sending-identities",
            json!({ "channel": "sms", "address": "+447700900123", "hourly_cap": 0 }),
        )
        .await;
    assert_eq!(
        expect_problem(bad, 422, "validation_failed").await["field"],
        "hourly_cap"
    );

    let paused: Value = server
        .patch(
            &owner,
            &format!("/api/v1/sending-identities/{id}"),
            json!({ "paused": true }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paused["paused"], true);
    assert_eq!(
        paused["daily_cap"], 300,
        "fields not sent stay as they were"
    );
    let listed: Value = server
        .get(&owner, "/api/v1/sending-identities")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    assert_eq!(
        server
            .delete(&owner, &format!("/api/v1/sending-identities/{id}"))
            .await
            .status(),
        204
    );
    let gone = server
        .delete(&owner, &format!("/api/v1/sending-identities/{id}"))
        .await;
    expect_problem(gone, 404, "not_found").await;
}
