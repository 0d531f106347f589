//! Keyed publishing through a journal: a cut answer, then the same keyed call, is a replay
//! with the same idempotency key (never a second key); a recorded publish is not sent again; a
//! key reused for another post is a conflict; a profile without an idempotency header refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use conn_content::{Client, Config, Content, Credentials, Profile};
use conn_core::journal::{How, Journal, MemoryJournal, OperationKey};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer, keyed: bool) -> Client {
    let mut p = Profile::custom("blog").with_base_url(server.uri());
    if keyed {
        p = p.with_idempotency_header("Idempotency-Key");
    }
    let cfg = common::tuned(
        Config::builder()
            .profile(p)
            .credentials(Credentials::bearer("blog-token"))
            .build()
            .unwrap(),
        |t| {
            t.with_retry(common::fast_retry().with_max_retries(0))
                .with_attempt_timeout(Duration::from_millis(500))
        },
    );
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn an_unknown_publish_is_replayed_with_the_same_key_and_then_recorded() {
    let server = MockServer::start().await;
    // First answer cut (outcome unknown), then success.
    Mock::given(method("POST"))
        .and(path("/content/publish"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"code":0,"data":{"id":"#, "application/json"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/content/publish"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"code": 0, "data": {"id": "c-1"}})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let c = client(&server, true);
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
    let key = OperationKey::new("blog/post-1").unwrap();
    let post = Content::new("标题", "正文");

    let err = c.publish_once(&journal, &key, &post).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    let done = c.publish_once(&journal, &key, &post).await.unwrap();
    assert_eq!(
        (done.id.as_str(), done.how),
        ("c-1", How::ReconciledThenSent)
    );
    let again = c.publish_once(&journal, &key, &post).await.unwrap();
    assert_eq!(again.how, How::Recorded);

    let keys: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        keys,
        ["blog/post-1", "blog/post-1"],
        "one key, sent twice, never a third time"
    );

    let other = c
        .publish_once(&journal, &key, &Content::new("另一个", "正文"))
        .await
        .unwrap_err();
    assert!(other.is_journal_conflict(), "{other}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_profile_without_an_idempotency_header_refuses_before_sending() {
    let server = MockServer::start().await;
    let c = client(&server, false);
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
    let key = OperationKey::new("blog/post-2").unwrap();
    let err = c
        .publish_once(&journal, &key, &Content::new("t", "b"))
        .await
        .unwrap_err();
    assert!(matches!(err, conn_core::Error::Config(_)), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
