//! The exact requests of every operation in every auth mode, pinned with insta snapshots
//! (fixed clock and nonce, so signatures are stable; secrets redacted).

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use conn_core::clock::ManualClock;
use conn_core::fake::Describe;
use conn_erp::fake::FakeErp;
use conn_erp::FixedNonce;
use conn_erp::{AuthMode, Client, NewOrder, OrderQuery, Period, Profile};
use serde_json::Value;

/// A request as its snapshot shows it: conn-core's one redacting view. Signatures, the app
/// key (`key` for 旺店通) and the fixed idempotency key are shown: under the fixed clock and
/// nonce they are stable, and pinning them is what these snapshots are for.
fn view(r: &wiremock::Request) -> Value {
    Describe {
        shown: &[
            "sign",
            "app_key",
            "appkey",
            "key",
            "idempotency-key",
            "x-api-signature",
            "x-kd-signature",
            "x-kd-appkey",
        ],
        ..Describe::default()
    }
    .request(r)
}

async fn run_mode(mode: AuthMode) {
    let fake = FakeErp::builder(mode)
        .orders(3)
        .page_size(2)
        .clock(Arc::new(ManualClock::at_unix(1_700_000_000)))
        .nonce_source(Arc::new(FixedNonce::new("nonce-0001")))
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();

    let fin = erp
        .financial_data(&Period::month(2024, 1).unwrap())
        .await
        .unwrap();
    assert!(fin.revenue.is_some());
    let page = erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
    assert_eq!(page.orders.len(), 2);
    let one = erp.order("SO-000001").await.unwrap();
    assert_eq!(one.id, "SO-000001");
    let created = erp
        .create_order_with_key(
            &NewOrder::new("ACME")
                .item("SKU-1", 2.into(), "9.90".parse().unwrap())
                .currency("CNY"),
            "idem-key-0001",
        )
        .await
        .unwrap();
    assert_eq!(created.id, "SO-000004");

    let requests: Vec<Value> = fake.received_requests().await.iter().map(view).collect();
    assert_eq!(requests.len(), 4);
    let text = serde_json::to_string(&requests).unwrap();
    for s in fake.credentials().secrets() {
        assert!(!text.contains(&s), "a secret reached the {mode} snapshot");
    }
    insta::assert_json_snapshot!(format!("requests_{mode}"), requests);
}

#[tokio::test]
async fn requests_api_key() {
    run_mode(AuthMode::ApiKey).await;
}

#[tokio::test]
async fn requests_basic() {
    run_mode(AuthMode::Basic).await;
}

#[tokio::test]
async fn requests_token() {
    run_mode(AuthMode::Token).await;
}

#[tokio::test]
async fn requests_bearer() {
    run_mode(AuthMode::Bearer).await;
}

#[tokio::test]
async fn requests_jst_md5() {
    run_mode(AuthMode::JstMd5).await;
}

/// A built-in ERP profile: financial data over two days (summed from the orders), one page,
/// one keyed create, each in the ERP's own request shape.
async fn run_profile(p: Profile) {
    let fake = FakeErp::builder(p.auth_mode().unwrap())
        .profile(p)
        .orders(3)
        .page_size(2)
        .clock(Arc::new(ManualClock::at_unix(1_700_000_000)))
        .nonce_source(Arc::new(FixedNonce::new("nonce-0001")))
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let two_days = Period::range(
        chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
    )
    .unwrap();
    let fin = erp.financial_data(&two_days).await.unwrap();
    assert!(fin.revenue.is_some(), "{p}");
    let page = erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
    assert_eq!(page.orders.len(), 2, "{p}");
    assert_eq!(page.orders[0].id, "SO-000001", "{p}");
    let order = NewOrder::new("ACME")
        .item("SKU-1", 2.into(), "9.90".parse().unwrap())
        .currency("CNY");
    let created = if p.dedupes_by_number() {
        erp.create_order_with_key(&order, "idem-key-0001")
            .await
            .unwrap()
    } else {
        erp.create_order(&order.external_id("idem-key-0001"))
            .await
            .unwrap()
    };
    assert_eq!(created.total_amount.unwrap().to_string(), "19.80", "{p}");
    let requests: Vec<Value> = fake.received_requests().await.iter().map(view).collect();
    let text = serde_json::to_string(&requests).unwrap();
    for s in fake.credentials().secrets() {
        assert!(!text.contains(&s), "a secret reached the {p} snapshot");
    }
    insta::assert_json_snapshot!(format!("requests_profile_{p}"), requests);
}

#[tokio::test]
async fn requests_profile_jushuitan() {
    run_profile(Profile::Jushuitan).await;
}

#[tokio::test]
async fn requests_profile_wangdiantong() {
    run_profile(Profile::Wangdiantong).await;
}

#[tokio::test]
async fn requests_profile_kingdee() {
    run_profile(Profile::Kingdee).await;
}

#[tokio::test]
async fn requests_profile_erpnext() {
    run_profile(Profile::Erpnext).await;
}

#[tokio::test]
async fn requests_none() {
    run_mode(AuthMode::None).await;
}
