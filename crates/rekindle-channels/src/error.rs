//! The error every transport returns, classified for the retry policy.

use std::time::Duration;

use rekindle_domain::ErrorClass;

/// A failed send, with the class that decides whether and when to retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// A failure that may pass on its own (a timeout, a full disk, a provider
    /// outage). Retry with backoff.
    #[error("transient failure: {message}")]
    Transient { message: String },

    /// The provider asked us to slow down. Retry after `retry_after` when the
    /// provider gave it, else with backoff.
    #[error("rate limited: {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },

    /// The circuit breaker rejected the call, so the provider was not called.
    /// Retry after `retry_after`, when the circuit half-opens.
    #[error("provider unavailable: {message}")]
    CircuitOpen {
        retry_after: Option<Duration>,
        message: String,
    },

    /// A failure that a retry cannot fix (a rejected recipient, a missing
    /// permission). Do not retry.
    #[error("permanent failure: {message}")]
    Permanent { message: String },

    /// The message itself is invalid. Do not retry; fix the message.
    #[error("invalid input: {message}")]
    InvalidInput { message: String },
}

impl ChannelError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
        }
    }

    pub fn rate_limited(retry_after: Option<Duration>, message: impl Into<String>) -> Self {
        Self::RateLimited {
            retry_after,
            message: message.into(),
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
        }
    }

    /// Returns the class that the job runner's retry policy uses.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Transient { .. } => ErrorClass::Transient,
            Self::RateLimited { .. } | Self::CircuitOpen { .. } => ErrorClass::RateLimited,
            Self::Permanent { .. } => ErrorClass::Permanent,
            Self::InvalidInput { .. } => ErrorClass::InvalidInput,
        }
    }

    /// Returns the wait the provider or the circuit breaker asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::CircuitOpen { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// Returns true when the provider was never called, so waiting costs the
    /// message nothing and should not count as a failed attempt.
    pub fn provider_not_called(&self) -> bool {
        matches!(self, Self::CircuitOpen { .. })
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Transient { message }
            | Self::RateLimited { message, .. }
            | Self::CircuitOpen { message, .. }
            | Self::Permanent { message }
            | Self::InvalidInput { message } => message,
        }
    }
}

/// A transport setting that cannot work, found when the transport is built,
/// before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportConfigError {
    #[error("{provider} base URL {url:?} is invalid: {reason}")]
    InvalidBaseUrl {
        provider: &'static str,
        url: String,
        reason: String,
    },

    #[error("{provider} setting {field} is invalid: {reason}")]
    InvalidSetting {
        provider: &'static str,
        field: &'static str,
        reason: String,
    },

    #[error(
        "plaintext SMTP is allowed only to a loopback host (127.0.0.1, ::1 or localhost), \
         not to {host:?}: use STARTTLS or implicit TLS"
    )]
    PlaintextToRemoteHost { host: String },

    #[error("{provider} HTTP client could not be built: {reason}")]
    HttpClient {
        provider: &'static str,
        reason: String,
    },
}

impl TransportConfigError {
    pub(crate) fn invalid_setting(
        provider: &'static str,
        field: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Self::InvalidSetting {
            provider,
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_and_retry_after() {
        let limited =
            ChannelError::rate_limited(Some(Duration::from_secs(30)), "429 from provider");
        assert_eq!(limited.class(), ErrorClass::RateLimited);
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(limited.message(), "429 from provider");

        let permanent = ChannelError::permanent("recipient rejected");
        assert_eq!(permanent.class(), ErrorClass::Permanent);
        assert_eq!(permanent.retry_after(), None);
        assert!(!permanent.class().is_retryable());

        assert_eq!(ChannelError::transient("x").class(), ErrorClass::Transient);
        assert_eq!(
            ChannelError::invalid_input("x").class(),
            ErrorClass::InvalidInput
        );
    }
}
