//! Token lifecycle against the fake: single-flight refresh under load, re-authorization on a
//! dead refresh token or the renewal limit (stored tokens removed), rotation, codes, client token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conn_core::clock::ManualClock;
use conn_core::error::ApiErrorKind;
use conn_core::token::MemoryTokenStore;
use conn_douyin::fake::{FakeDouyin, Fault, Op, RefreshRotation, ALL_SCOPES};
use conn_douyin::{douyin_code, Client, DouyinCode, VideoPost, VideoSource};
use futures::future::join_all;

use common::{logged_in, logged_in_with, stored};

async fn publish_many(
    client: &Client,
    open_id: &str,
    n: usize,
) -> Vec<conn_core::Result<conn_douyin::Published>> {
    let post = VideoPost::new("并发");
    join_all((0..n).map(|i| {
        let client = client.clone();
        let post = post.clone();
        let open_id = open_id.to_owned();
        async move {
            client
                .publish_video(&open_id, VideoSource::bytes(vec![i as u8; 256]), &post)
                .await
        }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_publishes_with_a_token_expired_locally_refresh_once() {
    let fake = FakeDouyin::start().await;
    let store = MemoryTokenStore::new();
    let client = Client::builder(fake.config())
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();
    let open_id = fake.open_id().to_owned();
    // The stored token expired a minute ago by the client's clock.
    let mut tokens = fake.authorize(&open_id, ALL_SCOPES);
    tokens.expires_at = Some(SystemTime::now() - Duration::from_secs(60));
    client.set_tokens(&open_id, tokens).await.unwrap();

    let results = publish_many(&client, &open_id, 100).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(fake.requests(Op::RefreshToken), 1);
    assert_eq!(fake.items(Some(&open_id)).len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_publishes_with_a_token_the_platform_rejects_refresh_once() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, store) = logged_in(&fake).await;
    let before = stored(&store, &open_id).await.unwrap().access_token;
    fake.expire_access_tokens(&open_id);

    let results = publish_many(&client, &open_id, 100).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(fake.requests(Op::RefreshToken), 1);
    assert_eq!(fake.items(Some(&open_id)).len(), 100);
    // Every upload sent with the rejected token was replayed once, after the one refresh.
    let uploads = fake.requests(Op::UploadVideo);
    assert!((101..=200).contains(&uploads), "{uploads}");
    let after = stored(&store, &open_id).await.unwrap().access_token;
    assert_ne!(before, after, "the refreshed token was persisted");
}

#[tokio::test]
async fn dead_refresh_token_requires_reauthorization_and_removes_stored_tokens() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, store) = logged_in(&fake).await;
    assert!(stored(&store, &open_id).await.is_some());
    fake.expire_access_tokens(&open_id);
    fake.expire_refresh_tokens(&open_id);

    let err = client
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![0u8; 16]),
            &VideoPost::new("t"),
        )
        .await
        .unwrap_err();
    assert!(err.is_reauth_required(), "{err}");
    assert_eq!(err.platform_code(), Some("10010"));
    assert!(
        err.log_id().is_some_and(|l| l.starts_with("2024FAKE")),
        "{err:?}"
    );
    assert_eq!(douyin_code(&err), Some(DouyinCode::RefreshTokenInvalid));
    assert!(err.to_string().contains(&open_id), "{err}");
    assert!(
        stored(&store, &open_id).await.is_none(),
        "stored tokens removed"
    );
    assert!(client.account_info(&open_id).await.unwrap().is_none());
    // Nothing was published.
    assert!(fake.items(None).is_empty());
}

#[tokio::test]
async fn five_renewals_then_the_limit_requires_reauthorization() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, store) = logged_in(&fake).await;
    for n in 1..=5u32 {
        let old = stored(&store, &open_id)
            .await
            .unwrap()
            .refresh_token
            .unwrap();
        let info = client.renew_refresh_token(&open_id).await.unwrap();
        assert_eq!(info.renewals, n);
        let new = stored(&store, &open_id)
            .await
            .unwrap()
            .refresh_token
            .unwrap();
        assert_ne!(old, new, "renewal {n} replaced the refresh token");
        // The old refresh token died at once: one live token per account.
        assert_eq!(fake.live_refresh_tokens(&open_id), 1);
    }
    assert_eq!(fake.renewals(&open_id), Some(5));
    let err = client.renew_refresh_token(&open_id).await.unwrap_err();
    assert!(err.is_reauth_required(), "{err}");
    assert_eq!(err.platform_code(), Some("10020"));
    assert_eq!(douyin_code(&err), Some(DouyinCode::RenewLimitReached));
    assert!(stored(&store, &open_id).await.is_none());
}

