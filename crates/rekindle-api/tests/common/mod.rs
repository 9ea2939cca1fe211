//! A real API server on a loopback port over a test store, and a client.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rekindle_api::{ApiSettings, ApiState, RateLimits};
use rekindle_ratelimit::{Limiters, Quota};
use rekindle_services::worker::Worker;
use rekindle_services::{App, AppSettings};
use rekindle_store_conformance::Harness;
use serde_json::{Value, json};

pub mod llm;

pub const TEST_KEY: &[u8] = b"test-master-key-0123456789abcdef-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub app: App,
    pub state: ApiState,
    pub dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

/// Settings with generous limits, so only the rate-limit tests meet them.
pub fn settings(dir: &std::path::Path) -> ApiSettings {
    let many = Quota::new(100_000, Duration::from_secs(60)).unwrap();
    ApiSettings {
        upload_dir: dir.join("uploads"),
        operator_token: Some("operator-token-for-tests".into()),
        limits: RateLimits {
            public_per_ip: many,
            login_per_ip: many,
            per_user: many,
            per_account: many,
            ai_per_user: many,
            ai_per_account: many,
            ai_concurrency: 8,
        },
        ..ApiSettings::default()
    }
}

impl TestServer {
    pub async fn start(harness: &Harness) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        Self::start_with(harness, dir, settings, Limiters::in_memory(10_000)).await
    }

    pub async fn start_with(
        harness: &Harness,
        dir: tempfile::TempDir,
        settings: ApiSettings,
        limiters: Limiters,
    ) -> Self {
        Self::start_configured(
            harness,
            dir,
            settings,
            AppSettings::default(),
            limiters,
            |_| {},
        )
        .await
    }

    /// Starts a server whose services use `app_settings`.
    pub async fn start_with_app(
        harness: &Harness,
        dir: tempfile::TempDir,
        settings: ApiSettings,
        app_settings: AppSettings,
        limiters: Limiters,
    ) -> Self {
        Self::start_configured(harness, dir, settings, app_settings, limiters, |_| {}).await
    }

    /// Starts a server whose services `configure` changes first, such as
    /// giving them an LLM client.
    pub async fn start_with_services(harness: &Harness, configure: impl FnOnce(&mut App)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        Self::start_configured(
            harness,
            dir,
            settings,
            AppSettings::default(),
            Limiters::in_memory(10_000),
            configure,
        )
        .await
    }

    async fn start_configured(
        harness: &Harness,
        dir: tempfile::TempDir,
        settings: ApiSettings,
        app_settings: AppSettings,
        limiters: Limiters,
        configure: impl FnOnce(&mut App),
    ) -> Self {
        let mut app = App::with_outbox(
            harness.store(),
            dir.path().join("outbox"),
            TEST_KEY,
            app_settings,
        )
        .unwrap();
        configure(&mut app);
        let state = ApiState::new(app.clone(), settings, TEST_KEY, limiters).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = rekindle_api::router(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            base: format!("http://{address}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            app,
            state,
            dir,
            task,
        }
    }

    /// Returns the local outbox the server's transports write to.
    pub fn outbox_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("outbox")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs up a new account and returns its owner's session.
    pub async fn signup(&self, company: &str) -> Session {
        let email = format!(
            "owner@{}.example.com",
            company.to_lowercase().replace(' ', "-")
        );
        let response = self
            .client
            .post(self.url("/api/v1/auth/signup"))
            .json(&json!({
                "account_name": company,
                "email": email,
                "password": PASSWORD,
                "postal_address": "1 Example Street, London EC1A 1AA",
                "time_zone": "Europe/London",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        Session {
            token: body["tokens"]["access_token"].as_str().unwrap().to_owned(),
            refresh: body["tokens"]["refresh_token"].as_str().unwrap().to_owned(),
            account_id: body["account"]["id"].as_str().unwrap().to_owned(),
            email,
        }
    }

    pub async fn get(&self, session: &Session, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, session: &Session, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&session.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, session: &Session, path: &str, body: Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(&session.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, session: &Session, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap()
    }

    /// Runs every job that is due, as a worker process would.
    pub async fn run_jobs(&self) {
        let worker = Worker::new(self.app.clone(), "test-worker", Duration::from_millis(10));
        worker
            .run_due(chrono::Utc::now() + chrono::Duration::days(30), 500)
            .await
            .unwrap();
    }

    /// Runs the jobs due by `until`, as a worker process would once the
    /// clock reaches it.
    pub async fn run_jobs_until(&self, until: chrono::DateTime<chrono::Utc>) {
        let worker = Worker::new(self.app.clone(), "test-worker", Duration::from_millis(10));
        worker.run_due(until, 1_000).await.unwrap();
    }

    /// Uploads `csv` as a lead import and runs the import jobs.
    pub async fn import_csv(&self, session: &Session, csv: String) {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("leads.csv"),
        );
        let response = self
            .client
            .post(self.url("/api/v1/imports"))
            .bearer_auth(&session.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
        self.run_jobs_until(chrono::Utc::now()).await;
    }

    /// Lists the ids of every lead of the session's account, page by page.
    pub async fn all_lead_ids(&self, session: &Session) -> Vec<String> {
        let mut ids = Vec::new();
        let mut path = "/api/v1/leads?limit=200".to_owned();
        loop {
            let page = self.get_json(session, &path).await;
            for lead in page["items"].as_array().unwrap() {
                ids.push(lead["id"].as_str().unwrap().to_owned());
            }
            match page["next"].as_str() {
                Some(next) => path = format!("/api/v1/leads?limit=200&cursor={next}"),
                None => return ids,
            }
        }
    }

    /// Creates a lead through the API and returns its id.
    pub async fn create_lead(&self, session: &Session, email: &str) -> String {
        let response = self
            .post(
                session,
                "/api/v1/leads",
                json!({ "email": email, "first_name": "Dana", "company": "Acme Ltd",
                        "job_title": "Head of Sales", "notes": llm::LEAD_NOTE }),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub fn store(&self) -> Arc<dyn rekindle_store::Store> {
        self.app.store.clone()
    }

    pub async fn put(&self, session: &Session, path: &str, body: Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(&session.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Sends `body` and returns the JSON response body, failing the test
    /// unless the status is `expected`.
    pub async fn post_expect(
        &self,
        session: &Session,
        path: &str,
        body: Value,
        expected: u16,
    ) -> Value {
        let response = self.post(session, path, body).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, expected, "POST {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Returns the JSON response body of a GET, failing the test unless the
    /// status is 200.
    pub async fn get_json(&self, session: &Session, path: &str) -> Value {
        let response = self.get(session, path).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

impl Session {
    pub fn account(&self) -> rekindle_domain::AccountId {
        rekindle_domain::AccountId(self.account_id.parse().unwrap())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Makes a job of the session's account fail for good, and returns its id.
pub async fn dead_job(server: &TestServer, session: &Session) -> String {
    let account = rekindle_domain::AccountId(session.account_id.parse().unwrap());
    let mut job = rekindle_store::NewJob::now("no_such_job_kind", json!({}));
    job.max_attempts = 1;
    let mut tx = server.store().begin(account).await.unwrap();
    let id = tx.enqueue_job(&job, chrono::Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    server.run_jobs().await;
    id.to_string()
}

pub struct Session {
    pub token: String,
    pub refresh: String,
    pub account_id: String,
    pub email: String,
}

/// Checks that a response is a problem of `status` with `code`, and returns it.
pub async fn expect_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("x-request-id header");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "problem: {body}");
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["type"].as_str().unwrap().ends_with(code));
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

/// Runs `$check` once on SQLite and once on PostgreSQL (when configured).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $check:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let harness = rekindle_store_conformance::Harness::sqlite().await;
                super::$check(&harness).await;
                harness.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(harness) = rekindle_store_conformance::Harness::postgres(concat!("api_", stringify!($name))).await else {
                    return;
                };
                super::$check(&harness).await;
                harness.finish().await;
            }
        }
    )*};
}
