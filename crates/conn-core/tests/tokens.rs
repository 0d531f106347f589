//! Single-flight refresh, failure fan-out, refresh-and-replay, cross-manager locking and
//! re-authorization, against a counting wiremock token endpoint on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conn_core::clock::ManualClock;
use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::retry::Idempotency;
use conn_core::secret::{AccessToken, RefreshToken};
use conn_core::token::{
    MemoryTokenStore, TokenKey, TokenManager, TokenRefresher, TokenSet, TokenStore,
};
use conn_core::transport::{EnvelopeDecoder, Request, ResponseParts, Transport, TransportConfig};
use conn_core::{Error, Result};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Errors as `{"error": "expired" | "dead"}` with any status.
#[derive(Debug)]
struct Envelope;

impl EnvelopeDecoder for Envelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        let v: serde_json::Value = serde_json::from_slice(r.body).ok()?;
        let kind = match v.get("error")?.as_str()? {
            "expired" => ApiErrorKind::TokenExpired,
            "dead" => ApiErrorKind::ReauthRequired,
            _ => ApiErrorKind::Other,
        };
        Some(ApiError::new("tok", "E", "token error", kind).into())
    }
}

/// A refresher that POSTs to `/token` and counts calls.
#[derive(Debug)]
struct HttpRefresher {
    transport: Transport,
    calls: AtomicUsize,
    lifetime: Duration,
    clock: ManualClock,
}

#[async_trait]
impl TokenRefresher for HttpRefresher {
    async fn refresh(&self, current: Option<&TokenSet>) -> Result<TokenSet> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let rt = current
            .and_then(|c| c.refresh_token.clone())
            .unwrap_or_else(|| RefreshToken::new("rft.initial"));
        #[derive(serde::Deserialize)]
        struct Tok {
            access_token: String,
            refresh_token: String,
        }
        let req = Request::post("refresh", "/token", Idempotency::Idempotent)
            .form(&[("refresh_token", rt.expose_secret())])?;
        let t: Tok = self.transport.execute_json(&req).await?;
        Ok(TokenSet::new(AccessToken::new(t.access_token))
            .with_refresh_token(Some(RefreshToken::new(t.refresh_token)))
            .with_expires_in(conn_core::clock::Clock::now(&self.clock), self.lifetime))
    }
}

struct Fixture {
    server: MockServer,
    refresher: Arc<HttpRefresher>,
    store: Arc<MemoryTokenStore>,
    clock: ManualClock,
}

impl Fixture {
    async fn new() -> Self {
        let server = MockServer::start().await;
        let cfg = TransportConfig::new(&server.uri())
            .unwrap()
            .with_retry(common::fast_policy());
        let clock = ManualClock::at_unix(1_700_000_000);
        let refresher = Arc::new(HttpRefresher {
            transport: Transport::new("tok", cfg, Envelope).unwrap(),
            calls: AtomicUsize::new(0),
            lifetime: Duration::from_secs(7200),
            clock: clock.clone(),
        });
        Self {
            server,
            refresher,
            store: Arc::new(MemoryTokenStore::new()),
            clock,
        }
    }

    fn manager(&self) -> TokenManager {
        TokenManager::new(
            TokenKey::new("tok", "acct"),
            self.refresher.clone(),
            self.store.clone(),
        )
        .with_clock(Arc::new(self.clock.clone()))
        .with_jitter(Duration::ZERO)
    }

