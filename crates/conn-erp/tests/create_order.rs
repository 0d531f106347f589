//! Order creation: idempotency keys, timeouts and replays, validation before sending.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use conn_core::error::ApiErrorKind;
use conn_core::Error;
use conn_erp::fake::{FakeErp, FakeOp, Fault};
use conn_erp::{AuthMode, Client, NewOrder};

/// A slow answer against a much shorter attempt timeout (margins for a loaded machine).
const SLOW: Duration = Duration::from_millis(1200);
const ATTEMPT: Duration = Duration::from_millis(300);

fn order() -> NewOrder {
    NewOrder::new("ACME")
        .item("SKU-1", 2.into(), "9.90".parse().unwrap())
        .external_id("po-77")
}

#[tokio::test]
async fn a_create_without_key_that_times_out_is_sent_once_and_outcome_unknown() {
    let fake = FakeErp::builder(AuthMode::ApiKey)
        .idempotency_header(None)
        .start()
        .await;
    let erp = Client::new(
        fake.config_builder()
            .transport(
                fake.config()
                    .unwrap()
                    .transport()
                    .clone()
                    .with_attempt_timeout(ATTEMPT),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(erp.config().idempotency_header().is_none());
    fake.fail_next(FakeOp::CreateOrder, Fault::Delay(SLOW), 1);
    let guard = fake.expect(FakeOp::CreateOrder, 1).await;

    let err = erp.create_order(&order()).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.is_timeout(), "{err}");
    let Error::OutcomeUnknown(o) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(o.context("customer"), Some("ACME"));
    assert_eq!(o.context("external_id"), Some("po-77"));
    assert_eq!(o.context("idempotency_key"), None);

    drop(guard); // verifies `.expect(1)`
    assert_eq!(fake.requests(FakeOp::CreateOrder), 1);
    // The ERP did process it: exactly one order, which is why it must not be replayed blindly.
    assert_eq!(fake.created_orders().len(), 1);
    let posts: Vec<_> = fake
        .received_requests()
        .await
        .into_iter()
        .filter(|r| r.method == http::Method::POST)
        .collect();
    assert!(posts[0].headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn a_create_with_key_that_times_out_is_retried_with_the_same_key_and_stored_once() {
    for mode in [AuthMode::ApiKey, AuthMode::JstMd5, AuthMode::WdtMd5] {
        let fake = FakeErp::start(mode).await;
        let erp = Client::new(
            fake.config_builder()
                .transport(
                    fake.config()
                        .unwrap()
                        .transport()
                        .clone()
                        .with_attempt_timeout(ATTEMPT),
                )
                .build()
                .unwrap(),
        )
        .unwrap();
        fake.fail_next(FakeOp::CreateOrder, Fault::Delay(SLOW), 1);
        let guard = fake.expect(FakeOp::CreateOrder, 2).await;

        let created = erp.create_order(&order()).await.unwrap();
        drop(guard);

        let key = created.idempotency_key.clone().expect("a key was sent");
        if mode == AuthMode::WdtMd5 {
            // 旺店通 dedupes on the outer number (tid): the caller's external id is the key.
            assert_eq!(key, "po-77");
        } else {
            assert_eq!(key.len(), 32, "128-bit hex key");
        }
        let keys: Vec<String> = fake
            .received_requests()
            .await
            .into_iter()
            .filter(|r| r.method == http::Method::POST)
            .map(|r| r.headers["idempotency-key"].to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            keys,
            vec![key.clone(), key],
            "{mode}: same key on every attempt"
        );
        let stored = fake.created_orders();
        assert_eq!(
            stored.len(),
            1,
            "{mode}: the replay did not create a second order"
        );
        assert_eq!(stored[0]["id"], created.id.as_str());
        assert_eq!(created.total_amount.unwrap().to_string(), "19.80");
    }
}

#[tokio::test]
async fn a_create_without_key_is_not_replayed_after_a_5xx() {
    let fake = FakeErp::builder(AuthMode::Basic)
        .idempotency_header(None)
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    fake.fail_next(FakeOp::CreateOrder, Fault::Status(503), 1);
    let guard = fake.expect(FakeOp::CreateOrder, 1).await;
    let err = erp.create_order(&order()).await.unwrap_err();
    drop(guard);
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(fake.created_orders().len(), 0);
}

#[tokio::test]
async fn a_create_with_key_is_retried_through_5xx() {
    let fake = FakeErp::start(AuthMode::WdtMd5).await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    fake.fail_next(FakeOp::CreateOrder, Fault::Status(500), 2);
    let created = erp.create_order(&order()).await.unwrap();
    assert_eq!(fake.requests(FakeOp::CreateOrder), 3);
    assert_eq!(fake.created_orders().len(), 1);
    assert!(created.idempotency_key.is_some());
}

#[tokio::test]
async fn a_replay_with_the_same_key_answers_the_first_result() {
    let fake = FakeErp::start(AuthMode::Token).await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let a = erp.create_order_with_key(&order(), "key-1").await.unwrap();
    let b = erp.create_order_with_key(&order(), "key-1").await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(b.idempotency_key.as_deref(), Some("key-1"));
    assert_eq!(fake.created_orders().len(), 1);

    // The same key with a different order is refused, and nothing is stored.
    let other = NewOrder::new("Other").item("SKU-9", 1.into(), "1".parse().unwrap());
    let err = erp
        .create_order_with_key(&other, "key-1")
        .await
        .unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::InvalidRequest), "{err}");
    assert_eq!(fake.created_orders().len(), 1);

    // A new logical call gets a new key and a new order.
    let c = erp.create_order(&order()).await.unwrap();
    assert_ne!(c.id, a.id);
    assert_eq!(fake.created_orders().len(), 2);
}

#[tokio::test]
async fn invalid_orders_are_refused_before_any_request() {
    let fake = FakeErp::start(AuthMode::ApiKey).await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let guard = fake.expect(FakeOp::CreateOrder, 0).await;
    let cases = [
        (NewOrder::new("  "), "customer"),
        (NewOrder::new("ACME"), "items"),
        (
            NewOrder::new("ACME").item("SKU", 0.into(), "1".parse().unwrap()),
            "items[0].quantity",
        ),
        (
            NewOrder::new("ACME").item("SKU", 1.into(), "-0.01".parse().unwrap()),
            "items[0].unit_price",
        ),
        (
            NewOrder::new("ACME")
                .item("SKU", 1.into(), "1".parse().unwrap())
                .item(" ", 1.into(), "1".parse().unwrap()),
            "items[1].sku",
        ),
    ];
    for (o, field) in cases {
        let err = erp.create_order(&o).await.unwrap_err();
        let Error::Validation(v) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(v.field, field);
    }
    let err = erp.create_order_with_key(&order(), "").await.unwrap_err();
    assert!(err.to_string().contains("idempotency_key"), "{err}");
    drop(guard);
}

#[tokio::test]
async fn a_caller_key_needs_an_idempotency_header() {
    let fake = FakeErp::builder(AuthMode::ApiKey)
        .idempotency_header(None)
        .start()
        .await;
    let erp = Client::new(fake.config().unwrap()).unwrap();
    let err = erp.create_order_with_key(&order(), "k").await.unwrap_err();
    let Error::Config(c) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(c.var.as_deref(), Some("ERP_IDEMPOTENCY_HEADER"));
    assert_eq!(fake.requests(FakeOp::CreateOrder), 0);
}
