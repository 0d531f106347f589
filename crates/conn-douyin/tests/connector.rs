//! The workspace `Connector` trait: raw calls with the account's token, credential checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use conn_core::connector::{Connector, RawRequest};
use conn_douyin::fake::{FakeDouyin, Fault, Op};
use conn_douyin::{Client, VideoPost, VideoSource};
use http::Method;
use serde_json::json;

use common::logged_in;

#[tokio::test]
async fn raw_calls_carry_the_account_and_refresh_once_on_an_expired_token() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    client
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![1u8; 8]),
            &VideoPost::new("raw"),
        )
        .await
        .unwrap();
    assert_eq!(client.platform(), "douyin");
    fake.fail_next(Op::VideoList, Fault::TokenExpired, 1);
    let resp = client
        .call(
            RawRequest::new(Method::GET, "/api/douyin/v1/video/video_list/")
                .with_data(json!({"cursor": 0, "count": 5}))
                .with_account(open_id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["data"]["list"][0]["title"], "raw");
    assert_eq!(
        fake.requests(Op::VideoList),
        2,
        "rejected once, replayed once"
    );
    assert_eq!(fake.requests(Op::RefreshToken), 1);
    let last = fake
        .recorded()
        .into_iter()
        .rev()
        .find(|r| r.op == Op::VideoList)
        .unwrap();
    assert!(last.query.contains(&("open_id".into(), open_id.clone())));
    assert!(last.query.contains(&("count".into(), "5".into())));

    // A POST is not idempotent: a 5xx is not replayed.
    fake.fail_next(Op::VideoData, Fault::Status(500), 1);
    let err = client
        .call(
            RawRequest::new(Method::POST, "/api/douyin/v1/video/video_data/")
                .with_data(json!({"item_ids": ["x"]}))
                .with_account(open_id.clone()),
        )
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(fake.requests(Op::VideoData), 1);

    // No account and no DOUYIN_OPEN_ID: a config error naming the variable.
    let mut cfg = fake.config();
    cfg.default_open_id = None;
    let bare = Client::new(cfg).unwrap();
    let err = bare
        .call(RawRequest::new(
            Method::GET,
            "/api/douyin/v1/video/video_list/",
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("DOUYIN_OPEN_ID"), "{err}");
}

#[tokio::test]
async fn check_credentials_uses_the_client_token_or_the_fixed_token() {
    let fake = FakeDouyin::start().await;
    let client = Client::new(fake.config()).unwrap();
    client.check_credentials().await.unwrap();
    assert_eq!(fake.requests(Op::ClientToken), 1);

    let mut wrong = fake.config();
    wrong.client_secret = Some("nope".into());
    let err = Client::new(wrong)
        .unwrap()
        .check_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.platform_code(), Some("10013"));

    let tokens = fake.authorize(fake.open_id(), &["video.list.bind"]);
    let mut fixed = fake.config();
    fixed.client_secret = None;
    fixed.access_token = Some(tokens.access_token);
    fixed.default_open_id = Some(fake.open_id().to_owned());
    Client::new(fixed)
        .unwrap()
        .check_credentials()
        .await
        .unwrap();
    assert_eq!(fake.requests(Op::VideoList), 1);
}
