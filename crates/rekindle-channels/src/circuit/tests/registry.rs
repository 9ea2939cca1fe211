//! Breakers by key: creation on first use, independence of keys and the
//! bound on the number of keys.

use std::num::NonZeroUsize;
use std::sync::Arc;

use rekindle_domain::ErrorClass;

use super::support::{ManualClock, RecordingObserver, transient};
use crate::{
    ChannelError, CircuitConfig, CircuitRegistry, CircuitRegistryError, CircuitState,
    DEFAULT_MAX_CIRCUIT_KEYS,
};

fn registry(max_keys: usize) -> CircuitRegistry {
    CircuitRegistry::new(
        CircuitConfig::default(),
        Arc::new(RecordingObserver::default()),
    )
    .with_max_keys(NonZeroUsize::new(max_keys).unwrap())
    .with_clock(Arc::new(ManualClock::new()))
}

/// Records `count` transient failures on the breaker for `key`.
fn fail(registry: &CircuitRegistry, key: &str, count: usize) {
    let breaker = registry.breaker(key).unwrap();
    for _ in 0..count {
        breaker.try_acquire().unwrap().record(&transient());
    }
}

#[test]
fn breaker_created_once_per_key() {
    let registry = registry(10);
    assert!(registry.is_empty());
    assert!(registry.get("sendgrid").is_none());

    let first = registry.breaker("sendgrid").unwrap();
    let second = registry.breaker("sendgrid").unwrap();

    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.key(), "sendgrid");
    assert_eq!(first.state(), CircuitState::Closed);
    assert_eq!(registry.len(), 1);
    assert!(registry.get("sendgrid").is_some());
}

#[test]
fn separate_keys_are_independent() {
    let registry = registry(10);

    fail(&registry, "twilio:+447700900123", 5);
    fail(&registry, "twilio:+447700900456", 4);

    let open = registry.breaker("twilio:+447700900123").unwrap();
    let other = registry.breaker("twilio:+447700900456").unwrap();
    let unused = registry.breaker("sendgrid").unwrap();
    assert_eq!(open.state(), CircuitState::Open);
    assert_eq!(other.state(), CircuitState::Closed);
    assert_eq!(other.consecutive_failures(), 4);
    assert_eq!(unused.state(), CircuitState::Closed);
    assert!(other.try_acquire().is_ok());
}

#[test]
fn unhealthy_lists_only_open_circuits() {
    let registry = registry(10);
    fail(&registry, "sendgrid", 5);
    fail(&registry, "twilio", 1);

    let unhealthy = registry.unhealthy();

    assert_eq!(unhealthy, vec![("sendgrid".to_owned(), CircuitState::Open)]);
}

#[test]
fn default_max_keys() {
    let registry = CircuitRegistry::new(
        CircuitConfig::default(),
        Arc::new(RecordingObserver::default()),
    );

    assert_eq!(registry.max_keys(), DEFAULT_MAX_CIRCUIT_KEYS.get());
}

#[test]
fn full_registry_rejects_new_key() {
    let registry = registry(2);
    fail(&registry, "twilio:+447700900123", 1);
    fail(&registry, "twilio:+447700900456", 5);

    let error = registry.breaker("twilio:+447700900789").unwrap_err();

    assert_eq!(
        error,
        CircuitRegistryError::Full {
            key: "twilio:+447700900789".into(),
            max_keys: 2,
        }
    );
    assert_eq!(registry.len(), 2);
    assert!(registry.get("twilio:+447700900789").is_none());
}

#[test]
fn full_registry_still_serves_known_keys() {
    let registry = registry(2);
    fail(&registry, "a", 1);
    fail(&registry, "b", 1);
    assert!(registry.breaker("c").is_err());

    let known = registry.breaker("a").unwrap();

    assert_eq!(known.consecutive_failures(), 1);
}

#[test]
fn full_registry_drops_idle_breaker() {
    let registry = registry(2);
    registry.breaker("idle").unwrap();
    fail(&registry, "failing", 1);

    let new = registry.breaker("new").unwrap();

    assert_eq!(new.state(), CircuitState::Closed);
    assert_eq!(registry.len(), 2);
    assert!(registry.get("idle").is_none());
    assert!(registry.get("failing").is_some());
}

#[test]
fn breaker_in_use_is_not_dropped() {
    let registry = registry(2);
    let in_use = registry.breaker("in-use").unwrap();
    fail(&registry, "failing", 1);

    let result = registry.breaker("new");

    assert!(matches!(result, Err(CircuitRegistryError::Full { .. })));
    assert!(registry.get("in-use").is_some());
    drop(in_use);
    assert!(registry.breaker("new").is_ok());
    assert!(registry.get("in-use").is_none());
}

#[test]
fn full_error_becomes_transient() {
    let error = CircuitRegistryError::Full {
        key: "twilio:+447700900123".into(),
        max_keys: 2,
    };

    let channel_error = ChannelError::from(error);

    assert_eq!(channel_error.class(), ErrorClass::Transient);
    assert!(channel_error.message().contains("twilio:+447700900123"));
}
