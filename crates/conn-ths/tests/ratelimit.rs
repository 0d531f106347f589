//! Many calls fired at once: the client's limiter spaces them so that no window sees more than
//! the limit. The spacing of 1,000 callers is checked on paused tokio time (ten windows pass in
//! an instant); the end-to-end run against a fake that enforces its limit uses 240 calls on
//! the wall clock (about three seconds). A real -4400 penalizes the account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conn_core::limit::Limiter;
use conn_ths::fake::FakeIfind;
use conn_ths::fake::Fault;
use conn_ths::{Client, RateLimit, RateLimiter, RealTimeQuotation};

/// conn-ths' limiter, recording the (tokio-clock) instant of every permit it hands out.
#[derive(Debug)]
struct Timeline {
    inner: RateLimiter,
    at: Mutex<Vec<tokio::time::Instant>>,
}

#[async_trait::async_trait]
impl Limiter for Timeline {
    async fn acquire(&self, key: &str) -> conn_core::Result<Duration> {
        let waited = self.inner.acquire(key).await?;
        self.at.lock().unwrap().push(tokio::time::Instant::now());
        Ok(waited)
    }

    async fn penalize(&self, key: &str, pause: Duration) -> conn_core::Result<()> {
        self.inner.penalize(key, pause).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_thousand_callers_at_once_are_spaced_over_ten_windows() {
    let limit = RateLimit::new(100, Duration::from_secs(1)).unwrap();
    let timeline = Arc::new(Timeline {
        inner: RateLimiter::new(limit),
        at: Mutex::new(Vec::new()),
    });
    let start = tokio::time::Instant::now();
    let calls: Vec<_> = (0..1001)
        .map(|_| {
            let t = timeline.clone();
            tokio::spawn(async move { t.acquire("acct").await })
        })
        .collect();
    for h in calls {
        h.await.unwrap().unwrap();
    }
    let took = start.elapsed();
    let (permits, _) = timeline.inner.stats();
    assert_eq!(permits, 1001);
    let mut at = timeline.at.lock().unwrap().clone();
    at.sort();
    assert_eq!(at.len(), 1001);
    // No 101 permits fit in one window.
    for w in at.windows(101) {
        assert!(
            w[100].duration_since(w[0]) >= Duration::from_secs(1),
            "101 permits within {:?}",
            w[100].duration_since(w[0])
        );
    }
    // 1,001 permits at 100 per second cannot take less than 10 windows (virtual time).
    assert!(took >= Duration::from_secs(10), "{took:?}");
    assert!(took < Duration::from_secs(12), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_at_once_stay_within_the_fakes_limit() {
    let fake = FakeIfind::builder()
        .rate_limit(100, Duration::from_secs(1))
        .start()
        .await;
    // fake.config() carries the matching limit: 100 per 1 s window.
    assert_eq!(fake.config().rate_limit().requests(), 100);
    assert_eq!(fake.config().rate_limit().window(), Duration::from_secs(1));
    // The client keeps a fifth in reserve: the fake counts arrivals, and on a loaded machine a
    // request permitted at the end of one window can arrive after one permitted a window
    // later (exactly the budget measured at the server then overflows by one).
    let cfg = fake
        .config_builder()
        .rate_limit(RateLimit::new(80, Duration::from_secs(1)).unwrap())
        .transport(common::transport(common::fast_retry(3)))
        .build()
        .unwrap();
    let limiter = Arc::new(RateLimiter::new(cfg.rate_limit()));
    let client = Client::builder(cfg)
        .limiter(limiter.clone())
        .build()
        .unwrap();
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    let start = Instant::now();
    let calls: Vec<_> = (0..240)
        .map(|_| {
            // Every clone shares the one limiter.
            let c = client.clone();
            let q = q.clone();
            tokio::spawn(async move { c.real_time_quotation(&q).await })
        })
        .collect();
    let mut ok = 0;
    for h in calls {
        h.await.unwrap().unwrap();
        ok += 1;
    }
    let took = start.elapsed();
    assert_eq!(ok, 240);
    assert_eq!(
        fake.rate_limited(),
        0,
        "the fake refused some requests with -4400"
    );
    assert_eq!(fake.request_count("real_time_quotation"), 240);
    assert_eq!(fake.request_count("get_access_token"), 1);
    // 241 requests at 80 per second cannot take less than 3 windows.
    assert!(took >= Duration::from_secs(3), "{took:?}");
    let (permits, _) = limiter.stats();
    assert_eq!(permits, 241);
}

/// A limiter that records what it is asked, to check the client's side of the contract.
#[derive(Debug, Default)]
struct Spy {
    calls: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl conn_core::limit::Limiter for Spy {
    async fn acquire(&self, key: &str) -> conn_core::Result<Duration> {
        self.calls.lock().unwrap().push(format!("acquire {key}"));
        Ok(Duration::ZERO)
    }

    async fn penalize(&self, key: &str, pause: Duration) -> conn_core::Result<()> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("penalize {key} {}s", pause.as_secs()));
        Ok(())
    }
}

/// A real -4400 (the server counted more than its limit: another process on the same
/// account) penalizes the account in the limiter for one window before the retry, and the
/// retry then succeeds. The penalty itself (no permit for the window) is checked on paused
/// time in `ratelimit.rs`'s unit tests.
#[tokio::test]
async fn a_real_4400_penalizes_the_account_then_retries() {
    let fake = FakeIfind::builder().no_rate_limit().start().await;
    let cfg = conn_ths::Config::builder()
        .refresh_token(fake.refresh_token())
        .base_url(fake.uri())
        .account("acct-7")
        .rate_limit(RateLimit::per_minute(600).unwrap())
        .transport(common::transport(common::fast_retry(3)))
        .build()
        .unwrap();
    let spy = Arc::new(Spy::default());
    let client = Client::builder(cfg).limiter(spy.clone()).build().unwrap();
    client.check_credentials().await.unwrap();
    fake.fail_next("real_time_quotation", Fault::code(-4400), 1);
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    client.real_time_quotation(&q).await.unwrap();
    assert_eq!(
        fake.request_count("real_time_quotation"),
        2,
        "refused once, retried once"
    );
    assert_eq!(
        *spy.calls.lock().unwrap(),
        [
            "acquire acct-7",      // get_access_token
            "acquire acct-7",      // the first attempt, answered -4400
            "penalize acct-7 60s", // one window of the account's limit
            "acquire acct-7",      // the retry
        ]
    );
}
