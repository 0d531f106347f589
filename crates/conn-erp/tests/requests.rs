//! The exact requests of every operation in every auth mode, pinned with insta snapshots
//! (fixed clock and nonce, so signatures are stable; secrets redacted).

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use conn_core::clock::ManualClock;
use conn_erp::auth::FixedNonce;
use conn_erp::fake::FakeErp;
use conn_erp::{AuthMode, Client, NewOrder, OrderQuery, Period, Profile};
use serde_json::{json, Map, Value};

/// Headers that carry secrets, redacted in snapshots.
const SECRET_HEADERS: [&str; 2] = ["authorization", "x-api-key"];
/// Parameters that carry secrets.
const SECRET_PARAMS: [&str; 1] = ["access_token"];
/// Headers that vary per run or per library version.
const NOISE_HEADERS: [&str; 5] = [
    "host",
    "user-agent",
    "accept",
    "content-length",
    "accept-encoding",
];

fn redact_pairs(pairs: Vec<(String, String)>) -> Value {
    Value::Array(
        pairs
            .into_iter()
            .map(|(k, v)| {
                let v = if SECRET_PARAMS.contains(&k.as_str()) {
                    "[secret]".to_owned()
                } else {
                    v
                };
                json!([k, v])
            })
            .collect(),
    )
}

fn view(r: &wiremock::Request) -> Value {
    let query: Vec<(String, String)> = r
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut headers = Map::new();
    let mut names: Vec<&str> = r.headers.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    for name in names {
        if NOISE_HEADERS.contains(&name) {
            continue;
        }
        let value = if SECRET_HEADERS.contains(&name) {
            "[secret]".to_owned()
        } else {
            r.headers[name].to_str().unwrap().to_owned()
        };
        headers.insert(name.to_owned(), Value::String(value));
    }
    let ct = r
        .headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = if r.body.is_empty() {
        Value::Null
    } else if ct.starts_with("application/json") {
        serde_json::from_slice(&r.body).unwrap()
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        redact_pairs(serde_urlencoded::from_bytes(&r.body).unwrap())
    } else {
        Value::String(String::from_utf8_lossy(&r.body).into_owned())
    };
    json!({
        "method": r.method.as_str(),
        "path": r.url.path(),
        "query": redact_pairs(query),
        "headers": headers,
        "body": body,
    })
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
