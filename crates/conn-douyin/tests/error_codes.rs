//! Every code of the PLATFORMS.md table, in both envelope shapes and with numbers as strings,
//! maps to its kind, its retry behaviour and keeps the platform's log id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use conn_core::connector::{Connector, RawRequest};
use conn_core::error::{ApiErrorKind, RetryClass};
use conn_core::transport::TransportConfig;
use conn_douyin::CODE_TABLE;
use conn_douyin::{douyin_code, Client, Config, DouyinCode};
use http::Method;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::fast_retry;

fn expected_kind(code: i64) -> ApiErrorKind {
    match code {
        10008 | 2190002 | 2190008 | 28001003 | 28001008 => ApiErrorKind::TokenExpired,
        10010 | 10020 => ApiErrorKind::ReauthRequired,
        10007 => ApiErrorKind::InvalidRequest,
        10003 | 10013 => ApiErrorKind::InvalidCredentials,
        10004 | 2190003 | 2190004 | 28001012 | 28001018 => ApiErrorKind::PermissionDenied,
        2190015 | 28001015 => ApiErrorKind::AccountMismatch,
        2100004 | 28001005 | 28001006 => ApiErrorKind::Busy,
        2190001 | 28003017 | 2114007 => ApiErrorKind::QuotaExceeded,
        28003018 | 28001052 => ApiErrorKind::RateLimited,
        2190005..=2190007 => ApiErrorKind::InvalidRequest,
        other => panic!("code {other} is not in PLATFORMS.md"),
    }
}

/// What a code means on `/oauth/client_token/`, where the calls below go: 10020 there is
/// "more than 500 calls in 5 minutes" (PLATFORMS.md, corrections), re-authorization only on
/// the renewal endpoint.
fn expected_kind_on_client_token(code: i64) -> ApiErrorKind {
    match code {
        10020 => ApiErrorKind::RateLimited,
        other => expected_kind(other),
    }
}

/// The table of PLATFORMS.md, written out independently of the crate's.
const PLATFORMS_CODES: &[i64] = &[
    10008, 2190002, 2190008, 28001003, 28001008, 10010, 10007, 10020, 10003, 10013, 10004, 2190003,
    2190004, 28001012, 28001018, 2190015, 28001015, 2100004, 28001005, 28001006, 2190001, 28003017,
    28003018, 28001052, 2114007, 2190005, 2190006, 2190007,
];

#[test]
fn the_crate_table_is_the_platforms_table() {
    let mut ours: Vec<i64> = CODE_TABLE.iter().map(|r| r.code).collect();
    let mut theirs = PLATFORMS_CODES.to_vec();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs);
    for row in CODE_TABLE {
        assert_eq!(row.kind, expected_kind(row.code), "{}", row.code);
    }
}

fn envelope(code: i64, shape: &str, as_string: bool, log_id: &str) -> serde_json::Value {
    let c = if as_string {
        json!(code.to_string())
    } else {
        json!(code)
    };
    match shape {
        "oauth" => json!({
            "data": {"error_code": c, "description": format!("desc {code}"), "log_id": log_id},
            "message": "error"
        }),
        _ => json!({
            "data": {"error_code": c, "description": format!("desc {code}")},
            "extra": {"error_code": c, "description": format!("desc {code}"), "sub_error_code": 0,
                      "sub_description": "", "logid": log_id, "now": 1_700_000_000_000i64}
        }),
    }
}

#[tokio::test]
async fn every_code_maps_to_kind_retryability_and_log_id() {
    for (i, &code) in PLATFORMS_CODES.iter().enumerate() {
        for shape in ["oauth", "api"] {
            let as_string = i % 2 == 0;
            let log_id = format!("LOG-{shape}-{code}");
            let kind = expected_kind_on_client_token(code);
            let retried = matches!(kind, ApiErrorKind::Busy | ApiErrorKind::RateLimited);
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .and(path("/oauth/client_token/"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(envelope(code, shape, as_string, &log_id)),
                )
                // Retryable codes: both attempts; the others: exactly one.
                .expect(if retried { 2 } else { 1 })
                .mount(&server)
                .await;
            let cfg = Config::builder()
                .client_key("k")
                .client_secret("s")
                .base_url(server.uri())
                .transport(
                    TransportConfig::new(&server.uri())
                        .unwrap()
                        .with_retry(fast_retry(2))
                        .with_attempt_timeout(Duration::from_secs(5)),
                )
                .build()
                .unwrap();
            let client = Client::new(cfg).unwrap();
            // A raw POST: not idempotent, so only "the platform did not take it" is retried.
            let err = client
                .call(RawRequest::new(Method::POST, "/oauth/client_token/").with_data(json!({})))
                .await
                .unwrap_err();
            let ctx = format!("code {code} shape {shape}: {err}");
            assert_eq!(err.api_kind(), Some(kind), "{ctx}");
            assert_eq!(
                err.platform_code(),
                Some(code.to_string().as_str()),
                "{ctx}"
            );
            assert_eq!(err.log_id(), Some(log_id.as_str()), "{ctx}");
            assert!(err.to_string().contains(&format!("desc {code}")), "{ctx}");
            let class = err.retry_class();
            if retried {
                assert_eq!(class, RetryClass::Always, "{ctx}");
            } else {
                assert_eq!(class, RetryClass::Never, "{ctx}");
            }
            assert_eq!(
                err.is_token_expired(),
                kind == ApiErrorKind::TokenExpired,
                "{ctx}"
            );
            assert_eq!(
                err.is_reauth_required(),
                kind == ApiErrorKind::ReauthRequired,
                "{ctx}"
            );
            assert!(douyin_code(&err).is_some(), "{ctx}");
            server.verify().await;
        }
    }
}

#[tokio::test]
async fn config_error_category_for_bad_credentials_and_typed_meanings() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/client_token/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(envelope(10013, "oauth", false, "L")),
        )
        .mount(&server)
        .await;
    let cfg = Config::builder()
        .client_key("k")
        .client_secret("s")
        .base_url(server.uri())
        .transport(
            TransportConfig::new(&server.uri())
                .unwrap()
                .with_retry(fast_retry(3)),
        )
        .build()
        .unwrap();
    let err = Client::new(cfg).unwrap().client_token().await.unwrap_err();
    assert_eq!(err.category(), conn_core::error::Category::Config);
    assert_eq!(douyin_code(&err), Some(DouyinCode::BadClientCredentials));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
