//! Access tokens: fetch, cache, persistence, -1302/-1010 replay (once, through conn-core's
//! token manager), update_access_token escalation, single flight, re-authorization, writes
//! never replayed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conn_core::clock::{Clock, ManualClock};
use conn_core::token::{MemoryTokenStore, TokenKey, TokenStore};
use conn_core::Error;

use conn_ths::fake::Fault;
use conn_ths::{Client, RealTimeQuotation};

fn quote() -> RealTimeQuotation {
    RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap()
}

#[tokio::test]
async fn token_is_fetched_once_and_cached() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    for _ in 0..5 {
        c.real_time_quotation(&quote()).await.unwrap();
    }
    assert_eq!(fake.request_count("get_access_token"), 1);
    assert_eq!(fake.request_count("real_time_quotation"), 5);
}

#[tokio::test]
async fn expired_token_is_fetched_once_and_the_call_replayed_once() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.real_time_quotation(&quote()).await.unwrap();
    fake.expire_access_tokens();
    c.real_time_quotation(&quote()).await.unwrap();
    assert_eq!(fake.request_count("get_access_token"), 2);
    assert_eq!(fake.request_count("update_access_token"), 0);
    // 1 + (rejected + replay)
    assert_eq!(fake.request_count("real_time_quotation"), 3);
    assert_eq!(fake.answered_codes().get(&-1302), Some(&1));
}

#[tokio::test]
async fn fresh_token_still_rejected_calls_update_access_token_once() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.real_time_quotation(&quote()).await.unwrap();
    let before = fake.valid_access_tokens();
    fake.expire_access_tokens();
    fake.serve_stale_tokens(1);
    // One replay only: the "fresh" token is rejected too, and the error comes back.
    let e = c.real_time_quotation(&quote()).await.unwrap_err();
    assert!(e.is_token_expired(), "{e:?}");
    assert_eq!(fake.request_count("get_access_token"), 2);
    assert_eq!(fake.request_count("update_access_token"), 0);
    // 1 + rejected + rejected again with the "fresh" token
    assert_eq!(fake.request_count("real_time_quotation"), 3);
    // The next call escalates: its token is rejected, update_access_token, one replay.
    c.real_time_quotation(&quote()).await.unwrap();
    assert_eq!(fake.request_count("get_access_token"), 2);
    assert_eq!(fake.request_count("update_access_token"), 1);
    assert_eq!(fake.request_count("real_time_quotation"), 5);
    let after = fake.valid_access_tokens();
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);
    // Later calls use the updated token without more fetches.
    c.real_time_quotation(&quote()).await.unwrap();
    assert_eq!(fake.request_count("get_access_token"), 2);
    assert_eq!(fake.request_count("update_access_token"), 1);
}

#[tokio::test]
async fn a_token_rejected_after_update_is_an_error_not_a_loop() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.real_time_quotation(&quote()).await.unwrap();
    fake.fail_next("real_time_quotation", Fault::code(-1302), 10);
    // Each call sends at most twice: the request and one replay after a new token.
    let e = c.real_time_quotation(&quote()).await.unwrap_err();
    assert!(e.is_token_expired(), "{e:?}");
    assert_eq!(fake.request_count("real_time_quotation"), 3);
    assert_eq!(fake.request_count("update_access_token"), 0);
    let e = c.real_time_quotation(&quote()).await.unwrap_err();
    assert!(e.is_token_expired(), "{e:?}");
    assert_eq!(fake.request_count("real_time_quotation"), 5);
    assert_eq!(fake.request_count("update_access_token"), 1);
}

