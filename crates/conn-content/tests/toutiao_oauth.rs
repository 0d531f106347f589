//! Toutiao OAuth against its fake: code exchange, refresh with rotation, renewal, a dead
//! refresh token, fault sequences, single-flight refresh, and publish through a managed token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use conn_content::fake::{
    FakeContent, FakeOp, FakeToutiaoOAuth, Fault, TokenOp, ACCESS_LIFETIME, FAKE_CLIENT_KEY,
    FAKE_CLIENT_SECRET, MAX_RENEWALS, REFRESH_LIFETIME,
};
use conn_content::toutiao::{TokenRequestStyle, ToutiaoOAuth};
use conn_content::{Builtin, Content};
use conn_core::clock::{Clock, ManualClock};
use conn_core::error::ApiErrorKind;
use conn_core::oauth::CsrfState;
use conn_core::testing::assert_error_free_of;
use conn_core::token::{MemoryTokenStore, TokenKey, TokenStore};
use conn_core::Error;

const ACCESS: &str = "/oauth/access_token/";
const REFRESH: &str = "/oauth/refresh_token/";
const RENEW: &str = "/oauth/renew_refresh_token/";

#[tokio::test]
async fn a_code_is_exchanged_once_for_tokens_with_their_lifetimes() {
    let fake = FakeToutiaoOAuth::start().await;
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let oauth = ToutiaoOAuth::builder(FAKE_CLIENT_KEY, FAKE_CLIENT_SECRET)
        .base_url(fake.uri())
        .clock(clock.clone())
        .build()
        .unwrap();
    let code = fake.issue_code("open-1");
    let ts = oauth.exchange_code(&code).await.unwrap();
    let now = clock.now();
    assert!(fake.is_live(ts.access_token.expose_secret()));
    assert_eq!(ts.account.as_deref(), Some("open-1"));
    assert_eq!(ts.scopes, vec!["user_info".to_owned()]);
    assert_eq!(
        ts.expires_at,
        Some(now + Duration::from_secs(ACCESS_LIFETIME))
    );
    assert_eq!(
        ts.refresh_expires_at,
        Some(now + Duration::from_secs(REFRESH_LIFETIME))
    );
    assert!(ts.refresh_token.is_some());

    // Single use: the platform's 10007, a typed error that is not retried.
    let again = oauth.exchange_code(&code).await.unwrap_err();
    assert_eq!(
        again.api_kind(),
        Some(ApiErrorKind::InvalidRequest),
        "{again}"
    );
    assert_eq!(again.platform_code(), Some("10007"));
    assert_eq!(fake.count(ACCESS), 2);
    assert_error_free_of(&again, &[FAKE_CLIENT_SECRET, &code]);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let fake = FakeToutiaoOAuth::start().await;
    let oauth = fake.oauth();
    for code in ["", "  ", "a\nb", &"c".repeat(600)] {
        let e = oauth.exchange_code(code).await.unwrap_err();
        assert!(matches!(e, Error::Validation(_)), "{code:?}: {e}");
        assert!(e.to_string().contains("code"), "{e}");
    }
    assert!(fake.requests().is_empty());
    for (scopes, uri, field) in [
        (&[][..], "https://a.example/cb", "scope"),
        (&["a,b"][..], "https://a.example/cb", "scope"),
        (&["a b"][..], "https://a.example/cb", "scope"),
        (&["user_info"][..], "/relative", "redirect_uri"),
        (&["user_info"][..], "javascript:alert(1)", "redirect_uri"),
    ] {
        let e = oauth.authorize_url(scopes, uri).unwrap_err();
        assert!(e.to_string().contains(field), "{scopes:?} {uri}: {e}");
    }
    for (k, s) in [("", "s"), ("k", "")] {
        let e = ToutiaoOAuth::builder(k, s).build().unwrap_err();
        assert!(matches!(e, Error::Validation(_)), "{e}");
    }
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_the_old_one_dies() {
    let fake = FakeToutiaoOAuth::start().await;
    let oauth = fake.oauth();
    let first = oauth.exchange_code(&fake.issue_code("u")).await.unwrap();
    let second = oauth.refresh(&first).await.unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token, "rotated");
    assert_eq!(second.account.as_deref(), Some("u"));
    // The rotated-out refresh token is dead: a user must authorize again.
    let dead = oauth.refresh(&first).await.unwrap_err();
    assert!(dead.is_reauth_required(), "{dead}");
    assert_eq!(dead.platform_code(), Some("10010"));
    // Without rotation the old refresh token is kept, with its expiry.
    fake.rotate_refresh_tokens(false);
    let third = oauth.refresh(&second).await.unwrap();
    assert_eq!(third.refresh_token, second.refresh_token);
    assert_eq!(third.refresh_expires_at, second.refresh_expires_at);
    assert_eq!(fake.count(REFRESH), 3);
}

