//! The HTTP layer every connector uses: one reused reqwest `Client`, timeouts, a body cap,
//! retries by the decision table, a platform envelope check, and one tracing span per operation.
//!
//! A platform crate builds a [`Transport`] once with its [`EnvelopeDecoder`] and sends
//! [`Request`]s through it. A request names its operation and declares its [`Idempotency`];
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

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Method, StatusCode};
use tokio::time::Instant;
use tracing::{field, Instrument, Span};

use crate::env::Env;
use crate::error::{
    decode_json, decode_json_secret, excerpt, Error, HttpError, OutcomeUnknown, Result, RetryClass,
    TransportError, TransportErrorKind,
};
use crate::retry::{
    classify, parse_retry_after, retry_tracked, GiveUpReason, Idempotency, RetryObserver,
    RetryPolicy,
};
use crate::secret::{sensitive_header, sensitive_header_str, Secret};
use crate::stats::{self, PlatformStats};

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

/// Response facts handed to an [`EnvelopeDecoder`].
#[derive(Debug, Clone, Copy)]
pub struct ResponseParts<'a> {
    /// Platform name.
    pub platform: &'a str,
    /// Operation name.
    pub operation: &'a str,
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: &'a HeaderMap,
    /// The whole (capped) body.
    pub body: &'a [u8],
}

impl ResponseParts<'_> {
    /// `Retry-After`, parsed (seconds or HTTP-date).
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after_of(self.headers)
    }
}

fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Turns a platform's error envelope into a typed error.
///
/// Called for every response, whatever its status, before the status is checked: platforms such
/// as Douyin answer errors with HTTP 200 and a code in the body. Return `None` when the body
/// carries no platform error; the transport then fails non-2xx statuses with an [`HttpError`].
pub trait EnvelopeDecoder: Send + Sync + fmt::Debug {
    /// The platform error in this response, if any.
    fn decode_error(&self, response: &ResponseParts<'_>) -> Option<Error>;
}

/// Runs before every attempt of every request (the first and each retry).
///
/// For work that must happen per attempt rather than per call: waiting for a client-side
/// rate-limiter slot (so retries are paced too), or signing with a fresh timestamp and nonce.
/// The hook may change the request (query, headers, body); an error stops the operation.
#[async_trait::async_trait]
pub trait AttemptHook: Send + Sync + fmt::Debug {
    /// Called with a copy of the request before attempt `attempt` (1-based) is sent.
    async fn before_attempt(&self, request: &mut Request, attempt: u32) -> Result<()>;
}

/// No envelope: only the HTTP status counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnvelope;

impl EnvelopeDecoder for NoEnvelope {
    fn decode_error(&self, _: &ResponseParts<'_>) -> Option<Error> {
        None
    }
}

/// One part of a multipart body. The data is `Bytes`, so rebuilding the form for a retry copies
/// nothing.
#[derive(Debug, Clone)]
pub struct MultipartPart {
    /// Field name.
    pub name: String,
    /// File name.
    pub file_name: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// The data.
    pub data: Bytes,
}

/// A request body.
#[derive(Debug, Clone, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// JSON, already serialised.
    Json(Bytes),
    /// `application/x-www-form-urlencoded`, already encoded.
    Form(String),
    /// Raw bytes with a content type.
    Bytes {
        /// Content type.
        content_type: String,
        /// Data.
        data: Bytes,
    },
    /// `multipart/form-data`.
    Multipart(Vec<MultipartPart>),
}

/// One operation's request. Cheap to clone; the transport sends the same request on every
/// attempt, so an idempotency key is generated once per logical call.
#[derive(Clone)]
pub struct Request {
    operation: Cow<'static, str>,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Body,
    idempotency: Idempotency,
    retry: Option<RetryPolicy>,
    attempt_timeout: Option<Duration>,
    context: Vec<(String, String)>,
    secret_response: bool,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query values may be ids; header values may be secrets (HeaderValue's Debug already
        // hides sensitive ones, but we print names only to be sure).
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "query",
                &self.query.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("idempotency", &self.idempotency)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A request with an explicit method and idempotency.
    pub fn new(
        operation: impl Into<Cow<'static, str>>,
        method: Method,
        path: impl Into<String>,
        idempotency: Idempotency,
    ) -> Self {
        Self {
            operation: operation.into(),
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::Empty,
            idempotency: Idempotency::NonIdempotent,
            retry: None,
            attempt_timeout: None,
            context: Vec::new(),
            secret_response: false,
        }
        .idempotency(idempotency)
    }

    /// A GET (idempotent).
    pub fn get(operation: impl Into<Cow<'static, str>>, path: impl Into<String>) -> Self {
        Self::new(operation, Method::GET, path, Idempotency::Idempotent)
    }

    /// A POST; the caller says whether it is idempotent.
    pub fn post(
        operation: impl Into<Cow<'static, str>>,
        path: impl Into<String>,
        idempotency: Idempotency,
    ) -> Self {
        Self::new(operation, Method::POST, path, idempotency)
    }

    /// Sets the idempotency; a [`Idempotency::Key`] also sets its header.
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        if let Idempotency::Key { header, key } = &idempotency {
            if let Ok(v) = HeaderValue::from_str(key) {
                self.headers.insert(header.clone(), v);
            }
        }
        self.idempotency = idempotency;
        self
    }

