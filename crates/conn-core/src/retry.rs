//! Retry policies and the retry loop.
//!
//! Delays come from `tokio-retry` strategies (fixed, exponential) or a linear series, are capped
//! at [`RetryPolicy::max_delay`], and get full jitter (a uniform draw in `[0, delay]`, the AWS
//! "full jitter" scheme) unless [`Jitter::None`] is chosen. A server's `Retry-After` replaces the
//! computed delay, clamped to the same cap. The loop stops at the attempt limit or when the next
//! delay would cross the total-time limit.
//!
//! Whether an error is retried is decided by classification ([`Error::retry_class`]) and the
//! operation's [`Idempotency`]: see DESIGN.md's table.
//!
//! ```
//! use conn_core::retry::{retry, RetryPolicy, Idempotency, Jitter};
//! use std::time::Duration;
//! # tokio_test_block_on(async {
//! let policy = RetryPolicy::default().with_base_delay(Duration::from_millis(1)).with_jitter(Jitter::None);
//! let mut n = 0;
//! let v = retry(&policy, Idempotency::Idempotent, || {
//!     n += 1;
//!     let attempt = n;
//!     async move {
//!         if attempt < 3 { Err(conn_core::Error::from(conn_core::error::HttpError {
//!             platform: "x".into(), status: http::StatusCode::SERVICE_UNAVAILABLE,
//!             body_excerpt: String::new(), retry_after: None, log_id: None })) }
//!         else { Ok(attempt) }
//!     }
//! }).await.unwrap();
//! assert_eq!(v, 3);
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
//! # }
//! ```

use std::future::Future;
use std::time::{Duration, SystemTime};

use http::HeaderName;
use rand::Rng;
use tokio::time::Instant;
use tokio_retry::strategy::{ExponentialBackoff, FixedInterval};

use crate::env::Env;
use crate::error::{Error, Result};

/// How delays grow between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffStrategy {
    /// The same delay every time.
    Fixed,
    /// base, 2×base, 4×base, … (capped).
    Exponential,
    /// base, 2×base, 3×base, … (capped).
    Linear,
}

impl std::str::FromStr for BackoffStrategy {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "fixed" => Ok(Self::Fixed),
            "exponential" => Ok(Self::Exponential),
            "linear" => Ok(Self::Linear),
            _ => Err(()),
        }
    }
}

/// Randomisation of delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Uniform in `[0, delay]`: spreads a herd of clients evenly.
    Full,
    /// The computed delay exactly (tests, or callers who add their own).
    None,
}

/// Whether an operation may be repeated without changing the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, token fetches: repeatable.
    Idempotent,
    /// Creates, orders, publishes: a replay may act twice. Retried only when the request surely
    /// did not reach the server (connect error, 429, platform "busy"). A create: once an attempt
    /// may have been received, its failure is outcome-unknown.
    NonIdempotent,
    /// A POST made repeatable by an idempotency key, generated once per logical call and sent on
    /// every attempt in `header`. A create too: retried like an idempotent request, but once an
    /// attempt may have been received its failure is outcome-unknown, carrying the key.
    Key {
        /// The header carrying the key.
        header: HeaderName,
        /// The key.
        key: String,
    },
}

impl Idempotency {
    /// A fresh idempotency key (128 random bits, hex) for the given header.
    pub fn new_key(header: HeaderName) -> Self {
        let bytes: [u8; 16] = rand::thread_rng().gen();
        Idempotency::Key {
            header,
            key: hex::encode(bytes),
        }
    }

    /// True when a retry after a possibly-received request is safe.
    pub fn is_idempotent(&self) -> bool {
        !matches!(self, Idempotency::NonIdempotent)
    }

    /// True for a create: an operation that changes state on the server, whose unread or
    /// possibly-received failure leaves the outcome unknown ([`Idempotency::NonIdempotent`] and
    /// [`Idempotency::Key`]). This is how a request says it is a create.
    ///
    /// ```
    /// use conn_core::retry::Idempotency;
    /// assert!(Idempotency::NonIdempotent.is_create());
    /// assert!(Idempotency::new_key(http::HeaderName::from_static("idempotency-key")).is_create());
    /// assert!(!Idempotency::Idempotent.is_create());
    /// ```
    pub fn is_create(&self) -> bool {
        !matches!(self, Idempotency::Idempotent)
    }

