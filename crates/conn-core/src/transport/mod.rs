//! The HTTP layer every connector uses: one reused reqwest `Client`, timeouts, a body cap,
//! retries by the decision table, a platform envelope check, and one tracing span per operation.
//!
//! A platform crate builds a [`Transport`] once with its [`EnvelopeDecoder`] and sends
//! [`Request`]s through it. A request names its operation and declares its
//! [`Idempotency`](crate::retry::Idempotency);
//! POST constructors take it as an argument so no write goes out without a decision.
//!
//! ```no_run
//! use conn_core::transport::{Transport, TransportConfig, Request, NoEnvelope};
//! use conn_core::retry::Idempotency;
//! # async fn demo() -> conn_core::Result<()> {
//! let t = Transport::new("example", TransportConfig::new("https://api.example.com")?, NoEnvelope)?;
//! #[derive(serde::Deserialize)]
//! struct Pong { ok: bool }
//! let pong: Pong = t.execute_json(&Request::get("ping", "/ping")).await?;
//! let created = t
//!     .execute(&Request::post("create", "/things", Idempotency::NonIdempotent).json(&serde_json::json!({"a": 1}))?)
//!     .await?;
//! # let _ = (pong.ok, created); Ok(()) }
//! ```
//!
//! The module is split along its seams: [`TransportConfig`] (settings), [`Request`] (what is
//! sent), [`Response`] and the envelope hook (what comes back), and the retry/attempt loop that
//! joins them.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::stats::{self, PlatformStats};

mod config;
mod execute;
mod request;
mod response;

pub use config::{parse_base_url, TransportConfig, DEFAULT_MAX_BODY_BYTES};
pub use request::{AttemptHook, Body, MultipartPart, Request};
pub use response::{EnvelopeDecoder, NoEnvelope, Response, ResponseParts};

/// The HTTP layer of one connector. Clones share the client, settings and counters.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    platform: Cow<'static, str>,
    cfg: TransportConfig,
    envelope: Arc<dyn EnvelopeDecoder>,
    stats: Arc<PlatformStats>,
    hook: Option<Arc<dyn AttemptHook>>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("platform", &self.inner.platform)
            .field("base_url", &self.inner.cfg.base_url.as_str())
            .field("envelope", &self.inner.envelope)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Builds the transport and its reqwest client.
    pub fn new(
        platform: impl Into<Cow<'static, str>>,
        cfg: TransportConfig,
        envelope: impl EnvelopeDecoder + 'static,
    ) -> Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .user_agent(cfg.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self::with_client(platform, cfg, envelope, client))
    }

    /// Builds the transport over `client` when one is given (a platform `ClientBuilder`'s
    /// `http_client`), else with a client of its own ([`Transport::new`]): the one place the
    /// platform clients make that choice.
    pub fn with_optional_client(
        platform: impl Into<Cow<'static, str>>,
        cfg: TransportConfig,
        envelope: impl EnvelopeDecoder + 'static,
        client: Option<reqwest::Client>,
    ) -> Result<Self> {
        match client {
            Some(c) => Ok(Self::with_client(platform, cfg, envelope, c)),
            None => Self::new(platform, cfg, envelope),
        }
    }

    /// Builds the transport over an existing client (to share a connection pool).
    pub fn with_client(
        platform: impl Into<Cow<'static, str>>,
        cfg: TransportConfig,
        envelope: impl EnvelopeDecoder + 'static,
        client: reqwest::Client,
    ) -> Self {
        let platform = platform.into();
        let stats = stats::for_platform(&platform);
        Self {
            inner: Arc::new(Inner {
                client,
                platform,
                cfg,
                envelope: Arc::new(envelope),
                stats,
                hook: None,
            }),
        }
    }

    /// The same transport (client, settings, counters) with a hook run before every attempt.
    pub fn with_attempt_hook(self, hook: Arc<dyn AttemptHook>) -> Self {
        let i = &self.inner;
        Self {
            inner: Arc::new(Inner {
                client: i.client.clone(),
                platform: i.platform.clone(),
                cfg: i.cfg.clone(),
                envelope: i.envelope.clone(),
                stats: i.stats.clone(),
                hook: Some(hook),
            }),
        }
    }

    /// Platform name.
    pub fn platform(&self) -> &str {
        &self.inner.platform
    }

    /// The settings.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.cfg
    }

    /// This platform's counters.
    pub fn stats(&self) -> &Arc<PlatformStats> {
        &self.inner.stats
    }

    /// The underlying client.
    pub fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// The full URL of a path (base URL path kept; an absolute URL is used as is).
    pub fn url_for(&self, path: &str, query: &[(String, String)]) -> Result<url::Url> {
        let mut u = if path.starts_with("http://") || path.starts_with("https://") {
            url::Url::parse(path)
                .map_err(|e| Error::validation("path", format!("not a valid URL: {e}")))?
        } else {
            // Only the path changes per call: reuse the parsed base (scheme, host, port) instead
            // of parsing the host again.
            let base = &self.inner.cfg.base_url;
            let mut u = base.clone();
            let (rel, query) = match path.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (path, None),
            };
            let joined = format!(
                "{}/{}",
                base.path().trim_end_matches('/'),
                rel.trim_start_matches('/')
            );
            u.set_path(&joined);
            u.set_query(query);
            u
        };
        if !query.is_empty() {
            u.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(u)
    }
}
