//! The same fault and canary checks on every platform, through the registry's
//! `Box<dyn Connector>` and conn-core's one fault kit: each fake is told to fail the request
//! its platform's credential check sends, with the same `Fault`, and every platform must
//! answer alike.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::fake::Fault;
use connectors::content::fake::FakeOp as ContentOp;
use connectors::douyin::fake::Op as DouyinOp;
use connectors::erp::fake::FakeOp as ErpOp;
use connectors::sandbox::{Sandbox, Seed};
use connectors::Connectors;
use contract_tests::env;

/// Queues `fault` `times` times on the request each platform's credential check sends.
fn fail_every_check(sb: &Sandbox, fault: &Fault, times: usize) {
    sb.douyin
        .fail_next(DouyinOp::ClientToken, fault.clone(), times);
    sb.ths.fail_next("get_access_token", fault.clone(), times);
    sb.erp.fail_next(ErpOp::ListOrders, fault.clone(), times);
    for content in [&sb.zhihu, &sb.xiaohongshu, &sb.toutiao] {
        content.fail_next(ContentOp::Stats, fault.clone(), times);
    }
}

/// The sandbox's variables with short retry delays, and an iFinD rate window of one second
/// (its client pauses a whole window after a -4400, as the platform asks).
fn fast_env(sb: &Sandbox) -> conn_core::env::Env {
    env(
        sb,
        &[
            ("API_RETRY_DELAY", "0.01"),
            ("THS_RATE_LIMIT_WINDOW", "1"),
            ("THS_RATE_LIMIT_PER_MINUTE", "1000"),
        ],
    )
}

/// A code each platform reads as a failure of the credential check (an auth code, or one no
/// table knows).
fn failing_code(platform: &str) -> i64 {
    match platform {
        "douyin" => 99,
        "ths" => -9999,
        "erp" => 777,
        "zhihu" => 100,
        "xiaohongshu" => 401,
        "toutiao" => 10008,
        other => panic!("no failing code for {other}"),
    }
}

#[tokio::test]
async fn a_retryable_fault_once_is_retried_on_every_platform() {
    let sb = Sandbox::start(&Seed::default()).await.unwrap();
    let connectors = Connectors::from_env_with(&fast_env(&sb)).unwrap();
    for fault in [
        Fault::Status(503),
        Fault::Drop,
        Fault::Busy,
        Fault::RateLimited,
    ] {
        fail_every_check(&sb, &fault, 1);
        for (platform, result) in connectors.check_all().await {
            result.unwrap_or_else(|e| panic!("{platform} after one {fault:?}: {e}"));
        }
    }
}

#[tokio::test]
async fn a_fault_that_never_ends_is_a_typed_retryable_error_on_every_platform() {
    let sb = Sandbox::start(&Seed::default()).await.unwrap();
    let connectors = Connectors::from_env_with(&fast_env(&sb)).unwrap();
    // More than any platform's retry budget.
    fail_every_check(&sb, &Fault::Status(503), 50);
    for (platform, result) in connectors.check_all().await {
        let e = result.expect_err(&platform);
        assert!(e.is_retryable(), "{platform}: a 503 stays retryable: {e}");
        assert_eq!(e.status().map(|s| s.as_u16()), Some(503), "{platform}: {e}");
    }
}

#[tokio::test]
async fn a_secret_echoed_in_an_error_message_never_reaches_the_error() {
    const CANARY: &str = "contract-canary-echo-7d1c";
    let sb = Sandbox::start(&Seed::new(CANARY)).await.unwrap();
    let connectors = Connectors::from_env_with(&fast_env(&sb)).unwrap();
    for platform in connectors.platforms() {
        let fault = Fault::Code(
            failing_code(platform),
            format!("rejected access_token={CANARY}-access-token for app_secret: {CANARY}-secret"),
        );
        match platform {
            "douyin" => sb.douyin.fail_next(DouyinOp::ClientToken, fault, 1),
            "ths" => sb.ths.fail_next("get_access_token", fault, 1),
            "erp" => sb.erp.fail_next(ErpOp::ListOrders, fault, 1),
            "zhihu" => sb.zhihu.fail_next(ContentOp::Stats, fault, 1),
            "xiaohongshu" => sb.xiaohongshu.fail_next(ContentOp::Stats, fault, 1),
            "toutiao" => sb.toutiao.fail_next(ContentOp::Stats, fault, 1),
            other => panic!("no fake for {other}"),
        }
    }
    for (platform, result) in connectors.check_all().await {
        let e = result.expect_err(&platform);
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains(CANARY),
            "{platform}: the echoed secret is in the error: {shown}"
        );
        // The message did arrive (masked), so the check above is not passing vacuously.
        assert!(
            shown.contains(conn_core::redact::MASK),
            "{platform}: the platform's message is kept, masked: {shown}"
        );
        assert!(
            e.platform_code().is_some(),
            "{platform}: the platform's code is kept: {e}"
        );
        assert!(!e.is_retryable(), "{platform}: {e}");
    }
}
