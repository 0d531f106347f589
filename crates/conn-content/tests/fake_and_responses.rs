//! The fake answers as a server of each profile would (auth envelopes, not-found, stats), and the
//! client reads responses defensively (numeric ids, counters as strings, missing ids).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use conn_content::fake::{FakeContent, FakeStats};
use conn_content::{Builtin, Client, Config, Content, Credentials, Profile, CREDENTIAL_CHECK_ID};
use conn_core::connector::{Connector, RawRequest};
use conn_core::error::ApiErrorKind;
use conn_core::Error;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn post_for(b: Builtin) -> Content {
    Content::new("今年春天最值得去的地方", "正文").with_images(match b {
        Builtin::Zhihu => vec![],
        _ => vec!["https://img.example.com/1.jpg".to_owned()],
    })
}

#[tokio::test]
async fn stats_are_read_at_each_profiles_pointers() {
    for b in Builtin::ALL {
        let fake = FakeContent::start(b).await;
        let client = fake.client();
        let p = client.publish(&post_for(b)).await.unwrap();
        assert_eq!(p.profile, b.name());
        assert!(p.idempotency_key.is_none());
        let s = FakeStats {
            views: 1000,
            likes: 50,
            comments: 7,
            shares: 3,
            favorites: 12,
        };
        assert!(fake.set_stats(&p.id, s));
        let got = client.stats(&p.id).await.unwrap();
        let mapped = &fake.profile().response.stats;
        let expect = |ptr: &Option<conn_content::Pointer>, v: u64| ptr.as_ref().map(|_| v);
        assert_eq!(got.views, expect(&mapped.views, 1000), "{}", b.name());
        assert_eq!(got.likes, expect(&mapped.likes, 50));
        assert_eq!(got.comments, expect(&mapped.comments, 7));
        assert_eq!(got.shares, expect(&mapped.shares, 3));
        assert_eq!(got.favorites, expect(&mapped.favorites, 12));
        assert!(!fake.set_stats("nope", s));
    }
}

#[tokio::test]
async fn auth_errors_come_in_each_platforms_envelope() {
    // (profile, expected HTTP status, expected platform code); the 小红书 ark answers its
    // errors with HTTP 200 and {error_code, success:false, error_msg}.
    for (b, status, code) in [
        (Builtin::Xiaohongshu, 200, "401"),
        (Builtin::Zhihu, 401, "100"),
        (Builtin::Toutiao, 200, "10008"),
    ] {
        let fake = FakeContent::start(b).await;
        let cfg = Config::builder()
            .profile(fake.profile().clone())
            .credentials(Credentials::bearer("wrong"))
            .build()
            .unwrap();
        let client = Client::new(cfg).unwrap();
        let e = client.publish(&post_for(b)).await.unwrap_err();
        assert_eq!(
            e.api_kind(),
            Some(ApiErrorKind::InvalidCredentials),
            "{}: {e}",
            b.name()
        );
        assert_eq!(e.platform_code(), Some(code));
        assert_eq!(e.status().map(|s| s.as_u16()), Some(status));
        assert!(!e.is_retryable());
        assert_eq!(fake.publish_requests(), 1, "auth errors are not retried");
        assert!(client.check_credentials().await.is_err());
        fake.client().check_credentials().await.unwrap();
    }
}

#[tokio::test]
async fn unknown_ids_are_not_found_and_the_check_uses_a_probe_id() {
    let fake = FakeContent::start(Builtin::Toutiao).await;
    let e = fake.client().stats("missing-id").await.unwrap_err();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::NotFound), "{e}");
    assert_eq!(e.platform_code(), Some("2190007"));
    fake.client().check_credentials().await.unwrap();
    let reqs = fake.server().received_requests().await.unwrap();
    assert!(reqs
        .last()
        .unwrap()
        .url
        .query_pairs()
        .any(|(k, v)| k == "item_id" && v == CREDENTIAL_CHECK_ID));
    let e = fake.client().stats("  ").await.unwrap_err();
    assert!(
        matches!(&e, Error::Validation(v) if v.field == "content_id"),
        "{e:?}"
    );
}

#[tokio::test]
async fn fake_rejects_fields_that_are_not_where_the_profile_says() {
    let fake = FakeContent::start(Builtin::Zhihu).await;
    let raw = RawRequest::new(http::Method::POST, "/articles")
        .with_data(json!({"title": "t", "body": "not the content field"}));
    let e = fake.client().call(raw).await.unwrap_err();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::InvalidRequest), "{e}");
    assert!(
        e.to_string().contains("`/content` (body) is missing"),
        "{e}"
    );
    let e = fake
        .client()
        .call(RawRequest::new(http::Method::GET, "/nowhere"))
        .await
        .unwrap_err();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::NotFound), "{e}");
    assert!(fake.published().is_empty());
    // A raw call the profile understands.
    let raw = RawRequest::new(http::Method::POST, "/articles")
        .with_data(json!({"title": "t", "content": "c"}));
    let r = fake.client().call(raw).await.unwrap();
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.body["id"], "zhihu-000001");
    assert_eq!(fake.published()[0].content, Content::new("t", "c"));
}

#[tokio::test]
async fn ids_in_path_are_percent_encoded() {
    let fake = FakeContent::start(Builtin::Zhihu).await;
    let _ = fake.client().stats("a/b c+=").await;
    let reqs = fake.server().received_requests().await.unwrap();
    assert_eq!(reqs[0].url.path(), "/articles/a%2Fb%20c%2B%3D/stats");
}

async fn zhihu_against(server: &MockServer) -> Client {
    let cfg = Config::builder()
        .profile(Profile::zhihu().with_base_url(server.uri()))
        .credentials(Credentials::bearer("t"))
        .build()
        .unwrap();
    let cfg = common::tuned(cfg, |t| t.with_retry(common::fast_retry()));
    Client::new(cfg).unwrap()
}

#[tokio::test]
async fn numeric_ids_and_string_counters_are_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/articles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 98765})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/articles/98765/stats"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"voteup_count": "12", "comment_count": 3.0, "favlists_count": null}),
        ))
        .mount(&server)
        .await;
    let client = zhihu_against(&server).await;
    let p = client.publish(&Content::new("t", "b")).await.unwrap();
    assert_eq!(p.id, "98765");
    let s = client.stats(&p.id).await.unwrap();
    assert_eq!(
        (s.likes, s.comments, s.favorites),
        (Some(12), Some(3), None)
    );
    assert_eq!(s.raw["voteup_count"], "12");
}

#[tokio::test]
async fn missing_id_and_bad_counters_are_decode_errors_naming_the_pointer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/articles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"url": "x"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/articles/1/stats"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"voteup_count": "lots"})))
        .mount(&server)
        .await;
    let client = zhihu_against(&server).await;
    let e = client.publish(&Content::new("t", "b")).await.unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.path, "/id");
    assert!(e.to_string().contains("may have been published"), "{e}");
    let e = client.stats("1").await.unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.path, "/voteup_count");
}

#[tokio::test]
async fn zhihu_error_object_with_http_200_is_still_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/articles"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"error": {"code": 10003, "message": "内容违规"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = zhihu_against(&server).await;
    let e = client.publish(&Content::new("t", "b")).await.unwrap_err();
    assert_eq!(e.platform_code(), Some("10003"));
    assert_eq!(e.api_kind(), Some(ApiErrorKind::Other));
    assert!(e.to_string().contains("内容违规"), "{e}");
}
