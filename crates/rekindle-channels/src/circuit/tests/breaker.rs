//! The state machine of one breaker, driven through `try_acquire` and
//! `CallPermit::record` with a hand-moved clock.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use rekindle_domain::ErrorClass;

use super::support::{
    Event, ManualClock, RecordingObserver, invalid_input, permanent, rate_limited, transient,
};
use crate::{
    ChannelError, CircuitBreaker, CircuitConfig, CircuitState, DEFAULT_OPEN_FOR,
    NoopCircuitObserver,
};

const KEY: &str = "sendgrid";

struct Fixture {
    breaker: CircuitBreaker,
    clock: Arc<ManualClock>,
    observer: Arc<RecordingObserver>,
}

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new());
    let observer = Arc::new(RecordingObserver::default());
    let breaker = CircuitBreaker::new(KEY, CircuitConfig::default(), observer.clone())
        .with_clock(clock.clone());
    Fixture {
        breaker,
        clock,
        observer,
    }
}

/// Makes one admitted call that ends with `result`.
fn call(breaker: &CircuitBreaker, result: Result<(), ChannelError>) {
    let permit = breaker
        .try_acquire()
        .expect("the circuit should admit the call");
    permit.record(&result);
}

fn call_times(breaker: &CircuitBreaker, count: usize, result: Result<(), ChannelError>) {
    for _ in 0..count {
        call(breaker, result.clone());
    }
}

fn open(fixture: &Fixture) {
    call_times(&fixture.breaker, 5, transient());
    assert_eq!(fixture.breaker.state(), CircuitState::Open);
}

#[test]
fn default_config_is_five_failures_sixty_seconds() {
    let config = CircuitConfig::default();

    assert_eq!(config.failure_threshold.get(), 5);
    assert_eq!(config.open_for, Duration::from_secs(60));
}

#[test]
fn four_failures_keep_circuit_closed() {
    let fixture = fixture();

    call_times(&fixture.breaker, 4, transient());

    assert_eq!(fixture.breaker.state(), CircuitState::Closed);
    assert_eq!(fixture.breaker.consecutive_failures(), 4);
    assert!(fixture.breaker.try_acquire().is_ok());
    assert!(fixture.observer.events().is_empty());
}

#[test]
fn fifth_failure_opens_circuit() {
    let fixture = fixture();

    call_times(&fixture.breaker, 4, transient());
    call(&fixture.breaker, transient());

    assert_eq!(fixture.breaker.state(), CircuitState::Open);
    assert_eq!(fixture.breaker.consecutive_failures(), 5);
    let rejected = fixture.breaker.try_acquire().unwrap_err();
    assert_eq!(rejected.key, KEY);
    assert_eq!(rejected.retry_after, Some(DEFAULT_OPEN_FOR));
}

#[test]
fn rate_limited_errors_count() {
    let fixture = fixture();

    call_times(&fixture.breaker, 2, transient());
    call_times(&fixture.breaker, 3, rate_limited());

    assert_eq!(fixture.breaker.state(), CircuitState::Open);
}

#[test]
fn permanent_errors_neither_count_nor_reset() {
    let fixture = fixture();
    call_times(&fixture.breaker, 4, transient());

    call_times(&fixture.breaker, 10, permanent());
    call_times(&fixture.breaker, 10, invalid_input());

    assert_eq!(fixture.breaker.state(), CircuitState::Closed);
    assert_eq!(fixture.breaker.consecutive_failures(), 4);

    call(&fixture.breaker, transient());
    assert_eq!(fixture.breaker.state(), CircuitState::Open);
}

#[test]
fn success_resets_failure_count() {
    let fixture = fixture();
    call_times(&fixture.breaker, 4, transient());

    call(&fixture.breaker, Ok(()));
    assert_eq!(fixture.breaker.consecutive_failures(), 0);

    call_times(&fixture.breaker, 4, transient());
    assert_eq!(fixture.breaker.state(), CircuitState::Closed);
    call(&fixture.breaker, transient());
    assert_eq!(fixture.breaker.state(), CircuitState::Open);
}

