//! The one error type of the workspace.
//!
//! [`Error`] is a `#[non_exhaustive]` enum whose large variants are boxed so `Result<T>` stays
//! small. It answers the questions a caller asks of a failure through predicates rather than
//! string matching: [`Error::is_retryable`], [`Error::retry_after`], [`Error::status`],
//! [`Error::platform_code`], [`Error::log_id`], [`Error::category`]. Sources are kept as sources
//! (never stringified), so `std::error::Error::source` walks the whole chain.
//!
//! This module holds the enum and its predicates; the structs its variants carry are in a
//! `details` module, the bounded body excerpts and JSON decoding in `decode`, and the
//! webhook rejections in `webhook` (re-exported as `conn_core::webhook::WebhookError`, so the
//! webhook module depends on this one and not the other way round).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

mod decode;
mod details;
pub(crate) mod webhook;

pub use decode::{decode_json, decode_json_secret, excerpt, EXCERPT_LIMIT};
pub use details::{
    ApiError, ApiErrorKind, ConfigError, DecodeError, HttpError, IoError, OutcomeUnknown,
    ReauthRequired, RefreshAbort, RefreshAborted, StoreError, TransportError, TransportErrorKind,
    ValidationError,
};
use webhook::WebhookError;

/// A boxed error usable as a source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any failure of a connector operation.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration is missing or invalid (names the variable to set).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Input was rejected before any request (names the field and the rule).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The platform answered with an error code in its envelope.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A non-success HTTP status without a recognised platform envelope.
    #[error(transparent)]
    Http(Box<HttpError>),
    /// The request failed below HTTP: connect, timeout, connection dropped.
    #[error(transparent)]
    Transport(Box<TransportError>),
    /// The response body could not be decoded into the expected shape.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The response body was larger than the configured cap; the rest was not read.
    #[error("{platform}: response body exceeds the {limit}-byte cap (see TransportConfig::max_body_bytes)")]
    BodyTooLarge {
        /// Platform name.
        platform: Cow<'static, str>,
        /// The cap in bytes.
        limit: u64,
    },
    /// The whole-operation deadline or the retry total-time limit ran out.
    #[error("{platform} {operation}: gave up after {elapsed:?} (limit {limit:?}){}", last_suffix(.last))]
    DeadlineExceeded {
        /// Platform name.
        platform: Cow<'static, str>,
        /// Operation name.
        operation: Cow<'static, str>,
        /// The limit that ran out.
        limit: Duration,
        /// Time spent.
        elapsed: Duration,
        /// The last attempt's failure, if an attempt failed.
        #[source]
        last: Option<Box<Error>>,
    },
    /// A create (non-idempotent or keyed request) failed after an attempt may have reached the
    /// server, or its success answer could not be read: whether it took effect is unknown.
    /// Carries the idempotency key (when there is one), the first "maybe received" cause and
    /// the last error, and `context` with what is needed to check.
    #[error(transparent)]
    OutcomeUnknown(Box<OutcomeUnknown>),
    /// The refresh credential is dead; a user must authorize again.
    #[error(transparent)]
    ReauthRequired(Box<ReauthRequired>),
    /// A webhook was rejected.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// A credential or token store failed.
    #[error(transparent)]
    Store(Box<StoreError>),
    /// A local I/O failure (reading a file to upload…).
    #[error(transparent)]
    Io(Box<IoError>),
    /// The same failure delivered to several waiters (a single-flight token refresh).
    #[error(transparent)]
    Shared(Arc<Error>),
    /// A token refresh ended without an answer: the refresher panicked, its task was
    /// cancelled, or it ran past the manager's refresh timeout. The manager's refresh slot is
    /// free again; the next call tries a new refresh.
    #[error(transparent)]
    RefreshAborted(Box<RefreshAborted>),
}

fn last_suffix(last: &Option<Box<Error>>) -> String {
    match last {
        Some(e) => format!("; last error: {e}"),
        None => String::new(),
    }
}