    async fn token_endpoint(&self, access: &str, delay_ms: u64, expect: u64) {
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_delay(Duration::from_millis(delay_ms))
                    .set_body_json(serde_json::json!({
                        "access_token": access, "refresh_token": format!("rft.{access}")
                    })),
            )
            .up_to_n_times(expect)
            .expect(expect)
            .mount(&self.server)
            .await;
    }

    async fn seed_expired(&self) {
        let ts = TokenSet::new(AccessToken::new("act.old"))
            .with_refresh_token(Some(RefreshToken::new("rft.old")))
            .with_expires_in(
                std::time::UNIX_EPOCH + Duration::from_secs(1_600_000_000),
                Duration::from_secs(1),
            );
        self.store
            .save(&TokenKey::new("tok", "acct"), &ts)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_callers_with_an_expired_token_cause_one_refresh() {
    let f = Fixture::new().await;
    f.seed_expired().await;
    f.token_endpoint("act.new", 100, 1).await;
    let m = f.manager();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(async move { m.token().await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().expose_secret(), "act.new");
    }
    assert_eq!(f.refresher.calls.load(Ordering::SeqCst), 1);
    // Persisted, with the rotated refresh token.
    let stored = f
        .store
        .load(&TokenKey::new("tok", "acct"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose_secret(), "rft.act.new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_reaches_every_waiter_and_the_next_call_tries_again() {
    let f = Fixture::new().await;
    f.seed_expired().await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_delay(Duration::from_millis(100)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&f.server)
        .await;
    let m = f.manager();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let m = m.clone();
            tokio::spawn(async move { m.token().await })
        })
        .collect();
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    }
    assert_eq!(f.refresher.calls.load(Ordering::SeqCst), 1);
    // Not poisoned: the next call refreshes again and succeeds.
    f.token_endpoint("act.second", 0, 1).await;
    assert_eq!(m.token().await.unwrap().expose_secret(), "act.second");
    assert_eq!(f.refresher.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_fresh_token_is_not_refreshed_until_the_margin() {
    let f = Fixture::new().await;
    f.token_endpoint("act.a", 0, 2).await;
    let m = f.manager().with_margin(Duration::from_secs(300));
    assert_eq!(m.token().await.unwrap().expose_secret(), "act.a");
    f.clock.advance(Duration::from_secs(7200 - 301));
    m.token().await.unwrap();
    assert_eq!(f.refresher.calls.load(Ordering::SeqCst), 1);
    f.clock.advance(Duration::from_secs(2));
    m.token().await.unwrap();
    assert_eq!(f.refresher.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expired_answers_refresh_once_and_replay_once() {
    let f = Fixture::new().await;
    f.token_endpoint("act.first", 0, 1).await;
    let m = f.manager();
    m.token().await.unwrap();
    // The API rejects the first token and accepts the refreshed one.
    Mock::given(path("/api"))
        .and(header("access-token", "act.first"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"error": "expired"})),
        )
        .expect(10)
        .mount(&f.server)
        .await;
    Mock::given(path("/api"))
        .and(header("access-token", "act.second"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .expect(10)
        .mount(&f.server)
        .await;
    f.token_endpoint("act.second", 50, 1).await;
    let api = f.refresher.transport.clone();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let m = m.clone();
            let api = api.clone();
            tokio::spawn(async move {
                m.with_token(|tok| {
                    let api = api.clone();
                    async move {
                        let req = Request::get("api", "/api").secret_header(
                            http::HeaderName::from_static("access-token"),
                            tok.as_secret(),
                        )?;
                        api.execute_json::<serde_json::Value>(&req).await
                    }
                })
                .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap()["ok"], true);
    }
    // One refresh for the initial token, one after the rejection, however many callers.
    assert_eq!(f.refresher.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_replay_that_is_rejected_again_is_not_replayed_twice() {
    let f = Fixture::new().await;
    f.token_endpoint("act.x", 0, 2).await;
    let m = f.manager();
    let calls = AtomicUsize::new(0);
    let err = m
        .with_token(|_tok| {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err::<(), _>(Error::from(ApiError::new(
                    "tok",
                    "E",
                    "expired",
                    ApiErrorKind::TokenExpired,
                )))
            }
        })
        .await
        .unwrap_err();
    assert!(err.is_token_expired());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_dead_refresh_token_requires_reauthorization_and_removes_the_stored_tokens() {
    let f = Fixture::new().await;
    f.seed_expired().await;
    Mock::given(path("/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"error": "dead"})),
        )
        .expect(1)
        .mount(&f.server)
        .await;
    let m = f.manager();
    let err = m.token().await.unwrap_err();
    assert!(err.is_reauth_required(), "{err}");
    assert!(matches!(&err, Error::Shared(inner) if matches!(**inner, Error::ReauthRequired(_))));
    assert!(f.store.load(m.key()).await.unwrap().is_none());
    assert!(m.current().await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_sharing_a_locking_store_refresh_once_and_adopt_the_stored_token() {
    // Two managers stand for two processes sharing one store with a lock.
    let f = Fixture::new().await;
    f.seed_expired().await;
    f.token_endpoint("act.shared", 100, 1).await;
    let a = f.manager();
    let b = f.manager();
    let (ra, rb) = tokio::join!(a.token(), b.token());
    assert_eq!(ra.unwrap().expose_secret(), "act.shared");
    assert_eq!(rb.unwrap().expose_secret(), "act.shared");
    assert_eq!(f.refresher.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn debug_of_token_types_shows_no_secret() {
    let ts = TokenSet::new(AccessToken::new("act.SECRET1"))
        .with_refresh_token(Some(RefreshToken::new("rft.SECRET2")));
    let printed = format!("{ts:?} {:?}", ts.to_stored());
    assert!(
        !printed.contains("SECRET1") && !printed.contains("SECRET2"),
        "{printed}"
    );
    let back = TokenSet::from_stored(
        serde_json::from_str(&serde_json::to_string(&ts.to_stored()).unwrap()).unwrap(),
    );
    assert_eq!(back, ts);
}