    /// Adds a query parameter (percent-encoded on the wire).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a plain header. Use [`Request::secret_header`] for anything secret.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Adds a header carrying a secret, marked sensitive.
    pub fn secret_header(mut self, name: HeaderName, secret: &Secret) -> Result<Self> {
        let v = sensitive_header(secret)
            .map_err(|_| Error::validation(name.as_str(), "secret is not a valid header value"))?;
        self.headers.insert(name, v);
        Ok(self)
    }

    /// `Authorization: Bearer <token>`, marked sensitive.
    pub fn bearer(mut self, token: &Secret) -> Result<Self> {
        let v = sensitive_header_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| Error::validation("authorization", "token is not a valid header value"))?;
        self.headers.insert(http::header::AUTHORIZATION, v);
        Ok(self)
    }

    /// A JSON body.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::validation("body", format!("cannot be serialised as JSON: {e}")))?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(self)
    }

    /// A form body.
    pub fn form<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let s = serde_urlencoded::to_string(body)
            .map_err(|e| Error::validation("body", format!("cannot be form-encoded: {e}")))?;
        self.body = Body::Form(s);
        Ok(self)
    }

    /// Any body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Overrides the retry policy for this operation.
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.retry = Some(p);
        self
    }

    /// Overrides the per-attempt timeout for this operation (uploads need longer).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }

    /// Marks the answer as holding secrets (a token endpoint): no error of this request keeps
    /// any part of the response body, neither an HTTP error's excerpt nor a decode error's.
    pub fn secret_response(mut self) -> Self {
        self.secret_response = true;
        self
    }

    /// True when [`Request::secret_response`] was set.
    pub fn is_secret_response(&self) -> bool {
        self.secret_response
    }

    /// True for a create ([`Idempotency::is_create`]): a non-idempotent or keyed request.
    pub fn is_create(&self) -> bool {
        self.idempotency.is_create()
    }

    /// Adds what a caller needs to check the outcome if it becomes unknown (`video_id`, …).
    pub fn outcome_context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.context.push((key.into(), value.into()));
        self
    }

    /// Query parameters, for in-place changes (request signers).
    pub fn query_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.query
    }

    /// Headers, for in-place changes (request signers). Keep secrets marked sensitive.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Replaces the body in place.
    pub fn set_body(&mut self, body: Body) {
        self.body = body;
    }

    /// The operation name.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Query parameters.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// Headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body_ref(&self) -> &Body {
        &self.body
    }

    /// The idempotency.
    pub fn idempotency_ref(&self) -> &Idempotency {
        &self.idempotency
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status (2xx).
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// Attempts it took.
    pub attempts: u32,
    /// Time spent waiting between attempts (backoff or the server's `Retry-After`).
    pub backoff: Duration,
    platform: Cow<'static, str>,
    operation: Cow<'static, str>,
    /// Set for the answer to a create: what an unknown outcome reports.
    create: Option<Box<CreateFacts>>,
    secret_body: bool,
}

/// What a create's answer must report if it cannot be read.
#[derive(Debug, Clone)]
struct CreateFacts {
    context: Vec<(String, String)>,
    idempotency_key: Option<String>,
}