#[tokio::test]
async fn renewal_replaces_the_refresh_token_until_the_limit() {
    let fake = FakeToutiaoOAuth::start().await;
    let oauth = fake.oauth();
    let mut ts = oauth.exchange_code(&fake.issue_code("u")).await.unwrap();
    for _ in 0..MAX_RENEWALS {
        let old = ts.clone();
        ts = oauth.renew_refresh_token(&old).await.unwrap();
        assert_ne!(ts.refresh_token, old.refresh_token);
        assert_eq!(
            ts.access_token, old.access_token,
            "the access token is untouched"
        );
        assert_eq!(ts.expires_at, old.expires_at);
        // The old refresh token died at once.
        assert!(oauth.refresh(&old).await.unwrap_err().is_reauth_required());
    }
    let limit = oauth.renew_refresh_token(&ts).await.unwrap_err();
    assert_eq!(limit.platform_code(), Some("10020"));
    assert!(limit.is_reauth_required(), "{limit}");
    assert_eq!(fake.count(RENEW), MAX_RENEWALS as usize + 1);
}

#[tokio::test]
async fn a_dead_refresh_token_forgets_the_stored_tokens_and_asks_to_reauthorize() {
    let fake = FakeToutiaoOAuth::start().await;
    let oauth = fake.oauth();
    let store = Arc::new(MemoryTokenStore::new());
    let tokens = oauth.token_manager(store.clone(), "acct");
    tokens
        .set(oauth.exchange_code(&fake.issue_code("u")).await.unwrap())
        .await
        .unwrap();
    fake.expire_access_tokens();
    fake.kill_refresh_tokens();
    let e = tokens
        .with_token(|t| {
            let live = fake.is_live(t.expose_secret());
            async move {
                if live {
                    Ok(())
                } else {
                    Err(Error::from(conn_core::error::ApiError::new(
                        "toutiao",
                        "10008",
                        "expired",
                        ApiErrorKind::TokenExpired,
                    )))
                }
            }
        })
        .await
        .unwrap_err();
    assert!(e.is_reauth_required(), "{e}");
    assert!(tokens.current().await.unwrap().is_none());
    let key = TokenKey::new("toutiao", "acct");
    assert!(store.load(&key).await.unwrap().is_none(), "store cleared");
    assert_eq!(fake.count(REFRESH), 1);
}

