//! # conn-core
//!
//! The shared core of the connectors workspace. Every platform crate (`conn-douyin`,
//! `conn-ths`, `conn-erp`, `conn-content`) depends on this crate and on nothing else of ours.
//!
//! | module | holds |
//! |---|---|
//! | [`error`] | the one [`Error`] type, with predicates (`is_retryable`, `retry_after`, `status`, `platform_code`, `log_id`) |
//! | [`secret`] | redacting secret types ([`secret::AccessToken`], [`secret::ClientSecret`], …) |
//! | [`journal`] | exactly-once creates: operation keys, the [`journal::Journal`] trait, the [`journal::run_once`] driver |
//! | [`lenient`] | serde helpers for numbers that arrive as strings, booleans as 0/1; bounded durations from wire numbers |
//! | [`envelope`] | the configurable response envelope (code, message, success flag, log id → typed error) and, with [`error::ApiErrorKind::of_status`], the one status→kind table |
//! | `fake` (feature `fake`) | what every platform's fake shares: the loopback server, the one fault model queued per operation, poison-tolerant state, the redacting request view |
//! | [`pointer`](mod@pointer) | JSON pointers that say where a field sits in a body |
//! | [`code_scan`] | one pass over a body proving every error code in it is zero (envelope fast path) |
//! | [`redact`] | masking of secret values in body excerpts and serde messages, by structure |
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
//!
//! ## Creates and unknown outcomes
//! A *create* is a request declared [`retry::Idempotency::NonIdempotent`] or
//! [`retry::Idempotency::Key`] ([`transport::Request::is_create`]). Once any attempt of a create
//! may have been received (timeout after sending, 5xx, connection dropped mid-response, body
//! over the cap), the operation's final failure is [`Error::OutcomeUnknown`], whatever later
//! attempts said (a 429, a "busy"): it carries the idempotency key, the first "maybe received"
//! cause (its `source`) and the last error. A create answered with success whose body cannot be
//! read (cut, malformed) is an unknown outcome too, the decode error as its source
//! ([`transport::Response::json`], [`transport::Response::outcome_of`]).
//!
//! ## Secrets in errors
//! Every body excerpt an error keeps goes through [`redact`] (values of secret keys masked at
//! any depth, JSON, form and text alike); token endpoints keep none
//! ([`transport::Request::secret_response`], [`error::decode_json_secret`]).
//!
//! ## Fault classes and their tests
//! | class | rule | covered by |
//! |---|---|---|
//! | maybe received, then refused (503/timeout/cut, then 429 ×3) | `OutcomeUnknown` with key, first cause, last error | `tests/fault_sequences.rs` (`keyed_received_then_429_three_times…`, `keyed_timeout_after_send_then_429…`, `keyed_cut_2xx_then_429…`, `…until_the_time_limit…`); conn-douyin `tests/fault_sequences.rs` |
//! | busy, then timeout after send | busy retried, then `OutcomeUnknown`, sent twice | `plain_create_busy_then_timeout_after_send…`, `keyed_create_busy_then_timeout_then_success…`; conn-douyin `busy_then_timeout_after_send…` |
//! | 2xx cut, malformed or over the cap on a create | `OutcomeUnknown`, decode/cap error as source, sent once | `a_cut_2xx_…`, `a_2xx_cut_at_connection_close…`, `a_malformed_2xx…`, `a_2xx_over_the_cap…`; conn-douyin `a_cut_success_answer…` |
//! | never received (429 ×4, connect error) | retried, last error kept, not unknown | `controls_…`, `tests/transport.rs` `connect_errors_retry_any_operation` |
//! | Retry-After | the delay asked is the delay waited (clamped) | `retry_after_sets_the_delay…`, `tests/transport.rs` `…honours_retry_after…`, `retry::tests::the_loop_sleeps_what_retry_after_asks` (paused time) |
//! | secrets in error text | excerpts redacted by structure, token endpoints keep none, serde values masked | `redact` unit and doc tests, `tests/properties.rs` `a_secret_under_a_secret_key_never_survives…`, `tests/no_secrets_in_logs.rs`; conn-douyin `tests/canaries.rs` |
//! | panics on hostile input | durations clamped or typed errors; decoders bounded | `tests/properties.rs` (10,000 seeded cases each: redact, excerpt/decode_json, lenient, wire durations, webhook verification), `tests/token_faults.rs` `absurd_lifetimes…`; conn-douyin `tests/properties.rs` and `oauth::tests::token_decoders_never_panic…`; conn-creds `format::tests::the_parser_never_panics…` |
//! | a refresh that panics, hangs or is cancelled | slot freed, waiters get `RefreshAborted`, next call retries | `tests/token_faults.rs` (`…panics_once…`, `…hangs_times_out…`, `…cancelled…`, `error_then_panic_then_success…`) |
//! | a call says "authorize again" | `with_token` clears the stored tokens, returns `ReauthRequired` | `tests/token_faults.rs` `a_call_that_says_reauthorize…`, `expired_then_a_dead_refresh…` |

// On docs.rs, feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod body;
pub mod clock;
pub mod code_scan;
pub mod connector;
pub mod credentials;
pub mod env;
pub mod envelope;
pub mod error;
pub mod journal;
pub mod lenient;
pub mod limit;
pub mod oauth;
pub mod pointer;
pub mod redact;
pub mod retry;
pub mod secret;
pub mod stats;
pub mod token;
pub mod transport;
pub mod webhook;

#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;
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
