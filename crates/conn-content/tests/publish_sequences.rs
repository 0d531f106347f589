//! Fault *sequences* over publish (issue 10): how many times the server saw the publish, the
//! outcome kind, the key an unknown outcome carries, and that retry-safe refusals are retried.
//! Sequences are wiremock mocks of decreasing priority, each answering a fixed number of times.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use conn_content::{Client, Config, Content, Credentials, Profile};
use conn_core::Error;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PUBLISH: &str = "/content/publish";

fn post() -> Content {
    Content::new("标题", "正文")
}

async fn mount(server: &MockServer, priority: u8, times: Option<u64>, t: ResponseTemplate) {
    let m = Mock::given(method("POST"))
        .and(path(PUBLISH))
        .respond_with(t)
        .with_priority(priority);
    match times {
        Some(n) => m.up_to_n_times(n).mount(server).await,
        None => m.mount(server).await,
    }
}

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
            t.with_retry(common::fast_retry().with_max_retries(4))
                .with_attempt_timeout(Duration::from_millis(100))
        },
    );
    Client::new(cfg).unwrap()
}

async fn publishes(server: &MockServer) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == PUBLISH)
        .collect()
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"code": 0, "data": {"id": "c-1"}}))
}

#[tokio::test]
async fn received_then_429_until_give_up_is_outcome_unknown_with_the_key() {
    let server = MockServer::start().await;
    mount(
        &server,
        1,
        Some(1),
        ok().set_delay(Duration::from_millis(400)),
    )
    .await;
    mount(&server, 2, None, ResponseTemplate::new(429)).await;
    let e = client(&server, true).publish(&post()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    let Error::OutcomeUnknown(o) = &e else {
        unreachable!()
    };
    let key = o.idempotency_key.clone().expect("the key to resume with");
    assert_eq!(
        o.last_error().status().map(|s| s.as_u16()),
        Some(429),
        "{e}"
    );
    let sent = publishes(&server).await;
    assert_eq!(sent.len(), 5, "1 maybe-received + 4 retries on 429");
    for r in &sent {
        assert_eq!(
            r.headers["idempotency-key"].to_str().unwrap(),
            key,
            "same key every time"
        );
    }
}

#[tokio::test]
async fn received_then_429_three_times_then_answered_is_one_publish() {
    let server = MockServer::start().await;
    mount(
        &server,
        1,
        Some(1),
        ok().set_delay(Duration::from_millis(400)),
    )
    .await;
    mount(&server, 2, Some(3), ResponseTemplate::new(429)).await;
    mount(&server, 3, None, ok()).await;
    let p = client(&server, true).publish(&post()).await.unwrap();
    assert_eq!(p.id, "c-1");
    assert_eq!(publishes(&server).await.len(), 5);
}

#[tokio::test]
async fn refused_then_timeout_after_send_without_a_key_is_sent_twice() {
    let server = MockServer::start().await;
    mount(&server, 1, Some(1), ResponseTemplate::new(429)).await;
    mount(&server, 2, None, ok().set_delay(Duration::from_millis(400))).await;
    let e = client(&server, false).publish(&post()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert_eq!(
        publishes(&server).await.len(),
        2,
        "the 429 was retried (not processed); the timeout after send was not"
    );
}

#[tokio::test]
async fn a_cut_2xx_is_outcome_unknown_and_never_resent() {
    let server = MockServer::start().await;
    mount(
        &server,
        1,
        None,
        ResponseTemplate::new(200).set_body_raw(r#"{"code":0,"data":{"id":"#, "application/json"),
    )
    .await;
    let e = client(&server, true).publish(&post()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert_eq!(publishes(&server).await.len(), 1);
}