/// How a failure may be retried, before the operation's idempotency is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// The platform did not take the work (never sent, 429, "busy"): retry any operation.
    Always,
    /// The request may have been processed (timeout after send, 5xx, reset mid-response):
    /// retry only idempotent operations.
    IdempotentOnly,
    /// Retrying cannot help (4xx, validation, auth, quota, decode).
    Never,
}

/// A coarse category, for exit codes and dashboards.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Configuration or credentials missing/invalid.
    Config,
    /// Input rejected before sending.
    Validation,
    /// Authentication or authorization failed (tokens, scopes, re-authorization).
    Auth,
    /// The platform returned an error.
    Api,
    /// Network, timeout or deadline.
    Network,
    /// The response could not be decoded or was too large.
    Decode,
    /// Local storage.
    Store,
    /// Webhook verification or handling.
    Webhook,
    /// Local files.
    Io,
    /// Outcome unknown: the request may or may not have taken effect.
    Unknown,
}

impl Error {
    /// How this failure may be retried; see [`RetryClass`].
    pub fn retry_class(&self) -> RetryClass {
        match self {
            Error::Transport(t) => match (t.kind, t.request_sent) {
                // A request that could not be built will not build better the second time.
                (TransportErrorKind::Other, _) => RetryClass::Never,
                (_, false) => RetryClass::Always,
                (_, true) => RetryClass::IdempotentOnly,
            },
            Error::Http(h) => ApiErrorKind::of_status(h.status).retry_class(),
            Error::Api(a) => a.kind.retry_class(),
            Error::Shared(e) => e.retry_class(),
            _ => RetryClass::Never,
        }
    }

    /// True when retrying may help, at least for an idempotent operation.
    pub fn is_retryable(&self) -> bool {
        self.retry_class() != RetryClass::Never
    }

    /// True when retrying is allowed for an operation of the given idempotency.
    pub fn is_retryable_for(&self, idempotent: bool) -> bool {
        match self.retry_class() {
            RetryClass::Always => true,
            RetryClass::IdempotentOnly => idempotent,
            RetryClass::Never => false,
        }
    }

