//! Stored alerts for provider circuits. When a provider's circuit opens, an
//! operator must hear of it: the observer stores a critical alert (and the
//! breaker logs an error). The breaker calls observers synchronously, so the
//! store write runs in a task of its own and a slow database never delays a send.

use std::sync::Arc;

use chrono::Utc;
use rekindle_channels::{ChannelError, CircuitObserver};
use rekindle_domain::AlertSeverity;
use rekindle_store::{NewAlert, Store};

/// Stores an alert when a circuit opens, and an informational one when it closes.
pub struct AlertingObserver {
    store: Arc<dyn Store>,
}

impl AlertingObserver {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    fn store_alert(&self, alert: NewAlert) {
        let store = self.store.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(kind = %alert.kind, "no async runtime to store the circuit alert");
            return;
        };
        runtime.spawn(async move {
            let result = async {
                let mut tx = store.begin_system("circuit").await?;
                tx.insert_alert(&alert, Utc::now()).await?;
                tx.commit().await
            }
            .await;
            if let Err(error) = result {
                tracing::error!(%error, kind = %alert.kind, "storing the circuit alert failed");
            }
        });
    }
}

impl CircuitObserver for AlertingObserver {
    fn on_open(&self, key: &str, consecutive_failures: u32, last_error: &ChannelError) {
        self.store_alert(NewAlert {
            account_id: None,
            severity: AlertSeverity::Critical,
            kind: "circuit_open".into(),
            message: format!(
                "provider circuit {key} opened after {consecutive_failures} failures in a row; sends wait until it recovers. Last error ({}): {}",
                last_error.class(),
                last_error.message()
            ),
        });
    }

    fn on_close(&self, key: &str) {
        self.store_alert(NewAlert {
            account_id: None,
            severity: AlertSeverity::Info,
            kind: "circuit_closed".into(),
            message: format!("provider circuit {key} closed: the provider responds again"),
        });
    }
}
