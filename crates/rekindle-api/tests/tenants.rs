//! Tenant isolation through the HTTP API: account B gets 404 for every one of
//! account A's ids on every route that takes an id, and sees none of A's rows
//! in its lists. Runs on SQLite and on PostgreSQL.

mod common;

use std::collections::HashMap;

use common::{TestServer, expect_problem};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

on_both_backends!(every_id_route_hides_other_accounts => every_id_route_hides_other_accounts);

/// Creates one of each resource in account A and returns the ids by path prefix.
async fn seed_account_a(server: &TestServer, a: &common::Session) -> HashMap<&'static str, String> {
    let mut ids = HashMap::new();
    let lead = server.create_lead(a, "dana@acme.example.com").await;

    let campaign: Value = server
        .post(
            a,
            "/api/v1/campaigns",
            json!({ "name": "Spring revival", "steps": [{ "channel": "email", "delay_days": 0 }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let campaign_id = campaign["id"].as_str().unwrap().to_owned();
    server
        .post(
            a,
            &format!("/api/v1/campaigns/{campaign_id}/enrollments"),
            json!({ "lead_ids": [lead] }),
        )
        .await;
    let launch = server
        .post(
            a,
            &format!("/api/v1/campaigns/{campaign_id}/launch"),
            json!({}),
        )
        .await;
    assert_eq!(launch.status(), 202, "{}", launch.text().await.unwrap());
    server.run_jobs().await;
    let messages: Value = server
        .get(a, "/api/v1/messages")
        .await
        .json()
        .await
        .unwrap();
    let message_id = messages["items"][0]["id"]
        .as_str()
        .expect("a message was written")
        .to_owned();
    let crew_runs: Value = server
        .get(a, "/api/v1/crew-runs")
        .await
        .json()
        .await
        .unwrap();
    let crew_run_id = crew_runs["items"][0]["id"]
        .as_str()
        .expect("the launch stored a crew run")
        .to_owned();

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"email,first_name\nlee@acme.example.com,Lee\n".to_vec())
            .file_name("a.csv"),
    );
    let upload: Value = server
        .client
        .post(server.url("/api/v1/imports"))
        .bearer_auth(&a.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key: Value = server
        .post(
            a,
            "/api/v1/api-keys",
            json!({ "name": "sync", "scopes": ["leads:read"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let suppression: Value = server
        .post(
            a,
            "/api/v1/suppressions",
            json!({ "kind": "email", "value": "gone@acme.example.com" }),
        )
        .await
        .json()
        .await
        .unwrap();

    let dead_job = common::dead_job(server, a).await;
    let identity: Value = server
        .post(
            a,
            "/api/v1/sending-identities",
            json!({ "channel": "email", "address": "sales@a.example.com" }),
        )
        .await
        .json()
        .await
        .unwrap();
    ids.insert(
        "/api/v1/sending-identities/",
        identity["id"].as_str().unwrap().to_owned(),
    );
    ids.insert("/api/v1/jobs/", dead_job);
    ids.insert("/api/v1/leads/", lead);
    ids.insert("/api/v1/campaigns/", campaign_id);
    ids.insert("/api/v1/messages/", message_id);
    ids.insert("/api/v1/crew-runs/", crew_run_id);
    ids.insert(
        "/api/v1/imports/",
        upload["import_id"].as_str().unwrap().to_owned(),
    );
    ids.insert("/api/v1/api-keys/", key["id"].as_str().unwrap().to_owned());
    ids.insert(
        "/api/v1/suppressions/",
        suppression["id"].as_str().unwrap().to_owned(),
    );
    ids
}

async fn every_id_route_hides_other_accounts(harness: &Harness) {
    let server = TestServer::start(harness).await;
    let a = server.signup("Tenant A").await;
    let b = server.signup("Tenant B").await;
    let ids = seed_account_a(&server, &a).await;

    let document: Value = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.contains("{id}") {
            continue;
        }
        let (_, id) = ids
            .iter()
            .find(|(prefix, _)| path.starts_with(*prefix))
            .unwrap_or_else(|| panic!("no id of account A for {path}; add one to seed_account_a"));
        let concrete = path.replace("{id}", id);
        for method in item.as_object().unwrap().keys() {
            let body = match path.as_str() {
                p if p.ends_with("/enrollments") => json!({ "lead_ids": [ids["/api/v1/leads/"]] }),
                p if p.ends_with("/preview") => json!({ "lead_ids": [ids["/api/v1/leads/"]] }),
                p if p.ends_with("/consent") => json!({ "basis": "consent", "source": "test" }),
                p if p.ends_with("/status") => json!({ "status": "won" }),
                _ => json!({}),
            };
            let response = server
                .client
                .request(
                    method.to_uppercase().parse().unwrap(),
                    server.url(&concrete),
                )
                .bearer_auth(&b.token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert_eq!(
                status,
                404,
                "{method} {path} as account B answered {status}: {}",
                response.text().await.unwrap()
            );
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} routes with ids were checked");

    // Lists: B sees none of A's rows (global suppressions aside, there are none here).
    for path in [
        "/api/v1/leads",
        "/api/v1/campaigns",
        "/api/v1/messages",
        "/api/v1/imports",
        "/api/v1/api-keys",
        "/api/v1/suppressions",
        "/api/v1/replies",
        "/api/v1/alerts",
        "/api/v1/meetings",
        "/api/v1/crew-runs",
    ] {
        let page: Value = server.get(&b, path).await.json().await.unwrap();
        assert_eq!(page["items"], json!([]), "{path} as account B: {page}");
    }
    let funnel: Value = server
        .get(&b, "/api/v1/analytics/funnel")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(funnel["leads"], 0);
    let response = server
        .get(
            &b,
            &format!(
                "/api/v1/analytics/funnel?campaign_id={}",
                ids["/api/v1/campaigns/"]
            ),
        )
        .await;
    expect_problem(response, 404, "not_found").await;

    // And A still has everything: nothing B did touched it.
    let lead: Value = server
        .get(&a, &format!("/api/v1/leads/{}", ids["/api/v1/leads/"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lead["email"], "dana@acme.example.com");
    let campaign = server
        .get(
            &a,
            &format!("/api/v1/campaigns/{}", ids["/api/v1/campaigns/"]),
        )
        .await;
    assert_eq!(campaign.status(), 200);
}
