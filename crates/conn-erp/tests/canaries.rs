//! Canary secrets over every error path (issue 10): success, platform error, wrong signature,
//! timeout, decode failure, validation, in every auth mode and profile, at TRACE with every
//! target on. Every error is formatted with `{}`, `{:?}` and `{:#?}` along its source chain,
//! and the config, builder and client with `{:?}`; none may hold a secret.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::testing::{assert_error_free_of, LogCapture};
use conn_erp::fake::{FakeErp, FakeOp, Fault};
use conn_erp::{AuthMode, Client, NewOrder, OrderQuery, Period, Profile};

fn fakes() -> Vec<(AuthMode, Profile)> {
    let mut v: Vec<(AuthMode, Profile)> = AuthMode::ALL
        .iter()
        .map(|m| (*m, Profile::implied_by(*m)))
        .collect();
    v.push((AuthMode::JstMd5, Profile::Jushuitan));
    v.push((AuthMode::Token, Profile::Erpnext));
    v
}

#[tokio::test]
async fn no_error_config_or_log_holds_a_secret() {
    let (cap, _guard) = LogCapture::start();
    let mut all_secrets: Vec<String> = Vec::new();
    for (mode, profile) in fakes() {
        let fake = FakeErp::builder(mode)
            .profile(profile)
            .orders(3)
            .start()
            .await;
        let secrets = fake.credentials().secrets();
        let canaries: Vec<&str> = secrets.iter().map(String::as_str).collect();
        all_secrets.extend(secrets.iter().cloned());
        let cfg = fake
            .config_builder()
            .transport(
                fake.config()
                    .unwrap()
                    .transport()
                    .clone()
                    .with_attempt_timeout(Duration::from_millis(200))
                    .with_retry(
                        RetryPolicy::default()
                            .with_max_retries(1)
                            .with_base_delay(Duration::from_millis(1))
                            .with_jitter(Jitter::None),
                    ),
            )
            .build()
            .unwrap();
        let erp = Client::new(cfg.clone()).unwrap();
        let printed = format!("{cfg:?} {cfg:#?} {erp:?} {:?}", fake.config_builder());
        for c in &canaries {
            assert!(!printed.contains(c), "{mode}/{profile}: {printed}");
        }
        let mut errors = Vec::new();
        // Success paths (their logs are checked below).
        erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
        erp.create_order(&NewOrder::new("A").item("S", 1.into(), "1".parse().unwrap()))
            .await
            .unwrap();
        // Validation.
        errors.push(erp.create_order(&NewOrder::new(" ")).await.unwrap_err());
        // A platform error (5xx, then a refused retry).
        fake.fail_next(FakeOp::ListOrders, Fault::Status(500), 3);
        errors.push(erp.orders_page(&OrderQuery::new(), 0).await.unwrap_err());
        // A timeout.
        fake.fail_next(FakeOp::ListOrders, Fault::Delay(Duration::from_secs(2)), 3);
        errors.push(erp.orders_page(&OrderQuery::new(), 0).await.unwrap_err());
        // A decode failure (a cut body).
        fake.fail_next(FakeOp::ListOrders, Fault::Cut, 3);
        errors.push(erp.orders_page(&OrderQuery::new(), 0).await.unwrap_err());
        // A cut create: outcome unknown, its decode error as the source.
        fake.fail_next(FakeOp::CreateOrder, Fault::Cut, 1);
        errors.push(
            erp.create_order(&NewOrder::new("A").item("S", 1.into(), "1".parse().unwrap()))
                .await
                .unwrap_err(),
        );
        // Financial data (summed or served), on the success path.
        if let Err(e) = erp.financial_data(&Period::month(2024, 1).unwrap()).await {
            errors.push(e);
        }
        for e in &errors {
            tracing::error!(error = %e, debug = ?e, "reported");
            assert_error_free_of(e, &canaries);
        }
        assert!(errors.len() >= 5, "{mode}/{profile}");
    }
    let logs = cap.contents();
    assert!(logs.contains("erp.create_order"), "spans were captured");
    let refs: Vec<&str> = all_secrets.iter().map(String::as_str).collect();
    cap.assert_no_secrets(&refs);
}
