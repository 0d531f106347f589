//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use serde_json::{json, Value};

/// Headers left out of snapshots: they vary with the port, the crate version or the body size.
const UNSTABLE_HEADERS: [&str; 3] = ["host", "user-agent", "content-length"];

/// Replaces every occurrence of a secret in a JSON value by `[secret]`.
fn redact_value(v: &mut Value, secrets: &[&str]) {
    match v {
        Value::String(s) if secrets.iter().any(|x| s.contains(x)) => {
            *s = "[secret]".into();
        }
        Value::Array(a) => a.iter_mut().for_each(|x| redact_value(x, secrets)),
        Value::Object(o) => o.values_mut().for_each(|x| redact_value(x, secrets)),
        _ => {}
    }
}

/// A request as a snapshot value: method, path, query, headers (secrets and idempotency keys
/// redacted), body (secrets redacted).
pub fn request_snapshot(
    req: &wiremock::Request,
    secrets: &[&str],
    key_header: Option<&str>,
) -> Value {
    let mut headers = BTreeMap::new();
    for (name, value) in &req.headers {
        let n = name.as_str();
        if UNSTABLE_HEADERS.contains(&n) {
            continue;
        }
        let v = value.to_str().unwrap_or("[binary]");
        let shown = if secrets.iter().any(|s| v.contains(s)) {
            "[secret]".to_owned()
        } else if key_header.is_some_and(|k| k.eq_ignore_ascii_case(n)) {
            "[idempotency-key]".to_owned()
        } else {
            v.to_owned()
        };
        headers.insert(n.to_owned(), shown);
    }
    let mut body = if req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&req.body).expect("JSON body")
    };
    redact_value(&mut body, secrets);
    let query: BTreeMap<String, String> = req.url.query_pairs().into_owned().collect();
    json!({
        "method": req.method.as_str(),
        "path": req.url.path(),
        "query": query,
        "headers": headers,
        "body": body,
    })
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
