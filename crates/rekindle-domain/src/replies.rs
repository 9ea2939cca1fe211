//! Reply classification (offline, rule based).