#[tokio::test]
async fn fault_sequences_on_the_token_endpoints() {
    let fake = FakeToutiaoOAuth::start().await;
    let oauth = fake.oauth();

    // 503 twice, then the answer: a token fetch is retried.
    fake.fail_next(TokenOp::Any, Fault::Status(503), 2);
    let ts = oauth.exchange_code(&fake.issue_code("u")).await.unwrap();
    assert_eq!(fake.count(ACCESS), 3);

    // Busy, then too frequent (10020 outside a renewal), then the answer.
    fake.fail_next(TokenOp::Any, Fault::code(2100004), 1);
    fake.fail_next(TokenOp::Any, Fault::code(10020), 1);
    let next = oauth.refresh(&ts).await.unwrap();
    assert_eq!(fake.count(REFRESH), 3);

    // A rejected client key is a configuration error, never retried.
    fake.fail_next(TokenOp::Any, Fault::code(10013), 1);
    let e = oauth.refresh(&next).await.unwrap_err();
    assert_eq!(e.api_kind(), Some(ApiErrorKind::InvalidCredentials), "{e}");
    assert_eq!(fake.count(REFRESH), 4);

    // 5xx on all four attempts (3 retries): the last error comes back; the stored tokens
    // were not touched, so the next refresh works.
    fake.fail_next(TokenOp::Any, Fault::Status(502), 4);
    let e = oauth.refresh(&next).await.unwrap_err();
    assert_eq!(e.status(), Some(http::StatusCode::BAD_GATEWAY), "{e}");
    assert_eq!(fake.count(REFRESH), 8);
    oauth.refresh(&next).await.unwrap();
    assert_eq!(fake.count(REFRESH), 9);

    // A cut answer (an empty 200): a decode error without any body text.
    fake.fail_next(TokenOp::Any, Fault::Status(200), 1);
    let e = oauth
        .exchange_code(&fake.issue_code("u"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e}");
}

#[tokio::test]
async fn concurrent_callers_with_an_expired_token_cause_one_refresh() {
    let fake = FakeToutiaoOAuth::start().await;
    let oauth = fake.oauth();
    let tokens = oauth.token_manager(Arc::new(MemoryTokenStore::new()), "acct");
    let mut ts = oauth.exchange_code(&fake.issue_code("u")).await.unwrap();
    // Already past its expiry: the next caller refreshes.
    ts.expires_at = Some(std::time::UNIX_EPOCH);
    tokens.set(ts).await.unwrap();
    let calls = (0..8).map(|_| {
        let t = tokens.clone();
        tokio::spawn(async move { t.token().await.unwrap() })
    });
    let got = futures_join(calls).await;
    assert!(
        got.windows(2).all(|w| w[0] == w[1]),
        "all get the same token"
    );
    assert!(fake.is_live(got[0].expose_secret()));
    assert_eq!(fake.count(REFRESH), 1);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn publish_with_a_rejected_token_refreshes_once_and_publishes_once() {
    let oauth_fake = FakeToutiaoOAuth::start().await;
    let content = FakeContent::start(Builtin::Toutiao).await;
    content.accept_tokens_of(&oauth_fake);
    let oauth = oauth_fake.oauth();
    let tokens = oauth.token_manager(Arc::new(MemoryTokenStore::new()), "acct");
    tokens
        .set(
            oauth
                .exchange_code(&oauth_fake.issue_code("u"))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    let client = content.managed_client(tokens.clone());
    let post = Content::new("今天的新闻标题", "正文");
    client.publish(&post).await.unwrap();
    assert_eq!(oauth_fake.count(REFRESH), 0);

    // The platform expires the token before our margin says so: rejected, refreshed, replayed.
    oauth_fake.expire_access_tokens();
    let second = client.publish(&post).await.unwrap();
    assert_eq!(oauth_fake.count(REFRESH), 1);
    assert_eq!(content.published().len(), 2, "each publish landed once");
    assert_eq!(
        content.publish_requests(),
        3,
        "one rejected attempt, replayed once"
    );
    assert_eq!(content.published()[1].id, second.id);

    // A bare HTTP 401 (a gateway in front of the platform, say) is the envelope's
    // `InvalidCredentials` too: with a managed token it means that token, so one refresh and
    // one replay, and the post lands once.
    content.fail_next(FakeOp::Any, Fault::Status(401), 1);
    client.publish(&post).await.unwrap();
    assert_eq!(oauth_fake.count(REFRESH), 2);
    assert_eq!(content.published().len(), 3, "landed once");
    assert_eq!(content.publish_requests(), 5);

    // Then the refresh token dies too: a typed re-authorization error, tokens forgotten.
    oauth_fake.expire_access_tokens();
    oauth_fake.kill_refresh_tokens();
    let e = client.publish(&post).await.unwrap_err();
    assert!(e.is_reauth_required(), "{e}");
    assert!(tokens.current().await.unwrap().is_none());
    assert_eq!(content.published().len(), 3);
    let e = client.stats(&second.id).await.unwrap_err();
    assert!(e.is_reauth_required(), "{e}");
}

/// The request shapes of the token endpoints, against an outside source: the generated
/// client of ByteDance's `open.snssdk.com` OAuth API in github.com/strangebank/douyin-open-php,
/// `src/docs/Api/DefaultApi.md`: `GET /oauth/access_token/` with `client_key, client_secret,
/// code, grant_type` ("写死 authorization_code") and `GET /oauth/refresh_token/` with
/// `client_key, grant_type` ("填 refresh_token"), `refresh_token`; and the authorization page
/// of `docs/ToutiaoAuthCodeApi.md` in github.com/strangebank/swagger-petstore-perl:
/// `GET /oauth/authorize/` with `client_key, response_type, scope, redirect_uri, state`.
#[tokio::test]
async fn request_shapes_match_the_generated_client_of_the_platform() {
    let fake = FakeToutiaoOAuth::start().await;
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let get = fake.oauth_with(TokenRequestStyle::GetQuery);
    let ts = get.exchange_code(&fake.issue_code("u")).await.unwrap();
    get.refresh(&ts).await.unwrap();
    let log = fake.requests();
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str(), log[0].form),
        ("GET", ACCESS, false)
    );
    assert_eq!(
        log[0].params,
        names(&["client_key", "client_secret", "code", "grant_type"])
    );
    assert_eq!(
        (log[1].method.as_str(), log[1].path.as_str(), log[1].form),
        ("GET", REFRESH, false)
    );
    assert_eq!(
        log[1].params,
        names(&["client_key", "grant_type", "refresh_token"])
    );

    // The default style sends the same parameters as a POST form (the platform notes).
    let post = fake.oauth();
    let ts = post.exchange_code(&fake.issue_code("u")).await.unwrap();
    post.refresh(&ts).await.unwrap();
    post.renew_refresh_token(&ts).await.unwrap_err(); // rotated out by the refresh
    let log = fake.requests();
    assert_eq!((log[2].method.as_str(), log[2].form), ("POST", true));
    assert_eq!(log[2].params, log[0].params);
    assert_eq!(log[3].params, log[1].params);
    assert_eq!((log[4].path.as_str(), log[4].form), (RENEW, true));
    assert_eq!(log[4].params, names(&["client_key", "refresh_token"]));

    let state = CsrfState::from_stored("st4te").unwrap();
    let (url, st) = post
        .authorize_url_with_state(
            &["user_info", "video.create"],
            "https://app.example.com/cb?x=1",
            state,
        )
        .unwrap();
    assert_eq!(url.path(), "/oauth/authorize/");
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "client_key",
            "response_type",
            "scope",
            "redirect_uri",
            "state"
        ]
    );
    assert_eq!(q[1].1, "code");
    assert_eq!(q[2].1, "user_info,video.create");
    assert_eq!(q[3].1, "https://app.example.com/cb?x=1");
    st.verify(&q[4].1).unwrap();
    assert!(!url.as_str().contains(FAKE_CLIENT_SECRET));
}

