//! A hand-moved clock, an observer that records events, fake transports and
//! the messages they send.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rekindle_domain::{AccountId, Email, ErrorClass, LeadId, MessageId, Phone};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use crate::{
    ChannelError, CircuitObserver, Clock, EmailOptions, EmailTransport, InternetMessageId,
    NamedAddress, OutboundEmail, OutboundSms, SendReceipt, SmsTransport,
};

pub const SENDER_A: &str = "+447700900123";
pub const SENDER_B: &str = "+447700900456";

/// A clock that moves only when the test calls `advance`.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Instant>,
}

impl ManualClock {
    pub fn new() -> Self {
        Self {
            now: Mutex::new(Instant::now()),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.now.lock().unwrap()
    }
}

/// One call to a `CircuitObserver`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Opened {
        key: String,
        consecutive_failures: u32,
        class: ErrorClass,
    },
    Closed {
        key: String,
    },
}

#[derive(Debug, Default)]
pub struct RecordingObserver {
    events: Mutex<Vec<Event>>,
}

impl RecordingObserver {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

impl CircuitObserver for RecordingObserver {
    fn on_open(&self, key: &str, consecutive_failures: u32, last_error: &ChannelError) {
        self.events.lock().unwrap().push(Event::Opened {
            key: key.to_owned(),
            consecutive_failures,
            class: last_error.class(),
        });
    }

    fn on_close(&self, key: &str) {
        self.events.lock().unwrap().push(Event::Closed {
            key: key.to_owned(),
        });
    }
}

/// A transport that returns scripted results (a receipt once the script is
/// used up), counts its calls and can be made to wait at a gate.
#[derive(Debug, Default)]
pub struct FakeTransport {
    script: Mutex<VecDeque<Result<(), ChannelError>>>,
    calls: AtomicUsize,
    options_seen: Mutex<Vec<EmailOptions>>,
    gate: Option<Gate>,
}

/// Holds every call until the test adds a permit.
#[derive(Debug)]
pub struct Gate {
    pub release: Semaphore,
}

impl FakeTransport {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn gated() -> Self {
        Self {
            gate: Some(Gate {
                release: Semaphore::new(0),
            }),
            ..Self::default()
        }
    }

    /// Appends `count` copies of `result` to the script.
    pub fn push(&self, count: usize, result: Result<(), ChannelError>) {
        let mut script = self.script.lock().unwrap();
        for _ in 0..count {
            script.push_back(result.clone());
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn options_seen(&self) -> Vec<EmailOptions> {
        self.options_seen.lock().unwrap().clone()
    }

    /// Yields to other tasks until the transport was called `count` times.
    /// Panics after 1,000 yields, so a call that never starts fails the test
    /// instead of hanging it.
    pub async fn wait_for_calls(&self, count: usize) {
        for _ in 0..1_000 {
            if self.calls() >= count {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!(
            "the transport was called {} times, expected {count}",
            self.calls()
        );
    }

    pub fn gate(&self) -> &Gate {
        self.gate
            .as_ref()
            .expect("transport built with FakeTransport::gated")
    }

    async fn respond(&self) -> Result<SendReceipt, ChannelError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;

        if let Some(gate) = &self.gate {
            gate.release.acquire().await.unwrap().forget();
        }

        let scripted = self.script.lock().unwrap().pop_front();
        scripted.unwrap_or(Ok(()))?;
        Ok(SendReceipt {
            provider: "fake",
            provider_message_id: format!("fake-{call}"),
            accepted_at: Utc::now(),
        })
    }
}

#[async_trait]
impl EmailTransport for FakeTransport {
    async fn send_email(&self, _email: &OutboundEmail) -> Result<SendReceipt, ChannelError> {
        self.respond().await
    }

    async fn send_email_with(
        &self,
        _email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        self.options_seen.lock().unwrap().push(options.clone());
        self.respond().await
    }
}

#[async_trait]
impl SmsTransport for FakeTransport {
    async fn send_sms(&self, _sms: &OutboundSms) -> Result<SendReceipt, ChannelError> {
        self.respond().await
    }
}

pub fn transient() -> Result<(), ChannelError> {
    Err(ChannelError::transient("provider returned 503"))
}

pub fn rate_limited() -> Result<(), ChannelError> {
    Err(ChannelError::rate_limited(None, "provider returned 429"))
}

pub fn permanent() -> Result<(), ChannelError> {
    Err(ChannelError::permanent("recipient rejected"))
}

pub fn invalid_input() -> Result<(), ChannelError> {
    Err(ChannelError::invalid_input("subject is empty"))
}

pub fn email() -> OutboundEmail {
    OutboundEmail {
        account_id: AccountId::new(),
        lead_id: LeadId::new(),
        message_id: MessageId::new(),
        from: NamedAddress::new(
            "Priya Nair",
            Email::parse("priya@northwind.example").unwrap(),
        ),
        to: NamedAddress::new(
            "Tomás Ruiz",
            Email::parse("tomas@lakeside.example").unwrap(),
        ),
        subject: "Still planning the Q3 rollout?".into(),
        text_body: "Hi Tomás,\n\nare you still looking at the rollout?\n\nPriya".into(),
        html_body: None,
        internet_message_id: InternetMessageId::parse("0190f3c2@northwind.example").unwrap(),
        list_unsubscribe: Url::parse("https://links.rekindle.example/unsubscribe/AQID").unwrap(),
        in_reply_to: None,
        references: Vec::new(),
    }
}

pub fn sms(from: &str) -> OutboundSms {
    OutboundSms {
        account_id: AccountId::new(),
        lead_id: LeadId::new(),
        message_id: MessageId::new(),
        from: Phone::parse(from, None).unwrap(),
        to: Phone::parse("+447700900999", None).unwrap(),
        body: "Hi Sam, still interested in a demo this month?".into(),
    }
}
