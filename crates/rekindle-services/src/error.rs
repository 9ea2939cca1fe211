use rekindle_domain::ErrorClass;
use rekindle_store::StoreError;

/// Errors of the service layer, classified so that jobs know whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(String),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Import(#[from] rekindle_import::ImportError),
    #[error("{message}")]
    Classified { class: ErrorClass, message: String },
    /// The work is not due yet (a send outside the lead's window): run it
    /// again at `until`, without counting an attempt.
    #[error("deferred until {until}: {reason}")]
    Deferred {
        until: chrono::DateTime<chrono::Utc>,
        reason: String,
    },
    /// A provider asked us to slow down and said for how long (`Retry-After`).
    #[error("{message}")]
    Throttled {
        message: String,
        retry_after: std::time::Duration,
    },
}

impl ServiceError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        ServiceError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            ServiceError::Invalid(_) | ServiceError::Import(_) => ErrorClass::InvalidInput,
            ServiceError::NotFound { .. } => ErrorClass::Permanent,
            ServiceError::Store(error) if error.is_transient() => ErrorClass::Transient,
            ServiceError::Store(StoreError::Database(_)) => ErrorClass::Transient,
            ServiceError::Store(_) => ErrorClass::Permanent,
            ServiceError::Classified { class, .. } => *class,
            ServiceError::Throttled { .. } => ErrorClass::RateLimited,
            ServiceError::Deferred { .. } => ErrorClass::Transient,
        }
    }

    /// Returns the wait a provider asked for, when it gave one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ServiceError::Throttled { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}
