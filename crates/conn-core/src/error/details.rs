//! The structs [`Error`]'s variants carry: what each kind of failure knows.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

use super::{BoxError, Error};

/// Missing or invalid configuration.
///
/// Reading a configuration from the environment reports every problem at once: the first is
/// `var`/`message`, the others are in [`ConfigError::also`], and [`ConfigError::problems`] walks
/// them all.
///
/// ```
/// use conn_core::error::{ConfigError, Error};
/// let err = Error::config_all(vec![
///     Error::config_var("A_KEY", "is required"),
///     Error::config_var("A_TIMEOUT", "must be a duration such as 30s (got `soon`)"),
/// ]);
/// let text = err.to_string();
/// assert!(text.contains("A_KEY") && text.contains("A_TIMEOUT"), "{text}");
/// let Error::Config(config) = err else { panic!("a config error") };
/// let vars: Vec<_> = config.problems().filter_map(|p| p.var.as_deref()).collect();
/// assert_eq!(vars, ["A_KEY", "A_TIMEOUT"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error{}: {message}{}", var_suffix(.var), also_suffix(.also))]
pub struct ConfigError {
    /// The environment variable to set or fix, when one is responsible.
    pub var: Option<String>,
    /// What is wrong and what is expected.
    pub message: String,
    /// The other problems found in the same reading, in the order they were found (empty for a
    /// single problem).
    pub also: Vec<ConfigError>,
}

fn also_suffix(also: &[ConfigError]) -> String {
    let mut text = String::new();
    for more in also {
        text.push_str("; and");
        text.push_str(&var_suffix(&more.var));
        text.push_str(": ");
        text.push_str(&more.message);
    }
    text
}

fn var_suffix(var: &Option<String>) -> String {
    match var {
        Some(v) => format!(" in {v}"),
        None => String::new(),
    }
}

impl ConfigError {
    /// An error about one environment variable.
    pub fn var(var: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            var: Some(var.into()),
            message: message.into(),
            also: Vec::new(),
        }
    }

    /// An error not tied to one variable.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            var: None,
            message: message.into(),
            also: Vec::new(),
        }
    }

    /// This problem and every one in [`ConfigError::also`], in order.
    pub fn problems(&self) -> impl Iterator<Item = &ConfigError> + '_ {
        std::iter::once(self).chain(self.also.iter())
    }
}

/// Input rejected before any request was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {rule}")]
pub struct ValidationError {
    /// The field (dotted path for nested input, `images[3]`).
    pub field: String,
    /// The rule it broke, phrased so the message reads "invalid `title`: at most 55 characters (got 60)".
    pub rule: String,
}

impl ValidationError {
    /// Builds the error.
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// What a platform error code means to a client.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// The access token is invalid or expired: refresh once, replay once.
    TokenExpired,
    /// The refresh credential is dead: a user must authorize again.
    ReauthRequired,
    /// The app's own credentials (client key/secret, API key) are wrong: a configuration error.
    InvalidCredentials,
    /// A permission or scope is missing.
    PermissionDenied,
    /// The token does not belong to the account named in the request.
    AccountMismatch,
    /// The platform is busy and did not take the work: retryable for any operation.
    Busy,
    /// Too many requests: retry later, for any operation.
    RateLimited,
    /// A quota or daily limit is used up: not retryable.
    QuotaExceeded,
    /// The request was invalid.
    InvalidRequest,
    /// The object does not exist.
    NotFound,
    /// A server-side failure: retryable for idempotent operations only.
    ServerError,
    /// Anything else.
    Other,
}

