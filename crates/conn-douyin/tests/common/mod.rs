//! Helpers shared by the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;
use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::token::{MemoryTokenStore, TokenKey, TokenStore};
use conn_core::transport::TransportConfig;
use conn_douyin::fake::{FakeDouyin, ALL_SCOPES};
use conn_douyin::{Client, Config};

pub const MIB: u64 = 1024 * 1024;

/// A client logged in to the fake as its default user with every scope.
pub async fn logged_in(fake: &FakeDouyin) -> (Client, String, MemoryTokenStore) {
    logged_in_with(fake, fake.config()).await
}

pub async fn logged_in_with(
    fake: &FakeDouyin,
    config: Config,
) -> (Client, String, MemoryTokenStore) {
    let store = MemoryTokenStore::new();
    let client = Client::builder(config)
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();
    let code = fake.issue_code(fake.open_id(), ALL_SCOPES);
    let account = client.exchange_code(&code).await.unwrap();
    (client, account.open_id, store)
}

/// Fast retries without jitter, for wiremock tests.
pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_jitter(Jitter::None)
        .with_attempt_limit(attempts)
        .with_base_delay(Duration::from_millis(5))
        .with_max_delay(Duration::from_millis(20))
}

/// A client with a fixed token against any server.
pub fn fixed_token_client(base: &str, attempt_timeout: Duration, retry: RetryPolicy) -> Client {
    let cfg = Config::builder()
        .access_token("act.fixed-token-for-tests")
        .default_open_id("open-1")
        .base_url(base)
        .transport(
            TransportConfig::new(base)
                .unwrap()
                .with_attempt_timeout(attempt_timeout)
                .with_retry(retry),
        )
        .build()
        .unwrap();
    Client::new(cfg).unwrap()
}

pub async fn stored(store: &MemoryTokenStore, open_id: &str) -> Option<conn_core::token::TokenSet> {
    store.load(&TokenKey::new("douyin", open_id)).await.unwrap()
}

/// The Douyin resource-API success envelope around `data`.
pub fn api_ok(data: serde_json::Value) -> serde_json::Value {
    let mut d = data;
    d["error_code"] = 0.into();
    d["description"] = "".into();
    serde_json::json!({
        "data": d,
        "extra": {"error_code": 0, "description": "", "sub_error_code": 0, "sub_description": "", "logid": "LOG-OK", "now": 0}
    })
}

/// The resource-API error envelope.
pub fn api_err(code: i64, logid: &str) -> serde_json::Value {
    serde_json::json!({
        "data": {"error_code": code, "description": "failure"},
        "extra": {"error_code": code, "description": "failure", "sub_error_code": 0, "sub_description": "", "logid": logid, "now": 0}
    })
}
