//! Per-platform call counters, readable at any time (the original system's `get_stats()`).
//!
//! ```
//! let s = conn_core::stats::for_platform("doc-example");
//! s.record_call();
//! assert_eq!(conn_core::stats::snapshot()["doc-example"].calls, 1);
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Live counters of one platform. Cheap to update (relaxed atomics).
#[derive(Debug, Default)]
pub struct PlatformStats {
    calls: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    give_ups: AtomicU64,
    successes: AtomicU64,
    failures: AtomicU64,
    token_refreshes: AtomicU64,
}

/// A point-in-time copy of [`PlatformStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// Logical operations started.
    pub calls: u64,
    /// HTTP attempts made (calls + retries).
    pub attempts: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Operations that failed after a retryable error because attempts or time ran out.
    pub give_ups: u64,
    /// Operations that succeeded.
    pub successes: u64,
    /// Operations that failed (including give-ups).
    pub failures: u64,
    /// Token refresh requests made.
    pub token_refreshes: u64,
}

impl PlatformStats {
    /// A logical operation started.
    pub fn record_call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
    /// An HTTP attempt was made.
    pub fn record_attempt(&self) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }
    /// A retry is about to be made.
    pub fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    /// The retry loop gave up on a retryable error.
    pub fn record_give_up(&self) {
        self.give_ups.fetch_add(1, Ordering::Relaxed);
    }
    /// The operation succeeded.
    pub fn record_success(&self) {
        self.successes.fetch_add(1, Ordering::Relaxed);
    }
    /// The operation failed.
    pub fn record_failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }
    /// A token refresh request was made.
    pub fn record_token_refresh(&self) {
        self.token_refreshes.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            calls: self.calls.load(Ordering::Relaxed),
            attempts: self.attempts.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            give_ups: self.give_ups.load(Ordering::Relaxed),
            successes: self.successes.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            token_refreshes: self.token_refreshes.load(Ordering::Relaxed),
        }
    }
}

fn registry() -> &'static Mutex<BTreeMap<String, Arc<PlatformStats>>> {
    static REGISTRY: OnceLock<Mutex<BTreeMap<String, Arc<PlatformStats>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// The process-wide counters of a platform (created on first use).
pub fn for_platform(platform: &str) -> Arc<PlatformStats> {
    let mut map = registry().lock().unwrap_or_else(|p| p.into_inner());
    map.entry(platform.to_owned()).or_default().clone()
}

/// Counters of every platform seen so far.
pub fn snapshot() -> BTreeMap<String, StatsSnapshot> {
    let map = registry().lock().unwrap_or_else(|p| p.into_inner());
    map.iter().map(|(k, v)| (k.clone(), v.snapshot())).collect()
}
