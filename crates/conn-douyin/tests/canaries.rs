//! Canary secrets over every error path of the Douyin client: success, platform error, HTTP
//! error, timeout, decode failure (token endpoints and resource APIs), validation, and hostile
//! lifetimes. Everything runs at TRACE level with every target on; every error is printed with
//! `{}`, `{:?}`, `{:#?}` along its whole `source()` chain, and the client and config with
//! `{:?}`, and no canary may appear anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::testing::{assert_error_free_of, LogCapture};
use conn_core::token::TokenSet;
use conn_core::transport::TransportConfig;
use conn_douyin::{Client, Config, VideoPost};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "cs-CANARY-client-secret-7f3a";
const ACCESS: &str = "act.CANARY-access-91b2";
const REFRESH: &str = "rft.CANARY-refresh-5c6d";
const CLIENT: &str = "clt.CANARY-client-0e0f";
const CODE: &str = "code-CANARY-4242";
const CANARIES: &[&str] = &[SECRET, ACCESS, REFRESH, CLIENT, CODE];

fn client(uri: &str) -> Client {
    let cfg = Config::builder()
        .client_key("awx-canary")
        .client_secret(SECRET)
        .base_url(uri)
        .transport(
            TransportConfig::new(uri)
                .unwrap()
                .with_attempt_timeout(Duration::from_millis(300))
                .with_retry(
                    RetryPolicy::default()
                        .with_jitter(Jitter::None)
                        .with_attempt_limit(2)
                        .with_base_delay(Duration::from_millis(1)),
                ),
        )
        .build()
        .unwrap();
    Client::new(cfg).unwrap()
}

async fn answer(server: &MockServer, at: &str, t: ResponseTemplate) {
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(t)
        .mount(server)
        .await;
}

fn body(v: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(v)
}

/// Every token endpoint answer that must fail without quoting a token.
fn broken_token_answers() -> Vec<(&'static str, ResponseTemplate)> {
    vec![
        // Success shape, a lifetime that is not a number: a decode error.
        (
            "wrong lifetime",
            body(serde_json::json!({"data": {
            "access_token": ACCESS, "refresh_token": REFRESH, "open_id": "o-1",
            "expires_in": ACCESS, "error_code": 0}, "message": "success"})),
        ),
        // Negative lifetime: a decode error too.
        (
            "negative lifetime",
            body(serde_json::json!({"data": {
            "access_token": ACCESS, "refresh_token": REFRESH, "open_id": "o-1",
            "expires_in": -5, "error_code": 0}})),
        ),
        // The token where a string is wanted, the secret nested.
        (
            "token as object",
            body(serde_json::json!({"data": {
            "access_token": {"v": ACCESS, "client_secret": SECRET}, "error_code": 0}})),
        ),
        // A platform error whose body also carries tokens.
        (
            "platform error",
            body(serde_json::json!({"data": {
            "error_code": 10010, "description": "refresh_token expired",
            "access_token": ACCESS, "refresh_token": REFRESH}})),
        ),
        // A cut body.
        (
            "cut",
            ResponseTemplate::new(200).set_body_raw(
                format!(
                    r#"{{"data":{{"access_token":"{ACCESS}","refresh_token":"{REF}"#,
                    REF = &REFRESH[..8]
                )
                .into_bytes(),
                "application/json",
            ),
        ),
        // An HTTP error whose body echoes the request.
        (
            "http 500",
            ResponseTemplate::new(500).set_body_string(format!(
                "client_secret={SECRET}&code={CODE}&access_token={ACCESS}&refresh_token={REFRESH}"
            )),
        ),
        (
            "http 400",
            ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "access_token": ACCESS, "client_token": CLIENT})),
        ),
        // No answer in time.
        (
            "timeout",
            body(serde_json::json!({"data": {"access_token": ACCESS}}))
                .set_delay(Duration::from_secs(2)),
        ),
    ]
}