impl Response {
    /// Decodes the body, keeping the failing JSON path and a redacted body excerpt on error
    /// (no excerpt at all for a [`Request::secret_response`]).
    ///
    /// The answer to a create that cannot be decoded is [`Error::OutcomeUnknown`], the decode
    /// error its source: the platform said "success" and may have done the work, so a resend
    /// could do it twice.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let (platform, operation) = (self.platform.clone(), self.operation.clone());
        self.outcome_of(if self.secret_body {
            decode_json_secret(platform, operation, &self.body)
        } else {
            decode_json(platform, operation, &self.body)
        })
    }

    /// Turns a failure to read this answer into an unknown outcome when it answers a create.
    /// Platform crates that check a success body themselves (a missing id, a shape serde cannot
    /// express) pass their error through here.
    pub fn outcome_of<T>(&self, result: Result<T>) -> Result<T> {
        match (result, &self.create) {
            (Err(e), Some(facts)) if !e.is_outcome_unknown() => {
                tracing::warn!(operation = %self.operation, "a create's success answer could not be read; outcome unknown");
                Err(
                    OutcomeUnknown::new(self.platform.clone(), self.operation.clone(), e)
                        .with_context(facts.context.clone())
                        .with_idempotency_key(facts.idempotency_key.clone())
                        .into(),
                )
            }
            (r, _) => r,
        }
    }

    /// True when this answers a create.
    pub fn is_create(&self) -> bool {
        self.create.is_some()
    }

    /// The operation this answers.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The platform.
    pub fn platform(&self) -> &str {
        &self.platform
    }
}