#[tokio::test]
async fn refresh_stores_whatever_refresh_token_comes_back() {
    for rotation in [
        RefreshRotation::Same,
        RefreshRotation::Omit,
        RefreshRotation::New,
    ] {
        let fake = FakeDouyin::builder()
            .refresh_rotation(rotation)
            .start()
            .await;
        let (client, open_id, store) = logged_in(&fake).await;
        let first = stored(&store, &open_id).await.unwrap();
        client.refresh(&open_id).await.unwrap();
        let second = stored(&store, &open_id).await.unwrap();
        assert_ne!(first.access_token, second.access_token);
        match rotation {
            RefreshRotation::New => assert_ne!(first.refresh_token, second.refresh_token),
            _ => assert_eq!(first.refresh_token, second.refresh_token),
        }
        assert_eq!(
            first.refresh_expires_at.is_some(),
            second.refresh_expires_at.is_some()
        );
        // The stored refresh token still works.
        client.refresh(&open_id).await.unwrap();
        assert_eq!(fake.requests(Op::RefreshToken), 2, "{rotation:?}");
    }
}

#[tokio::test]
async fn refresh_token_near_expiry_is_renewed_first() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, store) = logged_in(&fake).await;
    let mut ts = stored(&store, &open_id).await.unwrap();
    ts.refresh_expires_at = Some(SystemTime::now() + Duration::from_secs(3 * 24 * 3600));
    client.set_tokens(&open_id, ts).await.unwrap();
    let info = client.refresh(&open_id).await.unwrap();
    assert_eq!(info.renewals, 1);
    assert_eq!(fake.requests(Op::RenewRefreshToken), 1);
    assert_eq!(fake.requests(Op::RefreshToken), 1);
    // Without the permission the refresh goes on without renewal; an explicit renewal says why.
    let fake = FakeDouyin::builder().renew_permission(false).start().await;
    let (client, open_id, store) = logged_in(&fake).await;
    let mut ts = stored(&store, &open_id).await.unwrap();
    ts.refresh_expires_at = Some(SystemTime::now() + Duration::from_secs(3600));
    client.set_tokens(&open_id, ts).await.unwrap();
    client.refresh(&open_id).await.unwrap();
    assert_eq!(fake.requests(Op::RefreshToken), 1);
    let err = client.renew_refresh_token(&open_id).await.unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::PermissionDenied));
    assert!(err.to_string().contains("renew_refresh_token"), "{err}");
    assert!(
        stored(&store, &open_id).await.is_some(),
        "a permission error keeps the tokens"
    );
}

#[tokio::test]
async fn codes_are_single_use_and_live_ten_minutes() {
    let clock = ManualClock::at_unix(1_700_000_000);
    let fake = FakeDouyin::builder()
        .clock(Arc::new(clock.clone()))
        .start()
        .await;
    let client = Client::new(fake.config()).unwrap();
    let code = fake.issue_code(fake.open_id(), &["user_info"]);
    client.exchange_code(&code).await.unwrap();
    let err = client.exchange_code(&code).await.unwrap_err();
    assert_eq!(err.platform_code(), Some("10007"));
    assert_eq!(douyin_code(&err), Some(DouyinCode::CodeInvalid));
    assert_eq!(err.api_kind(), Some(ApiErrorKind::InvalidRequest));

    let late = fake.issue_code(fake.open_id(), &["user_info"]);
    clock.advance(Duration::from_secs(601));
    assert_eq!(
        client
            .exchange_code(&late)
            .await
            .unwrap_err()
            .platform_code(),
        Some("10007")
    );
    let expired = fake.issue_code(fake.open_id(), &["user_info"]);
    fake.expire_code(&expired);
    assert_eq!(
        client
            .exchange_code(&expired)
            .await
            .unwrap_err()
            .platform_code(),
        Some("10007")
    );
}

