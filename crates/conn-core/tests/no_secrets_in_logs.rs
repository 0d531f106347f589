//! A whole flow (token fetch, authenticated calls, a rejected token, retries, a failure) logged
//! at TRACE level, including reqwest/hyper internals, contains none of the secrets involved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::retry::Idempotency;
use conn_core::secret::{AccessToken, ClientSecret, RefreshToken};
use conn_core::testing::LogCapture;
use conn_core::token::{MemoryTokenStore, TokenKey, TokenManager, TokenRefresher, TokenSet};
use conn_core::transport::{EnvelopeDecoder, Request, ResponseParts, Transport, TransportConfig};
use conn_core::{Error, Result};
use http::HeaderName;
use wiremock::matchers::{body_string_contains, header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_SECRET: &str = "cs-CANARY-0a1b2c3d4e5f";
const REFRESH: &str = "rft.CANARY-refresh-9z8y7x";
const ACCESS_OLD: &str = "act.CANARY-old-123456";
const ACCESS_NEW: &str = "act.CANARY-new-654321";

#[derive(Debug)]
struct Env;
impl EnvelopeDecoder for Env {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        let v: serde_json::Value = serde_json::from_slice(r.body).ok()?;
        (v.get("code")?.as_i64()? == 10008).then(|| {
            ApiError::new(
                "canary",
                "10008",
                "access token expired",
                ApiErrorKind::TokenExpired,
            )
            .into()
        })
    }
}

#[derive(Debug)]
struct Refresher {
    transport: Transport,
    secret: ClientSecret,
}

#[async_trait]
impl TokenRefresher for Refresher {
    #[tracing::instrument(skip_all)]
    async fn refresh(&self, current: Option<&TokenSet>) -> Result<TokenSet> {
        let rt = current
            .and_then(|c| c.refresh_token.clone())
            .unwrap_or_else(|| RefreshToken::new(REFRESH));
        let req = Request::post("refresh", "/oauth/refresh", Idempotency::Idempotent).form(&[
            ("client_secret", self.secret.expose_secret()),
            ("refresh_token", rt.expose_secret()),
        ])?;
        let v: serde_json::Value = self.transport.execute_json(&req).await?;
        let at = v["access_token"].as_str().unwrap_or_default();
        tracing::info!(?current, "refreshed");
        Ok(
            TokenSet::new(AccessToken::new(at))
                .with_refresh_token(Some(RefreshToken::new(REFRESH))),
        )
    }
}

#[test]
fn a_traced_flow_logs_no_secret() {
    let (logs, _guard) = LogCapture::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(path("/oauth/refresh"))
            .and(body_string_contains("CANARY"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"access_token": ACCESS_OLD})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/oauth/refresh"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"access_token": ACCESS_NEW})),
            )
            .mount(&server)
            .await;
        Mock::given(path("/api"))
            .and(header("access-token", ACCESS_OLD))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"code": 10008})),
            )
            .mount(&server)
            .await;
        Mock::given(path("/api"))
            .and(header("access-token", ACCESS_NEW))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/api"))
            .and(header("access-token", ACCESS_NEW))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"code": 0})))
            .mount(&server)
            .await;
        let cfg = TransportConfig::new(&server.uri())
            .unwrap()
            .with_retry(common::fast_policy());
        let transport = Transport::new("canary", cfg, Env).unwrap();
        let refresher = Arc::new(Refresher {
            transport: transport.clone(),
            secret: ClientSecret::new(CLIENT_SECRET),
        });
        let m = TokenManager::new(
            TokenKey::new("canary", "a"),
            refresher,
            Arc::new(MemoryTokenStore::new()),
        );
        tracing::debug!(manager = ?m, "start");
        let v: serde_json::Value = m
            .with_token(|tok| {
                let t = transport.clone();
                async move {
                    let req = Request::get("api", "/api")
                        .secret_header(HeaderName::from_static("access-token"), tok.as_secret())?;
                    tracing::debug!(?req, ?tok, "calling");
                    t.execute_json(&req).await
                }
            })
            .await
            .unwrap();
        assert_eq!(v["code"], 0);
        // A failing call too: errors are logged with Display and Debug.
        let err = transport
            .execute(&Request::get("missing", "/nope"))
            .await
            .unwrap_err();
        tracing::error!(error = %err, debug = ?err, "failed");
    });
    let out = logs.contents();
    assert!(out.contains("connector.request"), "spans were captured");
    assert!(out.contains("retrying"), "the retry was logged");
    logs.assert_no_secrets(&[CLIENT_SECRET, REFRESH, ACCESS_OLD, ACCESS_NEW]);
}