#[tokio::test]
async fn a_deal_is_never_replayed_after_a_token_answer() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.check_credentials().await.unwrap();
    let deal = common::deal(
        conn_ths::Side::Buy,
        100,
        rust_decimal::Decimal::new(168_550, 2),
    );
    for code in [-1302, -1010] {
        let before = fake.request_count("portfolio_manage");
        let fetches = fake.request_count("get_access_token");
        fake.fail_next("portfolio_manage", Fault::code(code), 1);
        let e = c.portfolio_deal(&deal).await.unwrap_err();
        assert!(e.is_token_expired(), "{code}: {e:?}");
        assert_eq!(e.platform_code(), Some(code.to_string().as_str()));
        // Sent once; a new token is fetched for the next call.
        assert_eq!(fake.request_count("portfolio_manage"), before + 1, "{code}");
        assert_eq!(
            fake.request_count("get_access_token"),
            fetches + 1,
            "{code}"
        );
        assert!(fake.deals().is_empty(), "{code}");
    }
    // An expired token on a deal: the same, and the next deal goes through with the new token.
    fake.expire_access_tokens();
    let e = c.portfolio_deal(&deal).await.unwrap_err();
    assert!(e.is_token_expired(), "{e:?}");
    assert!(fake.deals().is_empty());
    c.portfolio_deal(&deal).await.unwrap();
    assert_eq!(fake.deals().len(), 1);
}

#[tokio::test]
async fn reads_replay_once_after_minus_1010_then_stop() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    c.real_time_quotation(&quote()).await.unwrap();
    // -1010 twice: the read and its one replay are refused; no third send.
    fake.fail_next("real_time_quotation", Fault::code(-1010), 2);
    let e = c.real_time_quotation(&quote()).await.unwrap_err();
    assert_eq!(e.platform_code(), Some("-1010"));
    assert_eq!(fake.request_count("real_time_quotation"), 3);
    assert_eq!(fake.request_count("get_access_token"), 2);
    // The account works again on the next call.
    c.real_time_quotation(&quote()).await.unwrap();
}

#[tokio::test]
async fn concurrent_callers_share_one_token_fetch() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.real_time_quotation(&quote()).await })
        })
        .collect();
    for h in calls {
        h.await.unwrap().unwrap();
    }
    assert_eq!(fake.request_count("get_access_token"), 1);

    fake.expire_access_tokens();
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.real_time_quotation(&quote()).await })
        })
        .collect();
    for h in calls {
        h.await.unwrap().unwrap();
    }
    assert_eq!(fake.request_count("get_access_token"), 2);
    assert_eq!(fake.request_count("update_access_token"), 0);
}

#[tokio::test]
async fn tokens_persist_through_the_store_with_the_server_expiry() {
    let fake = common::fake_builder()
        .token_lifetime(Duration::from_secs(3600))
        .start()
        .await;
    let store = Arc::new(MemoryTokenStore::new());
    let a = Client::builder(fake.config())
        .token_store(store.clone())
        .build()
        .unwrap();
    a.real_time_quotation(&quote()).await.unwrap();
    let stored = store
        .load(&TokenKey::new("ths", "default"))
        .await
        .unwrap()
        .expect("persisted");
    let left = stored
        .expires_at
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(3590) && left <= Duration::from_secs(3600),
        "{left:?}"
    );
    // expired_time has second precision in Beijing time; the token is the issued one.
    assert_eq!(
        fake.valid_access_tokens(),
        vec![stored.access_token.expose_secret().to_owned()]
    );
    // A second client (another process) sharing the store does not fetch again.
    let b = Client::builder(fake.config())
        .token_store(store)
        .build()
        .unwrap();
    b.real_time_quotation(&quote()).await.unwrap();
    assert_eq!(fake.request_count("get_access_token"), 1);
}

#[tokio::test]
async fn missing_expired_time_means_seven_days() {
    let fake = common::fake_builder().without_expired_time().start().await;
    let c = Client::new(
        fake.config_builder()
            .refresh_margin(Duration::from_secs(300))
            .build()
            .unwrap(),
    )
    .unwrap();
    c.check_credentials().await.unwrap();
    let ts = c.tokens().current().await.unwrap().unwrap();
    let left = ts
        .expires_at
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    let week = Duration::from_secs(7 * 24 * 3600);
    assert!(
        left > week - Duration::from_secs(60) && left <= week,
        "{left:?}"
    );
}