#[test]
fn no_error_of_any_path_prints_a_secret() {
    let (logs, _guard) = LogCapture::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut checked = 0;
    rt.block_on(async {
        let server = MockServer::start().await;
        let c = client(&server.uri());
        tracing::debug!(client = ?c, config = ?c.config(), "client");
        assert_error_free_of_debug(&format!("{c:?} {:?} {:#?}", c.config(), c.config()));

        for (what, t) in broken_token_answers() {
            // Code exchange.
            answer(&server, "/oauth/access_token/", t.clone()).await;
            let e = c.exchange_code(CODE).await.unwrap_err();
            tracing::error!(error = %e, debug = ?e, what, "exchange failed");
            assert_error_free_of(&e, CANARIES);
            checked += 1;
            // Client token (JSON body with the secret).
            answer(&server, "/oauth/client_token/", t.clone()).await;
            let e = c.client_token().await.unwrap_err();
            assert_error_free_of(&e, CANARIES);
            checked += 1;
            // Refresh and renewal of a stored account.
            let ts = TokenSet::new(conn_core::secret::AccessToken::new(ACCESS))
                .with_refresh_token(Some(conn_core::secret::RefreshToken::new(REFRESH)))
                .with_account("o-1");
            c.set_tokens("o-1", ts.clone()).await.unwrap();
            answer(&server, "/oauth/refresh_token/", t.clone()).await;
            let e = c.refresh("o-1").await.unwrap_err();
            tracing::error!(error = %e, debug = ?e, what, "refresh failed");
            assert_error_free_of(&e, CANARIES);
            checked += 1;
            c.set_tokens("o-1", ts).await.unwrap();
            answer(&server, "/oauth/renew_refresh_token/", t.clone()).await;
            let e = c.renew_refresh_token("o-1").await.unwrap_err();
            assert_error_free_of(&e, CANARIES);
            checked += 1;
            // A resource API answering with tokens (under secret keys) in a body it cannot use.
            // Its excerpt is redacted by key; a token under a key that names no secret
            // ("wrong lifetime") is hidden only where no excerpt is kept (token endpoints).
            if what == "wrong lifetime" {
                continue;
            }
            c.set_tokens(
                "o-1",
                TokenSet::new(conn_core::secret::AccessToken::new(ACCESS)).with_account("o-1"),
            )
            .await
            .unwrap();
            answer(&server, "/api/douyin/v1/video/create_video/", t).await;
            let e = c
                .create_video("o-1", "v-1", &VideoPost::new("t"))
                .await
                .unwrap_err();
            tracing::error!(error = %e, debug = ?e, what, "create failed");
            assert_error_free_of(&e, CANARIES);
            checked += 1;
        }

        // Validation errors name the field, never a value that could be secret.
        let e = c.exchange_code("  ").await.unwrap_err();
        assert_error_free_of(&e, CANARIES);
        let e = c
            .create_video("o-1", "", &VideoPost::new("t"))
            .await
            .unwrap_err();
        assert_error_free_of(&e, CANARIES);

        // Success with an absurd lifetime: clamped, no panic, nothing printed.
        answer(
            &server,
            "/oauth/access_token/",
            body(
                serde_json::json!({"data": {"access_token": ACCESS, "refresh_token": REFRESH,
                "open_id": "o-2", "expires_in": 9223372036854775807_i64,
                "refresh_expires_in": 1e25, "error_code": 0}}),
            ),
        )
        .await;
        let info = c.exchange_code(CODE).await.unwrap();
        tracing::info!(?info, "authorized");
        assert!(info.expires_at.is_some());
    });
    assert_eq!(checked, 8 * 4 + 7, "every answer over every endpoint");
    let out = logs.contents();
    assert!(out.contains("exchange failed"), "the errors were logged");
    logs.assert_no_secrets(CANARIES);
}

fn assert_error_free_of_debug(text: &str) {
    for s in CANARIES {
        assert!(!text.contains(s), "a canary appears in a Debug print");
    }
}