    /// The delay the server asked for (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Http(h) => h.retry_after,
            Error::Api(a) => a.retry_after,
            Error::Shared(e) => e.retry_after(),
            _ => None,
        }
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Http(h) => Some(h.status),
            Error::Api(a) => a.status,
            Error::OutcomeUnknown(o) => o
                .last
                .as_ref()
                .and_then(|e| e.status())
                .or_else(|| o.source.status()),
            Error::ReauthRequired(r) => r.source.as_ref().and_then(|e| e.status()),
            Error::DeadlineExceeded { last, .. } => last.as_ref().and_then(|e| e.status()),
            Error::Shared(e) => e.status(),
            _ => None,
        }
    }

    /// The platform's own error code (`"10008"`, `"-1302"`), when the platform sent one.
    pub fn platform_code(&self) -> Option<&str> {
        match self {
            Error::Api(a) => Some(&a.code),
            Error::OutcomeUnknown(o) => o
                .last
                .as_ref()
                .and_then(|e| e.platform_code())
                .or_else(|| o.source.platform_code()),
            Error::ReauthRequired(r) => r.source.as_ref().and_then(|e| e.platform_code()),
            Error::DeadlineExceeded { last, .. } => last.as_ref().and_then(|e| e.platform_code()),
            Error::Shared(e) => e.platform_code(),
            _ => None,
        }
    }

    /// The platform's log/request id, to quote when contacting its support.
    pub fn log_id(&self) -> Option<&str> {
        match self {
            Error::Api(a) => a.log_id.as_deref(),
            Error::Http(h) => h.log_id.as_deref(),
            Error::OutcomeUnknown(o) => o
                .last
                .as_ref()
                .and_then(|e| e.log_id())
                .or_else(|| o.source.log_id()),
            Error::ReauthRequired(r) => r.source.as_ref().and_then(|e| e.log_id()),
            Error::DeadlineExceeded { last, .. } => last.as_ref().and_then(|e| e.log_id()),
            Error::Shared(e) => e.log_id(),
            _ => None,
        }
    }

    /// The platform error, if this is (or wraps) one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(a) => Some(a),
            Error::OutcomeUnknown(o) => o
                .last
                .as_ref()
                .and_then(|e| e.api_error())
                .or_else(|| o.source.api_error()),
            Error::ReauthRequired(r) => r.source.as_ref().and_then(|e| e.api_error()),
            Error::DeadlineExceeded { last, .. } => last.as_ref().and_then(|e| e.api_error()),
            Error::Shared(e) => e.api_error(),
            _ => None,
        }
    }

    /// The platform error kind, if this is (or wraps) a platform error.
    pub fn api_kind(&self) -> Option<ApiErrorKind> {
        self.api_error().map(|a| a.kind)
    }

    /// True when the platform said the access token is invalid or expired.
    pub fn is_token_expired(&self) -> bool {
        match self {
            Error::Shared(e) => e.is_token_expired(),
            Error::Api(a) => a.kind == ApiErrorKind::TokenExpired,
            _ => false,
        }
    }

    /// True when a user must authorize again.
    pub fn is_reauth_required(&self) -> bool {
        match self {
            Error::ReauthRequired(_) => true,
            Error::Api(a) => a.kind == ApiErrorKind::ReauthRequired,
            Error::Shared(e) => e.is_reauth_required(),
            _ => false,
        }
    }

    /// True when the request may or may not have taken effect.
    pub fn is_outcome_unknown(&self) -> bool {
        match self {
            Error::OutcomeUnknown(_) => true,
            Error::Shared(e) => e.is_outcome_unknown(),
            _ => false,
        }
    }

    /// True for timeouts and exceeded deadlines.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Transport(t) => t.kind == TransportErrorKind::Timeout,
            Error::DeadlineExceeded { .. } => true,
            Error::OutcomeUnknown(o) => {
                o.source.is_timeout() || o.last.as_ref().is_some_and(|e| e.is_timeout())
            }
            Error::Shared(e) => e.is_timeout(),
            _ => false,
        }
    }

    /// A coarse category, for exit codes.
    pub fn category(&self) -> Category {
        match self {
            Error::Config(_) => Category::Config,
            Error::Validation(_) => Category::Validation,
            Error::Api(a) => match a.kind {
                ApiErrorKind::TokenExpired
                | ApiErrorKind::ReauthRequired
                | ApiErrorKind::PermissionDenied => Category::Auth,
                ApiErrorKind::InvalidCredentials => Category::Config,
                _ => Category::Api,
            },
            Error::Http(h) if h.status == StatusCode::UNAUTHORIZED => Category::Auth,
            Error::Http(_) => Category::Api,
            Error::Transport(_) | Error::DeadlineExceeded { .. } => Category::Network,
            Error::Decode(_) | Error::BodyTooLarge { .. } => Category::Decode,
            Error::OutcomeUnknown(_) => Category::Unknown,
            Error::RefreshAborted(_) => Category::Auth,
            Error::ReauthRequired(_) => Category::Auth,
            Error::Webhook(_) => Category::Webhook,
            Error::Store(_) => Category::Store,
            Error::Io(_) => Category::Io,
            Error::Shared(e) => e.category(),
        }
    }

    /// A configuration error naming the environment variable to set.
    pub fn config_var(var: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config(ConfigError::var(var, message))
    }

    /// A configuration error not tied to one variable.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(ConfigError::new(message))
    }

    /// One error for every problem of a configuration read (what each platform's
    /// `Config::from_env_with` returns): a single error is returned as it is; several become one
    /// [`ConfigError`] whose [`ConfigError::also`] holds the rest, so its text names every
    /// variable. An error that is not a configuration error keeps its text.
    pub fn config_all(mut errors: Vec<Error>) -> Self {
        // One problem keeps its own variant (a validation error from a builder stays one).
        if errors.len() == 1 {
            if let Some(only) = errors.pop() {
                return only;
            }
        }
        let mut problems = errors.into_iter().map(|e| match e {
            Error::Config(c) => c,
            other => ConfigError::new(other.to_string()),
        });
        let Some(mut first) = problems.next() else {
            return Error::config("invalid configuration (no detail was given)");
        };
        for mut more in problems {
            // A problem that was itself a merged report is flattened, so `problems()` sees all.
            let nested = std::mem::take(&mut more.also);
            first.also.push(more);
            first.also.extend(nested);
        }
        Error::Config(first)
    }

    /// A validation error naming the field and the rule it broke.
    pub fn validation(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::Validation(ValidationError::new(field, rule))
    }

    /// A store error with a source.
    pub fn store(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Store(Box::new(StoreError {
            message: message.into(),
            source: Some(source.into()),
        }))
    }

    /// A store error without a source.
    pub fn store_msg(message: impl Into<String>) -> Self {
        Error::Store(Box::new(StoreError {
            message: message.into(),
            source: None,
        }))
    }

    /// A local I/O error: `operation` says what was being done ("read the video file").
    pub fn io(
        operation: impl Into<String>,
        path: Option<&std::path::Path>,
        source: std::io::Error,
    ) -> Self {
        Error::Io(Box::new(IoError {
            operation: operation.into(),
            path: path.map(std::path::Path::to_path_buf),
            source,
        }))
    }

    /// Wraps a failure of a create whose outcome is unknown (`source`: why it is unknown). Add
    /// the idempotency key and a later error with [`OutcomeUnknown::new`] and its `with_*`
    /// methods.
    pub fn outcome_unknown(
        platform: impl Into<Cow<'static, str>>,
        operation: impl Into<Cow<'static, str>>,
        context: Vec<(String, String)>,
        source: Error,
    ) -> Self {
        OutcomeUnknown::new(platform, operation, source)
            .with_context(context)
            .into()
    }
}

