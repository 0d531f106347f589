//! The rate-limiter contract: one trait that a per-process limiter (conn-ths' GCRA) and a
//! shared one (Redis, across processes and hosts) both implement, so a client holds
//! `Arc<dyn Limiter>` and does not care which.
//!
//! A limiter is keyed: one key per budget the platform counts (for iFinD, one account). It is
//! asked for a permit before every attempt, and told when the platform refused a request for
//! going too fast, so that every user of the same budget slows down, not only the caller that
//! was refused.
//!
//! ```
//! use conn_core::limit::{Limiter, Unlimited};
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let limiter = Unlimited;
//! let waited = limiter.acquire("account-1").await.unwrap();
//! assert!(waited.is_zero());
//! # });
//! ```

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::Result;

/// A keyed rate limiter.
///
/// Implementations must be cheap to call on every attempt and must never let more requests
/// leave for one key than the budget allows in any window. A limiter that cannot decide (a
/// shared store that is unreachable) returns an error rather than letting the request through:
/// falling back to no limit would break the promise for every other process.
#[async_trait]
pub trait Limiter: Send + Sync + fmt::Debug {
    /// Waits until one more request may leave for `key`, takes that permit, and returns how
    /// long the caller waited.
    async fn acquire(&self, key: &str) -> Result<Duration>;

    /// The platform refused a request for `key` for going too fast (iFinD -4400, HTTP 429):
    /// hold back every later permit of `key` for at least `pause`.
    async fn penalize(&self, key: &str, pause: Duration) -> Result<()>;
}

/// A limiter that never waits: for platforms without a documented limit, and tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unlimited;

#[async_trait]
impl Limiter for Unlimited {
    async fn acquire(&self, _key: &str) -> Result<Duration> {
        Ok(Duration::ZERO)
    }

    async fn penalize(&self, _key: &str, _pause: Duration) -> Result<()> {
        Ok(())
    }
}