/// True when the failed attempt may have reached the server and acted: the decision table's
/// "maybe received" row, and a body over the cap (the server answered; what it said is unread).
fn maybe_received(e: &Error) -> bool {
    e.retry_class() == RetryClass::IdempotentOnly || matches!(e, Error::BodyTooLarge { .. })
}

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

    /// Sends a request with retries and returns the successful response.
    ///
    /// A create ([`Request::is_create`]) any of whose attempts may have reached the server comes
    /// back, if it finally fails, as [`Error::OutcomeUnknown`] carrying the request's outcome
    /// context, its idempotency key, the first "maybe received" cause and the last error.
    pub async fn execute(&self, req: &Request) -> Result<Response> {
        let inner = &self.inner;
        // DEBUG, as smithy-rs does: at the usual INFO level the span is disabled and costs
        // nothing; at DEBUG every field below is recorded.
        let span = tracing::debug_span!(
            "connector.request",
            platform = %inner.platform,
            operation = %req.operation,
            method = %req.method,
            path = %req.path,
            attempt = field::Empty,
            status = field::Empty,
            platform_code = field::Empty,
            latency_ms = field::Empty,
            outcome = field::Empty,
        );
        if span.is_disabled() {
            // No subscriber wants it: skip entering and leaving a dead span on every poll.
            self.execute_in(req, &span).await
        } else {
            self.execute_in(req, &span).instrument(span.clone()).await
        }
    }

    async fn execute_in(&self, req: &Request, span: &Span) -> Result<Response> {
        let inner = &self.inner;
        let start = Instant::now();
        inner.stats.record_call();
        let url = self.url_for(&req.path, &req.query)?;
        let mut policy = req.retry.clone().unwrap_or_else(|| inner.cfg.retry.clone());
        if let Some(d) = inner.cfg.operation_deadline {
            policy.total_time_limit = Some(policy.total_time_limit.map_or(d, |t| t.min(d)));
        }
        let deadline = inner.cfg.operation_deadline.map(|d| start + d);
        let idempotent = req.idempotency.is_idempotent();
        let mut observer = Observer {
            stats: &inner.stats,
            backoff: Duration::ZERO,
        };
        let result = retry_tracked(
            &policy,
            |e: &Error| classify(e, idempotent),
            maybe_received,
            &mut observer,
            // Boxed: the attempt future is large, and boxing it once is cheaper than moving
            // it through the retry loop's state machine.
            |attempt| Box::pin(self.attempt(req, &url, attempt, deadline, span)),
        )
        .await;
        span.record("latency_ms", start.elapsed().as_millis() as u64);
        match result {
            Ok(mut resp) => {
                inner.stats.record_success();
                span.record("outcome", "ok");
                resp.backoff = observer.backoff;
                Ok(resp)
            }
            Err(g) => {
                inner.stats.record_failure();
                if g.reason != GiveUpReason::NotRetryable {
                    inner.stats.record_give_up();
                }
                span.record("outcome", "error");
                let last_maybe_received = maybe_received(&g.error);
                let err = if g.reason == GiveUpReason::TimeLimit {
                    Error::DeadlineExceeded {
                        platform: inner.platform.clone(),
                        operation: req.operation.clone(),
                        limit: policy.total_time_limit.unwrap_or_default(),
                        elapsed: g.elapsed,
                        last: Some(Box::new(g.error)),
                    }
                } else {
                    g.error
                };
                // Once any attempt of a create may have been received, its failure is an
                // unknown outcome, whatever the later attempts said: a plain create must not be
                // resent, a keyed one only with the same key.
                if req.is_create() && (g.first_maybe_received.is_some() || last_maybe_received) {
                    let (first, last) = match g.first_maybe_received {
                        Some(first) => (first, Some(err)),
                        None => (err, None),
                    };
                    tracing::warn!(
                        attempts = g.attempts,
                        "a create failed after it may have been received; outcome unknown"
                    );
                    return Err(OutcomeUnknown::new(
                        inner.platform.clone(),
                        req.operation.clone(),
                        first,
                    )
                    .with_context(req.context.clone())
                    .with_idempotency_key(req.idempotency.key().map(str::to_owned))
                    .with_last(last)
                    .into());
                }
                tracing::debug!(attempts = g.attempts, reason = ?g.reason, error = %err, "operation failed");
                Err(err)
            }
        }
    }

    async fn attempt(
        &self,
        req: &Request,
        url: &url::Url,
        attempt: u32,
        deadline: Option<Instant>,
        span: &Span,
    ) -> Result<Response> {
        let inner = &self.inner;
        span.record("attempt", attempt);
        let (hooked, hooked_url);
        let (req, url) = match &inner.hook {
            None => (req, url),
            Some(hook) => {
                let mut r = req.clone();
                hook.before_attempt(&mut r, attempt).await?;
                hooked_url = self.url_for(&r.path, &r.query)?;
                hooked = r;
                (&hooked, &hooked_url)
            }
        };
        let mut timeout = req.attempt_timeout.unwrap_or(inner.cfg.attempt_timeout);
        if let Some(dl) = deadline {
            let left = dl.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Nothing was sent this attempt: the loop's time limit reports the deadline.
                return Err(self.timeout_error(false));
            }
            timeout = timeout.min(left);
        }
        let t0 = Instant::now();
        let builder = self.build(req, url)?;
        let max = inner.cfg.max_body_bytes;
        let platform = inner.platform.clone();
        let fut = async move {
            let mut resp = builder
                .send()
                .await
                .map_err(|e| map_reqwest(&platform, e, false))?;
            let status = resp.status();
            // Taken, not cloned: the body is read through the response without its headers.
            let headers = std::mem::take(resp.headers_mut());
            let body = read_capped(&platform, resp, max).await?;
            Ok::<_, Error>((status, headers, body))
        };
        let outcome = tokio::time::timeout(timeout, fut).await;
        let latency = t0.elapsed();
        let (status, headers, body) = match outcome {
            Err(_) => {
                tracing::debug!(attempt, ?latency, "attempt timed out");
                return Err(self.timeout_error(true));
            }
            Ok(Err(e)) => {
                tracing::debug!(attempt, ?latency, error = %e, "attempt failed");
                return Err(e);
            }
            Ok(Ok(parts)) => parts,
        };
        span.record("status", status.as_u16());
        tracing::debug!(
            attempt,
            status = status.as_u16(),
            latency_ms = latency.as_millis() as u64,
            bytes = body.len(),
            "response"
        );
        let parts = ResponseParts {
            platform: &inner.platform,
            operation: &req.operation,
            status,
            headers: &headers,
            body: &body,
        };
        if let Some(err) = inner.envelope.decode_error(&parts) {
            if let Some(code) = err.platform_code() {
                span.record("platform_code", code);
            }
            return Err(err);
        }
        if !status.is_success() {
            let log_id = inner.cfg.request_id_headers.iter().find_map(|h| {
                headers
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
            return Err(HttpError {
                platform: inner.platform.clone(),
                status,
                body_excerpt: if req.secret_response {
                    String::new()
                } else {
                    excerpt(&body)
                },
                retry_after: retry_after_of(&headers),
                log_id,
            }
            .into());
        }
        Ok(Response {
            status,
            headers,
            body,
            attempts: attempt,
            backoff: Duration::ZERO,
            platform: inner.platform.clone(),
            operation: req.operation.clone(),
            create: req.is_create().then(|| {
                Box::new(CreateFacts {
                    context: req.context.clone(),
                    idempotency_key: req.idempotency.key().map(str::to_owned),
                })
            }),
            secret_body: req.secret_response,
        })
    }

    /// Sends a request and decodes the JSON body into `T`.
    pub async fn execute_json<T: serde::de::DeserializeOwned>(&self, req: &Request) -> Result<T> {
        self.execute(req).await?.json()
    }

    fn timeout_error(&self, sent: bool) -> Error {
        TransportError {
            platform: self.inner.platform.clone(),
            kind: TransportErrorKind::Timeout,
            request_sent: sent,
            source: None,
        }
        .into()
    }

    fn build(&self, req: &Request, url: &url::Url) -> Result<reqwest::RequestBuilder> {
        let mut b = self
            .inner
            .client
            .request(req.method.clone(), url.clone())
            .headers(req.headers.clone());
        b = match &req.body {
            Body::Empty => b,
            Body::Json(bytes) => b
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(bytes.clone()),
            Body::Form(s) => b
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(s.clone()),
            Body::Bytes { content_type, data } => b
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_str(content_type).map_err(|_| {
                        Error::validation("content_type", "not a valid header value")
                    })?,
                )
                .body(data.clone()),
            Body::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                for p in parts {
                    let len = p.data.len() as u64;
                    let mut part = reqwest::multipart::Part::stream_with_length(
                        reqwest::Body::from(p.data.clone()),
                        len,
                    );
                    if let Some(f) = &p.file_name {
                        part = part.file_name(f.clone());
                    }
                    if let Some(ct) = &p.content_type {
                        part = part.mime_str(ct).map_err(|_| {
                            Error::validation(
                                format!("{}.content_type", p.name),
                                "not a valid MIME type",
                            )
                        })?;
                    }
                    form = form.part(p.name.clone(), part);
                }
                b.multipart(form)
            }
        };
        Ok(b)
    }
}

