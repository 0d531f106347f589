//! The error table: each code of PLATFORMS.md → kind and retryability, errmsg kept; retries
//! counted at the fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use conn_core::error::ApiErrorKind;
use conn_core::Error;

use conn_ths::{Client, RealTimeQuotation};

fn table() -> Vec<(i64, ApiErrorKind)> {
    let mut t = vec![
        (-1303, ApiErrorKind::PermissionDenied),
        (-1305, ApiErrorKind::QuotaExceeded),
        (-1202, ApiErrorKind::InvalidRequest),
        (-4210, ApiErrorKind::InvalidRequest),
        (-4211, ApiErrorKind::InvalidRequest),
        (-4400, ApiErrorKind::RateLimited),
        (-4103, ApiErrorKind::PermissionDenied),
        (-1000, ApiErrorKind::ServerError),
        (-1001, ApiErrorKind::ServerError),
        (-1002, ApiErrorKind::ServerError),
        (-4102, ApiErrorKind::ServerError),
        (-1302, ApiErrorKind::TokenExpired),
        (-1010, ApiErrorKind::ReauthRequired),
        (-1300, ApiErrorKind::ReauthRequired),
        (-1301, ApiErrorKind::ReauthRequired),
        (-9999, ApiErrorKind::Other),
    ];
    t.extend((-4206..=-4203).map(|c| (c, ApiErrorKind::InvalidRequest)));
    t.extend((-4322..=-4301).map(|c| (c, ApiErrorKind::QuotaExceeded)));
    t.extend((-5010..=-5001).map(|c| (c, ApiErrorKind::ServerError)));
    t
}

#[test]
fn codes_map_to_kinds_and_retryability() {
    for (code, kind) in table() {
        assert_eq!(conn_ths::envelope::kind_of(code), kind, "{code}");
        let e: Error = conn_ths::envelope::api_error(code, "服务器内部错误").into();
        assert_eq!(e.platform_code(), Some(code.to_string().as_str()));
        assert_eq!(e.api_error().unwrap().message, "服务器内部错误");
        let (read, write) = match kind {
            ApiErrorKind::RateLimited => (true, true),
            ApiErrorKind::ServerError => (true, false),
            _ => (false, false),
        };
        assert_eq!(e.is_retryable_for(true), read, "{code} read");
        assert_eq!(e.is_retryable_for(false), write, "{code} write");
    }
}

/// Through the client: a retryable code is retried (2 attempts with 1 retry), any other code
/// fails after exactly one request; the error keeps code, kind and errmsg.
#[tokio::test]
async fn client_retries_exactly_the_retryable_codes() {
    let fake = common::fake().await;
    let c = Client::new(fake.config().with_retry(common::fast_retry(1))).unwrap();
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    c.real_time_quotation(&q).await.unwrap();
    for (code, kind) in table() {
        if matches!(
            kind,
            ApiErrorKind::TokenExpired | ApiErrorKind::ReauthRequired
        ) {
            continue; // tokens.rs
        }
        let before = fake.request_count("real_time_quotation");
        fake.clear_faults();
        fake.fail_next(Some("real_time_quotation"), code, 2);
        let e = c.real_time_quotation(&q).await.unwrap_err();
        let sent = fake.request_count("real_time_quotation") - before;
        let retryable = matches!(kind, ApiErrorKind::RateLimited | ApiErrorKind::ServerError);
        assert_eq!(sent, if retryable { 2 } else { 1 }, "{code}");
        assert_eq!(e.api_kind(), Some(kind), "{code}: {e:?}");
        assert_eq!(e.platform_code(), Some(code.to_string().as_str()));
        assert_eq!(e.api_error().unwrap().message, "injected fault");
    }
}

#[tokio::test]
async fn server_error_once_then_success() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    fake.fail_next(Some("real_time_quotation"), -5003, 1);
    fake.fail_next(Some("real_time_quotation"), -4400, 1);
    c.real_time_quotation(&q).await.unwrap();
    assert_eq!(fake.request_count("real_time_quotation"), 3);
    assert!(c.stats().snapshot().retries >= 2);
}

#[tokio::test]
async fn quota_is_never_retried() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    fake.exhaust_quota(-4302);
    for _ in 0..3 {
        let e = c.real_time_quotation(&q).await.unwrap_err();
        assert_eq!(e.api_kind(), Some(ApiErrorKind::QuotaExceeded));
        assert!(!e.is_retryable());
    }
    assert_eq!(fake.request_count("real_time_quotation"), 3);
}

#[tokio::test]
async fn gateway_status_without_envelope_is_an_http_error() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    c.real_time_quotation(&q).await.unwrap();
    fake.inject(
        Some("real_time_quotation"),
        conn_ths::fake::Fault::Http(502),
        1,
    );
    c.real_time_quotation(&q).await.unwrap();
    assert_eq!(fake.request_count("real_time_quotation"), 3);
    fake.inject(
        Some("real_time_quotation"),
        conn_ths::fake::Fault::Http(403),
        1,
    );
    let e = c.real_time_quotation(&q).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(403));
}