    /// The idempotency key, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Idempotency::Key { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// A retry policy. Build from [`RetryPolicy::default`], [`RetryPolicy::from_env`] or
/// [`RetryPolicy::no_retry`], then adjust with the `with_*` methods.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delay growth.
    pub strategy: BackoffStrategy,
    /// First delay.
    pub base_delay: Duration,
    /// Largest delay, also the clamp for `Retry-After`.
    pub max_delay: Duration,
    /// Total attempts, the first included (so `API_MAX_RETRIES=3` means 4 attempts).
    pub max_attempts: u32,
    /// Stop when the next delay would end past this much time since the first attempt.
    pub total_time_limit: Option<Duration>,
    /// Randomisation.
    pub jitter: Jitter,
}

impl Default for RetryPolicy {
    /// 3 retries, 1 s exponential with full jitter, 30 s cap, 120 s total.
    fn default() -> Self {
        Self {
            strategy: BackoffStrategy::Exponential,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_attempts: 4,
            total_time_limit: Some(Duration::from_secs(120)),
            jitter: Jitter::Full,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn no_retry() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Defaults overridden by `API_MAX_RETRIES`, `API_RETRY_DELAY`, `API_RETRY_STRATEGY`.
    pub fn from_env(env: &Env) -> Result<Self> {
        let mut p = Self::default();
        if let Some(n) = env.parse::<u32>("API_MAX_RETRIES", "a whole number of retries (0-100)")? {
            if n > 100 {
                return Err(Error::config_var(
                    "API_MAX_RETRIES",
                    format!("expected at most 100 retries, got {n}"),
                ));
            }
            p.max_attempts = n + 1;
        }
        if let Some(d) = env.seconds("API_RETRY_DELAY")? {
            p.base_delay = d;
            if p.max_delay < d {
                p.max_delay = d;
            }
        }
        if let Some(s) = env.get("API_RETRY_STRATEGY") {
            p.strategy = s.parse().map_err(|()| {
                Error::config_var(
                    "API_RETRY_STRATEGY",
                    format!("expected fixed, exponential or linear, got {s:?}"),
                )
            })?;
        }
        Ok(p)
    }

    /// Sets the number of retries after the first attempt.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_attempts = retries.saturating_add(1);
        self
    }

    /// Sets the total number of attempts (at least 1).
    pub fn with_attempt_limit(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the total-time limit.
    pub fn with_time_limit(mut self, limit: Option<Duration>) -> Self {
        self.total_time_limit = limit;
        self
    }

    /// Sets the first delay.
    pub fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        if self.max_delay < d {
            self.max_delay = d;
        }
        self
    }

    /// Sets the delay cap.
    pub fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Sets the growth.
    pub fn with_strategy(mut self, s: BackoffStrategy) -> Self {
        self.strategy = s;
        self
    }

    /// Sets the jitter.
    pub fn with_jitter(mut self, j: Jitter) -> Self {
        self.jitter = j;
        self
    }

    /// The capped, un-jittered delays between attempts, in order (`max_attempts - 1` of them).
    pub fn delays(&self) -> Vec<Duration> {
        let n = self.max_attempts.saturating_sub(1) as usize;
        let base_ms = u64::try_from(self.base_delay.as_millis()).unwrap_or(u64::MAX);
        let raw: Box<dyn Iterator<Item = Duration>> = match self.strategy {
            BackoffStrategy::Fixed => Box::new(FixedInterval::from_millis(base_ms)),
            // tokio-retry's from_millis(b) grows as b, b², b³…; base 2 with factor base/2 gives
            // base, 2·base, 4·base… For a base under 2 ms, fall back to a 1 ms unit.
            BackoffStrategy::Exponential => Box::new(
                ExponentialBackoff::from_millis(2)
                    .factor((base_ms / 2).max(1))
                    .max_delay(self.max_delay),
            ),
            BackoffStrategy::Linear => {
                Box::new((1u32..).map(move |i| self.base_delay.saturating_mul(i)))
            }
        };
        raw.take(n).map(|d| d.min(self.max_delay)).collect()
    }

    /// The delay before retry number `retry` (0-based), jittered, or the server's request.
    pub fn delay_for(&self, retry: usize, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_delay);
        }
        let d = self.delays().get(retry).copied().unwrap_or(self.max_delay);
        self.jittered(d)
    }

    fn jittered(&self, d: Duration) -> Duration {
        match self.jitter {
            Jitter::None => d,
            Jitter::Full => {
                let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
                if nanos == 0 {
                    d
                } else {
                    Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
                }
            }
        }
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date (relative to `now`).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
/// assert_eq!(conn_core::retry::parse_retry_after("7", now), Some(Duration::from_secs(7)));
/// assert_eq!(conn_core::retry::parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now), Some(Duration::from_secs(10)));
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && (0.0..1e9).contains(&secs) {
            return Some(Duration::from_secs_f64(secs));
        }
        return None;
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Why a retry loop stopped with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// The error was not retryable for this operation.
    NotRetryable,
    /// The attempt limit was reached.
    AttemptsExhausted,
    /// The next delay would cross the total-time limit.
    TimeLimit,
}

