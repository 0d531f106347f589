//! Transport settings: base URL, timeouts, body cap, retry policy.

use std::time::Duration;

use http::header::HeaderName;

use crate::env::Env;
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// Default response body cap: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Transport settings. [`TransportConfig::from_env`] reads `API_TIMEOUT` and the retry variables.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Base URL; request paths are appended to it (its own path is kept).
    pub base_url: url::Url,
    /// TCP+TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one attempt: sending, waiting and reading the whole body.
    pub attempt_timeout: Duration,
    /// Limit on the whole operation, retries and delays included. `None`: only the retry
    /// policy's total-time limit applies.
    pub operation_deadline: Option<Duration>,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Largest response body read; a larger one is a [`Error::BodyTooLarge`].
    pub max_body_bytes: usize,
    /// Retry policy for operations that do not override it.
    pub retry: RetryPolicy,
    /// Response headers that carry a request/log id, for errors without an envelope.
    pub request_id_headers: Vec<HeaderName>,
}

impl TransportConfig {
    /// Defaults for a base URL: 10 s connect, 30 s per attempt, 8 MiB body cap, default retry.
    pub fn new(base_url: &str) -> Result<Self> {
        Ok(Self {
            base_url: parse_base_url(base_url, None)?,
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
            operation_deadline: None,
            user_agent: concat!("connectors/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            retry: RetryPolicy::default(),
            request_id_headers: vec![
                HeaderName::from_static("x-tt-logid"),
                HeaderName::from_static("x-request-id"),
            ],
        })
    }

    /// Defaults with `API_TIMEOUT` and `API_MAX_RETRIES`/`API_RETRY_DELAY`/`API_RETRY_STRATEGY`
    /// applied. `base_url_var` names the variable the base URL came from, for error messages.
    pub fn from_env(env: &Env, base_url: &str, base_url_var: Option<&str>) -> Result<Self> {
        let mut cfg = Self {
            base_url: parse_base_url(base_url, base_url_var)?,
            ..Self::new("http://127.0.0.1")?
        };
        if let Some(t) = env.seconds("API_TIMEOUT")? {
            if t.is_zero() {
                return Err(Error::config_var(
                    "API_TIMEOUT",
                    "expected a timeout above 0 seconds",
                ));
            }
            cfg.attempt_timeout = t;
        }
        cfg.retry = RetryPolicy::from_env(env)?;
        Ok(cfg)
    }

    /// Sets the per-attempt timeout.
    pub fn with_attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = d;
        self
    }

    /// Sets the whole-operation deadline.
    pub fn with_operation_deadline(mut self, d: Option<Duration>) -> Self {
        self.operation_deadline = d;
        self
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets the body cap.
    pub fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, p: RetryPolicy) -> Self {
        self.retry = p;
        self
    }

    /// Sets the user agent.
    pub fn with_user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
}

/// Parses and checks a base URL (http or https, no query or fragment).
pub fn parse_base_url(s: &str, var: Option<&str>) -> Result<url::Url> {
    let err = |msg: String| match var {
        Some(v) => Error::config_var(v, msg),
        None => Error::validation("base_url", msg),
    };
    let u = url::Url::parse(s.trim()).map_err(|e| err(format!("not a valid URL ({e}): {s:?}")))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(err(format!("expected an http or https URL, got {s:?}")));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(err(format!("a base URL takes no query or fragment: {s:?}")));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert!(parse_base_url("ftp://x", Some("X_BASE_URL"))
            .unwrap_err()
            .to_string()
            .contains("X_BASE_URL"));
        assert!(parse_base_url("https://x/?a=1", None).is_err());
        assert!(parse_base_url("https://open.douyin.com", None).is_ok());
    }
}
