//! Fault *sequences* over `portfolio_manage` `deal`, the one iFinD call that records something:
//! a deal is never replayed once an attempt may have reached the server, refusals the server
//! answered before doing any work are retried, and whatever happened in between, the final
//! failure after a maybe-received attempt is `OutcomeUnknown`.
//!
//! Each test counts the deal requests the fake saw and the deals it recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::Error;
use conn_ths::fake::Fault;
use conn_ths::{Client, Deal, Side};
use rust_decimal::Decimal;

/// -5002: "server busy", answered before the deal is processed (retry-safe).
const BUSY: i64 = -5002;

fn deal() -> Deal {
    common::deal(Side::Buy, 100, Decimal::new(168_550, 2))
}

#[tokio::test]
async fn busy_three_times_then_a_malformed_success_is_outcome_unknown() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.check_credentials().await.unwrap();
    fake.fail_next("portfolio_manage", Fault::code(BUSY), 3);
    // A 200 whose body is not the envelope: the deal may have been recorded.
    fake.fail_next("portfolio_manage", Fault::Status(200), 1);
    let e = c.portfolio_deal(&deal()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    // The three busy answers were retried; the fourth attempt was answered and not replayed.
    assert_eq!(fake.request_count("portfolio_manage"), 4);
}

#[tokio::test]
async fn received_then_busy_is_never_replayed() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.check_credentials().await.unwrap();
    // A gateway 502 may hide a recorded deal; the busy answers queued after it must never be
    // reached, because the deal is not sent again.
    fake.fail_next("portfolio_manage", Fault::Status(502), 1);
    fake.fail_next("portfolio_manage", Fault::code(BUSY), 3);
    let e = c.portfolio_deal(&deal()).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert_eq!(fake.request_count("portfolio_manage"), 1);
}

#[tokio::test]
async fn busy_then_timeout_after_send_is_outcome_unknown_with_both_causes() {
    let fake = common::fake().await;
    // A long first backoff leaves room to queue the delay after the busy answer was served.
    let retry = RetryPolicy::default()
        .with_max_retries(3)
        .with_base_delay(Duration::from_millis(400))
        .with_max_delay(Duration::from_millis(400))
        .with_jitter(Jitter::None);
    let c = Client::new(
        fake.config_builder()
            .transport(common::transport(retry).with_attempt_timeout(Duration::from_millis(150)))
            .build()
            .unwrap(),
    )
    .unwrap();
    c.check_credentials().await.unwrap();
    fake.fail_next("portfolio_manage", Fault::code(BUSY), 1);
    let call = {
        let c = c.clone();
        tokio::spawn(async move { c.portfolio_deal(&deal()).await })
    };
    // Bounded wait for the busy answer, then make the retry's answer come too late.
    for _ in 0..200 {
        if fake.request_count("portfolio_manage") >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(fake.request_count("portfolio_manage"), 1);
    fake.fail_next(
        "portfolio_manage",
        Fault::Delay(Duration::from_millis(600)),
        1,
    );
    let e = call.await.unwrap().unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    let Error::OutcomeUnknown(o) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(o.operation, "portfolio_manage.deal");
    assert!(
        o.source.is_timeout(),
        "first maybe-received cause: {:?}",
        o.source
    );
    // The busy refusal was retried once; the timed-out attempt was not replayed, and the
    // server did record it.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(fake.request_count("portfolio_manage"), 2);
    assert_eq!(fake.deals().len(), 1);
}
