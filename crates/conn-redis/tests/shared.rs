//! The store, lease, limiter, replay cache and stream against a real redis-server started by
//! the test (one per test, on its own port and data directory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use conn_core::secret::{AccessToken, RefreshToken, Secret};
use conn_core::token::{TokenKey, TokenManager, TokenRefresher, TokenSet, TokenStore};
use conn_core::webhook::{ReplayCache, SignatureScheme, WebhookError, WebhookVerifier};
use conn_redis::server::{for_tests, LocalRedis, Persistence};
use conn_redis::{
    EventStream, Redis, RedisConfig, RedisError, RedisLimiter, RedisReplayCache, RedisTokenStore,
    SharedLimit, TokenCipher,
};
use std::time::SystemTime;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn redis(server: &LocalRedis) -> Redis {
    let mut cfg = RedisConfig::new(server.url()).unwrap();
    cfg.response_timeout = Duration::from_millis(500);
    cfg.connect_timeout = Duration::from_millis(300);
    Redis::new(cfg).unwrap()
}

/// A store as another process would have it: its own connection and its own lease map.
fn store(server: &LocalRedis) -> RedisTokenStore {
    RedisTokenStore::new(redis(server), TokenCipher::from_base64(KEY).unwrap())
}

fn tokens(access: &str) -> TokenSet {
    TokenSet::new(AccessToken::new(access))
        .with_refresh_token(Some(RefreshToken::new(format!("rt-{access}"))))
        .with_expires_in(SystemTime::now(), Duration::from_secs(3600))
}

async fn raw<T: redis::FromRedisValue>(r: &Redis, cmd: &mut redis::Cmd) -> T {
    let mut c = r.connection().await.unwrap();
    cmd.query_async(&mut c).await.unwrap()
}

