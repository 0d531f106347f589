//! The client-side rate limiter: iFinD refuses more than 600 requests a minute with -4400, so the
//! client spaces its requests instead of being refused.
//!
//! It is a GCRA (generic cell rate algorithm, the "virtual scheduling" form of a token bucket):
//! one instant, the theoretical arrival time (TAT), is the whole state. A caller reserves the
//! next slot under a mutex and sleeps until it; nobody is refused, callers are served in the
//! order they asked, and a caller that gives up while waiting only wastes its own slot.
//!
//! ## Why the spacing is a little wider than `window / requests`
//!
//! The server counts arrivals, the client counts departures. Network and scheduling delays can
//! bunch requests that left evenly spaced, so a client spacing at exactly `window / requests`
//! would sometimes be seen at `requests + 1` per window. The limiter therefore spaces requests
//! over `window + guard` (guard: 5 % of the window by default, [`RateLimit::with_guard`]):
//! a request must be delayed by more than `guard` relative to the one `requests` places later
//! before the server can see one too many. A burst ([`RateLimit::with_burst`]) is paid for by
//! wider spacing afterwards, so that no window ever holds more than `requests`.
//!
//! ```
//! use conn_ths::{RateLimit, RateLimiter};
//! use std::time::Duration;
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let limiter = RateLimiter::new(RateLimit::new(50, Duration::from_secs(1)).unwrap());
//! let shared = limiter.clone(); // clones share the budget
//! limiter.acquire_for("account-1").await;
//! shared.acquire_for("account-1").await;
//! # });
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conn_core::limit::Limiter;
use conn_core::{Error, Result};
use tokio::time::Instant;

use crate::RateSignal;

/// iFinD's documented limit: 600 requests per minute.
pub const DEFAULT_REQUESTS_PER_WINDOW: u32 = 600;
/// The window of the documented limit.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// A limit of `requests` per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    requests: u32,
    window: Duration,
    burst: u32,
    guard: Duration,
}

impl Default for RateLimit {
    /// 600 per minute, no burst, 5 % guard.
    fn default() -> Self {
        Self {
            requests: DEFAULT_REQUESTS_PER_WINDOW,
            window: DEFAULT_WINDOW,
            burst: 1,
            guard: DEFAULT_WINDOW / 20,
        }
    }
}

impl RateLimit {
    /// `requests` per `window`; both must be above zero. The guard defaults to 5 % of the window.
    pub fn new(requests: u32, window: Duration) -> Result<Self> {
        if requests == 0 {
            return Err(Error::validation(
                "rate_limit.requests",
                "at least 1 request per window",
            ));
        }
        if window.is_zero() {
            return Err(Error::validation(
                "rate_limit.window",
                "a window longer than zero",
            ));
        }
        Ok(Self {
            requests,
            window,
            burst: 1,
            guard: window / 20,
        })
    }

    /// `requests` per minute.
    pub fn per_minute(requests: u32) -> Result<Self> {
        Self::new(requests, Duration::from_secs(60))
    }

    /// Allows up to `burst` requests at once (clamped to 1..=requests); the spacing after a
    /// burst widens so that no window holds more than `requests`.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.clamp(1, self.requests);
        self
    }

    /// Sets the guard added to the window to absorb network and scheduling jitter.
    pub fn with_guard(mut self, guard: Duration) -> Self {
        self.guard = guard;
        self
    }

    /// Requests per window.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The burst.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The guard.
    pub fn guard(&self) -> Duration {
        self.guard
    }

    /// The spacing between requests once the burst is used: `(window + guard) / (requests -
    /// burst + 1)`, which keeps any window at `requests` at most.
    pub fn interval(&self) -> Duration {
        let slots = self.requests - self.burst + 1;
        (self.window + self.guard) / slots
    }
}

#[derive(Debug)]
struct State {
    tat: Option<Instant>,
    /// Set by [`Limiter::penalize`]: no permit before this instant.
    hold_until: Option<Instant>,
    /// Actual departure times within the last `window + guard`.
    departures: VecDeque<Instant>,
}

#[derive(Debug, Default)]
struct Buckets {
    by_key: HashMap<String, State>,
    waited: Duration,
    permits: u64,
}

/// An async GCRA limiter with one budget per key (iFinD counts per account). Clones share
/// every budget (every clone of a client shares its limiter). It implements conn-core's
/// [`Limiter`] contract, so a shared (Redis) limiter can replace it.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: RateLimit,
    interval: Duration,
    tolerance: Duration,
    state: Arc<Mutex<Buckets>>,
}