#[tokio::test]
async fn the_client_builders_clock_drives_token_expiry() {
    let fake = common::fake_builder().without_expired_time().start().await;
    let clock = ManualClock::at_unix(1_700_000_000);
    let c = Client::builder(fake.config())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    c.check_credentials().await.unwrap();
    // The assumed lifetime counts from the clock's now, not the system's.
    let ts = c.tokens().current().await.unwrap().unwrap();
    let week = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(ts.expires_at, Some(clock.now() + week));
    c.real_time_quotation(&quote()).await.unwrap();
    assert_eq!(fake.request_count("get_access_token"), 1);
    // A week later by that clock the token is due, though the fake still takes it.
    clock.advance(week);
    c.real_time_quotation(&quote()).await.unwrap();
    assert_eq!(fake.request_count("get_access_token"), 2);
}

#[tokio::test]
async fn revoked_refresh_token_is_typed_reauthorization() {
    let fake = common::fake().await;
    let store = Arc::new(MemoryTokenStore::new());
    let c = Client::builder(fake.config())
        .token_store(store.clone())
        .build()
        .unwrap();
    c.real_time_quotation(&quote()).await.unwrap();
    fake.revoke_refresh_token();
    // The data call is refused with -1300: re-authorize, tokens forgotten.
    let e = c.real_time_quotation(&quote()).await.unwrap_err();
    assert!(matches!(e, Error::ReauthRequired(_)), "{e:?}");
    assert_eq!(e.platform_code(), Some("-1300"));
    assert!(e.to_string().contains("THS_REFRESH_TOKEN"), "{e}");
    assert!(store.keys().is_empty());
    // The next call tries a fetch, which says -1301: still typed re-authorization.
    let e = c.real_time_quotation(&quote()).await.unwrap_err();
    assert!(e.is_reauth_required(), "{e:?}");
    assert_eq!(e.platform_code(), Some("-1301"));
    let e = c.check_credentials().await.unwrap_err();
    assert!(e.is_reauth_required(), "{e:?}");
}

#[tokio::test]
async fn reauth_codes_on_data_calls() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    // -1010 (token invalidated) is a replay after a new token, like -1302.
    fake.fail_next("real_time_quotation", Fault::code(-1010), 1);
    c.real_time_quotation(&quote()).await.unwrap();
    assert_eq!(fake.request_count("real_time_quotation"), 2);
    for code in [-1300, -1301] {
        fake.fail_next("real_time_quotation", Fault::code(code), 1);
        let e = c.real_time_quotation(&quote()).await.unwrap_err();
        assert!(matches!(e, Error::ReauthRequired(_)), "{code}: {e:?}");
        assert_eq!(e.platform_code(), Some(code.to_string().as_str()));
        assert_eq!(e.api_error().unwrap().message, "injected fault");
        assert!(!e.is_retryable());
    }
}

#[tokio::test]
async fn wrong_refresh_token_fails_check_credentials() {
    let fake = common::fake().await;
    let cfg = conn_ths::Config::builder()
        .refresh_token("not-the-right-token")
        .base_url(fake.uri())
        .build()
        .unwrap();
    let e = Client::new(cfg)
        .unwrap()
        .check_credentials()
        .await
        .unwrap_err();
    assert!(e.is_reauth_required(), "{e:?}");
    assert_eq!(e.platform_code(), Some("-1301"));
}

#[tokio::test]
async fn daily_token_fetch_limit_is_a_quota_error() {
    let fake = common::fake_builder().token_fetch_limit(1).start().await;
    let c = common::client(&fake);
    c.check_credentials().await.unwrap();
    let e = c.check_credentials().await.unwrap_err();
    assert_eq!(e.platform_code(), Some("-1305"));
    assert_eq!(
        e.api_kind(),
        Some(conn_core::error::ApiErrorKind::QuotaExceeded)
    );
    assert_eq!(fake.request_count("get_access_token"), 2);
}
