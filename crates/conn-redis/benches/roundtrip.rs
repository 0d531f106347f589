//! Round-trip costs of the shared state: `cargo bench -p conn-redis`.
//!
//! Starts its own redis-server on a free 127.0.0.1 port (nothing on disk) and measures, each
//! as the median (and p90) of batches:
//!
//! | row | what |
//! |---|---|
//! | lease acquire + release | `RedisTokenStore::lock` (one `SET NX PX` script) and dropping the guard (compare-and-delete), waiting for the release to land |
//! | limiter round trip | `RedisLimiter::reserve` (the GCRA script with `TIME`) under a limit that never makes anyone wait |
//! | replay check | `RedisReplayCache::first_seen` on a new id (`SET NX EX`) |
//! | token save (fenced) | `save` under a held lease: seal with AES-256-GCM, the fenced write script |
//! | token load | `load`: `HGET` and open |
//! | cached token read | `TokenManager::token` with the token in memory: no round trip at all |
//!
//! Skips (with a message) when redis-server is not installed.

use std::error::Error;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use conn_core::secret::{AccessToken, RefreshToken};
use conn_core::token::{TokenKey, TokenManager, TokenRefresher, TokenSet, TokenStore};
use conn_core::webhook::ReplayCache;
use conn_redis::server::{server_available, LocalRedis, Persistence};
use conn_redis::{
    Redis, RedisConfig, RedisLimiter, RedisReplayCache, RedisTokenStore, SharedLimit, TokenCipher,
};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const BATCHES: usize = 15;

#[derive(Debug)]
struct Fixed;

#[async_trait::async_trait]
impl TokenRefresher for Fixed {
    async fn refresh(&self, _: Option<&TokenSet>) -> conn_core::Result<TokenSet> {
        Ok(sample())
    }
}

fn sample() -> TokenSet {
    TokenSet::new(AccessToken::new("at-0123456789abcdef0123456789abcdef"))
        .with_refresh_token(Some(RefreshToken::new(
            "rt-0123456789abcdef0123456789abcdef",
        )))
        .with_expires_in(SystemTime::now(), Duration::from_secs(3600))
}

/// Per-operation time of `per_batch` runs, over `BATCHES` batches: (median, p90).
async fn measure<F, Fut>(per_batch: usize, mut f: F) -> BenchResult<(Duration, Duration)>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = BenchResult<()>>,
{
    let mut per_op = Vec::with_capacity(BATCHES);
    let mut i = 0;
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..per_batch {
            f(i).await?;
            i += 1;
        }
        per_op.push(start.elapsed() / u32::try_from(per_batch)?);
    }
    per_op.sort();
    Ok((per_op[BATCHES / 2], per_op[BATCHES * 9 / 10]))
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_micros(10) {
        format!("{} ns", d.as_nanos())
    } else {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }
}

fn main() -> BenchResult<()> {
    if !server_available() {
        eprintln!("redis-server is not installed (apt-get install -y redis-server): bench skipped");
        return Ok(());
    }
    let server = LocalRedis::start(Persistence::None)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(&server))
}

async fn run(server: &LocalRedis) -> BenchResult<()> {
    let redis = Redis::new(RedisConfig::new(server.url())?)?;
    redis.ping().await?;
    let store = RedisTokenStore::new(redis.clone(), TokenCipher::from_base64(KEY)?);
    let key = TokenKey::new("ths", "bench");
    let mut rows: Vec<(&str, (Duration, Duration))> = Vec::new();

    let lease_key = redis.key(&["lease", "ths/bench"]);
    rows.push((
        "lease acquire + release",
        measure(200, |_| {
            let store = store.clone();
            let key = key.clone();
            let redis = redis.clone();
            let lease_key = lease_key.clone();
            async move {
                let lease = store.lock(&key).await?;
                drop(lease);
                // The release is sent from a spawned task: wait until it has landed, so the
                // row is the whole cost and the next acquire does not wait for a lease.
                let mut conn = redis.connection().await?;
                loop {
                    let exists: i64 = redis::cmd("EXISTS")
                        .arg(&lease_key)
                        .query_async(&mut conn)
                        .await?;
                    if exists == 0 {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                Ok(())
            }
        })
        .await?,
    ));

    let limiter = RedisLimiter::new(
        redis.clone(),
        "bench",
        SharedLimit::new(u32::MAX, Duration::from_secs(1))?.with_guard(Duration::ZERO),
    );
    rows.push((
        "limiter round trip (reserve)",
        measure(500, |_| {
            let limiter = limiter.clone();
            async move {
                black_box(limiter.reserve("acct").await?);
                Ok(())
            }
        })
        .await?,
    ));

    let seen = RedisReplayCache::new(redis.clone(), "bench");
    rows.push((
        "replay check (new id)",
        measure(500, |i| {
            let seen = seen.clone();
            async move {
                black_box(seen.first_seen(&format!("msg-{i}")).await?);
                Ok(())
            }
        })
        .await?,
    ));

    let tokens = sample();
    {
        let _lease = store.lock(&key).await?;
        let (s, k, t) = (store.clone(), key.clone(), tokens.clone());
        rows.push((
            "token save (fenced, sealed)",
            measure(300, |_| {
                let (s, k, t) = (s.clone(), k.clone(), t.clone());
                async move {
                    s.save(&k, &t).await?;
                    Ok(())
                }
            })
            .await?,
        ));
    }
    rows.push((
        "token load (opened)",
        measure(500, |_| {
            let (s, k) = (store.clone(), key.clone());
            async move {
                black_box(s.load(&k).await?);
                Ok(())
            }
        })
        .await?,
    ));

    let manager = TokenManager::new(key.clone(), Arc::new(Fixed), Arc::new(store.clone()));
    manager.token().await?;
    rows.push((
        "cached token read (no round trip)",
        measure(100_000, |_| {
            let m = manager.clone();
            async move {
                black_box(m.token().await?);
                Ok(())
            }
        })
        .await?,
    ));

    println!(
        "conn-redis round trips against a local redis-server ({BATCHES} batches; per operation)"
    );
    println!("{:<36} {:>12} {:>12}", "operation", "median", "p90");
    for (name, (median, p90)) in rows {
        println!("{name:<36} {:>12} {:>12}", fmt(median), fmt(p90));
    }
    Ok(())
}
