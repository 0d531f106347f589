//! Fault *sequences* over the ERP create (issue 10): how many times the fake saw the create,
//! the outcome kind, the key an unknown outcome carries, and that retry-safe faults are retried.

#![cfg(feature = "fake")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::Error;
use conn_erp::fake::{FakeErp, FakeOp, Fault};
use conn_erp::{AuthMode, Client, NewOrder, Profile};

const ATTEMPT: Duration = Duration::from_millis(300);
const SLOW: Duration = Duration::from_millis(1500);

fn order() -> NewOrder {
    NewOrder::new("ACME").item("SKU-1", 2.into(), "9.90".parse().unwrap())
}

fn retries(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(n)
        .with_base_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(10))
        .with_jitter(Jitter::None)
}

async fn client(fake: &FakeErp, idempotency: bool) -> Client {
    let mut b = fake.config_builder().transport(
        fake.config()
            .unwrap()
            .transport()
            .clone()
            .with_attempt_timeout(ATTEMPT)
            .with_retry(retries(4)),
    );
    if !idempotency {
        b = b.idempotency_header(None);
    }
    Client::new(b.build().unwrap()).unwrap()
}

fn unknown_key(e: &Error) -> Option<String> {
    match e {
        Error::OutcomeUnknown(o) => o.idempotency_key.clone(),
        _ => None,
    }
}

#[tokio::test]
async fn received_then_429_three_times_is_retried_with_the_same_key_and_stored_once() {
    let fake = FakeErp::start(AuthMode::ApiKey).await;
    let erp = client(&fake, true).await;
    fake.fail_next(FakeOp::CreateOrder, Fault::Delay(SLOW), 1);
    fake.fail_next(FakeOp::CreateOrder, Fault::Status(429), 3);
    let created = erp.create_order(&order()).await.unwrap();
    assert!(created.idempotency_key.is_some());
    assert_eq!(
        fake.requests(FakeOp::CreateOrder),
        5,
        "1 maybe-received + 3 × 429 + 1 answered"
    );
    assert_eq!(
        fake.created_orders().len(),
        1,
        "the replays did not create a second order"
    );
}

