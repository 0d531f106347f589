//! 1,000 quote calls fired at once against a fake enforcing 100 requests per second: the
//! client's limiter (same window) spaces them so that all succeed and the fake never answers
//! -4400.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use conn_ths::fake::FakeIfind;
use conn_ths::{Client, RealTimeQuotation};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_at_once_stay_within_the_limit() {
    let fake = FakeIfind::builder()
        .rate_limit(100, Duration::from_secs(1))
        .start()
        .await;
    // fake.config() carries the matching limit: 100 per 1 s window.
    let cfg = fake.config().with_retry(common::fast_retry(3));
    assert_eq!(cfg.rate_limit().requests(), 100);
    assert_eq!(cfg.rate_limit().window(), Duration::from_secs(1));
    let client = Client::new(cfg).unwrap();
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    let start = Instant::now();
    let calls: Vec<_> = (0..1000)
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
    assert_eq!(ok, 1000);
    assert_eq!(
        fake.rate_limited(),
        0,
        "the fake refused some requests with -4400"
    );
    assert_eq!(fake.request_count("real_time_quotation"), 1000);
    assert_eq!(fake.request_count("get_access_token"), 1);
    // 1,001 requests at 100 per second cannot take less than 10 windows.
    assert!(took >= Duration::from_secs(9), "{took:?}");
    let (permits, _) = client.limiter().stats();
    assert_eq!(permits, 1001);
}
