//! The error table: each code of PLATFORMS.md → kind and retryability, errmsg kept; retries
//! counted at the fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use conn_core::error::ApiErrorKind;
use conn_core::Error;

use conn_ths::fake::Fault;
use conn_ths::{Client, RealTimeQuotation};

/// The manual's error table (v2.1, section 三) with the client action of PLATFORMS.md, written
/// out independently of `envelope::ERROR_TABLE`. -4001 and -4211 are empty results (see
/// `empty_results_are_not_errors`).
fn table() -> Vec<(i64, ApiErrorKind)> {
    use ApiErrorKind::*;
    let mut t = vec![
        (-1010, TokenExpired),
        (-1302, TokenExpired),
        (-1300, ReauthRequired),
        (-1301, ReauthRequired),
        (-4100, ReauthRequired),
        (-1303, PermissionDenied),
        (-1305, QuotaExceeded),
        (-1005, PermissionDenied),
        (-4103, PermissionDenied),
        (-4230, PermissionDenied),
        (-4320, PermissionDenied),
        (-5100, PermissionDenied),
        (-5103, PermissionDenied),
        (-5104, PermissionDenied),
        (-4400, RateLimited),
        (-5002, Busy),
        (-9999, Other),
    ];
    // Parameters: validation, never retried.
    t.extend(
        [
            -1003, -1004, -1201, -1202, -1203, -4212, -4213, -5000, -5001, -5003, -5010, -5101,
        ]
        .map(|c| (c, InvalidRequest)),
    );
    t.extend((-4210..=-4203).map(|c| (c, InvalidRequest)));
    // Size per command and date range: the request must change.
    t.extend([-4304, -4305, -4306, -4312, -4319, -4321, -4322].map(|c| (c, InvalidRequest)));
    t.extend([-4308, -4313, -4314, -4315, -4316].map(|c| (c, InvalidRequest)));
    // Trial windows: a limit of the account, like a quota.
    t.extend((-4311..=-4309).map(|c| (c, QuotaExceeded)));
    // Quotas.
    t.extend([-4301, -4302, -4303, -4307, -4317, -4318, -5102].map(|c| (c, QuotaExceeded)));
    // Server side: retry later (reads).
    t.extend(
        [
            -1000, -1001, -1002, -4101, -4102, -4201, -5004, -5005, -5006, -5007, -5008, -5009,
        ]
        .map(|c| (c, ServerError)),
    );
    t
}

#[test]
fn every_code_of_the_manual_is_covered_once() {
    let ours: Vec<i64> = table()
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| *c != -9999)
        .collect();
    let mut listed: Vec<i64> = conn_ths::envelope::ERROR_TABLE
        .iter()
        .map(|r| r.code)
        .filter(|c| ![-4001, -4211].contains(c))
        .collect();
    let mut ours_sorted = ours.clone();
    ours_sorted.sort_unstable();
    listed.sort_unstable();
    assert_eq!(ours_sorted, listed);
    // Limit codes name their limit.
    for c in [-4304, -4308, -4310, -4301] {
        let e: Error = conn_ths::envelope::api_error(c, "x").into();
        let detail = e.api_error().unwrap().detail.clone().unwrap();
        assert!(
            detail.chars().any(|ch| ch.is_ascii_digit()),
            "{c}: {detail}"
        );
    }
}

#[tokio::test]
async fn empty_results_are_not_errors() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    for code in [-4001, -4211] {
        fake.fail_next("real_time_quotation", Fault::code(code), 1);
        let t = c.real_time_quotation(&q).await.unwrap();
        assert!(t.is_empty(), "{code}");
    }
}

#[test]
fn codes_map_to_kinds_and_retryability() {
    for (code, kind) in table() {
        assert_eq!(conn_ths::envelope::kind_of(code), kind, "{code}");
        let e: Error = conn_ths::envelope::api_error(code, "服务器内部错误").into();
        assert_eq!(e.platform_code(), Some(code.to_string().as_str()));
        assert_eq!(e.api_error().unwrap().message, "服务器内部错误");
        let (read, write) = match kind {
            ApiErrorKind::RateLimited | ApiErrorKind::Busy => (true, true),
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
    let c = Client::new(
        fake.config_builder()
            .transport(common::transport(common::fast_retry(1)))
            .build()
            .unwrap(),
    )
    .unwrap();
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
        fake.fail_next("real_time_quotation", Fault::code(code), 2);
        let e = c.real_time_quotation(&q).await.unwrap_err();
        let sent = fake.request_count("real_time_quotation") - before;
        let retryable = matches!(
            kind,
            ApiErrorKind::RateLimited | ApiErrorKind::ServerError | ApiErrorKind::Busy
        );
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
    fake.fail_next("real_time_quotation", Fault::code(-5004), 1);
    fake.fail_next("real_time_quotation", Fault::code(-4400), 1);
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
    fake.fail_next("real_time_quotation", Fault::Status(502), 1);
    c.real_time_quotation(&q).await.unwrap();
    assert_eq!(fake.request_count("real_time_quotation"), 3);
    fake.fail_next("real_time_quotation", Fault::Status(403), 1);
    let e = c.real_time_quotation(&q).await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(403));
}

/// Every fault of conn-core's kit on a quote (idempotent): busy, rate-limit, a drop and a
/// gateway 503 are retried; an expired token is refreshed once and replayed; a cut answer
/// is a typed decode error; a delay and an error on the same request both
/// apply.
#[tokio::test]
async fn every_kit_fault_on_a_quote() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    c.real_time_quotation(&q).await.unwrap();
    const EP: &str = "real_time_quotation";
    for fault in [
        Fault::Busy,
        Fault::RateLimited,
        Fault::Drop,
        Fault::Status(503),
        Fault::TokenExpired,
    ] {
        let before = fake.request_count(EP);
        fake.fail_next(EP, fault.clone(), 1);
        c.real_time_quotation(&q)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(
            fake.request_count(EP),
            before + 2,
            "{fault:?}: one fault, one retry"
        );
    }
    // A delay and an error queued for the same request: the error comes late, then the retry.
    fake.fail_next(EP, Fault::Delay(std::time::Duration::from_millis(20)), 1);
    fake.fail_next(EP, Fault::Busy, 1);
    let before = fake.request_count(EP);
    c.real_time_quotation(&q).await.unwrap();
    assert_eq!(fake.request_count(EP), before + 2);
    // A cut body is a typed decode error, not a panic; the request is counted once.
    fake.fail_next(EP, Fault::Cut, 1);
    let before = fake.request_count(EP);
    let e = c.real_time_quotation(&q).await.unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e:?}");
    assert_eq!(
        fake.request_count(EP),
        before + 1,
        "a decode error is not retried"
    );
}
