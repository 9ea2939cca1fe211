//! A mock LLM server on 127.0.0.1 for tests of this crate and its callers.
//! It records every request, replies from a script (or with a routed or
//! fallback reply), can delay replies, and measures how many requests were
//! in flight at once.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// One scripted reply.
#[derive(Debug, Clone)]
pub struct MockReply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

impl MockReply {
    /// Creates a reply with any status and raw body.
    pub fn raw(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// Creates a chat completion whose message content is `content`.
    pub fn openai_text(content: &str) -> Self {
        Self::raw(
            200,
            json!({
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop"
                }],
                "usage": {"prompt_tokens": 120, "completion_tokens": 80, "total_tokens": 200}
            })
            .to_string(),
        )
    }

    /// Creates a chat completion whose content is `value` serialised.
    pub fn openai_json(value: &Value) -> Self {
        Self::openai_text(&value.to_string())
    }

    /// Creates a messages response with one text block.
    pub fn anthropic_text(text: &str) -> Self {
        Self::raw(
            200,
            json!({
                "id": "msg_mock",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 150, "output_tokens": 90}
            })
            .to_string(),
        )
    }

    /// Creates a messages response with one tool call whose input is `input`.
    pub fn anthropic_tool(name: &str, input: &Value) -> Self {
        Self::raw(
            200,
            json!({
                "id": "msg_mock",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_mock", "name": name, "input": input}],
                "stop_reason": "tool_use",
                "usage": {"input_tokens": 150, "output_tokens": 90}
            })
            .to_string(),
        )
    }

    /// Creates an error response in the providers' shape.
    pub fn error(status: u16, message: &str) -> Self {
        Self::raw(
            status,
            json!({"error": {"message": message, "type": "mock_error"}}).to_string(),
        )
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits `delay` before replying, to test timeouts and concurrency.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns the system prompt of either wire format.
    pub fn system_prompt(&self) -> String {
        if let Some(system) = self.body.get("system").and_then(Value::as_str) {
            return system.to_owned();
        }
        self.messages_with_role("system").join("\n")
    }

    /// Returns the user messages, joined.
    pub fn user_message(&self) -> String {
        self.messages_with_role("user").join("\n")
    }

    fn messages_with_role(&self, role: &str) -> Vec<String> {
        self.body
            .get("messages")
            .and_then(Value::as_array)
            .map(|messages| {
                messages
                    .iter()
                    .filter(|message| message["role"] == role)
                    .filter_map(|message| message["content"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug)]
struct MockState {
    script: Mutex<VecDeque<MockReply>>,
    /// Replies by a text the request body contains, checked in order.
    routes: Mutex<Vec<(String, MockReply)>>,
    fallback: Mutex<MockReply>,
    requests: Mutex<Vec<RecordedRequest>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running mock server. It stops when dropped.
#[derive(Debug)]
pub struct MockLlmServer {
    address: SocketAddr,
    state: Arc<MockState>,
    task: JoinHandle<()>,
}

impl MockLlmServer {
    /// Starts the server on a free port of 127.0.0.1. Without a script it
    /// replies with HTTP 500, so a test that forgot a reply fails visibly.
    pub async fn start() -> Self {
        let state = Arc::new(MockState {
            script: Mutex::new(VecDeque::new()),
            routes: Mutex::new(Vec::new()),
            fallback: Mutex::new(MockReply::error(500, "the mock has no scripted reply")),
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the mock LLM server");
        let address = listener.local_addr().expect("read the mock's address");
        let router = Router::new()
            .fallback(reply_to)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            address,
            state,
            task,
        }
    }

    /// Returns `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Adds a reply to the end of the script.
    pub fn push(&self, reply: MockReply) {
        lock(&self.state.script).push_back(reply);
    }

    /// Sets the reply to every request whose raw body contains `needle`,
    /// such as an output schema's name, once the script is empty. Routes
    /// are checked in the order they were set, before the fallback.
    pub fn set_reply_for(&self, needle: &str, reply: MockReply) {
        lock(&self.state.routes).push((needle.to_owned(), reply));
    }

    /// Sets the reply used once the script is empty and no route matches.
    pub fn set_fallback(&self, reply: MockReply) {
        *lock(&self.state.fallback) = reply;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// Returns the most requests that were being handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for MockLlmServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn routed_reply(state: &MockState, body: &[u8]) -> Option<MockReply> {
    let text = String::from_utf8_lossy(body);
    lock(&state.routes)
        .iter()
        .find(|(needle, _)| text.contains(needle.as_str()))
        .map(|(_, reply)| reply.clone())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts a request as in flight until its reply is sent or its client
/// disconnects.
struct InFlight<'a>(&'a MockState);

impl<'a> InFlight<'a> {
    fn enter(state: &'a MockState) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn reply_to(
    State(state): State<Arc<MockState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::enter(&state);
    lock(&state.requests).push(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });

    let scripted = lock(&state.script).pop_front();
    let reply = scripted
        .or_else(|| routed_reply(&state, &body))
        .unwrap_or_else(|| lock(&state.fallback).clone());
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }

    let mut response_headers = HeaderMap::new();
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response_headers.insert(name, value);
        }
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, response_headers, reply.body).into_response()
}
