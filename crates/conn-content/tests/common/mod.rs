//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::transport::TransportConfig;
use serde_json::Value;

/// `cfg` with its transport settings changed by `f` (retry policy, timeouts).
pub fn tuned(
    cfg: conn_content::Config,
    f: impl FnOnce(TransportConfig) -> TransportConfig,
) -> conn_content::Config {
    let t = f(cfg.transport().clone());
    cfg.with_transport(t)
}

/// Headers left out of snapshots: they vary with the port, the crate version or the body size.
/// A request as a snapshot value: conn-core's one redacting view, with the fake's secrets
/// masked wherever they appear and the idempotency key (random per publish) as `[varies]`.
/// The Xiaohongshu `sign` is shown: under the fixed clock it is the value the snapshot pins.
pub fn request_snapshot(
    req: &wiremock::Request,
    secrets: &[&str],
    key_header: Option<&str>,
) -> Value {
    let varying: Vec<&str> = key_header.into_iter().collect();
    conn_core::fake::Describe {
        secrets,
        varying: &varying,
        shown: &["sign", "appId"],
    }
    .request(req)
}

/// A retry policy with millisecond delays and no jitter.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(5))
        .with_jitter(Jitter::None)
}

/// Every secret the fake's test credentials may hold, for redaction and log checks.
pub fn secrets_of(creds: &conn_content::Credentials) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = &creds.access_token {
        out.push(t.expose_secret().to_owned());
    }
    if let Some(k) = &creds.api_key {
        out.push(k.expose_secret().to_owned());
    }
    if let Some(s) = &creds.app_secret {
        out.push(s.expose_secret().to_owned());
    }
    out
}