impl ApiErrorKind {
    /// What an HTTP status means when the body says no more: the one status table of the
    /// workspace. Every envelope falls back to it, and [`Error::retry_class`] reads a bare
    /// [`HttpError`](super::HttpError) through it.
    ///
    /// | status | kind |
    /// |---|---|
    /// | 401 | `InvalidCredentials` |
    /// | 403 | `PermissionDenied` |
    /// | 404 | `NotFound` |
    /// | 429 | `RateLimited` |
    /// | 408, 500, 502, 503, 504 | `ServerError` |
    /// | 400, 409, 422 | `InvalidRequest` |
    /// | anything else | `Other` |
    ///
    /// 501 (not implemented) and 505 and above are `Other`: asking again does not help.
    ///
    /// ```
    /// use conn_core::error::ApiErrorKind;
    /// use http::StatusCode;
    /// assert_eq!(ApiErrorKind::of_status(StatusCode::TOO_MANY_REQUESTS), ApiErrorKind::RateLimited);
    /// assert_eq!(ApiErrorKind::of_status(StatusCode::BAD_GATEWAY), ApiErrorKind::ServerError);
    /// assert_eq!(ApiErrorKind::of_status(StatusCode::NOT_IMPLEMENTED), ApiErrorKind::Other);
    /// ```
    pub fn of_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::InvalidCredentials,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            429 => Self::RateLimited,
            408 | 500 | 502 | 503 | 504 => Self::ServerError,
            400 | 409 | 422 => Self::InvalidRequest,
            _ => Self::Other,
        }
    }

    /// How a failure of this kind may be retried.
    pub fn retry_class(self) -> super::RetryClass {
        use super::RetryClass;
        match self {
            Self::Busy | Self::RateLimited => RetryClass::Always,
            Self::ServerError => RetryClass::IdempotentOnly,
            _ => RetryClass::Never,
        }
    }
}

/// An error code returned by a platform in its response envelope.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Platform name (`douyin`, `ths`, …).
    pub platform: Cow<'static, str>,
    /// The platform's code, as text (`"10008"`, `"-1302"`).
    pub code: String,
    /// The platform's message.
    pub message: String,
    /// What the code means to a client.
    pub kind: ApiErrorKind,
    /// HTTP status of the response.
    pub status: Option<StatusCode>,
    /// The platform's log/request id.
    pub log_id: Option<String>,
    /// A delay the platform asked for.
    pub retry_after: Option<Duration>,
    /// Extra detail (the missing scope, a sub-code).
    pub detail: Option<String>,
}

impl ApiError {
    /// Builds an error with the essentials; set the rest with the `with_*` methods.
    ///
    /// The message is the platform's text, so it is treated like any body excerpt: cut to
    /// [`EXCERPT_LIMIT`](super::EXCERPT_LIMIT) bytes and redacted
    /// ([`crate::redact::redact`]). A platform that echoes the request's token in its message
    /// does not put it in a log.
    ///
    /// ```
    /// use conn_core::error::{ApiError, ApiErrorKind};
    /// let e = ApiError::new("p", "1", "bad access_token=act.SECRET", ApiErrorKind::Other);
    /// assert!(!e.message.contains("SECRET"));
    /// ```
    pub fn new(
        platform: impl Into<Cow<'static, str>>,
        code: impl Into<String>,
        message: impl Into<String>,
        kind: ApiErrorKind,
    ) -> Self {
        Self {
            platform: platform.into(),
            code: code.into(),
            message: super::excerpt(message.into().as_bytes()),
            kind,
            status: None,
            log_id: None,
            retry_after: None,
            detail: None,
        }
    }

    /// Sets the log id.
    pub fn with_log_id(mut self, log_id: Option<String>) -> Self {
        self.log_id = log_id.filter(|s| !s.is_empty());
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets extra detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the requested retry delay.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error {}: {}", self.platform, self.code, self.message)?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        if let Some(l) = &self.log_id {
            write!(f, " [log id {l}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A non-success HTTP status with no platform envelope recognised.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{platform}: HTTP {status}{}", excerpt_suffix(.body_excerpt))]
pub struct HttpError {
    /// Platform name.
    pub platform: Cow<'static, str>,
    /// The status.
    pub status: StatusCode,
    /// The first bytes of the body (bounded, lossy UTF-8).
    pub body_excerpt: String,
    /// `Retry-After`, parsed and clamped.
    pub retry_after: Option<Duration>,
    /// A request id header, when the server sent one.
    pub log_id: Option<String>,
}

fn excerpt_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

/// Where a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Could not connect (DNS, refused, TLS handshake): the request never left.
    Connect,
    /// The attempt timed out.
    Timeout,
    /// The connection dropped while sending or receiving.
    Interrupted,
    /// Anything else reqwest reports (building the request, redirects…).
    Other,
}

