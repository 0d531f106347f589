//! A refresh that ends in any way (error, panic, cancellation, timeout) frees the single-flight
//! slot, its waiters get a typed error, and the next call tries again; a dead credential met by
//! a call (not only by a refresh) clears the stored tokens through `with_token`; absurd
//! lifetimes never panic. No network: refreshers are in-process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use conn_core::error::{ApiError, ApiErrorKind, RefreshAbort};
use conn_core::secret::AccessToken;
use conn_core::token::{
    MemoryTokenStore, TokenKey, TokenManager, TokenRefresher, TokenSet, TokenStore,
    MAX_TOKEN_LIFETIME,
};
use conn_core::{Error, Result};

/// What the n-th refresh (0-based) does.
#[derive(Debug, Clone, Copy)]
enum Step {
    Panic,
    Hang,
    Fail,
    Dead,
    Ok,
}

#[derive(Debug)]
struct Scripted {
    steps: Vec<Step>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(steps: Vec<Step>) -> Arc<Self> {
        Arc::new(Self {
            steps,
            calls: AtomicUsize::new(0),
        })
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenRefresher for Scripted {
    async fn refresh(&self, _current: Option<&TokenSet>) -> Result<TokenSet> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        match self.steps[n.min(self.steps.len() - 1)] {
            Step::Panic => panic!("refresher bug (expected by the test)"),
            Step::Hang => {
                tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
                unreachable!("the manager's timeout ends the refresh first")
            }
            Step::Fail => Err(ApiError::new("t", "E1", "refused", ApiErrorKind::Other).into()),
            Step::Dead => Err(ApiError::new(
                "t",
                "E2",
                "refresh token dead",
                ApiErrorKind::ReauthRequired,
            )
            .into()),
            Step::Ok => Ok(TokenSet::new(AccessToken::new(format!("act.{n}")))),
        }
    }
}

fn manager(r: Arc<Scripted>, store: Arc<MemoryTokenStore>) -> TokenManager {
    TokenManager::new(TokenKey::new("t", "acct"), r, store)
        .with_jitter(Duration::ZERO)
        .with_refresh_timeout(Duration::from_secs(60))
}

fn aborted(e: &Error) -> Option<RefreshAbort> {
    match e {
        Error::RefreshAborted(a) => Some(a.how),
        Error::Shared(s) => aborted(s),
        _ => None,
    }
}

#[tokio::test]
async fn a_refresher_that_panics_once_does_not_brick_the_manager() {
    let r = Scripted::new(vec![Step::Panic, Step::Ok]);
    let m = manager(r.clone(), Arc::new(MemoryTokenStore::new()));
    // Several waiters join the panicking refresh: each gets the typed error.
    let (a, b, c) = tokio::join!(m.token(), m.token(), m.token());
    for e in [a.unwrap_err(), b.unwrap_err(), c.unwrap_err()] {
        assert_eq!(aborted(&e), Some(RefreshAbort::Panicked), "{e}");
        assert!(e.to_string().contains("the next call tries again"), "{e}");
    }
    assert_eq!(r.calls(), 1, "one refresh for all waiters");
    // The slot is free: the next call refreshes again and succeeds.
    assert_eq!(m.token().await.unwrap().expose_secret(), "act.1");
    assert_eq!(r.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_that_hangs_times_out_and_the_next_call_tries_again() {
    let r = Scripted::new(vec![Step::Hang, Step::Ok]);
    let m = manager(r.clone(), Arc::new(MemoryTokenStore::new()));
    let e = m.token().await.unwrap_err();
    assert_eq!(aborted(&e), Some(RefreshAbort::TimedOut), "{e}");
    assert_eq!(m.token().await.unwrap().expose_secret(), "act.1");
    assert_eq!(r.calls(), 2);
}

#[test]
fn a_refresh_cancelled_by_its_runtime_shutting_down_frees_the_slot() {
    let r = Scripted::new(vec![Step::Hang, Step::Ok]);
    let m = manager(r.clone(), Arc::new(MemoryTokenStore::new()));
    // First runtime: a caller starts the refresh, then the runtime goes away mid-refresh.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let waiting = tokio::time::timeout(Duration::from_millis(20), m.token()).await;
        assert!(waiting.is_err(), "the refresh hangs");
    });
    drop(rt);
    // A second runtime: the slot was freed when the task was dropped; a new refresh runs.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(m.token().await.unwrap().expose_secret(), "act.1");
    });
    assert_eq!(r.calls(), 2);
}

