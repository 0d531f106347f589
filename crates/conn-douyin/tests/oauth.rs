//! Authorization URLs and their validation, and a login as a CLI does it: a loopback listener,
//! a "user" following the URL, the redirect with `code` and `state`, the exchange.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::error::Error;
use conn_douyin::fake::FakeDouyin;
use conn_douyin::AuthorizeRequest;
use conn_douyin::{Client, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn client(redirect: Option<&str>) -> Client {
    let mut b = Config::builder().client_key("awkey").client_secret("s");
    if let Some(r) = redirect {
        b = b.redirect_uri(r);
    }
    Client::new(b.build().unwrap()).unwrap()
}

fn field_of(err: &Error) -> &str {
    match err {
        Error::Validation(v) => &v.field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn authorize_url_carries_every_parameter_and_a_fresh_state() {
    let c = client(Some("https://example.com/douyin/callback"));
    let a = c
        .authorize_url(&["user_info", "video.create.bind"], None)
        .unwrap();
    let b = c.authorize_url(&["user_info"], None).unwrap();
    assert_ne!(a.state, b.state);
    assert_eq!(a.state.len(), 22);
    assert_eq!(a.url.path(), "/platform/oauth/connect/");
    let q: Vec<(String, String)> = a
        .url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    assert_eq!(
        q,
        vec![
            ("client_key".into(), "awkey".into()),
            ("response_type".into(), "code".into()),
            ("scope".into(), "user_info,video.create.bind".into()),
            (
                "redirect_uri".into(),
                "https://example.com/douyin/callback".into()
            ),
            ("state".into(), a.state.clone()),
        ]
    );
    // The sandbox host works the same way.
    let sandbox = Client::new(
        Config::builder()
            .client_key("awkey")
            .redirect_uri("https://example.com/cb")
            .sandbox()
            .build()
            .unwrap(),
    )
    .unwrap();
    let u = sandbox.authorize_url(&["user_info"], None).unwrap().url;
    assert!(
        u.as_str()
            .starts_with("https://open-sandbox.douyin.com/platform/oauth/connect/?"),
        "{u}"
    );
}

#[test]
fn bad_states_are_rejected() {
    let c = client(Some("https://example.com/cb"));
    for bad in [
        "short",
        &"x".repeat(129),
        "has space in the state!",
        "percent%20encoded-xx",
        "ünïcödé-state-123456",
    ] {
        let err = c.authorize_url(&["user_info"], Some(bad)).unwrap_err();
        assert_eq!(field_of(&err), "state", "{bad}: {err}");
    }
    let ok = "abcDEF-123_456.789~xyz";
    assert_eq!(c.authorize_url(&["user_info"], Some(ok)).unwrap().state, ok);
}

#[test]
fn unknown_scopes_are_listed() {
    let c = client(Some("https://example.com/cb"));
    let err = c
        .authorize_url(
            &["user_info", "fans.list", "video.create.bind", "im.send"],
            None,
        )
        .unwrap_err();
    assert_eq!(field_of(&err), "scopes");
    assert!(
        err.to_string()
            .contains("unknown scope(s): fans.list, im.send"),
        "{err}"
    );
    assert!(c.authorize_url(&[], None).is_err());
    // Extra scopes can be allowed.
    let extended = Client::new(
        Config::builder()
            .client_key("awkey")
            .redirect_uri("https://example.com/cb")
            .extra_scope("fans.list")
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(extended.authorize_url(&["fans.list"], None).is_ok());
}

#[test]
fn redirect_rules() {
    let c = client(None);
    let err = c.authorize_url(&["user_info"], None).unwrap_err();
    assert!(err.to_string().contains("DOUYIN_REDIRECT_URI"), "{err}");
    let with =
        |r: &str| c.authorize_url_with(&AuthorizeRequest::new(["user_info"]).redirect_uri(r));
    assert!(with("http://127.0.0.1:53682/callback").is_ok());
    assert!(with("http://localhost:8080/cb").is_ok());
    assert!(with("https://example.com/cb").is_ok());
    for bad in [
        "http://example.com/cb",
        "http://192.168.1.10/cb",
        "https://example.com/cb?next=/home",
        "https://example.com/cb#frag",
        "ftp://example.com/cb",
        "not a url",
    ] {
        let err = with(bad).unwrap_err();
        assert_eq!(field_of(&err), "redirect_uri", "{bad}: {err}");
    }
    let err = with("http://example.com/cb").unwrap_err();
    assert!(err.to_string().contains("127.0.0.1 or localhost"), "{err}");
    let err = with("https://example.com/cb?a=1").unwrap_err();
    assert!(err.to_string().contains("query"), "{err}");
}

/// One HTTP request on a loopback listener: returns its request target.
async fn accept_redirect(listener: tokio::net::TcpListener) -> String {
    let (mut sock, _) = listener.accept().await.unwrap();
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buf.len() {
        let n = sock.read(&mut buf[len..]).await.unwrap();
        if n == 0 {
            break;
        }
        len += n;
    }
    let head = String::from_utf8_lossy(&buf[..len]).into_owned();
    let target = head.split_whitespace().nth(1).unwrap().to_owned();
    sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 23\r\nconnection: close\r\n\r\nYou may close this tab.")
        .await
        .unwrap();
    target
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_end_to_end_through_the_authorization_page() {
    let fake = FakeDouyin::start().await;
    let client = Client::new(fake.config()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr().unwrap().port()
    );
    let auth = client
        .authorize_url_with(
            &AuthorizeRequest::new(["user_info", "video.create.bind"]).redirect_uri(&redirect),
        )
        .unwrap();
    let waiting = tokio::spawn(accept_redirect(listener));
    // The "user" opens the URL in a browser that follows redirects.
    let browser = reqwest::Client::builder().no_proxy().build().unwrap();
    let page = browser.get(auth.url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.text().await.unwrap(), "You may close this tab.");
    let target = waiting.await.unwrap();
    let back = url::Url::parse(&format!("http://127.0.0.1{target}")).unwrap();
    assert_eq!(back.path(), "/callback");
    let get = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        get("state").as_deref(),
        Some(auth.state.as_str()),
        "state echoed"
    );
    let account = client.exchange_code(&get("code").unwrap()).await.unwrap();
    assert_eq!(account.open_id, fake.open_id());
    assert_eq!(
        account.scopes,
        vec!["user_info".to_owned(), "video.create.bind".to_owned()]
    );
    assert!(account.expires_at.is_some() && account.refresh_expires_at.is_some());
}

#[tokio::test]
async fn the_fake_refuses_a_foreign_redirect_or_client_key() {
    let fake = FakeDouyin::builder()
        .redirect_uri("https://app.example/cb")
        .start()
        .await;
    let browser = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = Client::new(fake.config()).unwrap();
    let wrong = client
        .authorize_url_with(
            &AuthorizeRequest::new(["user_info"]).redirect_uri("https://other.example/cb"),
        )
        .unwrap();
    assert_eq!(browser.get(wrong.url).send().await.unwrap().status(), 400);
    let right = client
        .authorize_url_with(
            &AuthorizeRequest::new(["user_info"]).redirect_uri("https://app.example/cb"),
        )
        .unwrap();
    let resp = browser.get(right.url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("https://app.example/cb?code="));
}