/// A failure below HTTP.
#[derive(Debug, thiserror::Error)]
#[error("{platform}: {} {}{}", kind_text(.kind), sent_text(.request_sent), src_suffix(.source))]
pub struct TransportError {
    /// Platform name.
    pub platform: Cow<'static, str>,
    /// What happened.
    pub kind: TransportErrorKind,
    /// Whether the request may have reached the server.
    pub request_sent: bool,
    /// The underlying error.
    #[source]
    pub source: Option<BoxError>,
}

fn kind_text(k: &TransportErrorKind) -> &'static str {
    match k {
        TransportErrorKind::Connect => "could not connect",
        TransportErrorKind::Timeout => "request timed out",
        TransportErrorKind::Interrupted => "connection interrupted",
        TransportErrorKind::Other => "request failed",
    }
}

fn sent_text(sent: &bool) -> &'static str {
    if *sent {
        "(the request may have reached the server)"
    } else {
        "(the request was not sent)"
    }
}

fn src_suffix(s: &Option<BoxError>) -> String {
    // The source stays in the chain; only its top line is shown here for a readable one-liner.
    match s {
        Some(e) => format!(": {e}"),
        None => String::new(),
    }
}

/// A response body that did not match the expected shape.
#[derive(Debug, thiserror::Error)]
#[error(
    "{platform} {operation}: cannot decode response at `{path}`: {source}{}",
    body_suffix(.excerpt)
)]
pub struct DecodeError {
    /// Platform name.
    pub platform: Cow<'static, str>,
    /// Operation name.
    pub operation: Cow<'static, str>,
    /// The JSON path where decoding failed (`data.list[3].statistics`).
    pub path: String,
    /// A bounded slice of the raw body with secret values masked ([`excerpt`](super::excerpt)); empty when
    /// the body may hold secrets (token endpoints) and none of it is kept.
    pub excerpt: String,
    /// The serde error; its quoted values are masked when built by [`decode_json`](super::decode_json).
    #[source]
    pub source: serde_json::Error,
}

fn body_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        "; body not kept".to_owned()
    } else {
        format!("; body starts: {excerpt}")
    }
}

/// A create failed after an attempt may have reached the server, or its success answer could
/// not be read: it may or may not have taken effect.
///
/// `source` (also [`std::error::Error::source`]) is the first cause that made the outcome
/// unknown (a timeout after sending, a 5xx, a connection dropped mid-response, a success body
/// cut, malformed or over the cap); `last` is the operation's final error when a later attempt
/// failed differently (a 429, a platform "busy"). The predicates of [`Error`] (`status`,
/// `platform_code`, `log_id`) read `last` first, then `source`.
#[derive(Debug, thiserror::Error)]
#[error("{platform} {operation}: outcome unknown (the request may have been processed; resend only with the same idempotency key, or check first){}: {source}{}", context_suffix(.context), last_error_suffix(.last))]
pub struct OutcomeUnknown {
    /// Platform name.
    pub platform: Cow<'static, str>,
    /// Operation name.
    pub operation: Cow<'static, str>,
    /// What a caller needs to check whether it took effect (`video_id`, `open_id`, the
    /// `idempotency_key`…).
    pub context: Vec<(String, String)>,
    /// The idempotency key the request carried: resend with it to resume safely.
    pub idempotency_key: Option<String>,
    /// The first cause that made the outcome unknown.
    #[source]
    pub source: Box<Error>,
    /// The final error, when a later attempt failed after `source`.
    pub last: Option<Box<Error>>,
}