/// The last error of a retry loop, with why it stopped.
#[derive(Debug)]
pub struct GaveUp<E> {
    /// The last error.
    pub error: E,
    /// The first error that was retried although the request may have been received (see
    /// [`retry_tracked`]), when it is not `error` itself.
    pub first_maybe_received: Option<E>,
    /// Why the loop stopped.
    pub reason: GiveUpReason,
    /// Attempts made.
    pub attempts: u32,
    /// Time since the first attempt.
    pub elapsed: Duration,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Retry, after the server's requested delay if it gave one.
    Retry {
        /// A delay the server asked for.
        after: Option<Duration>,
    },
    /// Stop and return the error.
    GiveUp,
}

/// Hooks the loop calls, so the transport can count and trace without a second loop.
pub trait RetryObserver {
    /// An attempt is starting (1-based).
    fn on_attempt(&mut self, _attempt: u32) {}
    /// A retry will happen after `delay`.
    fn on_retry(&mut self, _attempt: u32, _delay: Duration) {}
}

impl RetryObserver for () {}

/// The retry loop for any error type: `classify` decides per error.
///
/// Use this for user code whose errors are not [`Error`] (the original system's
/// `@retry_on_failure` decorator); [`retry`] is the shortcut for [`Error`].
pub async fn retry_with<T, E, F, Fut, C>(
    policy: &RetryPolicy,
    classify: C,
    observer: &mut (dyn RetryObserver + Send),
    op: F,
) -> std::result::Result<T, GaveUp<E>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = std::result::Result<T, E>>,
    C: FnMut(&E) -> RetryDecision,
{
    retry_tracked(policy, classify, |_| false, observer, op).await
}

/// [`retry_with`] that also remembers the first retried error for which `maybe_received`
/// holds (a timeout after sending, a 5xx…): when the loop then gives up on a later error, the
/// remembered one comes back in [`GaveUp::first_maybe_received`], so the caller can report
/// the outcome as unknown although the last answer was a definite refusal (429, "busy").
///
/// ```
/// use conn_core::retry::{retry_tracked, RetryDecision, RetryPolicy, Jitter};
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let policy = RetryPolicy::default().with_jitter(Jitter::None).with_base_delay(std::time::Duration::from_millis(1));
/// let answers = ["timeout after send", "429", "429", "429"];
/// let g = retry_tracked(&policy, |_: &&str| RetryDecision::Retry { after: None },
///     |e: &&str| e.starts_with("timeout"), &mut (), |n| async move { Err::<(), _>(answers[n as usize - 1]) })
///     .await.unwrap_err();
/// assert_eq!((g.error, g.first_maybe_received, g.attempts), ("429", Some("timeout after send"), 4));
/// # });
/// ```
pub async fn retry_tracked<T, E, F, Fut, C, M>(
    policy: &RetryPolicy,
    mut classify: C,
    mut maybe_received: M,
    observer: &mut (dyn RetryObserver + Send),
    mut op: F,
) -> std::result::Result<T, GaveUp<E>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = std::result::Result<T, E>>,
    C: FnMut(&E) -> RetryDecision,
    M: FnMut(&E) -> bool,
{
    let start = Instant::now();
    let mut attempt: u32 = 0;
    let mut first: Option<E> = None;
    loop {
        attempt += 1;
        observer.on_attempt(attempt);
        let err = match op(attempt).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let mut give_up = |error, reason| GaveUp {
            error,
            first_maybe_received: first.take(),
            reason,
            attempts: attempt,
            elapsed: start.elapsed(),
        };
        let after = match classify(&err) {
            RetryDecision::GiveUp => return Err(give_up(err, GiveUpReason::NotRetryable)),
            RetryDecision::Retry { after } => after,
        };
        if attempt >= policy.max_attempts {
            return Err(give_up(err, GiveUpReason::AttemptsExhausted));
        }
        let delay = policy.delay_for((attempt - 1) as usize, after);
        if let Some(limit) = policy.total_time_limit {
            if start.elapsed().saturating_add(delay) > limit {
                return Err(give_up(err, GiveUpReason::TimeLimit));
            }
        }
        if first.is_none() && maybe_received(&err) {
            first = Some(err);
        }
        observer.on_retry(attempt, delay);
        tokio::time::sleep(delay).await;
    }
}

