//! Xiaohongshu open-platform signing: known answers computed independently with md5sum, and the
//! fake verifying the signature exactly as a server would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use conn_content::fake::FakeContent;
use conn_content::{xhs_sign, XhsSigner};
use conn_content::{AuthScheme, Client, Content, Credentials, Profile};
use conn_core::clock::ManualClock;
use conn_core::connector::{Connector, RawRequest};
use conn_core::error::ApiErrorKind;
use conn_core::reexports::reqwest;
use conn_core::secret::Secret;
use serde_json::{json, Value};

#[test]
fn known_answer_ascii() {
    // printf '%s' 'content.publish?appId=4c5a0b3f&timestamp=1700000000&version=2.0secret-9f8e7d6c5b4a' | md5sum
    // → d8615e32831418c7ae506fa460570c86
    assert_eq!(
        xhs_sign(
            "content.publish",
            "4c5a0b3f",
            "1700000000",
            "2.0",
            &Secret::new("secret-9f8e7d6c5b4a")
        ),
        "d8615e32831418c7ae506fa460570c86"
    );
}

#[test]
fn known_answer_ark_method_and_utf8_secret() {
    // printf '%s' 'product.getDetailSkuList?appId=7a1b2c3d&timestamp=1715000000&version=2.0小红书密钥' | md5sum
    // → ebea868aa245f8bc585567559d2b7652 (the secret's UTF-8 bytes are hashed)
    assert_eq!(
        xhs_sign(
            "product.getDetailSkuList",
            "7a1b2c3d",
            "1715000000",
            "2.0",
            &Secret::new("小红书密钥")
        ),
        "ebea868aa245f8bc585567559d2b7652"
    );
}

#[test]
fn signer_uses_the_injected_clock() {
    let clock = ManualClock::at_unix(1_700_000_000);
    let s = XhsSigner::new("4c5a0b3f", "secret-9f8e7d6c5b4a", "tok", "2.0")
        .with_clock(Arc::new(clock.clone()));
    let f = s.sign_fields("content.publish");
    assert_eq!(
        Value::Object(f.clone()),
        json!({
            "appId": "4c5a0b3f", "method": "content.publish", "version": "2.0",
            "timestamp": "1700000000", "accessToken": "tok",
            "sign": "d8615e32831418c7ae506fa460570c86",
        })
    );
    clock.advance(Duration::from_secs(1));
    let g = s.sign_fields("content.publish");
    assert_eq!(g["timestamp"], "1700000001");
    assert_ne!(g["sign"], f["sign"]);
}

fn xhs_profile() -> Profile {
    Profile::xiaohongshu().with_auth(AuthScheme::xhs_sign())
}

fn note() -> Content {
    Content::new("春日穿搭", "今天的穿搭分享").with_images(["https://img.example.com/1.jpg"])
}

#[tokio::test]
async fn fake_accepts_a_correct_signature_at_any_time() {
    let fake = FakeContent::start(xhs_profile()).await;
    let clock = ManualClock::at_unix(1_600_000_000);
    let client = Client::builder(fake.config())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    client.publish(&note()).await.unwrap();
    clock.advance(Duration::from_secs(3600));
    client.publish(&note()).await.unwrap();
    assert_eq!(fake.published().len(), 2);
    assert_eq!(fake.auth_failures(), 0);
    // The signing fields are not part of the stored content.
    assert!(fake.published()[0].raw.get("sign").is_none());
}

#[tokio::test]
async fn wrong_app_secret_gets_the_auth_envelope() {
    let fake = FakeContent::start(xhs_profile()).await;
    let good = fake.credentials().clone();
    let wrong = Credentials {
        app_secret: Some("not-the-secret".into()),
        ..good
    };
    let cfg = conn_content::Config::builder()
        .profile(fake.profile().clone())
        .credentials(wrong)
        .build()
        .unwrap();
    let client = Client::new(cfg).unwrap();
    let err = client.publish(&note()).await.unwrap_err();
    assert_eq!(
        err.api_kind(),
        Some(ApiErrorKind::InvalidCredentials),
        "{err}"
    );
    assert_eq!(err.platform_code(), Some("401"));
    // The ark answers HTTP 200 with {error_code, success:false, error_msg}.
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert!(err.to_string().contains("sign mismatch"), "{err}");
    assert_eq!(fake.auth_failures(), 1);
    assert!(fake.published().is_empty());
    assert!(client.check_credentials().await.is_err());
}

#[tokio::test]
async fn fake_recomputes_the_sign_from_the_received_json() {
    let fake = FakeContent::start(xhs_profile()).await;
    let creds = fake.credentials();
    let signer = XhsSigner::new(
        creds.app_id.clone().unwrap(),
        creds.app_secret.clone().unwrap(),
        creds.access_token.clone().unwrap(),
        "2.0",
    )
    .with_clock(Arc::new(ManualClock::at_unix(1_700_000_000)));
    let mut body = json!({"title": "春日穿搭", "desc": "正文", "image_urls": ["u"]});
    body.as_object_mut()
        .unwrap()
        .extend(signer.sign_fields("content.publish"));
    let http = reqwest::Client::new();
    let url = format!("{}/note/publish", fake.uri());
    let send = |b: Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let r = http.post(url).json(&b).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Untouched: accepted.
    let (status, resp) = send(body.clone()).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["error_code"], 0);
    assert_eq!(resp["success"], true);
    // Any signed field changed after signing: rejected with the auth envelope.
    for (field, value) in [
        ("timestamp", json!("1700000001")),
        ("method", json!("content.stats")),
        ("appId", json!("other-app")),
        ("version", json!("1.0")),
        ("sign", json!("00000000000000000000000000000000")),
        ("accessToken", json!("stolen")),
    ] {
        let mut b = body.clone();
        b[field] = value;
        let (status, resp) = send(b).await;
        assert_eq!(status, 200, "{field}: {resp}");
        assert_eq!(resp["error_code"], 401, "{field}");
        assert_eq!(resp["success"], false, "{field}");
        assert!(resp["error_msg"]
            .as_str()
            .unwrap()
            .starts_with("authentication failed"));
    }
    assert_eq!(fake.published().len(), 1);
}

#[tokio::test]
async fn raw_calls_are_signed_with_the_method_in_the_data() {
    let fake = FakeContent::start(xhs_profile()).await;
    let client = fake.client();
    let raw = RawRequest::new(http::Method::POST, "/note/publish").with_data(json!({
        "method": "content.publish", "title": "原始调用", "desc": "正文", "image_urls": ["u"]
    }));
    let resp = client.call(raw).await.unwrap();
    assert_eq!(resp.body["error_code"], 0);
    assert_eq!(resp.body["success"], true);
    assert!(resp.body["data"]["note_id"].is_string());
    let e = client
        .call(RawRequest::new(http::Method::POST, "/note/publish").with_data(json!({"title": "x"})))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("data.method"), "{e}");
    let e = client
        .call(RawRequest::new(http::Method::GET, "/note/stats"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("xhs_sign"), "{e}");
}
