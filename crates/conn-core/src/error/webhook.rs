//! Why a webhook was rejected or failed. It lives with the other errors so that [`Error`]
//! can carry it without this module depending on the webhook machinery; its public path is
//! `conn_core::webhook::WebhookError`.
//!
//! [`Error`]: super::Error

use super::BoxError;

/// Why a webhook was rejected or failed.
///
/// No variant carries a secret, a signature or a body: messages are safe to log and to return
/// to the sender. Ids, header names, timestamps and event names are included.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// A required header is absent.
    #[error("webhook rejected: missing header `{header}`")]
    MissingHeader {
        /// The header's name.
        header: String,
    },
    /// A header is present but unusable (signature not hex, timestamp not an integer, ...).
    #[error("webhook rejected: malformed header `{header}`: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: String,
        /// What is wrong with it (never the value itself when it is a signature).
        reason: String,
    },
    /// The signature is well formed but no active secret produces it.
    #[error("webhook rejected: the signature in `{header}` matches no active secret")]
    BadSignature {
        /// The signature header's name.
        header: String,
    },
    /// The timestamp is further from now than the tolerance (in either direction).
    #[error(
        "webhook rejected: timestamp {timestamp} is more than {tolerance_secs} s away from now ({now})"
    )]
    StaleTimestamp {
        /// The message's timestamp, seconds since the Unix epoch.
        timestamp: i64,
        /// The verifier's clock, seconds since the Unix epoch.
        now: i64,
        /// The allowed difference in seconds.
        tolerance_secs: u64,
    },
    /// A message with this id was already accepted.
    #[error("webhook rejected: message id `{id}` was already received")]
    Replayed {
        /// The message id.
        id: String,
    },
    /// The shared replay cache could not say whether the id was seen; the message was neither
    /// accepted nor recorded (the sender retries).
    #[error("webhook not accepted: the replay cache is unavailable: {source}")]
    ReplayCacheUnavailable {
        /// The cache's error.
        #[source]
        source: BoxError,
    },
    /// The body is larger than the verifier's cap; it was not hashed.
    #[error("webhook rejected: body of {actual} bytes exceeds the {limit}-byte limit")]
    BodyTooLarge {
        /// The cap in bytes.
        limit: usize,
        /// The body's size in bytes.
        actual: usize,
    },
    /// The body is authentic but not the expected shape.
    #[error("webhook rejected: malformed body: {reason}")]
    MalformedBody {
        /// What is wrong (for a JSON error, its message: line and column, not the content).
        reason: String,
        /// The JSON error, when there is one.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// The handler of an event failed.
    #[error("webhook handler for event `{event}` failed: {source}")]
    Handler {
        /// The event's name.
        event: String,
        /// The handler's error.
        #[source]
        source: BoxError,
    },
    /// The verifier has no (non-empty) secret, so nothing can be accepted.
    #[error("webhook verifier has no secret configured (an empty secret is ignored)")]
    NoSecret,
    /// The verifier's configuration cannot work (e.g. a scheme that signs a timestamp without a
    /// timestamp header, or [`WebhookVerifier::sign_with`](crate::webhook::WebhookVerifier::sign_with) given an index with no secret).
    #[error("webhook verifier misconfigured: {reason}")]
    Misconfigured {
        /// What is wrong.
        reason: String,
    },
}

impl From<serde_json::Error> for WebhookError {
    fn from(e: serde_json::Error) -> Self {
        Self::MalformedBody {
            reason: e.to_string(),
            source: Some(e),
        }
    }
}

impl WebhookError {
    /// True when the sender's retry of the same message could succeed: a handler failure.
    /// Every other variant is a property of the message or of the configuration.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Handler { .. })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn json_error_becomes_malformed_body_with_source() {
        let e = serde_json::from_slice::<serde_json::Value>(b"{nope").unwrap_err();
        let w = WebhookError::from(e);
        assert!(matches!(w, WebhookError::MalformedBody { .. }));
        assert!(w.source().is_some());
        assert!(w
            .to_string()
            .starts_with("webhook rejected: malformed body: "));
        assert!(!w.is_retryable());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<WebhookError>();
    }
}
