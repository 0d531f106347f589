//! Webhook (event push) primitives: signature verification, replay protection, event routing.
//!
//! Verification is framework-agnostic: it takes an [`http::HeaderMap`] and the raw body bytes
//! exactly as received (never a re-serialized object, whose bytes would differ).
//!
//! - [`WebhookVerifier`] checks, in order: a secret is configured, the body size, the signature
//!   (constant time, against every active secret so secrets can be rotated), the timestamp
//!   tolerance (with an injectable [`Clock`](crate::clock::Clock)), and last — only for a message
//!   whose signature is good — the message id against a bounded cache of seen ids, so a forged
//!   message can never poison the cache.
//! - [`SeenIds`] is that cache, usable on its own.
//! - [`EventRouter`] maps event names to async handlers; unknown events go to a fallback (or are
//!   reported as [`Dispatch::Unhandled`]); handler errors are returned, never swallowed.
//!
//! A Douyin endpoint, end to end:
//!
//! ```
//! use conn_core::secret::Secret;
//! use conn_core::webhook::{douyin_signature, Dispatch, EventRouter, WebhookError, WebhookVerifier};
//!
//! let verifier = WebhookVerifier::douyin().with_secret("client-secret");
//! let mut router: EventRouter<serde_json::Value> = EventRouter::new();
//! router.on("create_video", |event| async move {
//!     assert_eq!(event["content"]["item_id"], "@9VwL");
//!     Ok(())
//! });
//!
//! // What the platform sends.
//! let body = br#"{"event":"create_video","content":{"item_id":"@9VwL"}}"#;
//! let mut headers = http::HeaderMap::new();
//! let sig = douyin_signature(&Secret::new("client-secret"), body);
//! headers.insert("x-douyin-signature", sig.parse().unwrap());
//! headers.insert("msg-id", "m-1".parse().unwrap());
//!
//! // What the endpoint does.
//! let verified = verifier.verify(&headers, body)?;
//! assert_eq!(verified.id.as_deref(), Some("m-1"));
//! let event: serde_json::Value = serde_json::from_slice(body).map_err(WebhookError::from)?;
//! let name = event["event"].as_str().unwrap_or_default().to_owned();
//! let outcome = futures::executor::block_on(router.dispatch(&name, event));
//! match outcome {
//!     Ok(d) => assert_eq!(d, Dispatch::Handled),
//!     // Un-record the id so the platform's retry of this message is accepted.
//!     Err(_) => verifier.forget("m-1"),
//! }
//!
//! // The platform's retry of the same message is recognised.
//! assert!(matches!(verifier.verify(&headers, body), Err(WebhookError::Replayed { .. })));
//! # Ok::<(), WebhookError>(())
//! ```

mod replay;
mod router;
mod verify;

pub use replay::{ReplayCache, SeenIds};
pub use router::{Dispatch, EventRouter};
pub use verify::{
    douyin_signature, SignatureEncoding, SignatureScheme, SignedPayload, Verified, WebhookVerifier,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_SEEN_IDS_CAPACITY, MAX_ID_LEN,
};

use crate::error::BoxError;

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
    /// timestamp header, or [`WebhookVerifier::sign_with`] given an index with no secret).
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