/// Retries an operation returning [`Error`] according to the decision table: errors of class
/// `Always` are retried for any operation, `IdempotentOnly` only when `idempotency` allows, and
/// `Never` never. Returns the last error when it stops.
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let idempotent = idempotency.is_idempotent();
    retry_with(
        policy,
        |e: &Error| classify(e, idempotent),
        &mut (),
        |_| op(),
    )
    .await
    .map_err(|g| g.error)
}

/// The decision table as a function.
pub fn classify(e: &Error, idempotent: bool) -> RetryDecision {
    if e.is_retryable_for(idempotent) {
        RetryDecision::Retry {
            after: e.retry_after(),
        }
    } else {
        RetryDecision::GiveUp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MapEnv;

    #[test]
    fn exponential_doubles_and_caps() {
        let p = RetryPolicy::default()
            .with_jitter(Jitter::None)
            .with_max_retries(6)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(1000));
        let ms: Vec<u128> = p.delays().iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn fixed_and_linear() {
        let base = RetryPolicy::default()
            .with_jitter(Jitter::None)
            .with_max_retries(4)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(250));
        let f: Vec<u128> = base
            .clone()
            .with_strategy(BackoffStrategy::Fixed)
            .delays()
            .iter()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(f, vec![100, 100, 100, 100]);
        let l: Vec<u128> = base
            .with_strategy(BackoffStrategy::Linear)
            .delays()
            .iter()
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(l, vec![100, 200, 250, 250]);
    }

    #[test]
    fn full_jitter_stays_within_delay() {
        let p = RetryPolicy::default().with_base_delay(Duration::from_millis(100));
        for _ in 0..200 {
            assert!(p.delay_for(0, None) <= Duration::from_millis(100));
        }
    }

    #[test]
    fn retry_after_is_clamped() {
        let p = RetryPolicy::default().with_max_delay(Duration::from_secs(5));
        assert_eq!(
            p.delay_for(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn from_env_defaults_and_errors() {
        let p = RetryPolicy::from_env(&Env::from_source(MapEnv::new())).unwrap();
        assert_eq!(p.max_attempts, 4);
        assert_eq!(p.base_delay, Duration::from_secs(1));
        assert_eq!(p.strategy, BackoffStrategy::Exponential);
        let p = RetryPolicy::from_env(&Env::from_source(
            MapEnv::new()
                .set("API_MAX_RETRIES", "0")
                .set("API_RETRY_DELAY", "0.25")
                .set("API_RETRY_STRATEGY", "LINEAR"),
        ))
        .unwrap();
        assert_eq!(p.max_attempts, 1);
        assert_eq!(p.base_delay, Duration::from_millis(250));
        assert_eq!(p.strategy, BackoffStrategy::Linear);
        for (var, val) in [
            ("API_MAX_RETRIES", "-1"),
            ("API_RETRY_DELAY", "abc"),
            ("API_RETRY_STRATEGY", "random"),
        ] {
            let err =
                RetryPolicy::from_env(&Env::from_source(MapEnv::new().set(var, val))).unwrap_err();
            assert!(err.to_string().contains(var), "{err}");
        }
    }

    /// On paused time: the loop sleeps exactly what the server's `Retry-After` asks, not the
    /// policy's delay (the transport hands the parsed header to the loop through the error).
    #[tokio::test(start_paused = true)]
    async fn the_loop_sleeps_what_retry_after_asks() {
        let p = RetryPolicy::default()
            .with_jitter(Jitter::None)
            .with_base_delay(Duration::from_millis(1))
            .with_max_delay(Duration::from_secs(60));
        let start = Instant::now();
        let mut n = 0;
        let r = retry(&p, Idempotency::NonIdempotent, || {
            n += 1;
            let first = n == 1;
            async move {
                if first {
                    Err(Error::from(crate::error::HttpError {
                        platform: "p".into(),
                        status: http::StatusCode::TOO_MANY_REQUESTS,
                        body_excerpt: String::new(),
                        retry_after: parse_retry_after("7", SystemTime::now()),
                        log_id: None,
                    }))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn time_limit_stops_the_loop() {
        let p = RetryPolicy::default()
            .with_jitter(Jitter::None)
            .with_max_retries(10)
            .with_base_delay(Duration::from_secs(1))
            .with_strategy(BackoffStrategy::Fixed)
            .with_time_limit(Some(Duration::from_millis(3500)));
        let mut calls = 0u32;
        let r: std::result::Result<(), GaveUp<&str>> = retry_with(
            &p,
            |_| RetryDecision::Retry { after: None },
            &mut (),
            |_| {
                calls += 1;
                async { Err("boom") }
            },
        )
        .await;
        let g = r.unwrap_err();
        assert_eq!(g.reason, GiveUpReason::TimeLimit);
        assert_eq!(calls, 4);
        assert_eq!(g.attempts, 4);
    }
}
