//! Publishing is not idempotent: a publish that may have reached the server is never replayed
//! without an idempotency key, and is retried with the same key when the profile has a header.
//! Real time with tiny delays (no paused time with real sockets).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use conn_content::fake::{FakeContent, FakeOp, Fault};
use conn_content::{Builtin, Client, Config, Content, Credentials, Profile};
use conn_core::Error;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn article() -> Content {
    Content::new("如何评价 Rust？", "正文")
}

fn outcome_context(e: &Error) -> Vec<(String, String)> {
    match e {
        Error::OutcomeUnknown(o) => o.context.clone(),
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
}

#[tokio::test]
async fn timed_out_publish_is_sent_once_and_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/articles"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 1}))
                .set_delay(Duration::from_millis(500)),
        )
        .expect(1)
        .mount(&server)
        .await;
    conn_core::testing::mount_catch_all(&server).await;
    let cfg = Config::builder()
        .profile(Profile::zhihu().with_base_url(server.uri()))
        .credentials(Credentials::bearer("zhihu-token"))
        .build()
        .unwrap();
    let cfg = common::tuned(cfg, |t| {
        t.with_retry(common::fast_retry())
            .with_attempt_timeout(Duration::from_millis(100))
    });
    let client = Client::new(cfg).unwrap();
    let err = client.publish(&article()).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(err.is_timeout(), "{err:?}");
    let ctx = outcome_context(&err);
    assert!(ctx.contains(&("profile".into(), "zhihu".into())), "{ctx:?}");
    assert!(
        ctx.contains(&("title".into(), "如何评价 Rust？".into())),
        "{ctx:?}"
    );
    assert!(err.to_string().contains("title=如何评价 Rust？"), "{err}");
    server.verify().await;
}

#[tokio::test]
async fn server_error_without_key_is_not_replayed() {
    let fake = FakeContent::start(Builtin::Zhihu).await;
    fake.fail_next(FakeOp::Any, Fault::Status(500), 1);
    let err = fake.client().publish(&article()).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(fake.publish_requests(), 1);
    assert!(fake.published().is_empty());
}

#[tokio::test]
async fn rate_limited_publish_is_retried_even_without_key() {
    // 429 means the platform did not take the work: safe to retry any operation.
    let fake = FakeContent::start(Builtin::Zhihu).await;
    fake.fail_next(FakeOp::Any, Fault::Status(429), 1);
    let p = fake.client().publish(&article()).await.unwrap();
    assert_eq!(fake.publish_requests(), 2);
    assert_eq!(fake.published().len(), 1);
    assert_eq!(fake.published()[0].id, p.id);
}

fn keyed() -> Profile {
    Profile::custom("blog").with_idempotency_header("Idempotency-Key")
}

