//! No secret reaches a log or a `Debug` output: a whole login → publish → refresh → webhook
//! flow logged at TRACE level, and the `Debug` of every config type (the token endpoint payloads,
//! crate-private, are checked by a unit test of `oauth`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use conn_core::testing::LogCapture;
use conn_core::token::{MemoryTokenStore, TokenKey, TokenStore};
use conn_douyin::fake::{FakeDouyin, ALL_SCOPES};
use conn_douyin::{Client, Config, ImagePost, ImageSource, VideoPost, VideoSource};
use futures::TryStreamExt;

#[test]
fn a_whole_flow_logs_no_secret() {
    let (cap, _guard) = LogCapture::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secrets = rt.block_on(async {
        let fake = FakeDouyin::start().await;
        let store = MemoryTokenStore::new();
        let client = Client::builder(fake.config())
            .token_store(Arc::new(store.clone()))
            .build()
            .unwrap();
        let mut secrets: Vec<String> = vec![fake.client_secret().expose_secret().to_owned()];
        let key = TokenKey::new("douyin", fake.open_id());
        let remember = |secrets: &mut Vec<String>, ts: conn_core::token::TokenSet| {
            secrets.push(ts.access_token.expose_secret().to_owned());
            if let Some(r) = ts.refresh_token {
                secrets.push(r.expose_secret().to_owned());
            }
        };

        // Login through the authorization page.
        let auth = client.authorize_url(ALL_SCOPES, None).unwrap();
        let browser = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = browser.get(auth.url).send().await.unwrap();
        let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        let code = location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned();
        secrets.push(code.clone());
        let open_id = client.exchange_code(&code).await.unwrap().open_id;
        remember(&mut secrets, store.load(&key).await.unwrap().unwrap());

        // Publish, with a refresh forced by the platform in the middle.
        client
            .publish_video(
                &open_id,
                VideoSource::bytes(vec![1u8; 2048]),
                &VideoPost::new("日志"),
            )
            .await
            .unwrap();
        fake.expire_access_tokens(&open_id);
        client
            .publish_images(
                &open_id,
                vec![ImageSource::bytes(vec![2u8; 64], "a.jpg")],
                &ImagePost::new("图"),
            )
            .await
            .unwrap();
        remember(&mut secrets, store.load(&key).await.unwrap().unwrap());
        client.renew_refresh_token(&open_id).await.unwrap();
        remember(&mut secrets, store.load(&key).await.unwrap().unwrap());
        let _items: Vec<_> = client
            .video_list(open_id.clone(), 5)
            .try_collect()
            .await
            .unwrap();
        secrets.push(
            client
                .client_token()
                .await
                .unwrap()
                .expose_secret()
                .to_owned(),
        );

        // A failure path logs too: a dead refresh token.
        fake.expire_access_tokens(&open_id);
        fake.expire_refresh_tokens(&open_id);
        assert!(client.video_list_page(&open_id, 0, 5).await.is_err());

        // A webhook.
        let handler = client.webhook_handler().unwrap();
        let body = fake.webhook_body("create_video", serde_json::json!({"item_id": "@x"}));
        let mut headers = http::HeaderMap::new();
        headers.insert("x-douyin-signature", fake.sign(&body).parse().unwrap());
        headers.insert("msg-id", "log-msg".parse().unwrap());
        assert_eq!(handler.handle_http(&headers, &body).await.status, 200);
        tokio::time::sleep(Duration::from_millis(10)).await;
        secrets
    });
    let logs = cap.contents();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(
        logs.contains("create_video") && logs.contains("refresh"),
        "{logs}"
    );
    assert!(logs.contains("webhook accepted"), "{logs}");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert!(refs.len() >= 8, "{}", refs.len());
    cap.assert_no_secrets(&refs);
}

#[test]
fn debug_of_config_and_token_types_shows_no_secret() {
    let cfg = Config::builder()
        .client_key("awkey")
        .client_secret("SECRET-client")
        .previous_client_secret("SECRET-previous")
        .access_token("SECRET-access")
        .redirect_uri("https://example.com/cb")
        .build()
        .unwrap();
    let client = Client::new(cfg.clone()).unwrap();
    let handler = client.webhook_handler().unwrap();
    for printed in [
        format!("{cfg:?}"),
        format!("{cfg:#?}"),
        format!("{client:?}"),
        format!("{handler:?}"),
        format!("{:?}", Config::builder().client_secret("SECRET-b")),
    ] {
        assert!(!printed.contains("SECRET"), "{printed}");
    }
    assert!(format!("{cfg:?}").contains("awkey"));
}

#[tokio::test]
async fn the_fake_debug_and_env_vars() {
    let fake = FakeDouyin::start().await;
    let d = format!("{fake:?}");
    assert!(!d.contains(fake.client_secret().expose_secret()), "{d}");
    let vars = fake.env_vars();
    let get = |k: &str| {
        vars.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("DOUYIN_BASE_URL"), fake.uri());
    assert_eq!(get("DOUYIN_CLIENT_KEY"), fake.client_key());
    // The variables build a working client.
    let env =
        conn_core::env::Env::from_source(vars.iter().cloned().collect::<conn_core::env::MapEnv>());
    let client = Client::new(Config::from_env_with(&env).unwrap()).unwrap();
    use conn_core::connector::Connector;
    client.check_credentials().await.unwrap();
    assert_eq!(client.resolve_open_id(None).unwrap(), fake.open_id());
}
