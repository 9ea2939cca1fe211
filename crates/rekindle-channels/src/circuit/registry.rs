//! Breakers by key, created on first use, with a bounded number of keys.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::error;

use super::{
    CircuitBreaker, CircuitConfig, CircuitObserver, CircuitRegistryError, CircuitState, Clock,
    TokioClock,
};

/// Default maximum number of breakers in a registry. Keys are providers and
/// sending identities (numbers, sender addresses), which a deployment has
/// far fewer of, so the bound only stops a bug or a flood of new senders
/// from growing memory without limit.
pub const DEFAULT_MAX_CIRCUIT_KEYS: NonZeroUsize = NonZeroUsize::new(10_000).expect("not zero");

/// The breakers of all providers and sending identities, keyed by a string
/// such as `sendgrid` or `twilio:+447700900123`.
///
/// A breaker is created closed on first use. When the registry is full, it
/// makes room by dropping an idle breaker: one that is closed, has no
/// failures counted and is not in use by a call. A new breaker for that key
/// starts in the same state, so dropping it loses nothing.
pub struct CircuitRegistry {
    config: CircuitConfig,
    max_keys: NonZeroUsize,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn CircuitObserver>,
    inner: Mutex<Inner>,
}

struct Inner {
    breakers: HashMap<String, Arc<CircuitBreaker>>,
    /// True after the full registry was logged, so that a run of rejected
    /// keys logs one error, not one per call.
    full_reported: bool,
}

impl CircuitRegistry {
    /// Creates an empty registry whose breakers use `config`, report to
    /// `observer`, read `TokioClock` and number at most
    /// `DEFAULT_MAX_CIRCUIT_KEYS`.
    pub fn new(config: CircuitConfig, observer: Arc<dyn CircuitObserver>) -> Self {
        Self {
            config,
            max_keys: DEFAULT_MAX_CIRCUIT_KEYS,
            clock: Arc::new(TokioClock),
            observer,
            inner: Mutex::new(Inner {
                breakers: HashMap::new(),
                full_reported: false,
            }),
        }
    }

    pub fn with_max_keys(mut self, max_keys: NonZeroUsize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Replaces the clock of the breakers created from now on.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn max_keys(&self) -> usize {
        self.max_keys.get()
    }

    pub fn len(&self) -> usize {
        self.lock().breakers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the breaker for `key`, creating it closed on first use.
    ///
    /// # Errors
    ///
    /// `CircuitRegistryError::Full` when the registry contains `max_keys`
    /// breakers and none of them can be dropped.
    pub fn breaker(&self, key: &str) -> Result<Arc<CircuitBreaker>, CircuitRegistryError> {
        let (result, newly_full) = self.find_or_insert(key);

        if newly_full {
            error!(
                circuit_key = %key,
                max_keys = self.max_keys.get(),
                "circuit registry is full, calls for new keys are rejected"
            );
        }
        result
    }

    /// Returns the breaker for `key` without creating one.
    pub fn get(&self, key: &str) -> Option<Arc<CircuitBreaker>> {
        self.lock().breakers.get(key).cloned()
    }

    /// Returns the keys and states of all breakers that are not closed, for
    /// a readiness check. The order is unspecified.
    pub fn unhealthy(&self) -> Vec<(String, CircuitState)> {
        let breakers: Vec<Arc<CircuitBreaker>> = self.lock().breakers.values().cloned().collect();

        breakers
            .iter()
            .map(|breaker| (breaker.key().to_owned(), breaker.state()))
            .filter(|(_, state)| *state != CircuitState::Closed)
            .collect()
    }

    /// Finds or inserts the breaker. Also returns true when this call found
    /// the registry full for the first time since the last insert.
    fn find_or_insert(
        &self,
        key: &str,
    ) -> (Result<Arc<CircuitBreaker>, CircuitRegistryError>, bool) {
        let mut inner = self.lock();

        if let Some(breaker) = inner.breakers.get(key) {
            return (Ok(Arc::clone(breaker)), false);
        }

        if inner.breakers.len() >= self.max_keys.get() && !evict_idle(&mut inner.breakers) {
            let newly_full = !inner.full_reported;
            inner.full_reported = true;
            let error = CircuitRegistryError::Full {
                key: key.to_owned(),
                max_keys: self.max_keys.get(),
            };
            return (Err(error), newly_full);
        }

        let breaker = Arc::new(
            CircuitBreaker::new(key, self.config, Arc::clone(&self.observer))
                .with_clock(Arc::clone(&self.clock)),
        );
        inner.breakers.insert(key.to_owned(), Arc::clone(&breaker));
        inner.full_reported = false;
        (Ok(breaker), false)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change to `Inner` is one map operation or one assignment, so
        // a poisoned lock still guards a consistent map.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops one idle breaker (closed, no failures, not in use) and returns
/// whether it found one. It scans the whole map, but only when the registry
/// is full.
fn evict_idle(breakers: &mut HashMap<String, Arc<CircuitBreaker>>) -> bool {
    // A strong count of 1 means only the map refers to the breaker, so no
    // call can record an outcome on it after it is gone. No other thread can
    // clone it meanwhile, because cloning needs the registry lock.
    let idle_key = breakers
        .iter()
        .find(|(_, breaker)| {
            Arc::strong_count(breaker) == 1
                && breaker.state() == CircuitState::Closed
                && breaker.consecutive_failures() == 0
        })
        .map(|(key, _)| key.clone());

    match idle_key {
        Some(key) => breakers.remove(&key).is_some(),
        None => false,
    }
}

impl fmt::Debug for CircuitRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitRegistry")
            .field("config", &self.config)
            .field("max_keys", &self.max_keys)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