/// The idempotency keys of the publish requests the fake received.
async fn keys_sent(fake: &FakeContent) -> Vec<String> {
    fake.server()
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/content/publish")
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .expect("every attempt carries the key")
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn timed_out_publish_with_key_is_retried_with_the_same_key_and_stored_once() {
    let fake = FakeContent::start(keyed()).await;
    // The first attempt is processed (stored) but answered too late for the client.
    fake.fail_next(FakeOp::Any, Fault::Delay(Duration::from_millis(400)), 1);
    let client = Client::new(common::tuned(fake.config(), |t| {
        t.with_attempt_timeout(Duration::from_millis(100))
    }))
    .unwrap();
    let published = client.publish(&article()).await.unwrap();
    assert_eq!(fake.publish_requests(), 2);
    let items = fake.published();
    assert_eq!(items.len(), 1, "the replay was answered from memory");
    assert_eq!(items[0].id, published.id);
    let keys = keys_sent(&fake).await;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    assert_eq!(Some(&keys[0]), published.idempotency_key.as_ref());
    assert_eq!(items[0].idempotency_key.as_ref(), Some(&keys[0]));
}

#[tokio::test]
async fn server_errors_with_key_are_retried_and_each_publish_gets_its_own_key() {
    let fake = FakeContent::start(keyed()).await;
    fake.fail_next(FakeOp::Any, Fault::Status(503), 2);
    let client = fake.client();
    let a = client.publish(&article()).await.unwrap();
    let b = client.publish(&article()).await.unwrap();
    assert_eq!(fake.publish_requests(), 4);
    assert_eq!(fake.published().len(), 2);
    assert_ne!(a.id, b.id);
    let keys: HashSet<String> = keys_sent(&fake).await.into_iter().collect();
    assert_eq!(
        keys.len(),
        2,
        "one key per publish, reused across its attempts"
    );
}

#[tokio::test]
async fn exhausted_retries_with_key_give_outcome_unknown_and_resume_with_the_key() {
    let fake = FakeContent::start(keyed()).await;
    let policy = common::fast_retry().with_attempt_limit(3);
    let client = Client::new(common::tuned(fake.config(), |t| t.with_retry(policy))).unwrap();
    fake.fail_next(FakeOp::Any, Fault::Status(502), 3);
    let err = client.publish(&article()).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err:?}");
    let ctx = outcome_context(&err);
    let key = ctx
        .iter()
        .find(|(k, _)| k == "idempotency_key")
        .map(|(_, v)| v.clone())
        .expect("key in context");
    assert!(ctx.contains(&("profile".into(), "blog".into())));
    assert!(ctx.contains(&("title".into(), "如何评价 Rust？".into())));
    assert_eq!(fake.publish_requests(), 3);
    let p = client
        .publish_with_key(&article(), key.clone())
        .await
        .unwrap();
    assert_eq!(p.idempotency_key.as_deref(), Some(key.as_str()));
    // Resuming again returns the first result.
    let again = client.publish_with_key(&article(), key).await.unwrap();
    assert_eq!(again.id, p.id);
    assert_eq!(fake.published().len(), 1);
}

#[tokio::test]
async fn publish_with_key_needs_an_idempotency_header() {
    let fake = FakeContent::start(Builtin::Zhihu).await;
    let e = fake
        .client()
        .publish_with_key(&article(), "k1")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ZHIHU_IDEMPOTENCY_HEADER"), "{e}");
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn stats_is_idempotent_and_retried_after_server_errors() {
    let fake = FakeContent::start(Builtin::Toutiao).await;
    let p = fake
        .client()
        .publish(&Content::new("今年春天最值得去的地方", "正文"))
        .await
        .unwrap();
    fake.fail_next(FakeOp::Any, Fault::Status(500), 2);
    let s = fake.client().stats(&p.id).await.unwrap();
    assert_eq!(s.views, Some(0));
    assert_eq!(fake.stats_requests(), 3);
}

/// Every fault of conn-core's kit on the (idempotent) stats call of every built-in profile:
/// answered in that profile's envelope, read back as the right kind, retried when it may be.
#[tokio::test]
async fn every_kit_fault_on_stats_of_every_builtin() {
    use conn_core::error::ApiErrorKind;
    for builtin in Builtin::ALL {
        let fake = FakeContent::start(builtin).await;
        let client = fake.client();
        let post = Content::new("今年春天最值得去的地方", "正文").with_images(["u"]);
        let id = client.publish(&post).await.unwrap().id;
        for fault in [
            Fault::Status(503),
            Fault::Drop,
            Fault::RateLimited,
            Fault::Busy,
        ] {
            let before = fake.stats_requests();
            fake.fail_next(FakeOp::Stats, fault.clone(), 1);
            client
                .stats(&id)
                .await
                .unwrap_or_else(|e| panic!("{builtin:?} {fault:?}: {e}"));
            assert_eq!(
                fake.stats_requests(),
                before + 2,
                "{builtin:?} {fault:?}: one fault, one retry"
            );
        }
        fake.fail_next(FakeOp::Stats, Fault::TokenExpired, 1);
        let e = client.stats(&id).await.unwrap_err();
        assert_eq!(
            e.api_kind(),
            Some(ApiErrorKind::InvalidCredentials),
            "{builtin:?}: {e}"
        );
        fake.fail_next(FakeOp::Stats, Fault::code(777), 1);
        let e = client.stats(&id).await.unwrap_err();
        assert_eq!(e.platform_code(), Some("777"), "{builtin:?}: {e}");
        assert!(!e.is_retryable(), "{builtin:?}: {e}");
        // A publish fault does not touch stats.
        fake.fail_next(FakeOp::Publish, Fault::Status(500), 1);
        client.stats(&id).await.unwrap();
    }
}
