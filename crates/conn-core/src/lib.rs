//! # conn-core
//!
//! The shared core of the connectors workspace. Every platform crate (`conn-douyin`,
//! `conn-ths`, `conn-erp`, `conn-content`) depends on this crate and on nothing else of ours.
//!
//! | module | holds |
//! |---|---|
//! | [`error`] | the one [`Error`] type, with predicates (`is_retryable`, `retry_after`, `status`, `platform_code`, `log_id`) |
//! | [`secret`] | redacting secret types ([`secret::AccessToken`], [`secret::ClientSecret`], …) |
//! | [`lenient`] | serde helpers for numbers that arrive as strings, booleans as 0/1 |
//! | [`limit`] | the keyed [`limit::Limiter`] trait that per-process and shared rate limiters implement |
//! | [`env`](mod@env) | typed environment reading whose errors name the variable; the env.example registry |
//! | [`body`] | re-creatable streaming request bodies (a file re-opened by every attempt, with progress) |
//! | [`transport`] | one reqwest client, timeouts, body cap, envelope decoding, tracing span per operation |
//! | [`retry`] | backoff policies on tokio-retry strategies, the idempotency-aware retry loop |
//! | [`token`] | token sets, the [`token::TokenStore`] trait, the single-flight [`token::TokenManager`] |
//! | [`credentials`] | the [`credentials::CredentialSource`] trait, environment first |
//! | [`webhook`] | signature verification, replay guard, event router |
//! | [`connector`] | the dyn-compatible [`connector::Connector`] trait |
//! | [`stats`] | per-platform counters (calls, attempts, retries, give-ups) |
//! | [`clock`] | an injectable wall clock |
//!
//! ## Retry decision table
//!
//! | failure | idempotent operation | non-idempotent operation |
//! |---|---|---|
//! | connect/DNS error (never sent), HTTP 429, platform "busy"/"too frequent" | retry | retry |
//! | timeout after sending, 500/502/503/504, connection dropped mid-response | retry | **outcome unknown**, not replayed |
//! | other 4xx, validation, auth, quota, decode | give up | give up |
//!
//! A POST becomes idempotent by carrying an idempotency key ([`retry::Idempotency::new_key`]),
//! generated once per logical call and sent on every attempt.

// On docs.rs, feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod body;
pub mod clock;
pub mod connector;
pub mod credentials;
pub mod env;
pub mod error;
pub mod lenient;
pub mod limit;
pub mod retry;
pub mod secret;
pub mod stats;
pub mod token;
pub mod transport;
pub mod webhook;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use error::{Error, Result};

/// Re-exports platform crates need alongside conn-core.
pub mod reexports {
    pub use async_trait::async_trait;
    pub use bytes;
    pub use http;
    pub use reqwest;
    pub use url;
}
