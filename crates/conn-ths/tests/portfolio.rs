//! `portfolio_manage`: deals are sent once and never replayed blindly; overview and positions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use conn_core::Error;
use conn_ths::fake::Fault;
use conn_ths::{Client, Deal, OverviewQuery, PortfolioId, PositionsQuery, Side};
use rust_decimal::Decimal;

fn deal(volume: i64) -> Deal {
    common::deal(Side::Buy, volume, Decimal::new(168_550, 2))
}

#[tokio::test]
async fn deal_timeout_is_sent_once_and_outcome_unknown() {
    let fake = common::fake().await;
    let c = Client::new(
        fake.config_builder()
            .transport(
                common::transport(common::fast_retry(3))
                    .with_attempt_timeout(Duration::from_millis(150)),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    c.check_credentials().await.unwrap();
    fake.fail_next(
        "portfolio_manage",
        Fault::Delay(Duration::from_millis(600)),
        1,
    );
    let e = c.portfolio_deal(&deal(100)).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert!(e.is_timeout(), "{e:?}");
    assert!(!e.is_retryable());
    let Error::OutcomeUnknown(o) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(o.operation, "portfolio_manage.deal");
    for (k, v) in [
        ("portfid", "10086"),
        ("thscode", "600519"),
        ("direct", "buy"),
        ("volume", "100"),
        ("price", "1685.50"),
    ] {
        assert_eq!(o.context(k), Some(v), "{k}");
    }
    // Give the delayed answer time to finish, then count: exactly one deal request, and the
    // server did record it (which is why it must not be replayed).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(fake.request_count("portfolio_manage"), 1);
    assert_eq!(fake.deals().len(), 1);
}

#[tokio::test]
async fn deal_server_error_is_not_replayed() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    fake.fail_next("portfolio_manage", Fault::code(-1000), 1);
    let e = c.portfolio_deal(&deal(100)).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert_eq!(e.platform_code(), Some("-1000"));
    assert_eq!(fake.request_count("portfolio_manage"), 1);
}

#[tokio::test]
async fn deal_refused_before_processing_is_retried() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.check_credentials().await.unwrap();
    // -4400 (rate limit) means the deal was not processed: the transport sends it again. A
    // token answer is not replayed (see tokens.rs): a deal is sent by its caller's decision.
    fake.fail_next("portfolio_manage", Fault::code(-4400), 1);
    let r = c.portfolio_deal(&deal(100)).await.unwrap();
    assert_eq!(r.message, "Success!");
    assert_eq!(fake.request_count("portfolio_manage"), 2);
    assert_eq!(fake.deals().len(), 1);
}

#[tokio::test]
async fn positions_and_overview_reflect_deals() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.portfolio_deal(&deal(100)).await.unwrap();
    let sell = common::deal(Side::Sell, 40, Decimal::new(170_000, 2));
    c.portfolio_deal(&sell).await.unwrap();
    let pid = PortfolioId::new(10086);
    let pos = c
        .portfolio_positions(&PositionsQuery::new(pid, "thsCode,amount,cost", false).unwrap())
        .await
        .unwrap();
    let t = pos.first().unwrap();
    assert_eq!(t.text("thsCode").unwrap(), &[Some("600519.SH".to_owned())]);
    assert_eq!(
        t.numbers("amount").unwrap(),
        &[Some(rust_decimal::Decimal::from(60))]
    );
    let ov = c
        .portfolio_overview(&OverviewQuery::new(pid, "thscode,number,positionCost").unwrap())
        .await
        .unwrap();
    let row = ov.first().unwrap().rows().next().unwrap();
    assert_eq!(
        row.number("positionCost"),
        Some(rust_decimal::Decimal::new(100 * 16855 - 40 * 17000, 1))
    );
}

#[tokio::test]
async fn an_unknown_deal_is_reconciled_through_the_trade_log() {
    let fake = common::fake().await;
    let c = Client::new(
        fake.config_builder()
            .transport(
                common::transport(common::fast_retry(3))
                    .with_attempt_timeout(Duration::from_millis(150)),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    c.check_credentials().await.unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2024, 6, 28).unwrap();
    let d = deal(100);
    assert_eq!(c.deal_recorded(&d, today).await.unwrap(), 0);
    fake.fail_next(
        "portfolio_manage",
        Fault::Delay(Duration::from_millis(600)),
        1,
    );
    assert!(c.portfolio_deal(&d).await.unwrap_err().is_outcome_unknown());
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The server did record it: reconciliation finds exactly one, so the caller does not resend.
    assert_eq!(c.deal_recorded(&d, today).await.unwrap(), 1);
    assert_eq!(c.deal_recorded(&deal(101), today).await.unwrap(), 0);
}
