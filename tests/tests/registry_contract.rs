//! Every platform, built from environment variables through `Connectors::from_env_with` and
//! held as `Box<dyn Connector>`, honours the same contract against its fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::error::Category;
use conn_core::testing::LogCapture;
use connectors::sandbox::{Sandbox, Seed};
use connectors::Connectors;
use contract_tests::env;

#[tokio::test]
async fn every_platform_checks_its_credentials_through_the_registry() {
    let sb = Sandbox::start(&Seed::default()).await.unwrap();
    let connectors = Connectors::from_env_with(&env(&sb, &[])).unwrap();
    let platforms = connectors.platforms();
    for p in ["douyin", "ths", "erp", "zhihu"] {
        assert!(platforms.contains(&p), "{p} registered: {platforms:?}");
    }
    for (platform, result) in connectors.check_all().await {
        assert!(result.is_ok(), "{platform}: {:?}", result.err());
    }
}

#[tokio::test]
async fn wrong_secrets_are_typed_errors_carrying_the_platform_code() {
    let sb = Sandbox::start(&Seed::default()).await.unwrap();
    let wrong = env(
        &sb,
        &[
            ("DOUYIN_CLIENT_SECRET", "wrong-secret-value"),
            ("THS_REFRESH_TOKEN", "wrong-refresh-token"),
            ("ERP_API_KEY", "wrong-api-key"),
            ("ZHIHU_ACCESS_TOKEN", "wrong-access-token"),
            ("TOUTIAO_ACCESS_TOKEN", "wrong-access-token"),
            ("XIAOHONGSHU_APP_SECRET", "wrong-app-secret"),
        ],
    );
    let connectors = Connectors::from_env_with(&wrong).unwrap();
    for (platform, result) in connectors.check_all().await {
        let err = result.expect_err(&platform);
        assert!(
            matches!(
                err.category(),
                Category::Config | Category::Auth | Category::Api
            ),
            "{platform}: {err} ({:?})",
            err.category()
        );
        assert!(
            !err.is_retryable(),
            "{platform}: a wrong secret is never retried: {err}"
        );
        // Douyin and iFinD say why in their own codes.
        if platform == "douyin" || platform == "ths" {
            assert!(err.platform_code().is_some(), "{platform}: {err}");
        }
    }
}

#[tokio::test]
async fn several_broken_platforms_are_reported_at_once() {
    let sb = Sandbox::start(&Seed::default()).await.unwrap();
    let broken = env(
        &sb,
        &[
            ("DOUYIN_BASE_URL", "ftp://nowhere"),
            ("THS_RATE_LIMIT_PER_MINUTE", "lots"),
        ],
    );
    let report = Connectors::from_env_with(&broken).unwrap_err();
    let text = report.to_string();
    assert!(text.contains("DOUYIN_BASE_URL"), "{text}");
    assert!(text.contains("THS_RATE_LIMIT_PER_MINUTE"), "{text}");
}

#[test]
fn no_platform_logs_a_secret_at_trace_level() {
    let (logs, _guard) = LogCapture::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    const CANARY: &str = "contract-canary-5e3f9a";
    rt.block_on(async {
        let sb = Sandbox::start(&Seed::new(CANARY)).await.unwrap();
        let connectors = Connectors::from_env_with(&env(&sb, &[])).unwrap();
        tracing_debug(&connectors);
        for (platform, result) in connectors.check_all().await {
            result.unwrap_or_else(|e| panic!("{platform}: {e}"));
        }
        // And a failing round, whose errors are logged with Display and Debug.
        let bad =
            Connectors::from_env_with(&env(&sb, &[("ZHIHU_ACCESS_TOKEN", "wrong-token-0000")]))
                .unwrap();
        for (_, result) in bad.check_all().await {
            if let Err(e) = result {
                conn_core_log(&e);
            }
        }
    });
    // Every secret the sandbox accepts is derived from the canary.
    logs.assert_no_secrets(&[CANARY]);
}

fn tracing_debug(c: &Connectors) {
    // The registry and every connector in it are Debug without secrets.
    let printed = format!("{c:?}");
    assert!(printed.contains("douyin"));
    tracing::info!(registry = %printed, "built");
}

fn conn_core_log(e: &conn_core::Error) {
    tracing::error!(error = %e, debug = ?e, "check failed");
}