#[tokio::test]
async fn from_env_reads_every_setting_and_reports_all_problems() {
    use conn_core::env::{Env, MapEnv};
    let fake = FakeToutiaoOAuth::start().await;
    let env = Env::from_source(
        MapEnv::new()
            .set("TOUTIAO_CLIENT_KEY", FAKE_CLIENT_KEY)
            .set("TOUTIAO_CLIENT_SECRET", FAKE_CLIENT_SECRET)
            .set("TOUTIAO_OAUTH_URL", fake.uri())
            .set("TOUTIAO_OAUTH_REQUEST_STYLE", "get_query"),
    );
    let oauth = ToutiaoOAuth::from_env_report(&env).unwrap().unwrap();
    oauth.exchange_code(&fake.issue_code("u")).await.unwrap();
    assert_eq!(fake.requests()[0].method, "GET");
    assert!(!format!("{oauth:?}").contains(FAKE_CLIENT_SECRET));

    let bad = Env::from_source(
        MapEnv::new()
            .set("TOUTIAO_OAUTH_URL", "ftp://nope")
            .set("TOUTIAO_OAUTH_REQUEST_STYLE", "pigeon"),
    );
    let errors = ToutiaoOAuth::from_env_report(&bad).unwrap_err();
    let text = errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for var in [
        "TOUTIAO_CLIENT_KEY",
        "TOUTIAO_CLIENT_SECRET",
        "TOUTIAO_OAUTH_REQUEST_STYLE",
        "TOUTIAO_OAUTH_URL",
    ] {
        assert!(text.contains(var), "{var} missing from:\n{text}");
    }
}