#[test]
fn custom_threshold_opens_at_threshold() {
    let config = CircuitConfig {
        failure_threshold: NonZeroU32::new(2).unwrap(),
        open_for: Duration::from_secs(5),
    };
    let clock = Arc::new(ManualClock::new());
    let breaker =
        CircuitBreaker::new(KEY, config, Arc::new(NoopCircuitObserver)).with_clock(clock.clone());

    call(&breaker, transient());
    assert_eq!(breaker.state(), CircuitState::Closed);
    call(&breaker, transient());
    assert_eq!(breaker.state(), CircuitState::Open);

    clock.advance(Duration::from_secs(5));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
}

#[test]
fn open_circuit_rejects_until_open_for_passes() {
    let fixture = fixture();
    open(&fixture);

    fixture.clock.advance(Duration::from_secs(59));
    let rejected = fixture.breaker.try_acquire().unwrap_err();
    assert_eq!(rejected.retry_after, Some(Duration::from_secs(1)));

    fixture.clock.advance(Duration::from_secs(1));
    assert_eq!(fixture.breaker.state(), CircuitState::HalfOpen);
    let trial = fixture.breaker.try_acquire().unwrap();
    assert!(trial.is_trial());
}

#[test]
fn successful_trial_closes_circuit() {
    let fixture = fixture();
    open(&fixture);
    fixture.clock.advance(DEFAULT_OPEN_FOR);

    call(&fixture.breaker, Ok(()));

    assert_eq!(fixture.breaker.state(), CircuitState::Closed);
    assert_eq!(fixture.breaker.consecutive_failures(), 0);
    let next = fixture.breaker.try_acquire().unwrap();
    assert!(!next.is_trial());
}

#[test]
fn failed_trial_reopens_for_open_for() {
    let fixture = fixture();
    open(&fixture);
    fixture.clock.advance(DEFAULT_OPEN_FOR);

    call(&fixture.breaker, transient());

    assert_eq!(fixture.breaker.state(), CircuitState::Open);
    assert_eq!(fixture.breaker.consecutive_failures(), 6);
    let rejected = fixture.breaker.try_acquire().unwrap_err();
    assert_eq!(rejected.retry_after, Some(DEFAULT_OPEN_FOR));

    fixture.clock.advance(DEFAULT_OPEN_FOR);
    assert!(fixture.breaker.try_acquire().unwrap().is_trial());
}

#[test]
fn half_open_admits_one_trial_at_a_time() {
    let fixture = fixture();
    open(&fixture);
    fixture.clock.advance(DEFAULT_OPEN_FOR);

    let trial = fixture.breaker.try_acquire().unwrap();
    let second = fixture.breaker.try_acquire().unwrap_err();
    let third = fixture.breaker.try_acquire().unwrap_err();

    assert!(trial.is_trial());
    assert_eq!(second.retry_after, None);
    assert_eq!(third.retry_after, None);
    assert_eq!(fixture.breaker.state(), CircuitState::HalfOpen);

    trial.record(&Ok::<(), ChannelError>(()));
    assert_eq!(fixture.breaker.state(), CircuitState::Closed);
}

#[test]
fn dropped_trial_frees_trial_slot() {
    let fixture = fixture();
    open(&fixture);
    fixture.clock.advance(DEFAULT_OPEN_FOR);

    let trial = fixture.breaker.try_acquire().unwrap();
    drop(trial);

    assert_eq!(fixture.breaker.state(), CircuitState::HalfOpen);
    let next = fixture.breaker.try_acquire().unwrap();
    assert!(next.is_trial());
}

#[test]
fn permanent_trial_error_keeps_half_open() {
    let fixture = fixture();
    open(&fixture);
    fixture.clock.advance(DEFAULT_OPEN_FOR);

    call(&fixture.breaker, permanent());

    assert_eq!(fixture.breaker.state(), CircuitState::HalfOpen);
    assert_eq!(fixture.breaker.consecutive_failures(), 5);
    assert!(fixture.breaker.try_acquire().unwrap().is_trial());
}

