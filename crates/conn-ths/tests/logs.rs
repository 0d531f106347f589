//! A whole flow logs no refresh token and no access token; Debug output shows no secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use conn_core::testing::LogCapture;
use conn_ths::fake::{Fault, ANY_DATA_ENDPOINT};
use conn_ths::{Client, HistoryQuotation, RealTimeQuotation, Side};
use rust_decimal::Decimal;

#[tokio::test]
async fn a_flow_logs_no_token() {
    let (cap, _guard) = LogCapture::start();
    let fake = common::fake().await;
    let client = common::client(&fake);
    let mut tokens = Vec::new();

    client.check_credentials().await.unwrap();
    tokens.extend(fake.valid_access_tokens());
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    client.real_time_quotation(&q).await.unwrap();
    // -1302 → fetch → replay
    fake.expire_access_tokens();
    client.real_time_quotation(&q).await.unwrap();
    tokens.extend(fake.valid_access_tokens());
    // stale fetch → update_access_token
    fake.expire_access_tokens();
    fake.serve_stale_tokens(1);
    assert!(client.real_time_quotation(&q).await.is_err());
    client.real_time_quotation(&q).await.unwrap();
    tokens.extend(fake.valid_access_tokens());
    // a retried server error
    fake.fail_next(ANY_DATA_ENDPOINT, Fault::code(-5002), 1);
    let d = |day| NaiveDate::from_ymd_opt(2024, 1, day).unwrap();
    client
        .cmd_history_quotation(&HistoryQuotation::new("600519.SH", "close", d(2), d(5)).unwrap())
        .await
        .unwrap();
    client
        .portfolio_deal(&common::deal(Side::Buy, 1, Decimal::ONE))
        .await
        .unwrap();
    // a dead refresh token
    fake.revoke_refresh_token();
    assert!(client.real_time_quotation(&q).await.is_err());

    assert_eq!(tokens.len(), 3);
    let logs = cap.contents();
    assert!(logs.contains("connector.request"), "spans are captured");
    assert!(
        logs.contains("update_access_token"),
        "the flow reached the update"
    );
    let mut secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();
    secrets.push(fake.refresh_token());
    cap.assert_no_secrets(&secrets);
    // Debug of the client (which holds the refresh token and tokens) shows none of them.
    let dbg = format!("{client:?} {:?}", fake.config());
    for s in &secrets {
        assert!(!dbg.contains(s), "{dbg}");
    }
}

#[test]
fn debug_of_config_shows_no_secret() {
    let cfg = conn_ths::Config::builder()
        .refresh_token("rt-0123456789abcdef")
        .build()
        .unwrap();
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("rt-0123456789abcdef"), "{dbg}");
    assert!(
        dbg.contains("refresh_token: RefreshToken([redacted])"),
        "{dbg}"
    );
    let client = Client::new(cfg).unwrap();
    assert!(!format!("{client:?}").contains("rt-0123456789abcdef"));
}
