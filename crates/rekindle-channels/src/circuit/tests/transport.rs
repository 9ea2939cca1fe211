//! The email and SMS wrappers around fake transports, under tokio's paused
//! time and the default `TokioClock`.

use std::sync::Arc;
use std::time::Duration;

use rekindle_domain::{Email, ErrorClass};

use super::support::{
    Event, FakeTransport, RecordingObserver, SENDER_A, SENDER_B, email, permanent, sms, transient,
};
use crate::{
    CircuitConfig, CircuitEmailTransport, CircuitRegistry, CircuitScope, CircuitSmsTransport,
    CircuitState, EmailOptions, EmailTransport, NamedAddress, SmsTransport,
};

const OPEN_FOR: Duration = Duration::from_secs(60);

struct Fixture {
    fake: Arc<FakeTransport>,
    registry: Arc<CircuitRegistry>,
    observer: Arc<RecordingObserver>,
}

fn fixture(fake: FakeTransport) -> Fixture {
    let observer = Arc::new(RecordingObserver::default());
    let registry = Arc::new(CircuitRegistry::new(
        CircuitConfig::default(),
        observer.clone(),
    ));
    Fixture {
        fake: Arc::new(fake),
        registry,
        observer,
    }
}

impl Fixture {
    fn email_transport(&self) -> CircuitEmailTransport<FakeTransport> {
        CircuitEmailTransport::new(self.fake.clone(), "sendgrid", self.registry.clone())
    }

    fn sms_transport(&self) -> CircuitSmsTransport<FakeTransport> {
        CircuitSmsTransport::new(self.fake.clone(), "twilio", self.registry.clone())
            .with_scope(CircuitScope::ProviderAndSender)
    }

    fn state(&self, key: &str) -> CircuitState {
        self.registry.get(key).expect("breaker exists").state()
    }
}

#[tokio::test(start_paused = true)]
async fn open_circuit_skips_inner_transport() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(5, transient());
    let transport = fixture.email_transport();
    let email = email();

    for _ in 0..5 {
        let error = transport.send_email(&email).await.unwrap_err();
        assert_eq!(error.class(), ErrorClass::Transient);
    }
    assert_eq!(fixture.fake.calls(), 5);

    for _ in 0..3 {
        let error = transport.send_email(&email).await.unwrap_err();
        assert_eq!(error.class(), ErrorClass::RateLimited);
        assert_eq!(error.retry_after(), Some(OPEN_FOR));
        assert!(error.message().contains("sendgrid"), "{error}");
    }
    assert_eq!(fixture.fake.calls(), 5);
}

