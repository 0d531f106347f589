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
//! limiter.acquire().await;
//! shared.acquire().await;
//! # });
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conn_core::{Error, Result};
use tokio::time::Instant;

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
    waited: Duration,
    permits: u64,
    /// Actual departure times within the last `window + guard`.
    departures: VecDeque<Instant>,
}

/// An async GCRA limiter. Clones share one budget (every clone of a client shares its limiter).
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: RateLimit,
    interval: Duration,
    tolerance: Duration,
    state: Arc<Mutex<State>>,
}

impl RateLimiter {
    /// A limiter enforcing `limit`.
    pub fn new(limit: RateLimit) -> Self {
        let interval = limit.interval();
        Self {
            limit,
            interval,
            tolerance: interval * (limit.burst - 1),
            state: Arc::new(Mutex::new(State {
                tat: None,
                waited: Duration::ZERO,
                permits: 0,
                departures: VecDeque::with_capacity(limit.requests.min(4096) as usize),
            })),
        }
    }

    /// The limit.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn span(&self) -> Duration {
        self.limit.window + self.limit.guard
    }

    fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let tat = st.tat.map_or(now, |t| t.max(now));
        let at = tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now));
        st.tat = Some(tat + self.interval);
        st.permits += 1;
        st.waited += at - now;
        at
    }

    /// Records a departure now if the log allows it; otherwise returns when it will.
    fn depart(&self) -> std::result::Result<(), Instant> {
        let now = Instant::now();
        let span = self.span();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
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

    /// Waits for the next slot and takes it. Returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let start = Instant::now();
        let at = self.reserve();
        if at > start {
            tracing::trace!(
                wait_ms = (at - start).as_millis() as u64,
                "rate limiter: waiting for a slot"
            );
            tokio::time::sleep_until(at).await;
        }
        // Bounded: each pass either departs or sleeps until the oldest departure leaves the
        // window, and the log only holds `requests` entries.
        while let Err(until) = self.depart() {
            tracing::debug!("rate limiter: callers woke late together; holding back");
            tokio::time::sleep_until(until).await;
        }
        start.elapsed()
    }

    /// Takes a slot only if one is free now; otherwise returns how long the caller would wait.
    pub fn try_acquire(&self) -> std::result::Result<(), Duration> {
        let now = Instant::now();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let tat = st.tat.map_or(now, |t| t.max(now));
        let at = tat.checked_sub(self.tolerance).map_or(now, |t| t.max(now));
        if at > now {
            return Err(at - now);
        }
        let span = self.span();
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
        st.permits += 1;
        Ok(())
    }

    /// Permits handed out and the total time callers were told to wait.
    pub fn stats(&self) -> (u64, Duration) {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        (st.permits, st.waited)
    }
}

/// Every attempt (retries included) waits for a slot, so retries are paced like first tries.
#[async_trait::async_trait]
impl conn_core::transport::AttemptHook for RateLimiter {
    async fn before_attempt(
        &self,
        _request: &mut conn_core::transport::Request,
        _attempt: u32,
    ) -> Result<()> {
        self.acquire().await;
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
                l.acquire().await;
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
        let slots: Vec<Instant> = (0..6).map(|_| l.reserve()).collect();
        assert_eq!(slots[5] - start, Duration::from_millis(1000));
        // A stall: the first five wake only at 900 ms, together; the log lets them go.
        tokio::time::advance(Duration::from_millis(900)).await;
        for _ in 0..5 {
            assert!(l.depart().is_ok());
        }
        // The sixth wakes on time at 1,000 ms, but five left within the last second.
        tokio::time::advance(Duration::from_millis(100)).await;
        let until = l.depart().unwrap_err();
        assert_eq!(until - start, Duration::from_millis(1900));
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_reports_the_wait() {
        let l = RateLimiter::new(
            RateLimit::new(2, Duration::from_secs(1))
                .unwrap()
                .with_guard(Duration::ZERO),
        );
        assert!(l.try_acquire().is_ok());
        let wait = l.try_acquire().unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        tokio::time::advance(wait).await;
        assert!(l.try_acquire().is_ok());
    }
}