impl RateLimiter {
    /// A limiter enforcing `limit` for each key.
    pub fn new(limit: RateLimit) -> Self {
        let interval = limit.interval();
        Self {
            limit,
            interval,
            tolerance: interval.saturating_mul(limit.burst - 1),
            state: Arc::new(Mutex::new(Buckets::default())),
        }
    }

    /// The limit.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn span(&self) -> Duration {
        self.limit.window + self.limit.guard
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bucket<'a>(&self, b: &'a mut Buckets, key: &str) -> &'a mut State {
        b.by_key.entry(key.to_owned()).or_insert_with(|| State {
            tat: None,
            hold_until: None,
            departures: VecDeque::with_capacity(self.limit.requests.min(4096) as usize),
        })
    }

    /// The earliest instant a new permit of `st` may leave.
    fn next_slot(&self, st: &State, now: Instant) -> (Instant, Instant) {
        let mut tat = st.tat.map_or(now, |t| t.max(now));
        if let Some(h) = st.hold_until {
            tat = tat.max(h);
        }
        let at = tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now));
        let at = st.hold_until.map_or(at, |h| at.max(h));
        (tat, at)
    }

    fn reserve(&self, key: &str) -> Instant {
        let now = Instant::now();
        let mut b = self.lock();
        let st = self.bucket(&mut b, key);
        let (tat, at) = self.next_slot(st, now);
        st.tat = Some(tat + self.interval);
        b.permits += 1;
        b.waited += at - now;
        at
    }

    /// Records a departure now if the log allows it; otherwise returns when it will.
    fn depart(&self, key: &str) -> std::result::Result<(), Instant> {
        let now = Instant::now();
        let span = self.span();
        let mut b = self.lock();
        let st = self.bucket(&mut b, key);
        if let Some(h) = st.hold_until.filter(|h| *h > now) {
            return Err(h);
        }
        while st
            .departures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= span)
        {
            st.departures.pop_front();
        }
        if st.departures.len() >= self.limit.requests as usize {
            let oldest = st.departures.front().copied().unwrap_or(now);
            return Err(oldest + span);
        }
        st.departures.push_back(now);
        Ok(())
    }

    /// Waits for the next slot of `key` and takes it. Returns how long it waited.
    pub async fn acquire_for(&self, key: &str) -> Duration {
        let start = Instant::now();
        let at = self.reserve(key);
        if at > start {
            tracing::trace!(
                wait_ms = u64::try_from((at - start).as_millis()).unwrap_or(u64::MAX),
                "rate limiter: waiting for a slot"
            );
            tokio::time::sleep_until(at).await;
        }
        // Bounded: each pass either departs or sleeps until the oldest departure leaves the
        // window (or a penalty ends), and the log only holds `requests` entries.
        while let Err(until) = self.depart(key) {
            tracing::debug!("rate limiter: holding back");
            tokio::time::sleep_until(until).await;
        }
        start.elapsed()
    }

    /// Takes a slot of `key` only if one is free now; otherwise returns how long the caller
    /// would wait.
    pub fn try_acquire_for(&self, key: &str) -> std::result::Result<(), Duration> {
        let now = Instant::now();
        let span = self.span();
        let mut b = self.lock();
        let st = self.bucket(&mut b, key);
        let (tat, at) = self.next_slot(st, now);
        if at > now {
            return Err(at - now);
        }
        while st
            .departures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= span)
        {
            st.departures.pop_front();
        }
        if st.departures.len() >= self.limit.requests as usize {
            let oldest = st.departures.front().copied().unwrap_or(now);
            return Err((oldest + span).saturating_duration_since(now));
        }
        st.departures.push_back(now);
        st.tat = Some(tat + self.interval);
        b.permits += 1;
        Ok(())
    }

    /// Holds back every permit of `key` for `pause` from now (what a -4400 does).
    pub fn penalize_for(&self, key: &str, pause: Duration) {
        let now = Instant::now();
        let until = now.checked_add(pause).unwrap_or(now + self.span());
        let mut b = self.lock();
        let st = self.bucket(&mut b, key);
        st.hold_until = Some(st.hold_until.map_or(until, |h| h.max(until)));
        st.tat = Some(st.tat.map_or(until, |t| t.max(until)));
    }

    /// Permits handed out (every key) and the total time callers were told to wait.
    pub fn stats(&self) -> (u64, Duration) {
        let b = self.lock();
        (b.permits, b.waited)
    }
}

#[async_trait::async_trait]
impl Limiter for RateLimiter {
    async fn acquire(&self, key: &str) -> Result<Duration> {
        Ok(self.acquire_for(key).await)
    }