struct Observer<'a> {
    stats: &'a PlatformStats,
    backoff: Duration,
}

impl RetryObserver for Observer<'_> {
    fn on_attempt(&mut self, _attempt: u32) {
        self.stats.record_attempt();
    }
    fn on_retry(&mut self, attempt: u32, delay: Duration) {
        self.stats.record_retry();
        self.backoff = self.backoff.saturating_add(delay);
        tracing::info!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
    }
}

async fn read_capped(platform: &str, mut resp: reqwest::Response, max: usize) -> Result<Bytes> {
    let too_large = || Error::BodyTooLarge {
        platform: platform.to_owned().into(),
        limit: max as u64,
    };
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let cap = declared.map_or(8 * 1024, |n| n as usize).min(max);
    let mut buf = BytesMut::with_capacity(cap);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| map_reqwest(platform, e, true))?
    {
        if buf.len() + chunk.len() > max {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Classifies a reqwest error: did the request leave, and what kind of failure is it?
fn map_reqwest(platform: &str, e: reqwest::Error, reading_body: bool) -> Error {
    let (kind, sent) = if e.is_connect() {
        (TransportErrorKind::Connect, false)
    } else if e.is_builder() {
        (TransportErrorKind::Other, false)
    } else if e.is_timeout() {
        (TransportErrorKind::Timeout, true)
    } else if reading_body || e.is_body() || e.is_decode() || e.is_request() {
        (TransportErrorKind::Interrupted, true)
    } else {
        (TransportErrorKind::Other, true)
    };
    TransportError {
        platform: platform.to_owned().into(),
        kind,
        request_sent: sent,
        // reqwest's error may print the URL, which can hold query ids but never our secrets:
        // tokens travel in headers or bodies, never in the query.
        source: Some(Box::new(e.without_url())),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn operation_futures_are_send() {
        // Connectors are used from multi-threaded runtimes and spawned tasks.
        let t = Transport::new(
            "t",
            TransportConfig::new("http://127.0.0.1:1").unwrap(),
            NoEnvelope,
        )
        .unwrap();
        let req = Request::get("op", "/");
        assert_send(&t.execute(&req));
        assert_send(&t.execute_json::<serde_json::Value>(&req));
    }

    #[test]
    fn request_debug_shows_header_names_only() {
        let r = Request::get("op", "/p")
            .secret_header(
                HeaderName::from_static("access-token"),
                &Secret::new("act.SECRET"),
            )
            .unwrap()
            .query("open_id", "o1");
        let d = format!("{r:?}");
        assert!(d.contains("access-token") && !d.contains("SECRET") && !d.contains("o1"));
        assert!(r.headers()["access-token"].is_sensitive());
    }

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
