//! Keyed order creation through a journal: a timeout, then the same keyed call, leaves one
//! order at the fake; a recorded create is not sent again; a key reused for another order is a
//! conflict and sends nothing.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use conn_core::journal::{How, Journal, MemoryJournal, OperationKey};
use conn_erp::fake::{FakeErp, FakeOp, Fault};
use conn_erp::{AuthMode, Client, NewOrder};

fn order(customer: &str) -> NewOrder {
    NewOrder::new(customer).item("SKU-1", 2.into(), "9.90".parse().unwrap())
}

#[tokio::test]
async fn a_slow_create_then_the_same_keyed_call_makes_one_order() {
    let fake = FakeErp::builder(AuthMode::ApiKey).start().await;
    let erp = Client::new(
        fake.config_builder()
            .transport(
                fake.config()
                    .unwrap()
                    .transport()
                    .clone()
                    .with_attempt_timeout(Duration::from_millis(300)),
            )
            .build()
            .unwrap(),
    )
    .unwrap();
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
    let key = OperationKey::new("orders/po-900").unwrap();
    // Slow every attempt the client may make, so its own retries end unknown too.
    fake.fail_next(
        FakeOp::CreateOrder,
        Fault::Delay(Duration::from_millis(1200)),
        10,
    );
    let mut result = erp.create_order_once(&journal, &key, &order("ACME")).await;
    for _ in 0..12 {
        match &result {
            Err(e) if e.is_outcome_unknown() => {
                result = erp.create_order_once(&journal, &key, &order("ACME")).await;
            }
            _ => break,
        }
    }
    let done = result.unwrap();
    assert_eq!(
        fake.created_orders().len(),
        1,
        "{:?}",
        fake.created_orders()
    );
    let sent = fake.requests(FakeOp::CreateOrder);
    let again = erp
        .create_order_once(&journal, &key, &order("ACME"))
        .await
        .unwrap();
    assert_eq!((again.id, again.how), (done.id, How::Recorded));
    let other = erp
        .create_order_once(&journal, &key, &order("OTHER"))
        .await
        .unwrap_err();
    assert!(other.is_journal_conflict(), "{other}");
    assert_eq!(fake.requests(FakeOp::CreateOrder), sent);
}