#[test]
fn late_outcome_after_open_is_ignored() {
    let fixture = fixture();
    let slow_call = fixture.breaker.try_acquire().unwrap();
    open(&fixture);

    slow_call.record(&Ok::<(), ChannelError>(()));

    assert_eq!(fixture.breaker.state(), CircuitState::Open);
    assert_eq!(fixture.breaker.consecutive_failures(), 5);
}

#[test]
fn late_failure_does_not_extend_open() {
    let fixture = fixture();
    let slow_call = fixture.breaker.try_acquire().unwrap();
    open(&fixture);
    fixture.clock.advance(Duration::from_secs(30));

    slow_call.record(&transient());

    let rejected = fixture.breaker.try_acquire().unwrap_err();
    assert_eq!(rejected.retry_after, Some(Duration::from_secs(30)));
}

#[test]
fn late_failure_after_reclose_is_ignored() {
    let fixture = fixture();
    let slow_call = fixture.breaker.try_acquire().unwrap();
    open(&fixture);
    fixture.clock.advance(DEFAULT_OPEN_FOR);
    call(&fixture.breaker, Ok(()));
    assert_eq!(fixture.breaker.state(), CircuitState::Closed);

    slow_call.record(&transient());

    assert_eq!(fixture.breaker.consecutive_failures(), 0);
}

#[test]
fn observer_sees_one_open_and_one_close() {
    let fixture = fixture();
    open(&fixture);
    for _ in 0..3 {
        assert!(fixture.breaker.try_acquire().is_err());
    }
    fixture.clock.advance(DEFAULT_OPEN_FOR);
    call(&fixture.breaker, transient());
    fixture.clock.advance(DEFAULT_OPEN_FOR);
    call(&fixture.breaker, Ok(()));
    call_times(&fixture.breaker, 3, Ok(()));

    let expected = vec![
        Event::Opened {
            key: KEY.into(),
            consecutive_failures: 5,
            class: ErrorClass::Transient,
        },
        Event::Closed { key: KEY.into() },
    ];
    assert_eq!(fixture.observer.events(), expected);
}

#[test]
fn observer_gets_the_error_that_opened() {
    let fixture = fixture();

    call_times(&fixture.breaker, 4, transient());
    call(&fixture.breaker, rate_limited());

    let events = fixture.observer.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0],
        Event::Opened {
            key: KEY.into(),
            consecutive_failures: 5,
            class: ErrorClass::RateLimited,
        }
    );
}

#[tokio::test]
async fn call_skips_operation_while_open() {
    let fixture = fixture();
    open(&fixture);
    let mut runs = 0;

    let result: Result<(), ChannelError> = fixture
        .breaker
        .call(|| {
            runs += 1;
            async { Ok(()) }
        })
        .await;

    assert_eq!(runs, 0);
    let error = result.unwrap_err();
    assert_eq!(error.class(), ErrorClass::RateLimited);
    assert_eq!(error.retry_after(), Some(DEFAULT_OPEN_FOR));
}

#[tokio::test]
async fn call_records_operation_result() {
    let fixture = fixture();

    for _ in 0..5 {
        let result = fixture.breaker.call(|| async { transient() }).await;
        assert_eq!(result.unwrap_err().class(), ErrorClass::Transient);
    }

    assert_eq!(fixture.breaker.state(), CircuitState::Open);
}

#[test]
fn huge_open_for_does_not_panic() {
    let config = CircuitConfig {
        failure_threshold: NonZeroU32::new(1).unwrap(),
        open_for: Duration::MAX,
    };
    let breaker = CircuitBreaker::new(KEY, config, Arc::new(NoopCircuitObserver))
        .with_clock(Arc::new(ManualClock::new()));

    call(&breaker, transient());

    assert_eq!(breaker.state(), CircuitState::Open);
}
