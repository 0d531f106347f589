//! The exact requests each profile and auth mode sends (method, path, query, headers with
//! secrets redacted, body), pinned with insta snapshots. The Xiaohongshu-signed ones use a fixed
//! clock, so their timestamp and sign are literal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use conn_content::fake::{FakeContent, FakeStats};
use conn_content::{
    AuthScheme, Builtin, Client, Content, FieldMapping, ListField, ListShape, Profile,
};
use conn_core::clock::ManualClock;
use serde_json::{json, Value};

/// Publishes `content`, asks for its stats, and returns both requests as the fake received them.
async fn publish_and_stats(fake: &FakeContent, client: &Client, content: &Content) -> Value {
    let published = client.publish(content).await.unwrap();
    assert!(fake.set_stats(
        &published.id,
        FakeStats {
            views: 120,
            likes: 30,
            comments: 4,
            shares: 2,
            favorites: 9
        }
    ));
    let stats = client.stats(&published.id).await.unwrap();
    assert_eq!(stats.content_id, published.id);
    let secrets = common::secrets_of(fake.credentials());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let key_header = fake.profile().idempotency_header.clone();
    let reqs = fake.server().received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2, "one publish, one stats");
    json!({
        "publish": common::request_snapshot(&reqs[0], &secrets, key_header.as_deref()),
        "stats": common::request_snapshot(&reqs[1], &secrets, key_header.as_deref()),
        "stats_result": {
            "views": stats.views, "likes": stats.likes, "comments": stats.comments,
            "shares": stats.shares, "favorites": stats.favorites,
        },
    })
}

fn note() -> Content {
    Content::new(
        "杭州三日游攻略",
        "第一天：西湖断桥，雷峰塔。第二天：灵隐寺。",
    )
    .with_images([
        "https://img.example.com/a.jpg",
        "https://img.example.com/b.jpg",
    ])
    .with_tags(["旅行", "杭州"])
}

#[tokio::test]
async fn xiaohongshu_bearer() {
    let fake = FakeContent::start(Builtin::Xiaohongshu).await;
    let v = publish_and_stats(&fake, &fake.client(), &note()).await;
    insta::assert_json_snapshot!("xiaohongshu_bearer", v);
}

#[tokio::test]
async fn xiaohongshu_xhs_sign_with_fixed_clock() {
    let fake = FakeContent::start(Profile::xiaohongshu().with_auth(AuthScheme::xhs_sign())).await;
    let client = Client::builder(fake.config())
        .clock(Arc::new(ManualClock::at_unix(1_700_000_000)))
        .build()
        .unwrap();
    let v = publish_and_stats(&fake, &client, &note()).await;
    // The sign is a pure function of the fixed inputs:
    // printf '%s' 'content.publish?appId=fake-xiaohongshu-app&timestamp=1700000000&version=2.0fake-xiaohongshu-app-secret-c4b8e1' | md5sum
    assert_eq!(
        v["publish"]["body"]["sign"],
        "324a80221b4a7aaf3210719af8193f59"
    );
    // printf '%s' 'content.stats?appId=fake-xiaohongshu-app&timestamp=1700000000&version=2.0fake-xiaohongshu-app-secret-c4b8e1' | md5sum
    assert_eq!(
        v["stats"]["body"]["sign"],
        "b6345ddf03d42711d6697959d343edbf"
    );
    insta::assert_json_snapshot!("xiaohongshu_xhs_sign", v);
}

#[tokio::test]
async fn xiaohongshu_api_key() {
    let fake = FakeContent::start(Profile::xiaohongshu().with_auth(AuthScheme::ApiKey {
        header: "X-Xhs-Key".into(),
    }))
    .await;
    let v = publish_and_stats(&fake, &fake.client(), &note()).await;
    insta::assert_json_snapshot!("xiaohongshu_api_key", v);
}

#[tokio::test]
async fn zhihu_bearer() {
    let fake = FakeContent::start(Builtin::Zhihu).await;
    let article = Content::new("如何评价 Rust 语言？", "<p>内存安全，没有垃圾回收。</p>")
        .with_tags(["Rust", "编程语言"]);
    let v = publish_and_stats(&fake, &fake.client(), &article).await;
    insta::assert_json_snapshot!("zhihu_bearer", v);
}

#[tokio::test]
async fn toutiao_bearer() {
    let fake = FakeContent::start(Builtin::Toutiao).await;
    let article = Content::new("今年春天最值得去的五个地方", "正文内容")
        .with_images(["https://img.example.com/cover.jpg"])
        .with_tags(["旅游"]);
    let v = publish_and_stats(&fake, &fake.client(), &article).await;
    insta::assert_json_snapshot!("toutiao_bearer", v);
}

#[tokio::test]
async fn custom_api_key_nested_with_idempotency_header() {
    let profile = Profile::custom("myblog")
        .with_auth(AuthScheme::ApiKey {
            header: "X-Blog-Key".into(),
        })
        .with_publish_path("/v1/posts")
        .with_stats_path("/v1/posts/{id}/metrics")
        .with_idempotency_header("Idempotency-Key")
        .with_mapping(FieldMapping {
            title: "/post/title".into(),
            body: "/post/html".into(),
            images: Some(ListField::new(
                "/post/images",
                ListShape::Objects("url".into()),
            )),
            tags: Some(ListField::new("/post/tags", ListShape::Joined(",".into()))),
            fixed: [("/post/status".into(), json!("published"))]
                .into_iter()
                .collect(),
        })
        .with_id_pointer("/data/post/id");
    let fake = FakeContent::start(profile).await;
    let v = publish_and_stats(&fake, &fake.client(), &note()).await;
    insta::assert_json_snapshot!("custom_api_key_nested", v);
}

#[tokio::test]
async fn the_client_builder_shares_the_given_http_client() {
    use conn_core::reexports::reqwest;
    let fake = FakeContent::start(Builtin::Zhihu).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-shared-pool", "yes".parse().unwrap());
    let http = reqwest::Client::builder()
        .no_proxy()
        .default_headers(headers)
        .build()
        .unwrap();
    let client = Client::builder(fake.config())
        .http_client(http)
        .build()
        .unwrap();
    client.publish(&note()).await.unwrap();
    let got = fake.server().received_requests().await.unwrap();
    assert!(!got.is_empty());
    assert!(got.iter().all(|r| r.headers.get("x-shared-pool").is_some()));
}