    async fn penalize(&self, key: &str, pause: Duration) -> Result<()> {
        self.penalize_for(key, pause);
        Ok(())
    }
}

/// The attempt hook a client installs: before every attempt (retries included) it takes a
/// permit of the account from the limiter, after penalizing the account when the previous
/// answer was -4400.
#[derive(Debug, Clone)]
pub struct LimiterHook {
    limiter: Arc<dyn Limiter>,
    key: String,
    pause: Duration,
    signal: RateSignal,
}

impl LimiterHook {
    /// A hook for `key`, pausing `pause` after each -4400 raised on `signal`.
    pub fn new(
        limiter: Arc<dyn Limiter>,
        key: String,
        pause: Duration,
        signal: RateSignal,
    ) -> Self {
        Self {
            limiter,
            key,
            pause,
            signal,
        }
    }
}

#[async_trait::async_trait]
impl conn_core::transport::AttemptHook for LimiterHook {
    async fn before_attempt(
        &self,
        _request: &mut conn_core::transport::Request,
        _attempt: u32,
    ) -> Result<()> {
        if self.signal.take() {
            tracing::info!(
                pause_s = self.pause.as_secs(),
                "iFinD answered -4400: slowing the account's limiter down"
            );
            self.limiter.penalize(&self.key, self.pause).await?;
        }
        self.limiter.acquire(&self.key).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_accounts_for_guard_and_burst() {
        let l = RateLimit::new(100, Duration::from_secs(1))
            .unwrap()
            .with_guard(Duration::ZERO);
        assert_eq!(l.interval(), Duration::from_millis(10));
        let l = l.with_burst(51);
        assert_eq!(l.interval(), Duration::from_millis(20));
        assert_eq!(RateLimit::default().interval(), Duration::from_millis(105));
        assert!(RateLimit::new(0, Duration::from_secs(1)).is_err());
        assert!(RateLimit::new(1, Duration::ZERO).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_limit() {
        let limit = RateLimit::new(10, Duration::from_secs(1))
            .unwrap()
            .with_burst(4);
        let l = RateLimiter::new(limit);
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..50 {
            let l = l.clone();
            handles.push(tokio::spawn(async move {
                l.acquire_for("a").await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.push(h.await.unwrap() - start);
        }
        times.sort();
        // The burst goes at once.
        assert!(times[..4].iter().all(|t| t.is_zero()));
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(in_window <= 10, "window from {t:?} holds {in_window}");
        }
        assert_eq!(l.stats().0, 50);
    }

    #[tokio::test(start_paused = true)]
    async fn callers_waking_late_together_are_held_back() {
        let l = RateLimiter::new(
            RateLimit::new(5, Duration::from_secs(1))
                .unwrap()
                .with_guard(Duration::ZERO),
        );
        let start = Instant::now();
        let slots: Vec<Instant> = (0..6).map(|_| l.reserve("a")).collect();
        assert_eq!(slots[5] - start, Duration::from_millis(1000));
        // A stall: the first five wake only at 900 ms, together; the log lets them go.
        tokio::time::advance(Duration::from_millis(900)).await;
        for _ in 0..5 {
            assert!(l.depart("a").is_ok());
        }
        // The sixth wakes on time at 1,000 ms, but five left within the last second.
        tokio::time::advance(Duration::from_millis(100)).await;
        let until = l.depart("a").unwrap_err();
        assert_eq!(until - start, Duration::from_millis(1900));
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_reports_the_wait() {
        let l = RateLimiter::new(
            RateLimit::new(2, Duration::from_secs(1))
                .unwrap()
                .with_guard(Duration::ZERO),
        );
        assert!(l.try_acquire_for("a").is_ok());
        let wait = l.try_acquire_for("a").unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        tokio::time::advance(wait).await;
        assert!(l.try_acquire_for("a").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn penalize_holds_the_key_back_and_only_that_key() {
        let l = RateLimiter::new(
            RateLimit::new(100, Duration::from_secs(1))
                .unwrap()
                .with_guard(Duration::ZERO),
        );
        assert!(l.try_acquire_for("a").is_ok());
        Limiter::penalize(&l, "a", Duration::from_secs(60))
            .await
            .unwrap();
        let wait = l.try_acquire_for("a").unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        assert!(
            l.try_acquire_for("b").is_ok(),
            "another account is not slowed"
        );
        let waited = Limiter::acquire(&l, "a").await.unwrap();
        assert_eq!(waited, Duration::from_secs(60));
    }
}