#[tokio::test]
async fn received_then_429_until_give_up_ends_outcome_unknown_with_the_key() {
    let fake = FakeErp::start(AuthMode::ApiKey).await;
    let erp = client(&fake, true).await;
    fake.fail_next(FakeOp::CreateOrder, Fault::Delay(SLOW), 1);
    fake.fail_next(FakeOp::CreateOrder, Fault::Status(429), 4);
    let e = erp.create_order(&order()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    let key = unknown_key(&e).expect("the key to resume with");
    assert_eq!(key.len(), 32);
    assert_eq!(
        fake.requests(FakeOp::CreateOrder),
        5,
        "1 maybe-received + 4 retries on 429"
    );
    let Error::OutcomeUnknown(o) = &e else {
        unreachable!()
    };
    assert_eq!(
        o.last_error().status().map(|s| s.as_u16()),
        Some(429),
        "{e}"
    );
    assert_eq!(
        fake.created_orders().len(),
        1,
        "the first attempt did the work"
    );
    // Resuming with the key answers the first result and creates nothing more.
    let again = erp.create_order_with_key(&order(), key).await.unwrap();
    assert_eq!(fake.created_orders().len(), 1);
    assert_eq!(again.id, fake.created_orders()[0]["id"].as_str().unwrap());
}

#[tokio::test]
async fn busy_then_timeout_after_send_is_sent_twice_and_not_replayed_without_a_key() {
    let fake = FakeErp::start(AuthMode::ApiKey).await;
    let erp = client(&fake, false).await;
    fake.fail_next(FakeOp::CreateOrder, Fault::Busy, 1);
    fake.fail_next(FakeOp::CreateOrder, Fault::Delay(SLOW), 1);
    let e = erp.create_order(&order()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert_eq!(unknown_key(&e), None, "no key was sent");
    assert_eq!(
        fake.requests(FakeOp::CreateOrder),
        2,
        "busy was retried (not processed); the timeout after send was not"
    );
}

#[tokio::test]
async fn a_cut_2xx_to_a_create_is_outcome_unknown_not_a_decode_error() {
    for profile in [
        Profile::Own,
        Profile::Jushuitan,
        Profile::Wangdiantong,
        Profile::Kingdee,
        Profile::Erpnext,
    ] {
        let fake = FakeErp::builder(profile.auth_mode().unwrap_or(AuthMode::ApiKey))
            .profile(profile)
            .start()
            .await;
        let erp = client(&fake, true).await;
        fake.fail_next(FakeOp::CreateOrder, Fault::Cut, 1);
        let e = erp.create_order(&order()).await.unwrap_err();
        assert!(e.is_outcome_unknown(), "{profile}: {e}");
        assert_eq!(
            fake.requests(FakeOp::CreateOrder),
            1,
            "{profile}: a 2xx is never resent"
        );
        assert_eq!(
            fake.created_orders().len(),
            1,
            "{profile}: the work was done"
        );
    }
}

#[tokio::test]
async fn wdt_creates_resume_with_their_tid_after_an_unknown_outcome() {
    let fake = FakeErp::start_profile(Profile::Wangdiantong).await;
    let erp = client(&fake, true).await;
    fake.fail_next(FakeOp::CreateOrder, Fault::Delay(SLOW), 1);
    fake.fail_next(FakeOp::CreateOrder, Fault::Status(503), 5);
    let e = erp
        .create_order(&order().external_id("T-1"))
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e}");
    assert_eq!(
        unknown_key(&e).as_deref(),
        Some("T-1"),
        "the tid is the key"
    );
    let again = erp
        .create_order_with_key(&order().external_id("T-1"), "T-1")
        .await
        .unwrap();
    assert_eq!(again.id, "T-1");
    assert_eq!(
        fake.created_orders().len(),
        1,
        "the re-push updated the same raw trade"
    );
}

/// `with_max_retries(3)` means three retries: four attempts at most, for reads and keyed
/// creates alike, in the default profile and a signed one.
#[tokio::test]
async fn three_retries_mean_four_attempts_at_most() {
    for p in [Profile::Own, Profile::Jushuitan] {
        let fake = FakeErp::builder(p.auth_mode().unwrap_or(AuthMode::ApiKey))
            .profile(p)
            .start()
            .await;
        let transport = fake.config().unwrap().transport().clone();
        let erp = Client::new(
            fake.config_builder()
                .transport(transport.with_retry(retries(3)))
                .build()
                .unwrap(),
        )
        .unwrap();
        fake.fail_next(FakeOp::ListOrders, Fault::Status(503), 10);
        let e = erp
            .orders_page(&conn_erp::OrderQuery::new(), 0)
            .await
            .unwrap_err();
        assert_eq!(e.status().map(|s| s.as_u16()), Some(503), "{p}: {e}");
        assert_eq!(fake.requests(FakeOp::ListOrders), 4, "{p}");
        fake.fail_next(FakeOp::CreateOrder, Fault::Status(503), 10);
        let e = erp.create_order(&order()).await.unwrap_err();
        assert!(e.is_outcome_unknown(), "{p}: {e}");
        assert_eq!(fake.requests(FakeOp::CreateOrder), 4, "{p}");
    }
}

/// Every fault of conn-core's kit, on the (idempotent) order list of each profile: the errors
/// the ERP would send are answered in that profile's envelope and read back as the right
/// kind; a dropped connection and a retryable answer are retried; the list then succeeds.
#[tokio::test]
async fn every_kit_fault_on_every_profile_reads_as_its_kind() {
    use conn_core::error::ApiErrorKind;
    for profile in Profile::ALL {
        let mode = profile.auth_mode().unwrap_or(AuthMode::ApiKey);
        let fake = FakeErp::builder(mode).profile(profile).start().await;
        let erp = client(&fake, true).await;
        let query = conn_erp::OrderQuery::new();
        // Retried, then the list is answered: 503, a drop, "too many requests", "busy" (where
        // the profile has a busy code; else the 503 that says it).
        for fault in [
            Fault::Status(503),
            Fault::Drop,
            Fault::RateLimited,
            Fault::Busy,
        ] {
            let before = fake.requests(FakeOp::ListOrders);
            fake.fail_next(FakeOp::ListOrders, fault.clone(), 1);
            erp.orders_page(&query, 0)
                .await
                .unwrap_or_else(|e| panic!("{profile} {fault:?}: {e}"));
            assert_eq!(
                fake.requests(FakeOp::ListOrders),
                before + 2,
                "{profile} {fault:?}: one fault, one retry"
            );
        }
        // Not retried, with the kind the profile's envelope gives it.
        fake.fail_next(FakeOp::ListOrders, Fault::TokenExpired, 1);
        let e = erp.orders_page(&query, 0).await.unwrap_err();
        assert_eq!(
            e.api_kind(),
            Some(ApiErrorKind::InvalidCredentials),
            "{profile}: {e}"
        );
        fake.fail_next(FakeOp::ListOrders, Fault::code(777), 1);
        let e = erp.orders_page(&query, 0).await.unwrap_err();
        assert_eq!(e.platform_code(), Some("777"), "{profile}: {e}");
        assert!(!e.is_retryable(), "{profile}: {e}");
    }
}
