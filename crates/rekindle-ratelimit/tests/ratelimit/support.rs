//! Shared helpers: the test Redis server and unreachable servers on loopback.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use rekindle_ratelimit::RedisConfig;

/// Environment variable naming the Redis server for tests, such as `redis://127.0.0.1:6379`.
pub const TEST_REDIS_ENV: &str = "REKINDLE_TEST_REDIS_URL";

/// Timeout for tests that expect Redis to reply. It is far above a loopback
/// round trip so that a busy machine does not push a check into the fallback.
pub const GENEROUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Upper bound for a check against an unreachable server, well above the
/// 100 ms timeout those tests configure: a check that takes longer hangs.
pub const HANG_BOUND: Duration = Duration::from_secs(5);

/// The test Redis server, with a key prefix no other test uses.
pub struct TestRedis {
    pub url: String,
    pub prefix: String,
}

impl TestRedis {
    /// Returns `None`, after printing why, when `REKINDLE_TEST_REDIS_URL` is unset.
    pub fn from_env(test: &str) -> Option<Self> {
        let Ok(url) = std::env::var(TEST_REDIS_ENV) else {
            eprintln!(
                "skipped {test}: {TEST_REDIS_ENV} is not set, so no Redis server is available"
            );
            return None;
        };

        let prefix = format!("rekindle-test:{}:", uuid::Uuid::new_v4().simple());
        Some(Self { url, prefix })
    }

    /// Returns a configuration with this test's prefix and a timeout Redis always meets.
    pub fn config(&self) -> RedisConfig {
        RedisConfig {
            key_prefix: self.prefix.clone(),
            timeout: GENEROUS_TIMEOUT,
            ..RedisConfig::default()
        }
    }

    /// Opens a plain connection for inspecting keys.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url.as_str()).expect("valid test Redis URL");
        client
            .get_multiplexed_async_connection()
            .await
            .expect("test Redis reachable")
    }

    /// Lists every key under this test's prefix.
    pub async fn keys(&self) -> Vec<String> {
        let mut connection = self.connection().await;
        let mut keys = Vec::new();
        let mut cursor = 0_u64;

        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut connection)
                .await
                .expect("SCAN succeeds");
            keys.extend(batch);

            if next == 0 {
                return keys;
            }
            cursor = next;
        }
    }

    /// Returns the remaining time to live of `key` in milliseconds (-2: no key, -1: no expiry).
    pub async fn pttl(&self, key: &str) -> i64 {
        let mut connection = self.connection().await;
        redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut connection)
            .await
            .expect("PTTL succeeds")
    }

    /// Deletes every key under this test's prefix.
    pub async fn cleanup(self) {
        let keys = self.keys().await;
        if keys.is_empty() {
            return;
        }

        let mut connection = self.connection().await;
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut connection)
            .await
            .expect("DEL succeeds");
    }
}

/// Returns a loopback URL with nothing listening, so connecting is refused.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("bound address");
    drop(listener);
    format!("redis://{address}")
}

/// Binds a loopback listener that never accepts or replies: connecting
/// succeeds in the kernel, but no Redis reply ever arrives. Keep it alive
/// for the test.
pub fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address: SocketAddr = listener.local_addr().expect("bound address");
    (listener, format!("redis://{address}"))
}

/// Returns a configuration for unreachable servers, with the default 100 ms timeout.
pub fn unreachable_config() -> RedisConfig {
    RedisConfig {
        key_prefix: format!("rekindle-test:{}:", uuid::Uuid::new_v4().simple()),
        ..RedisConfig::default()
    }
}
