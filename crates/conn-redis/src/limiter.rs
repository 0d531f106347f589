//! A rate limiter shared by every process and host: GCRA in one Lua script on Redis time.
//!
//! The whole state of a key is one number in Redis, its theoretical arrival time (TAT, in
//! microseconds of the Redis server's clock, read with `TIME` inside the script, so the hosts'
//! clocks never matter). Each [`acquire`](conn_core::limit::Limiter::acquire) is one script
//! call that reserves the next slot and returns how long to wait for it; the caller sleeps that
//! long and goes. Nobody is refused, callers are served in the order they reached Redis, and a
//! caller that gives up while waiting only wastes its own slot. One round trip per permit.
//!
//! The spacing follows conn-ths' per-process limiter so the two are interchangeable: `requests`
//! per `window`, spaced over `window + guard` (5 % by default) because the server counts
//! arrivals and network delay can bunch requests that left evenly spaced; a burst is paid for
//! by wider spacing afterwards, so no window ever holds more than `requests`.
//!
//! [`penalize`](conn_core::limit::Limiter::penalize) (iFinD -4400, HTTP 429) pushes the TAT to
//! at least `now + pause`, so every process backs off, not only the one refused.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use conn_core::limit::Limiter;
use redis::Script;

use crate::conn::Redis;
use crate::error::{RedisError, Result};

/// Reserves a slot. ARGV: emission interval T (µs), burst tolerance tau (µs). Returns the wait
/// in µs (0: go now). The key expires once its TAT is past, so idle keys cost nothing.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local start = tat - tau
local wait = 0
if start > now then wait = start - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1000)
return wait
",
    )
});

/// Holds every later slot back until `now + pause`. ARGV: pause (µs), tau (µs).
static PENALIZE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local floor = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < floor then
  redis.call('SET', KEYS[1], string.format('%d', floor), 'PX', math.floor((floor - now) / 1000) + 1000)
end
return 1
",
    )
});

/// A limit of `requests` per `window` for the shared limiter.
///
/// ```
/// use conn_redis::SharedLimit;
/// use std::time::Duration;
/// let l = SharedLimit::new(600, Duration::from_secs(60))?; // iFinD
/// assert_eq!(l.interval(), Duration::from_millis(105)); // (60 s + 5 %) / 600
/// assert!(SharedLimit::new(0, Duration::from_secs(1)).is_err());
/// # Ok::<(), conn_redis::RedisError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedLimit {
    requests: u32,
    window: Duration,
    burst: u32,
    guard: Duration,
}

impl SharedLimit {
    /// `requests` per `window` (both above zero), no burst, a guard of 5 % of the window.
    ///
    /// # Errors
    /// [`RedisError::Config`] for a zero count or window.
    pub fn new(requests: u32, window: Duration) -> Result<Self> {
        if requests == 0 || window.is_zero() {
            return Err(RedisError::Config {
                var: "SharedLimit",
                problem: "at least 1 request per window longer than zero".into(),
            });
        }
        Ok(Self {
            requests,
            window,
            burst: 1,
            guard: window / 20,
        })
    }

    /// Allows `burst` requests at once (clamped to 1..=requests), paid for by wider spacing.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.clamp(1, self.requests);
        self
    }

    /// Sets the guard added to the window when spacing requests.
    pub fn with_guard(mut self, guard: Duration) -> Self {
        self.guard = guard;
        self
    }

    /// Time between two permits in steady state.
    pub fn interval(&self) -> Duration {
        let slots = self.requests - self.burst + 1;
        (self.window + self.guard) / slots
    }

    fn tau(&self) -> Duration {
        self.interval() * (self.burst - 1)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 4)
}

/// The shared GCRA limiter; implements [`conn_core::limit::Limiter`].
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use conn_core::limit::Limiter;
/// use conn_redis::{Redis, RedisConfig, RedisLimiter, SharedLimit};
/// # async fn demo() -> conn_core::Result<()> {
/// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")?)?;
/// let limiter: Arc<dyn Limiter> =
///     Arc::new(RedisLimiter::new(redis, "ths", SharedLimit::new(600, Duration::from_secs(60))?));
/// limiter.acquire("account-1").await?; // waits for this account's next slot, across hosts
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedisLimiter {
    redis: Redis,
    scope: String,
    limit: SharedLimit,
}

impl RedisLimiter {
    /// A limiter whose keys live under `prefix:limit:scope:`.
    pub fn new(redis: Redis, scope: impl Into<String>, limit: SharedLimit) -> Self {
        Self {
            redis,
            scope: scope.into(),
            limit,
        }
    }

    /// The limit.
    pub fn limit(&self) -> SharedLimit {
        self.limit
    }

    fn key(&self, key: &str) -> conn_core::Result<String> {
        if key.is_empty() || key.len() > 256 {
            return Err(conn_core::Error::validation(
                "limiter key",
                "1 to 256 bytes",
            ));
        }
        Ok(self.redis.key(&["limit", &self.scope, key]))
    }

    /// Reserves the next slot of `key` and returns how long to wait for it, without waiting.
    ///
    /// # Errors
    /// [`RedisError::Unavailable`] (as a conn-core store error) when Redis is unreachable:
    /// never a silent "go ahead".
    pub async fn reserve(&self, key: &str) -> conn_core::Result<Duration> {
        let k = self.key(key)?;
        let mut conn = self.redis.connection().await?;
        let wait: i64 = ACQUIRE
            .key(&k)
            .arg(micros(self.limit.interval()))
            .arg(micros(self.limit.tau()))
            .invoke_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("limiter acquire"))?;
        Ok(Duration::from_micros(u64::try_from(wait).unwrap_or(0)))
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn acquire(&self, key: &str) -> conn_core::Result<Duration> {
        let wait = self.reserve(key).await?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(wait)
    }

    async fn penalize(&self, key: &str, pause: Duration) -> conn_core::Result<()> {
        let k = self.key(key)?;
        let mut conn = self.redis.connection().await?;
        let _: i64 = PENALIZE
            .key(&k)
            .arg(micros(pause))
            .arg(micros(self.limit.tau()))
            .invoke_async(&mut conn)
            .await
            .map_err(RedisError::unavailable("limiter penalize"))?;
        tracing::info!(scope = %self.scope, ?pause, "rate limit penalty shared with every process");
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spacing_matches_the_per_process_limiter() {
        let l = SharedLimit::new(50, Duration::from_secs(2)).unwrap();
        assert_eq!(l.interval(), Duration::from_millis(42));
        assert_eq!(l.tau(), Duration::ZERO);
        let b = l.with_burst(10);
        // 10 at once, then 41 slots over the 2.1 s: never more than 50 in a window.
        assert_eq!(b.interval(), Duration::from_millis(2100) / 41);
        assert_eq!(b.tau(), b.interval() * 9);
        assert_eq!(l.with_burst(0).tau(), Duration::ZERO);
        assert_eq!(l.with_burst(500).interval(), Duration::from_millis(2100));
    }
}
