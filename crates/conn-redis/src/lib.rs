//! Shared state for many processes and hosts, on Redis.
//!
//! One worker per machine can keep its tokens, its rate limit and its webhook dedupe in memory
//! (and conn-creds adds a file lock across the processes of one host). Several workers on
//! several hosts behind a load balancer cannot: Douyin's renewal kills the previous refresh
//! token, so two hosts refreshing at once strand each other; iFinD's 600 requests a minute
//! are per account, not per process; a webhook retried to another replica would be handled
//! twice. This crate puts that state in Redis:
//!
//! | piece | type | conn-core contract |
//! |---|---|---|
//! | tokens, AES-256-GCM at rest, lease lock with renewal and fenced writes | [`RedisTokenStore`] | [`TokenStore`](conn_core::token::TokenStore) + `lock` |
//! | rate limit per account across every process (GCRA, one Lua script, Redis time) | [`RedisLimiter`] | [`Limiter`](conn_core::limit::Limiter) |
//! | webhook replay cache (`SET NX EX` on the message id) | [`RedisReplayCache`] | [`ReplayCache`](conn_core::webhook::ReplayCache) |
//! | verified events for workers, acknowledged, redelivered when a worker dies | [`EventStream`] | — |
//!
//! Configuration: `REDIS_URL` (`redis://` or `rediss://` for TLS through rustls with ring) and
//! `REDIS_KEY_PREFIX` ([`RedisConfig::from_env_with`]); the token key is the
//! `API_CREDENTIAL_ENCRYPTION_KEY` conn-creds uses. A Redis with no key is refused for tokens,
//! never written in clear.
//!
//! ## Failure behaviour
//!
//! Redis down means typed errors ([`RedisError::Unavailable`], inside a conn-core store
//! error) after the response timeout (2 s by default), never a silent fallback to per-process
//! state, which would break single-flight refresh and the shared limit. Tokens a process
//! already holds stay in its token manager's memory and keep working (a cached token read is
//! no round trip); a refresh that cannot reach Redis fails and is tried again on the next
//! call. The connection is re-established by itself when Redis returns. A lease whose
//! connection is lost simply expires; its holder's late write is fenced.
//!
//! ## Why the `redis` crate
//!
//! `redis` (redis-rs, BSD-3-Clause) is the most used Rust client, released often, and gives
//! what is needed with few dependencies: a tokio [`ConnectionManager`](redis::aio::ConnectionManager)
//! that multiplexes one connection and reconnects by itself, Lua scripts invoked by SHA with
//! automatic reload ([`redis::Script`]), streams, and `rediss://` through `tokio-rustls`
//! **without** forcing a crypto provider, so the workspace keeps ring only (no aws-lc, no
//! OpenSSL: `cargo tree -i aws-lc-rs` is empty). `fred` is also good, with its own pooling and
//! reconnection policies, but is a larger API and dependency tree for the handful of commands
//! used here.
//!
//! ```no_run
//! use std::sync::Arc;
//! use conn_core::env::Env;
//! use conn_redis::{Redis, RedisConfig, RedisTokenStore};
//! # fn demo() -> conn_core::Result<()> {
//! let env = Env::process();
//! if let Some(cfg) = RedisConfig::from_env_with(&env)? {
//!     let redis = Redis::new(cfg)?;
//!     let tokens = Arc::new(RedisTokenStore::from_env_with(redis, &env)?);
//!     // give `tokens` to Client::builder(..).token_store(..) of any platform
//! #   let _ = tokens;
//! }
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod conn;
mod crypto;
mod error;
mod journal;
mod limiter;
mod replay;
pub mod server;
mod stream;
mod tokens;

pub use config::{RedisConfig, DEFAULT_PREFIX, ENV_VARS, REDIS_KEY_PREFIX, REDIS_URL};
pub use conn::Redis;
pub use crypto::{TokenCipher, ENCRYPTION_KEY_VAR};
pub use error::{RedisError, Result};
pub use journal::{RedisJournal, DEFAULT_HOLD, DEFAULT_HOLD_WAIT};
pub use limiter::{RedisLimiter, SharedLimit};
pub use replay::{RedisReplayCache, DEFAULT_TTL};
pub use stream::{Delivery, EventStream, DEFAULT_CLAIM_IDLE, DEFAULT_MAX_LEN};
pub use tokens::{RedisTokenStore, DEFAULT_LEASE, DEFAULT_LOCK_WAIT, MAX_NAME_LEN};