#[tokio::test(start_paused = true)]
async fn four_failures_still_call_provider() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(4, transient());
    let transport = fixture.email_transport();
    let email = email();

    for _ in 0..4 {
        assert!(transport.send_email(&email).await.is_err());
    }
    let receipt = transport.send_email(&email).await.unwrap();

    assert_eq!(receipt.provider_message_id, "fake-5");
    assert_eq!(fixture.fake.calls(), 5);
    assert_eq!(fixture.state("sendgrid"), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_do_not_open() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(20, permanent());
    let transport = fixture.email_transport();
    let email = email();

    for _ in 0..20 {
        let error = transport.send_email(&email).await.unwrap_err();
        assert_eq!(error.class(), ErrorClass::Permanent);
    }

    assert_eq!(fixture.fake.calls(), 20);
    assert_eq!(fixture.state("sendgrid"), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn half_opens_after_sixty_seconds_and_closes() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(5, transient());
    let transport = fixture.email_transport();
    let email = email();
    for _ in 0..5 {
        assert!(transport.send_email(&email).await.is_err());
    }

    tokio::time::advance(Duration::from_secs(59)).await;
    let error = transport.send_email(&email).await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(fixture.fake.calls(), 5);

    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(fixture.state("sendgrid"), CircuitState::HalfOpen);
    assert!(transport.send_email(&email).await.is_ok());
    assert_eq!(fixture.fake.calls(), 6);
    assert_eq!(fixture.state("sendgrid"), CircuitState::Closed);

    let expected = vec![
        Event::Opened {
            key: "sendgrid".into(),
            consecutive_failures: 5,
            class: ErrorClass::Transient,
        },
        Event::Closed {
            key: "sendgrid".into(),
        },
    ];
    assert_eq!(fixture.observer.events(), expected);
}

#[tokio::test(start_paused = true)]
async fn failed_trial_reopens() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(6, transient());
    let transport = fixture.email_transport();
    let email = email();
    for _ in 0..5 {
        assert!(transport.send_email(&email).await.is_err());
    }
    tokio::time::advance(OPEN_FOR).await;

    let trial = transport.send_email(&email).await.unwrap_err();
    let after = transport.send_email(&email).await.unwrap_err();

    assert_eq!(trial.class(), ErrorClass::Transient);
    assert_eq!(after.class(), ErrorClass::RateLimited);
    assert_eq!(after.retry_after(), Some(OPEN_FOR));
    assert_eq!(fixture.fake.calls(), 6);
    assert_eq!(fixture.state("sendgrid"), CircuitState::Open);
    assert_eq!(fixture.observer.events().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn one_trial_in_flight_when_half_open() {
    let fixture = fixture(FakeTransport::gated());
    fixture.fake.push(5, transient());
    let transport = Arc::new(fixture.email_transport());
    let email = email();
    fixture.fake.gate().release.add_permits(5);
    for _ in 0..5 {
        assert!(transport.send_email(&email).await.is_err());
    }
    tokio::time::advance(OPEN_FOR).await;

    let trial = tokio::spawn({
        let transport = transport.clone();
        let email = email.clone();
        async move { transport.send_email(&email).await }
    });
    fixture.fake.wait_for_calls(6).await;

    // The timeout turns a second call that wrongly reaches the gated
    // transport into a failure instead of a hang.
    for _ in 0..3 {
        let second = tokio::time::timeout(Duration::from_secs(1), transport.send_email(&email))
            .await
            .expect("a second call while the trial is in flight must be rejected at once");
        let rejected = second.unwrap_err();
        assert_eq!(rejected.class(), ErrorClass::RateLimited);
        assert_eq!(rejected.retry_after(), None);
    }
    assert_eq!(fixture.fake.calls(), 6);

    fixture.fake.gate().release.add_permits(1);
    assert!(trial.await.unwrap().is_ok());
    assert_eq!(fixture.state("sendgrid"), CircuitState::Closed);

    fixture.fake.gate().release.add_permits(1);
    assert!(transport.send_email(&email).await.is_ok());
    assert_eq!(fixture.fake.calls(), 7);
}

#[tokio::test(start_paused = true)]
async fn cancelled_trial_frees_slot() {
    let fixture = fixture(FakeTransport::gated());
    fixture.fake.push(5, transient());
    let transport = fixture.email_transport();
    let email = email();
    fixture.fake.gate().release.add_permits(5);
    for _ in 0..5 {
        assert!(transport.send_email(&email).await.is_err());
    }
    tokio::time::advance(OPEN_FOR).await;

    let timed_out =
        tokio::time::timeout(Duration::from_secs(10), transport.send_email(&email)).await;
    assert!(timed_out.is_err());
    assert_eq!(fixture.fake.calls(), 6);

    fixture.fake.gate().release.add_permits(1);
    assert!(transport.send_email(&email).await.is_ok());
    assert_eq!(fixture.fake.calls(), 7);
    assert_eq!(fixture.state("sendgrid"), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn send_email_with_forwards_options() {
    let fixture = fixture(FakeTransport::new());
    let transport = fixture.email_transport();
    let reply_to = NamedAddress::without_name(Email::parse("replies@inbound.example").unwrap());
    let options = EmailOptions::default().with_reply_to(reply_to);

    let receipt = transport.send_email_with(&email(), &options).await;

    assert!(receipt.is_ok(), "{receipt:?}");
    assert_eq!(fixture.fake.options_seen(), vec![options]);
}

#[tokio::test(start_paused = true)]
async fn send_email_with_goes_through_breaker() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(5, transient());
    let transport = fixture.email_transport();
    let options = EmailOptions::default();
    let email = email();

    for _ in 0..5 {
        assert!(transport.send_email_with(&email, &options).await.is_err());
    }
    let rejected = transport
        .send_email_with(&email, &options)
        .await
        .unwrap_err();

    assert_eq!(rejected.class(), ErrorClass::RateLimited);
    assert_eq!(fixture.fake.calls(), 5);
}

#[tokio::test(start_paused = true)]
async fn sms_senders_have_separate_circuits() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(5, transient());
    let transport = fixture.sms_transport();
    let from_a = sms(SENDER_A);
    let from_b = sms(SENDER_B);

    for _ in 0..5 {
        assert!(transport.send_sms(&from_a).await.is_err());
    }

    assert_eq!(transport.circuit_key(&from_a), "twilio:+447700900123");
    assert_eq!(fixture.state("twilio:+447700900123"), CircuitState::Open);
    let rejected = transport.send_sms(&from_a).await.unwrap_err();
    assert_eq!(rejected.class(), ErrorClass::RateLimited);
    assert!(transport.send_sms(&from_b).await.is_ok());
    assert_eq!(fixture.state("twilio:+447700900456"), CircuitState::Closed);
    assert_eq!(fixture.fake.calls(), 6);
}

#[tokio::test(start_paused = true)]
async fn provider_scope_shares_one_circuit() {
    let fixture = fixture(FakeTransport::new());
    fixture.fake.push(5, transient());
    let transport =
        CircuitSmsTransport::new(fixture.fake.clone(), "twilio", fixture.registry.clone());

    for _ in 0..5 {
        assert!(transport.send_sms(&sms(SENDER_A)).await.is_err());
    }
    let rejected = transport.send_sms(&sms(SENDER_B)).await.unwrap_err();

    assert_eq!(transport.circuit_key(&sms(SENDER_B)), "twilio");
    assert_eq!(rejected.class(), ErrorClass::RateLimited);
    assert_eq!(fixture.fake.calls(), 5);
}

#[tokio::test(start_paused = true)]
async fn wraps_dyn_transport() {
    let fixture = fixture(FakeTransport::new());
    let inner: Arc<dyn EmailTransport> = fixture.fake.clone();
    let transport = CircuitEmailTransport::new(inner, "smtp", fixture.registry.clone())
        .with_scope(CircuitScope::ProviderAndSender);

    assert!(transport.send_email(&email()).await.is_ok());

    assert_eq!(
        transport.circuit_key(&email()),
        "smtp:priya@northwind.example"
    );
    assert_eq!(
        fixture.state("smtp:priya@northwind.example"),
        CircuitState::Closed
    );
    assert_eq!(fixture.fake.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn full_registry_rejects_without_calling() {
    let fake = Arc::new(FakeTransport::new());
    fake.push(1, transient());
    let registry = Arc::new(
        CircuitRegistry::new(
            CircuitConfig::default(),
            Arc::new(RecordingObserver::default()),
        )
        .with_max_keys(std::num::NonZeroUsize::MIN),
    );
    let transport = CircuitSmsTransport::new(fake.clone(), "twilio", registry)
        .with_scope(CircuitScope::ProviderAndSender);
    assert!(transport.send_sms(&sms(SENDER_A)).await.is_err());

    let error = transport.send_sms(&sms(SENDER_B)).await.unwrap_err();

    assert_eq!(error.class(), ErrorClass::Transient);
    assert!(error.message().contains("full"), "{error}");
    assert_eq!(fake.calls(), 1);
}