fn last_error_suffix(last: &Option<Box<Error>>) -> String {
    match last {
        Some(e) => format!("; last attempt: {e}"),
        None => String::new(),
    }
}

fn context_suffix(c: &[(String, String)]) -> String {
    if c.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = c.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(" [{}]", parts.join(", "))
}

impl OutcomeUnknown {
    /// An unknown outcome of `operation`, caused by `first_cause`.
    pub fn new(
        platform: impl Into<Cow<'static, str>>,
        operation: impl Into<Cow<'static, str>>,
        first_cause: Error,
    ) -> Self {
        Self {
            platform: platform.into(),
            operation: operation.into(),
            context: Vec::new(),
            idempotency_key: None,
            source: Box::new(first_cause),
            last: None,
        }
    }

    /// Sets the context.
    pub fn with_context(mut self, context: Vec<(String, String)>) -> Self {
        self.context = context;
        self
    }

    /// Sets the idempotency key (also added to the context as `idempotency_key`).
    pub fn with_idempotency_key(mut self, key: Option<String>) -> Self {
        if let Some(k) = &key {
            if self.context("idempotency_key").is_none() {
                self.context.push(("idempotency_key".into(), k.clone()));
            }
        }
        self.idempotency_key = key;
        self
    }

    /// Sets the final error of a later attempt.
    pub fn with_last(mut self, last: Option<Error>) -> Self {
        self.last = last.map(Box::new);
        self
    }

    /// A context value by key.
    pub fn context(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first cause that made the outcome unknown.
    pub fn first_cause(&self) -> &Error {
        &self.source
    }

    /// The final error: `last` when there is one, else the first cause.
    pub fn last_error(&self) -> &Error {
        self.last.as_deref().unwrap_or(&self.source)
    }
}

/// How a token refresh ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshAbort {
    /// The refresher panicked.
    Panicked,
    /// The refresh task was cancelled (runtime shutting down, task aborted).
    Cancelled,
    /// The refresh ran past the manager's refresh timeout.
    TimedOut,
}

/// A token refresh ended without an answer (see [`Error::RefreshAborted`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{account}: token refresh {}; the next call tries again", abort_text(.how))]
pub struct RefreshAborted {
    /// The account (`platform/account`).
    pub account: String,
    /// How it ended.
    pub how: RefreshAbort,
}

fn abort_text(h: &RefreshAbort) -> &'static str {
    match h {
        RefreshAbort::Panicked => "panicked",
        RefreshAbort::Cancelled => "was cancelled",
        RefreshAbort::TimedOut => "timed out",
    }
}

/// The refresh credential is dead; a user must authorize again.
#[derive(Debug, thiserror::Error)]
#[error("{platform}: re-authorization required{}: {reason}", account_suffix(.account))]
pub struct ReauthRequired {
    /// Platform name.
    pub platform: Cow<'static, str>,
    /// The account (Douyin open_id…), when known.
    pub account: Option<String>,
    /// Why.
    pub reason: String,
    /// The platform error that said so.
    #[source]
    pub source: Option<Box<Error>>,
}

fn account_suffix(a: &Option<String>) -> String {
    match a {
        Some(a) => format!(" for account {a}"),
        None => String::new(),
    }
}

/// A local I/O failure.
#[derive(Debug, thiserror::Error)]
#[error("cannot {operation}{}: {source}", path_suffix(.path))]
pub struct IoError {
    /// What was being done.
    pub operation: String,
    /// The file, when one is involved.
    pub path: Option<std::path::PathBuf>,
    /// The OS error.
    #[source]
    pub source: std::io::Error,
}

fn path_suffix(p: &Option<std::path::PathBuf>) -> String {
    match p {
        Some(p) => format!(" {}", p.display()),
        None => String::new(),
    }
}

/// A credential or token store failure.
#[derive(Debug, thiserror::Error)]
#[error("store: {message}")]
pub struct StoreError {
    /// What failed, naming the file or record.
    pub message: String,
    /// The underlying error.
    #[source]
    pub source: Option<BoxError>,
}
