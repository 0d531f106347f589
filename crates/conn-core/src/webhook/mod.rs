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
//! Scheme-specific constructors live with their platform (Douyin's is
//! `conn_douyin::webhook::verifier`); this module knows only the schemes themselves.
//!
//! An endpoint, end to end (GitHub-style HMAC-SHA256 of the body, with a delivery id):
//!
//! ```
//! use conn_core::webhook::{
//!     Dispatch, EventRouter, SignatureEncoding, SignatureScheme, SignedPayload, WebhookError,
//!     WebhookVerifier, DEFAULT_SEEN_IDS_CAPACITY,
//! };
//! use http::HeaderName;
//!
//! let verifier = WebhookVerifier::new(SignatureScheme::HmacSha256 {
//!     header: HeaderName::from_static("x-hub-signature-256"),
//!     encoding: SignatureEncoding::Hex,
//!     prefix: Some("sha256=".into()),
//!     payload: SignedPayload::Body,
//! })
//! .with_secret("webhook-secret")
//! .with_id_header(HeaderName::from_static("x-github-delivery"), DEFAULT_SEEN_IDS_CAPACITY);
//! let mut router: EventRouter<serde_json::Value> = EventRouter::new();
//! router.on("create_video", |event| async move {
//!     assert_eq!(event["content"]["item_id"], "@9VwL");
//!     Ok(())
//! });
//!
//! // What the sender sends (`sign` is the test helper computing its headers).
//! let body = br#"{"event":"create_video","content":{"item_id":"@9VwL"}}"#;
//! let headers = verifier.sign(body, None, Some("m-1"))?;
//!
//! // What the endpoint does.
//! let verified = verifier.verify(&headers, body)?;
//! assert_eq!(verified.id.as_deref(), Some("m-1"));
//! let event: serde_json::Value = serde_json::from_slice(body).map_err(WebhookError::from)?;
//! let name = event["event"].as_str().unwrap_or_default().to_owned();
//! let outcome = futures::executor::block_on(router.dispatch(&name, event));
//! match outcome {
//!     Ok(d) => assert_eq!(d, Dispatch::Handled),
//!     // Un-record the id so the sender's retry of this message is accepted.
//!     Err(_) => verifier.forget("m-1"),
//! }
//!
//! // The sender's retry of the same message is recognised.
//! assert!(matches!(verifier.verify(&headers, body), Err(WebhookError::Replayed { .. })));
//! # Ok::<(), WebhookError>(())
//! ```

mod headers;
mod replay;
mod router;
mod scheme;
mod verify;

pub use replay::{ReplayCache, SeenIds};
pub use router::{Dispatch, EventRouter};
pub use scheme::{SignatureEncoding, SignatureScheme, SignedPayload};
pub use verify::{
    Verified, WebhookVerifier, DEFAULT_MAX_BODY_BYTES, DEFAULT_SEEN_IDS_CAPACITY, MAX_ID_LEN,
};

pub use crate::error::webhook::WebhookError;
