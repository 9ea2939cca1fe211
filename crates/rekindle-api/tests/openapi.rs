//! The OpenAPI document: it is OpenAPI 3.1, every reference resolves, every
//! protected operation declares the bearer scheme, and real responses of the
//! server validate against the schemas it documents for them.

mod common;

use common::TestServer;
use rekindle_api::PUBLIC_ROUTES;
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

async fn document(server: &TestServer) -> Value {
    server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Collects every `$ref` value in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => references(item, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_is_openapi_3_1_with_resolvable_references() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let doc = document(&server).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());

    let mut refs = Vec::new();
    references(&doc, &mut refs);
    assert!(!refs.is_empty());
    for target in refs {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external reference {target}"));
        assert!(
            doc.pointer(pointer).is_some(),
            "unresolved reference {target}"
        );
    }

    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let route = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().unwrap();
            // A redirect is the success of a tracked link.
            assert!(
                responses
                    .keys()
                    .any(|status| status.starts_with('2') || status == "302"),
                "{route} documents no success response"
            );
            let secured = operation["security"]
                .as_array()
                .is_some_and(|list| list.iter().any(|scheme| scheme.get("bearer").is_some()));
            if !PUBLIC_ROUTES.contains(&route.as_str()) {
                assert!(secured, "{route} does not declare the bearer scheme");
            }
        }
    }
    harness.finish().await;
}

/// Validates `body` against the schema documented for `method path status`.
fn check(doc: &Value, method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
    let schema = doc["paths"][path][method]["responses"][status.to_string()]["content"]
        [content_type]["schema"]
        .clone();
    assert!(
        !schema.is_null(),
        "{method} {path} documents no {status} {content_type} body"
    );
    let mut root = schema;
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::new(&root).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| error.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\n{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_match_their_documented_schemas() {
    let harness = Harness::sqlite().await;
    let server = TestServer::start(&harness).await;
    let doc = document(&server).await;
    let owner = server.signup("Documented").await;
    let lead = server.create_lead(&owner, "documented@example.com").await;

    let body: Value = server
        .get(&owner, &format!("/api/v1/leads/{lead}"))
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "get",
        "/api/v1/leads/{id}",
        200,
        "application/json",
        &body,
    );
    let body: Value = server
        .get(&owner, "/api/v1/leads")
        .await
        .json()
        .await
        .unwrap();
    check(&doc, "get", "/api/v1/leads", 200, "application/json", &body);

    let response = server
        .post(
            &owner,
            "/api/v1/campaigns",
            json!({ "name": "Documented", "steps": [{ "channel": "email", "delay_days": 0 }] }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let campaign: Value = response.json().await.unwrap();
    check(
        &doc,
        "post",
        "/api/v1/campaigns",
        201,
        "application/json",
        &campaign,
    );
    let id = campaign["id"].as_str().unwrap();
    server
        .post(
            &owner,
            &format!("/api/v1/campaigns/{id}/enrollments"),
            json!({ "lead_ids": [lead] }),
        )
        .await;
    let body: Value = server
        .post(
            &owner,
            &format!("/api/v1/campaigns/{id}/preview"),
            json!({ "lead_ids": [lead] }),
        )
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "post",
        "/api/v1/campaigns/{id}/preview",
        200,
        "application/json",
        &body,
    );
    let body: Value = server
        .get(&owner, &format!("/api/v1/campaigns/{id}/stats"))
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "get",
        "/api/v1/campaigns/{id}/stats",
        200,
        "application/json",
        &body,
    );
    server
        .post(&owner, &format!("/api/v1/campaigns/{id}/launch"), json!({}))
        .await;
    server.run_jobs().await;
    let body: Value = server
        .get(&owner, "/api/v1/crew-runs")
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "get",
        "/api/v1/crew-runs",
        200,
        "application/json",
        &body,
    );
    let run_id = body["items"][0]["id"]
        .as_str()
        .expect("a crew run")
        .to_owned();
    let body: Value = server
        .get(&owner, &format!("/api/v1/crew-runs/{run_id}"))
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "get",
        "/api/v1/crew-runs/{id}",
        200,
        "application/json",
        &body,
    );
    let body: Value = server
        .put(
            &owner,
            &format!("/api/v1/leads/{lead}/status"),
            json!({ "status": "won" }),
        )
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "put",
        "/api/v1/leads/{id}/status",
        200,
        "application/json",
        &body,
    );
    let body: Value = server
        .get(&owner, "/api/v1/account")
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "get",
        "/api/v1/account",
        200,
        "application/json",
        &body,
    );
    let body: Value = server
        .get(&owner, "/api/v1/audit")
        .await
        .json()
        .await
        .unwrap();
    check(&doc, "get", "/api/v1/audit", 200, "application/json", &body);
    let body: Value = server
        .get(&owner, "/api/v1/analytics/funnel")
        .await
        .json()
        .await
        .unwrap();
    check(
        &doc,
        "get",
        "/api/v1/analytics/funnel",
        200,
        "application/json",
        &body,
    );

    // Errors match the Problem schema under their own media type.
    let response = server
        .post(&owner, "/api/v1/leads", json!({ "email": "nope" }))
        .await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    check(
        &doc,
        "post",
        "/api/v1/leads",
        422,
        "application/json",
        &problem,
    );
    harness.finish().await;
}
