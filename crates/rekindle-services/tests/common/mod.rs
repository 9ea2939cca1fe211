//! Shared set-up for the service tests: an `App` over a test store.

use std::path::PathBuf;

use rekindle_services::{App, AppSettings};
use rekindle_store_conformance::Harness;

pub const TEST_KEY: &[u8] = b"test-master-key-0123456789abcdef-0123456789";

pub fn app(harness: &Harness, outbox: PathBuf) -> App {
    App::with_outbox(harness.store(), outbox, TEST_KEY, AppSettings::default()).expect("app")
}

/// Returns the folder of the CSV fixtures and their expected results.
#[allow(dead_code, reason = "not every test binary reads the fixtures")]
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rekindle-import/tests/fixtures")
}

/// Runs `$body` once on SQLite and once on PostgreSQL (when configured).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident => $check:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let harness = rekindle_store_conformance::Harness::sqlite().await;
                super::$check(&harness).await;
                harness.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(harness) = rekindle_store_conformance::Harness::postgres(concat!(stringify!($name), "::postgres")).await else {
                    return;
                };
                super::$check(&harness).await;
                harness.finish().await;
            }
        }
    )*};
}