impl From<OutcomeUnknown> for Error {
    fn from(e: OutcomeUnknown) -> Self {
        Error::OutcomeUnknown(Box::new(e))
    }
}

impl From<RefreshAborted> for Error {
    fn from(e: RefreshAborted) -> Self {
        Error::RefreshAborted(Box::new(e))
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Error::Http(Box::new(e))
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(Box::new(e))
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(Box::new(e))
    }
}

impl From<ReauthRequired> for Error {
    fn from(e: ReauthRequired) -> Self {
        Error::ReauthRequired(Box::new(e))
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(kind: ApiErrorKind) -> Error {
        ApiError::new("douyin", "1", "m", kind).into()
    }

    #[test]
    fn retry_table() {
        let t = |sent| {
            Error::from(TransportError {
                platform: "p".into(),
                kind: TransportErrorKind::Timeout,
                request_sent: sent,
                source: None,
            })
        };
        assert_eq!(t(false).retry_class(), RetryClass::Always);
        assert_eq!(t(true).retry_class(), RetryClass::IdempotentOnly);
        let h = |s: u16| {
            Error::from(HttpError {
                platform: "p".into(),
                status: StatusCode::from_u16(s).unwrap(),
                body_excerpt: String::new(),
                retry_after: None,
                log_id: None,
            })
        };
        assert_eq!(h(429).retry_class(), RetryClass::Always);
        for s in [500, 502, 503, 504, 408] {
            assert_eq!(h(s).retry_class(), RetryClass::IdempotentOnly, "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 501] {
            assert_eq!(h(s).retry_class(), RetryClass::Never, "{s}");
        }
        assert_eq!(api(ApiErrorKind::Busy).retry_class(), RetryClass::Always);
        assert_eq!(
            api(ApiErrorKind::RateLimited).retry_class(),
            RetryClass::Always
        );
        assert_eq!(
            api(ApiErrorKind::ServerError).retry_class(),
            RetryClass::IdempotentOnly
        );
        for k in [
            ApiErrorKind::QuotaExceeded,
            ApiErrorKind::TokenExpired,
            ApiErrorKind::ReauthRequired,
            ApiErrorKind::InvalidCredentials,
            ApiErrorKind::InvalidRequest,
        ] {
            assert_eq!(api(k).retry_class(), RetryClass::Never, "{k:?}");
        }
        assert!(!Error::validation("title", "required").is_retryable());
        assert!(!t(true).is_retryable_for(false));
        assert!(t(true).is_retryable_for(true));
    }

    #[test]
    fn display_carries_code_message_and_log_id() {
        let e: Error = ApiError::new(
            "douyin",
            "10008",
            "access_token expired",
            ApiErrorKind::TokenExpired,
        )
        .with_log_id(Some("2024LOG".into()))
        .into();
        assert_eq!(
            e.to_string(),
            "douyin error 10008: access_token expired [log id 2024LOG]"
        );
        assert_eq!(e.platform_code(), Some("10008"));
        assert_eq!(e.log_id(), Some("2024LOG"));
        assert!(e.is_token_expired());
        let shared = Error::Shared(Arc::new(e));
        assert!(shared.is_token_expired());
        assert_eq!(shared.log_id(), Some("2024LOG"));
    }

    #[test]
    fn config_and_validation_name_what_to_fix() {
        assert_eq!(
            Error::config_var("API_MAX_RETRIES", "expected a whole number, got \"x\"").to_string(),
            "configuration error in API_MAX_RETRIES: expected a whole number, got \"x\""
        );
        assert_eq!(
            Error::validation("title", "at most 55 characters (got 60)").to_string(),
            "invalid `title`: at most 55 characters (got 60)"
        );
    }

    #[test]
    fn decode_keeps_path_and_bounded_excerpt() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            data: Vec<Inner>,
        }
        let mut body = br#"{"data":[{"n":1},{"n":"x"}],"pad":""#.to_vec();
        body.extend(std::iter::repeat_n(b'a', 4096));
        body.extend(b"\"}");
        let err = decode_json::<Outer>("p", "op", &body).unwrap_err();
        let Error::Decode(d) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(d.path, "data[1].n");
        assert!(d.excerpt.len() <= EXCERPT_LIMIT + 3);
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn excerpt_cuts_on_char_boundary() {
        let s = "抖".repeat(400);
        let e = excerpt(s.as_bytes());
        assert!(e.ends_with('…'));
        assert!(!e.contains('\u{FFFD}'));
    }

    #[test]
    fn outcome_unknown_carries_context_and_source() {
        let inner = Error::from(TransportError {
            platform: "douyin".into(),
            kind: TransportErrorKind::Timeout,
            request_sent: true,
            source: None,
        });
        let e = Error::outcome_unknown(
            "douyin",
            "create_video",
            vec![("video_id".into(), "v1".into())],
            inner,
        );
        assert!(e.is_outcome_unknown());
        assert!(e.is_timeout());
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("video_id=v1"));
        let Error::OutcomeUnknown(o) = &e else {
            panic!()
        };
        assert_eq!(o.context("video_id"), Some("v1"));
    }

    #[test]
    fn config_all_keeps_a_single_error_and_flattens_merged_reports() {
        let single = Error::config_all(vec![Error::validation("page_size", "at most 100")]);
        assert!(matches!(single, Error::Validation(_)), "{single:?}");

        let merged = Error::config_all(vec![
            Error::config_var("A", "is required"),
            Error::config_var("B", "is required"),
        ]);
        let all = Error::config_all(vec![
            merged,
            Error::validation("page_size", "at most 100"),
            Error::config_var("C", "is required"),
        ]);
        let Error::Config(c) = &all else {
            panic!("{all:?}")
        };
        let vars: Vec<_> = c.problems().map(|p| p.var.as_deref()).collect();
        assert_eq!(vars, [Some("A"), Some("B"), None, Some("C")]);
        let text = all.to_string();
        assert!(text.contains("invalid `page_size`: at most 100"), "{text}");
        assert!(matches!(Error::config_all(Vec::new()), Error::Config(_)));
    }
}