#[tokio::test]
async fn tokens_are_encrypted_at_rest_and_bound_to_their_name() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let s = store(&server);
    let key = TokenKey::new("douyin", "acct-1");
    assert!(s.load(&key).await.unwrap().is_none());
    s.save(&key, &tokens("at-secret-value")).await.unwrap();
    let back = s.load(&key).await.unwrap().unwrap();
    assert_eq!(back.access_token.expose_secret(), "at-secret-value");
    assert_eq!(
        back.refresh_token.unwrap().expose_secret(),
        "rt-at-secret-value"
    );

    let r = s.redis().clone();
    let blob: Vec<u8> = raw(
        &r,
        redis::cmd("HGET")
            .arg("connectors:token:douyin/acct-1")
            .arg("data"),
    )
    .await;
    assert!(
        !String::from_utf8_lossy(&blob).contains("secret"),
        "token stored in clear"
    );

    // Another key cannot read it; a record copied under another name does not open.
    let other = RedisTokenStore::new(
        r.clone(),
        TokenCipher::from_base64(&KEY.replace('M', "N")).unwrap(),
    );
    let e = other.load(&key).await.unwrap_err();
    assert!(
        matches!(RedisError::find(&e), Some(RedisError::Record { .. })),
        "{e}"
    );
    let _: () = raw(
        &r,
        redis::cmd("HSET")
            .arg("connectors:token:douyin/acct-2")
            .arg("data")
            .arg(&blob),
    )
    .await;
    assert!(s.load(&TokenKey::new("douyin", "acct-2")).await.is_err());
    // ...and the unreadable record is left as it was.
    let still: Vec<u8> = raw(
        &r,
        redis::cmd("HGET")
            .arg("connectors:token:douyin/acct-1")
            .arg("data"),
    )
    .await;
    assert_eq!(still, blob);

    s.delete(&key).await.unwrap();
    assert!(s.load(&key).await.unwrap().is_none());

    // Hostile key names are validation errors, not odd Redis keys.
    for bad in [
        TokenKey::new("", "a"),
        TokenKey::new("a/b", "c"),
        TokenKey::new("douyin", "x\ny"),
        TokenKey::new("douyin", "a".repeat(300)),
    ] {
        assert!(
            matches!(s.load(&bad).await, Err(conn_core::Error::Validation(_))),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_lease_is_exclusive_bounded_renewed_and_released() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let a = store(&server).with_lease(Duration::from_millis(300));
    let b = store(&server).with_lock_wait(Duration::from_millis(100));
    let key = TokenKey::new("ths", "default");

    let held = a.lock(&key).await.unwrap().expect("redis store has a lock");
    // Held past several lease lengths: renewal keeps it, so B times out.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let e = b.lock(&key).await.unwrap_err();
    assert!(
        matches!(RedisError::find(&e), Some(RedisError::LockTimeout { .. })),
        "{e}"
    );

    drop(held);
    // Released by compare-and-delete: B gets it well before the lease would have expired.
    let b = b.with_lock_wait(Duration::from_secs(5));
    let got = b.lock(&key).await.unwrap();
    assert!(got.is_some());
}

#[tokio::test]
async fn a_writer_whose_lease_expired_cannot_overwrite_a_newer_token() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let stalled = store(&server);
    let other = store(&server);
    let key = TokenKey::new("douyin", "acct");
    stalled.save(&key, &tokens("v1")).await.unwrap();

    let lease = stalled.lock(&key).await.unwrap().unwrap();
    // The lease expires under the stalled holder (as if it slept past it)...
    let r = stalled.redis().clone();
    let _: i64 = raw(&r, redis::cmd("DEL").arg("connectors:lease:douyin/acct")).await;
    // ...another process takes it, refreshes and stores a newer token.
    let newer = other.lock(&key).await.unwrap().unwrap();
    other.save(&key, &tokens("v2-newer")).await.unwrap();
    drop(newer);

    // The stalled holder wakes up and tries to store its stale result: refused.
    let e = stalled.save(&key, &tokens("v1-stale")).await.unwrap_err();
    assert!(RedisError::find(&e).unwrap().is_fenced(), "{e}");
    drop(lease);
    assert_eq!(
        other
            .load(&key)
            .await
            .unwrap()
            .unwrap()
            .access_token
            .expose_secret(),
        "v2-newer"
    );

    // A write without a lease (a code exchange) in the middle of a refresh fences it too.
    let lease = stalled.lock(&key).await.unwrap().unwrap();
    other.save(&key, &tokens("v3-exchange")).await.unwrap();
    let e = stalled.save(&key, &tokens("v2-refresh")).await.unwrap_err();
    assert!(e.to_string().contains("changed since the lease"), "{e}");
    drop(lease);
    assert_eq!(
        other
            .load(&key)
            .await
            .unwrap()
            .unwrap()
            .access_token
            .expose_secret(),
        "v3-exchange"
    );

    // Under a lease still held, writes go through (twice: the expected version follows).
    let lease = stalled.lock(&key).await.unwrap().unwrap();
    stalled.save(&key, &tokens("v4")).await.unwrap();
    stalled.save(&key, &tokens("v5")).await.unwrap();
    drop(lease);
    assert_eq!(
        other
            .load(&key)
            .await
            .unwrap()
            .unwrap()
            .access_token
            .expose_secret(),
        "v5"
    );
}

#[derive(Debug, Default)]
struct Counting(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl TokenRefresher for Counting {
    async fn refresh(&self, _: Option<&TokenSet>) -> conn_core::Result<TokenSet> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Ok(tokens(&format!("fresh-{n}")))
    }
}

async fn commands_processed(r: &Redis) -> u64 {
    let info: String = raw(r, redis::cmd("INFO").arg("stats")).await;
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_cached_token_read_costs_no_round_trip() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let s = Arc::new(store(&server));
    let refresher = Arc::new(Counting::default());
    let m = TokenManager::new(
        TokenKey::new("ths", "default"),
        refresher.clone(),
        s.clone(),
    );
    assert_eq!(m.token().await.unwrap().expose_secret(), "fresh-1");
    let r = redis(&server);
    // The lease taken for the first refresh is released by a background task: wait (bounded)
    // until the server is quiet, so that only what the reads below send is counted.
    let mut before = commands_processed(&r).await;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = commands_processed(&r).await;
        let quiet = now - before == 1;
        before = now;
        if quiet {
            break;
        }
    }
    for _ in 0..100 {
        m.token().await.unwrap();
    }
    // The only command in between is the second INFO itself.
    assert_eq!(commands_processed(&r).await - before, 1);
}

