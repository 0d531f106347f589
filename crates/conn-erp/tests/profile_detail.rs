//! Order detail in every built-in profile against its fake: the ERP's own request shape, the
//! order read back from its answer, not-found, hostile ids, a created order found again, and
//! retries through a 5xx.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::error::ApiErrorKind;
use conn_erp::fake::{FakeErp, FakeOp, Fault};
use conn_erp::{Client, NewOrder, OrderQuery, Profile};
use serde_json::Value;

const BUILT_INS: [Profile; 4] = [
    Profile::Jushuitan,
    Profile::Wangdiantong,
    Profile::Kingdee,
    Profile::Erpnext,
];

async fn fake(p: Profile) -> (FakeErp, Client) {
    let fake = FakeErp::builder(p.auth_mode().unwrap())
        .profile(p)
        .orders(5)
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    (fake, erp)
}

/// The business part of the last request, as the ERP reads it.
async fn last_business(fake: &FakeErp) -> (String, Value) {
    let req = fake.received_requests().await.pop().unwrap();
    let path = req.url.path().to_owned();
    let body: Value = match fake.profile() {
        // 聚水潭 posts a form whose `biz` is the JSON.
        Profile::Jushuitan => {
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&req.body).unwrap();
            let biz = form.iter().find(|(k, _)| k == "biz").unwrap();
            serde_json::from_str(&biz.1).unwrap()
        }
        Profile::Erpnext => Value::Null,
        _ => serde_json::from_slice(&req.body).unwrap(),
    };
    (path, body)
}

#[tokio::test]
async fn every_profile_reads_one_order_in_its_own_request_shape() {
    for p in BUILT_INS {
        let (fake, erp) = fake(p).await;
        let listed = erp.orders_page(&OrderQuery::new(), 0).await.unwrap();
        let want = listed.orders.iter().find(|o| o.id == "SO-000003").unwrap();
        let got = erp.order("SO-000003").await.unwrap();
        assert_eq!(got.id, "SO-000003", "{p}");
        assert_eq!(got.total_amount, want.total_amount, "{p}");
        assert_eq!(got.customer, want.customer, "{p}");
        assert_eq!(fake.requests(FakeOp::GetOrder), 1, "{p}");
        let (path, body) = last_business(&fake).await;
        match p {
            Profile::Jushuitan => {
                assert_eq!(path, "/open/orders/single/query");
                assert_eq!(body["so_ids"], serde_json::json!(["SO-000003"]));
                assert_eq!(body["page_size"], 1);
            }
            Profile::Wangdiantong => {
                assert_eq!(body, serde_json::json!([{"src_tid": "SO-000003"}]));
            }
            Profile::Kingdee => {
                assert_eq!(body["data"]["FilterString"], "FBillNo='SO-000003'");
                assert_eq!(body["data"]["Limit"], 1);
            }
            _ => {
                assert_eq!(path, "/api/resource/Sales%20Order/SO-000003");
                // Frappe's document carries its lines.
                assert!(!got.items.is_empty(), "{p}");
            }
        }
    }
}

#[tokio::test]
async fn a_missing_order_is_not_found_in_every_profile() {
    for p in BUILT_INS {
        let (fake, erp) = fake(p).await;
        for id in ["SO-999999", "a'b", "SO/9 ?#x", "订单-1"] {
            let err = erp.order(id).await.unwrap_err();
            assert_eq!(
                err.api_kind(),
                Some(ApiErrorKind::NotFound),
                "{p} {id:?}: {err}"
            );
        }
        assert_eq!(
            fake.requests(FakeOp::GetOrder),
            4,
            "{p}: each asked once, never retried"
        );
        for bad in ["", "  ", "a\u{7}b"] {
            assert!(erp.order(bad).await.is_err(), "{p} {bad:?}");
        }
        assert_eq!(
            fake.requests(FakeOp::GetOrder),
            4,
            "{p}: bad ids are refused locally"
        );
    }
}

#[tokio::test]
async fn a_quote_in_a_kingdee_id_stays_inside_the_literal() {
    let (fake, erp) = fake(Profile::Kingdee).await;
    let _ = erp.order("x' or '1'='1").await.unwrap_err();
    let (_, body) = last_business(&fake).await;
    assert_eq!(
        body["data"]["FilterString"], "FBillNo='x'' or ''1''=''1'",
        "doubled quotes: the whole id is one literal"
    );
}

#[tokio::test]
async fn a_created_order_is_found_again_by_its_id() {
    for p in BUILT_INS {
        let (fake, erp) = fake(p).await;
        let order = NewOrder::new("ACME")
            .item("SKU-1", 2.into(), "9.90".parse().unwrap())
            .external_id("EXT-0001");
        let created = erp.create_order(&order).await.unwrap();
        let found = erp.order(&created.id).await.unwrap();
        assert_eq!(found.id, created.id, "{p}");
        // Kingdee sends amounts as JSON numbers (19.8): compared as decimals.
        let want: rust_decimal::Decimal = "19.80".parse().unwrap();
        assert_eq!(found.total_amount.unwrap().amount(), want, "{p}");
        assert_eq!(fake.created_orders().len(), 1, "{p}");
    }
}

#[tokio::test]
async fn a_detail_is_retried_through_a_5xx_in_every_profile() {
    for p in BUILT_INS {
        let (fake, erp) = fake(p).await;
        fake.fail_next(FakeOp::GetOrder, Fault::Status(503), 1);
        erp.order("SO-000002").await.unwrap();
        assert_eq!(fake.requests(FakeOp::GetOrder), 2, "{p}");
    }
}
