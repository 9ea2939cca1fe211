use rekindle_domain::status::UnknownVariant;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid stored value: {0}")]
    Corrupt(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl StoreError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// Checks whether retrying the same transaction may succeed (lock contention,
    /// serialisation failure, lost connection).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(source) => {
                let text = source.to_string();
                text.contains("database is locked")
                    || text.contains("could not serialize")
                    || text.contains("deadlock detected")
                    || text.contains("connection")
                    || text.contains("pool timed out")
            }
            _ => false,
        }
    }
}

impl From<UnknownVariant> for StoreError {
    fn from(value: UnknownVariant) -> Self {
        StoreError::Corrupt(value.to_string())
    }
}