#[tokio::test]
async fn penalize_holds_back_every_other_process() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let limit = SharedLimit::new(50, Duration::from_secs(2)).unwrap();
    let a = RedisLimiter::new(redis(&server), "ths", limit);
    let b = RedisLimiter::new(redis(&server), "ths", limit);
    use conn_core::limit::Limiter;
    assert!(b.reserve("acct").await.unwrap() < Duration::from_secs(1));
    a.penalize("acct", Duration::from_secs(10)).await.unwrap();
    // B never saw the -4400, but its next slot is ~10 s away.
    let wait = b.reserve("acct").await.unwrap();
    assert!(wait > Duration::from_secs(5), "{wait:?}");
    // Other keys are other budgets.
    assert!(b.reserve("other-acct").await.unwrap().is_zero());
    assert!(b.acquire("").await.is_err());
}

fn douyin_message(secret: &Secret, id: &str, body: &[u8]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        "X-Douyin-Signature",
        douyin_signature(secret, body).parse().unwrap(),
    );
    h.insert("Msg-Id", id.parse().unwrap());
    h
}

#[tokio::test]
async fn two_receivers_accept_a_message_id_once_and_forgeries_do_not_poison() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let secret = Secret::new("client-secret");
    let replica_1 = (
        douyin_verifier().with_secret(secret.clone()),
        RedisReplayCache::new(redis(&server), "douyin"),
    );
    let replica_2 = (
        douyin_verifier().with_secret(secret.clone()),
        RedisReplayCache::new(redis(&server), "douyin"),
    );
    let body = br#"{"event":"create_video"}"#;

    // A forgery with the id arrives first: rejected, and the id is not recorded.
    let mut forged = douyin_message(&Secret::new("wrong"), "msg-1", body);
    forged.insert("Msg-Id", "msg-1".parse().unwrap());
    assert!(matches!(
        replica_1.0.verify_shared(&forged, body, &replica_1.1).await,
        Err(WebhookError::BadSignature { .. })
    ));

    let h = douyin_message(&secret, "msg-1", body);
    assert!(replica_1
        .0
        .verify_shared(&h, body, &replica_1.1)
        .await
        .is_ok());
    assert!(matches!(
        replica_2.0.verify_shared(&h, body, &replica_2.1).await,
        Err(WebhookError::Replayed { .. })
    ));
    // Handling failed on replica 1: forgetting lets the sender's retry through anywhere.
    replica_1.1.forget("msg-1").await.unwrap();
    assert!(replica_2
        .0
        .verify_shared(&h, body, &replica_2.1)
        .await
        .is_ok());
    // A hostile id (long, non-ASCII) is hashed into a bounded key and still deduped.
    let long = "é".repeat(60);
    assert!(replica_1.1.first_seen(&long).await.unwrap());
    assert!(!replica_2.1.first_seen(&long).await.unwrap());
}

