//! Profile limits: checked before any request, counted in characters, reported as typed
//! validation errors naming the field and the limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_content::fake::FakeContent;
use conn_content::{Builtin, Content, Limits, Profile};
use conn_core::Error;

fn field_and_rule(e: Error) -> (String, String) {
    match e {
        Error::Validation(v) => (v.field, v.rule),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn img(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://img.example.com/{i}.jpg"))
        .collect()
}

#[tokio::test]
async fn xiaohongshu_limits_count_chinese_characters() {
    let fake = FakeContent::start(Builtin::Xiaohongshu).await;
    let client = fake.client();
    // 20 characters (60 UTF-8 bytes) is the limit: accepted.
    let title20 = "春".repeat(20);
    assert_eq!(title20.len(), 60);
    client
        .publish(&Content::new(title20.clone(), "正文").with_images(img(1)))
        .await
        .unwrap();
    let cases = [
        (
            Content::new("春".repeat(21), "正文").with_images(img(1)),
            ("title", "at most 20 characters (got 21)"),
        ),
        (
            Content::new(title20.clone(), "字".repeat(1001)).with_images(img(1)),
            ("body", "at most 1000 characters (got 1001)"),
        ),
        (
            Content::new(title20.clone(), "正文").with_images(img(19)),
            ("images", "at most 18 images (got 19)"),
        ),
        (
            Content::new(title20.clone(), "正文"),
            ("images", "at least 1 image (got 0)"),
        ),
        (
            Content::new(title20.clone(), "正文")
                .with_images(img(1))
                .with_tags((0..11).map(|i| format!("标签{i}"))),
            ("tags", "at most 10 tags (got 11)"),
        ),
        (
            Content::new("", "正文").with_images(img(1)),
            ("title", "required (got an empty value)"),
        ),
    ];
    for (content, (field, rule)) in cases {
        let (f, r) = field_and_rule(client.publish(&content).await.unwrap_err());
        assert_eq!((f.as_str(), r.as_str()), (field, rule));
    }
    // Only the valid publish reached the server.
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn toutiao_and_zhihu_limits() {
    let toutiao = FakeContent::start(Builtin::Toutiao).await;
    let e = toutiao
        .client()
        .publish(&Content::new("四个字啊", "正文"))
        .await
        .unwrap_err();
    assert_eq!(
        field_and_rule(e),
        ("title".into(), "at least 5 characters (got 4)".into())
    );
    let e = toutiao
        .client()
        .publish(&Content::new("五个字标题", "正文").with_images(img(4)))
        .await
        .unwrap_err();
    assert_eq!(
        field_and_rule(e),
        ("images".into(), "at most 3 images (got 4)".into())
    );
    let zhihu = FakeContent::start(Builtin::Zhihu).await;
    let e = zhihu
        .client()
        .publish(&Content::new("标题", "正文").with_tags(["a", "b", "c", "d"]))
        .await
        .unwrap_err();
    assert_eq!(
        field_and_rule(e),
        ("tags".into(), "at most 3 tags (got 4)".into())
    );
    assert_eq!(toutiao.request_count() + zhihu.request_count(), 0);
}

#[tokio::test]
async fn images_on_a_profile_without_an_image_field_are_rejected() {
    let mut p = Profile::custom("textonly").with_limits(Limits::none());
    p.mapping.images = None;
    let fake = FakeContent::start(p).await;
    let e = fake
        .client()
        .publish(&Content::new("t", "b").with_images(["x"]))
        .await
        .unwrap_err();
    let (f, r) = field_and_rule(e);
    assert_eq!(f, "images");
    assert!(r.contains("maps no images"), "{r}");
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test]
async fn the_fake_enforces_the_same_limits_on_raw_calls() {
    use conn_core::connector::{Connector, RawRequest};
    let fake = FakeContent::start(Builtin::Xiaohongshu).await;
    let raw = RawRequest::new(http::Method::POST, "/note/publish").with_data(serde_json::json!({
        "title": "春".repeat(21), "desc": "正文", "image_urls": ["u"]
    }));
    let e = fake.client().call(raw).await.unwrap_err();
    assert_eq!(e.platform_code(), Some("400"), "{e}");
    assert!(e.to_string().contains("at most 20 characters"), "{e}");
    assert!(fake.published().is_empty());
}