#[tokio::test]
async fn wrong_client_secret_is_a_credentials_error_never_retried() {
    let fake = FakeDouyin::start().await;
    let mut cfg = fake.config();
    cfg.client_secret = Some("wrong-secret".into());
    let client = Client::new(cfg).unwrap();
    let code = fake.issue_code(fake.open_id(), &["user_info"]);
    let err = client.exchange_code(&code).await.unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::InvalidCredentials));
    assert_eq!(err.category(), conn_core::error::Category::Config);
    assert_eq!(fake.requests(Op::AccessToken), 1);
    let err = client.client_token().await.unwrap_err();
    assert_eq!(err.platform_code(), Some("10013"));
    assert_eq!(fake.requests(Op::ClientToken), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_token_is_cached_and_fetched_once() {
    let fake = FakeDouyin::start().await;
    let client = Client::new(fake.config()).unwrap();
    let tokens = join_all((0..50).map(|_| {
        let c = client.clone();
        async move { c.client_token().await.unwrap() }
    }))
    .await;
    assert!(tokens.windows(2).all(|w| w[0] == w[1]));
    assert!(tokens[0].expose_secret().starts_with("clt."));
    client.client_token().await.unwrap();
    assert_eq!(fake.requests(Op::ClientToken), 1);
}

#[tokio::test]
async fn token_fetches_are_retried_on_busy_and_5xx() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    fake.fail_next(Op::RefreshToken, Fault::Busy, 1);
    fake.fail_next(Op::RefreshToken, Fault::Status(503), 1);
    client.refresh(&open_id).await.unwrap();
    assert_eq!(fake.requests(Op::RefreshToken), 3);
}

#[tokio::test]
async fn several_accounts_have_their_own_tokens() {
    let fake = FakeDouyin::start().await;
    let store = MemoryTokenStore::new();
    let client = Client::builder(fake.config())
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();
    for user in ["_000alice", "_000bob"] {
        let code = fake.issue_code(user, ALL_SCOPES);
        assert_eq!(client.exchange_code(&code).await.unwrap().open_id, user);
    }
    assert_eq!(
        client.account_ids(),
        vec!["_000alice".to_owned(), "_000bob".to_owned()]
    );
    client
        .publish_video(
            "_000alice",
            VideoSource::bytes(vec![1u8; 8]),
            &VideoPost::new("a"),
        )
        .await
        .unwrap();
    fake.expire_refresh_tokens("_000bob");
    fake.expire_access_tokens("_000bob");
    let err = client
        .publish_video(
            "_000bob",
            VideoSource::bytes(vec![1u8; 8]),
            &VideoPost::new("b"),
        )
        .await
        .unwrap_err();
    assert!(err.is_reauth_required());
    assert!(stored(&store, "_000bob").await.is_none());
    assert!(
        stored(&store, "_000alice").await.is_some(),
        "the other account is untouched"
    );
    assert_eq!(fake.items(Some("_000alice")).len(), 1);
    // A client sharing the store picks alice's tokens up.
    let other = Client::builder(fake.config())
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();
    other
        .publish_video(
            "_000alice",
            VideoSource::bytes(vec![1u8; 8]),
            &VideoPost::new("c"),
        )
        .await
        .unwrap();
    // An account never authorized needs authorization.
    let err = other
        .publish_video(
            "_000carol",
            VideoSource::bytes(vec![1u8; 8]),
            &VideoPost::new("d"),
        )
        .await
        .unwrap_err();
    assert!(err.is_reauth_required(), "{err}");
    assert!(err.to_string().contains("authorize it first"), "{err}");
}

#[tokio::test]
async fn fixed_token_cannot_be_refreshed_and_says_so() {
    let fake = FakeDouyin::start().await;
    let tokens = fake.authorize(fake.open_id(), ALL_SCOPES);
    let mut cfg = fake.config();
    cfg.access_token = Some(tokens.access_token.clone());
    cfg.default_open_id = Some(fake.open_id().to_owned());
    let client = Client::new(cfg).unwrap();
    let open_id = client.resolve_open_id(None).unwrap();
    client
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![0u8; 8]),
            &VideoPost::new("fixed"),
        )
        .await
        .unwrap();
    fake.expire_access_tokens(&open_id);
    let err = client.video_list_page(&open_id, 0, 5).await.unwrap_err();
    assert!(err.is_reauth_required(), "{err}");
    assert!(err.to_string().contains("DOUYIN_ACCESS_TOKEN"), "{err}");
    assert_eq!(err.platform_code(), Some("2190008"));
    assert_eq!(fake.requests(Op::RefreshToken), 0);
    let err = client.refresh(&open_id).await.unwrap_err();
    assert!(err.to_string().contains("DOUYIN_ACCESS_TOKEN"), "{err}");
}

#[tokio::test]
async fn scope_missing_names_the_scope() {
    let fake = FakeDouyin::start().await;
    let client = Client::new(fake.config()).unwrap();
    let code = fake.issue_code(fake.open_id(), &["user_info", "video.create.bind"]);
    let open_id = client.exchange_code(&code).await.unwrap().open_id;
    let err = client.video_list_page(&open_id, 0, 5).await.unwrap_err();
    assert_eq!(err.api_kind(), Some(ApiErrorKind::PermissionDenied));
    assert!(
        err.to_string().contains("missing scope `video.list.bind`"),
        "{err}"
    );
    let _ = logged_in_with;
}