#[tokio::test]
async fn an_unacknowledged_event_is_redelivered_once_and_acked_events_never() {
    let Some(server) = for_tests(Persistence::None) else {
        return;
    };
    let stream = |r| {
        EventStream::new(r, "events", "workers")
            .with_claim_idle(Duration::from_millis(200))
            .with_block(Duration::from_millis(50))
    };
    let crashing = stream(redis(&server));
    let healthy = stream(redis(&server));
    crashing.ensure_group().await.unwrap();
    healthy.ensure_group().await.unwrap(); // idempotent
    crashing.publish(Some("m1"), b"event-1").await.unwrap();
    crashing.publish(Some("m2"), b"event-2").await.unwrap();

    let taken = crashing.next("crashing").await.unwrap().unwrap();
    assert_eq!(taken.body, b"event-1");
    assert!(!taken.redelivered);
    // The crashing consumer never acknowledges. The healthy one gets event 2 at once...
    let d2 = healthy.next("healthy").await.unwrap().unwrap();
    assert_eq!(d2.msg_id.as_deref(), Some("m2"));
    healthy.ack(&d2).await.unwrap();
    // ...and event 1 once it has been idle long enough (bounded wait).
    let mut redelivered = None;
    for _ in 0..100 {
        match healthy.next("healthy").await.unwrap() {
            Some(d) => {
                redelivered = Some(d);
                break;
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let d1 = redelivered.expect("event 1 was not redelivered");
    assert!(d1.redelivered);
    assert_eq!(d1.entry_id, taken.entry_id);
    healthy.ack(&d1).await.unwrap();
    assert_eq!(healthy.pending().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(healthy.next("healthy").await.unwrap().is_none());
    assert!(crashing.next("crashing").await.unwrap().is_none());
}

#[tokio::test]
async fn redis_down_gives_typed_errors_and_recovery_loses_nothing() {
    let Some(mut server) = for_tests(Persistence::AppendOnly) else {
        return;
    };
    let s = Arc::new(store(&server));
    let key = TokenKey::new("ths", "default");
    let refresher = Arc::new(Counting::default());
    let m = TokenManager::new(key.clone(), refresher.clone(), s.clone());
    assert_eq!(m.token().await.unwrap().expose_secret(), "fresh-1");
    let limiter = RedisLimiter::new(
        s.redis().clone(),
        "ths",
        SharedLimit::new(50, Duration::from_secs(2)).unwrap(),
    );
    let seen = RedisReplayCache::new(s.redis().clone(), "douyin");
    let secret = Secret::new("s");
    let verifier = douyin_verifier().with_secret(secret.clone());
    use conn_core::limit::Limiter;
    limiter.acquire("acct").await.unwrap();

    server.kill();
    // Typed errors, no fallback: the store, the lease, the limiter and the replay check.
    let e = s.load(&key).await.unwrap_err();
    assert!(
        RedisError::find(&e).is_some_and(RedisError::is_unavailable),
        "{e}"
    );
    assert!(s.lock(&key).await.is_err());
    assert!(
        RedisError::find(&limiter.acquire("acct").await.unwrap_err())
            .is_some_and(RedisError::is_unavailable)
    );
    let h = douyin_message(&secret, "during-outage", b"{}");
    assert!(matches!(
        verifier.verify_shared(&h, b"{}", &seen).await,
        Err(WebhookError::ReplayCacheUnavailable { .. })
    ));
    // A refresh cannot take the lease: it fails, and the token the manager holds is kept.
    assert!(m.force_refresh(None).await.is_err());
    assert_eq!(m.token().await.unwrap().expose_secret(), "fresh-1");
    assert_eq!(refresher.0.load(std::sync::atomic::Ordering::SeqCst), 1);

    server.restart().unwrap();
    // Recovery by itself (bounded: the manager reconnects on the next commands).
    let mut back = None;
    for _ in 0..50 {
        match s.load(&key).await {
            Ok(t) => {
                back = t;
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(
        back.expect("token lost across the restart")
            .access_token
            .expose_secret(),
        "fresh-1"
    );
    limiter.acquire("acct").await.unwrap();
    assert!(verifier.verify_shared(&h, b"{}", &seen).await.is_ok());
    assert_eq!(
        m.force_refresh(None)
            .await
            .unwrap()
            .access_token
            .expose_secret(),
        "fresh-2"
    );
}

/// Douyin's webhook configuration (conn-douyin's `webhook::verifier`), built from conn-core's
/// scheme-neutral pieces: this crate depends on conn-core only.
fn douyin_verifier() -> WebhookVerifier {
    WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
        header: http::HeaderName::from_static("x-douyin-signature"),
    })
    .with_id_header(
        http::HeaderName::from_static("msg-id"),
        conn_core::webhook::DEFAULT_SEEN_IDS_CAPACITY,
    )
}

/// The signature a sender with `secret` puts on `body`, by the verifier's signing helper.
fn douyin_signature(secret: &Secret, body: &[u8]) -> String {
    let headers = douyin_verifier()
        .with_secret(secret.clone())
        .sign(body, None, None)
        .unwrap();
    headers["x-douyin-signature"].to_str().unwrap().to_owned()
}