#[tokio::test]
async fn error_then_panic_then_success_each_release_the_slot() {
    let r = Scripted::new(vec![Step::Fail, Step::Panic, Step::Fail, Step::Ok]);
    let m = manager(r.clone(), Arc::new(MemoryTokenStore::new()));
    assert_eq!(m.token().await.unwrap_err().platform_code(), Some("E1"));
    assert_eq!(
        aborted(&m.token().await.unwrap_err()),
        Some(RefreshAbort::Panicked)
    );
    assert_eq!(m.token().await.unwrap_err().platform_code(), Some("E1"));
    assert_eq!(m.token().await.unwrap().expose_secret(), "act.3");
    assert_eq!(r.calls(), 4);
}

#[tokio::test]
async fn a_call_that_says_reauthorize_clears_the_stored_tokens_and_returns_the_typed_error() {
    let store = Arc::new(MemoryTokenStore::new());
    let r = Scripted::new(vec![Step::Ok]);
    let m = manager(r.clone(), store.clone());
    m.set(TokenSet::new(AccessToken::new("act.stored")))
        .await
        .unwrap();
    let calls = AtomicUsize::new(0);
    let err = m
        .with_token(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err::<(), _>(Error::from(ApiError::new(
                    "t",
                    "-1302",
                    "login again",
                    ApiErrorKind::ReauthRequired,
                )))
            }
        })
        .await
        .unwrap_err();
    let Error::ReauthRequired(re) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(re.account.as_deref(), Some("acct"));
    assert_eq!(
        err.platform_code(),
        Some("-1302"),
        "the platform's code is kept"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1, "not replayed");
    assert!(store.load(m.key()).await.unwrap().is_none());
    assert!(m.current().await.unwrap().is_none());
    assert_eq!(r.calls(), 0);
}

#[tokio::test]
async fn expired_then_a_dead_refresh_clears_and_returns_reauth_once() {
    let store = Arc::new(MemoryTokenStore::new());
    let r = Scripted::new(vec![Step::Dead]);
    let m = manager(r.clone(), store.clone());
    m.set(TokenSet::new(AccessToken::new("act.stored")))
        .await
        .unwrap();
    let calls = AtomicUsize::new(0);
    let err = m
        .with_token(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err::<(), _>(Error::from(ApiError::new(
                    "t",
                    "E",
                    "expired",
                    ApiErrorKind::TokenExpired,
                )))
            }
        })
        .await
        .unwrap_err();
    assert!(err.is_reauth_required(), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "no replay without a token");
    assert_eq!(r.calls(), 1);
    assert!(store.load(m.key()).await.unwrap().is_none());
}

#[test]
fn absurd_lifetimes_are_clamped_not_panicking() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for d in [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_secs(i64::MAX as u64),
        MAX_TOKEN_LIFETIME + Duration::from_nanos(1),
    ] {
        let t = TokenSet::new(AccessToken::new("a"))
            .with_expires_in(now, d)
            .with_refresh_expires_in(now, d);
        assert_eq!(t.expires_at, Some(now + MAX_TOKEN_LIFETIME));
        assert_eq!(t.refresh_expires_at, Some(now + MAX_TOKEN_LIFETIME));
        // And through the store's form and back.
        let back = TokenSet::from_stored(t.to_stored());
        assert_eq!(back.expires_at, t.expires_at);
    }
    // A stored file with hostile expiries reads without panicking.
    for secs in [i64::MAX, i64::MIN, -1, 0] {
        let mut s = TokenSet::new(AccessToken::new("a")).to_stored();
        s.expires_at = Some(secs);
        let t = TokenSet::from_stored(s);
        assert!(t.expires_at.unwrap() >= UNIX_EPOCH);
        assert!(t.is_expired_at(SystemTime::now()) || secs == i64::MAX);
    }
}
