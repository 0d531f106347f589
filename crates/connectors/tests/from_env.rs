//! `Connectors::from_env`: skipped platforms, every problem at once, the store under the
//! environment, token persistence, and the registry's `call_api` against the Douyin fake.
#![cfg(all(
    feature = "douyin",
    feature = "ths",
    feature = "erp",
    feature = "content",
    feature = "creds"
))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::env::{Env, MapEnv};
use conn_core::Error;
use conn_creds::{CredentialStore, EncryptionKey, StoreConfig};
use conn_douyin::fake::FakeDouyin;
use connectors::Connectors;
use serde_json::json;

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_source(pairs.iter().copied().collect::<MapEnv>())
}

fn store(dir: &std::path::Path, env: Env) -> CredentialStore {
    CredentialStore::open(
        StoreConfig::new(dir.join(".credentials"))
            .with_env(env)
            .with_key(EncryptionKey::from_bytes([7u8; 32])),
    )
    .unwrap()
}

#[test]
fn nothing_set_means_every_platform_is_skipped_with_what_enables_it() {
    let reg = Connectors::from_env_with(&env(&[])).unwrap();
    assert!(reg.is_empty());
    let skipped: Vec<&str> = reg.skipped().iter().map(|s| s.platform.as_str()).collect();
    assert_eq!(
        skipped,
        ["douyin", "ths", "erp", "xiaohongshu", "zhihu", "toutiao"]
    );
    let douyin = &reg.skipped()[0];
    assert_eq!(
        douyin.variables,
        ["DOUYIN_CLIENT_KEY", "DOUYIN_CLIENT_SECRET"]
    );
    assert!(douyin.hint.contains("DOUYIN_ACCESS_TOKEN"));
    let zhihu = reg
        .skipped()
        .iter()
        .find(|s| s.platform == "zhihu")
        .unwrap();
    assert_eq!(zhihu.variables, ["ZHIHU_BASE_URL", "ZHIHU_ACCESS_TOKEN"]);
    // Asking for a skipped platform names the variable to set.
    let e = reg.require_ths().unwrap_err();
    assert!(
        matches!(&e, Error::Config(c) if c.var.as_deref() == Some("THS_REFRESH_TOKEN")),
        "{e}"
    );
}

#[test]
fn several_broken_platforms_are_reported_in_one_error() {
    let broken = env(&[
        // Douyin: a key without its secret, and a redirect URI that is not https.
        ("DOUYIN_CLIENT_KEY", "awx1"),
        ("DOUYIN_REDIRECT_URI", "http://example.com/cb"),
        // iFinD: only the original system's variables.
        ("TONGHUASHUN_API_KEY", "k"),
        // ERP: an unknown auth mode.
        ("ERP_AUTH_MODE", "oauth9"),
        // Zhihu: a token but no endpoint.
        ("ZHIHU_ACCESS_TOKEN", "t"),
        // Toutiao is fine and must not hide the others.
        ("TOUTIAO_BASE_URL", "http://127.0.0.1:9"),
        ("TOUTIAO_ACCESS_TOKEN", "t"),
    ]);
    let report = Connectors::from_env_with(&broken).unwrap_err();
    let platforms: Vec<&str> = report
        .problems()
        .iter()
        .map(|p| p.platform.as_str())
        .collect();
    assert_eq!(platforms, ["douyin", "ths", "erp", "zhihu"]);
    let vars = report.variables();
    for v in [
        "DOUYIN_CLIENT_SECRET",
        "DOUYIN_REDIRECT_URI",
        "THS_REFRESH_TOKEN",
        "ERP_AUTH_MODE",
        "ZHIHU_BASE_URL",
    ] {
        assert!(vars.contains(&v), "{v} missing from {vars:?}");
    }
    let text = report.to_string();
    assert!(
        text.starts_with("4 platforms are configured incompletely"),
        "{text}"
    );
    assert!(
        text.contains("\n  douyin:\n    - DOUYIN_CLIENT_SECRET: not set"),
        "{text}"
    );
    assert!(text.contains("TONGHUASHUN_API_KEY"), "{text}");
    // Not configured at all: listed as skipped, not as a problem.
    assert!(report.skipped().iter().any(|s| s.platform == "xiaohongshu"));
    // One conn-core error for callers that want one.
    let e = Error::from(report);
    assert!(matches!(&e, Error::Config(c) if c.var.is_none()), "{e}");
    assert!(e.to_string().contains("ERP_AUTH_MODE"));
}

#[test]
fn only_builds_the_selected_platforms() {
    let broken = env(&[
        ("DOUYIN_CLIENT_KEY", "awx1"),
        ("ERP_API_URL", "http://127.0.0.1:9"),
    ]);
    let reg = Connectors::builder()
        .env(broken)
        .only(["erp"])
        .build()
        .unwrap();
    assert_eq!(reg.platforms(), ["erp"]);
    assert!(reg.erp().is_some());
}

#[test]
fn the_environment_beats_the_store_and_the_store_fills_what_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let base = env(&[
        ("DOUYIN_CLIENT_KEY", "key-from-env"),
        // Empty counts as unset: the stored value is used.
        ("DOUYIN_CLIENT_SECRET", ""),
    ]);
    let store = store(dir.path(), base.clone());
    store.set("douyin", "client_key", "key-from-store").unwrap();
    store
        .set("douyin", "client_secret", "secret-from-store")
        .unwrap();
    // Only in the store: iFinD is configured by it alone.
    store.set("ths", "refresh_token", "rt-from-store").unwrap();

    let reg = Connectors::builder()
        .env(base)
        .credential_store(store)
        .build()
        .unwrap();
    let douyin = reg.douyin().unwrap().config();
    assert_eq!(douyin.client_key.as_deref(), Some("key-from-env"));
    assert_eq!(
        douyin.client_secret.as_ref().unwrap().expose_secret(),
        "secret-from-store"
    );
    assert!(reg.ths().is_some());
    assert_eq!(reg.platforms(), ["douyin", "ths"]);
    // Debug output of the whole registry shows no secret.
    let debug = format!("{reg:?}");
    assert!(!debug.contains("secret-from-store") && !debug.contains("rt-from-store"));
}

#[test]
fn a_custom_profile_reads_its_stored_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let base = env(&[
        ("CONTENT_PROFILES", "myblog"),
        ("MYBLOG_BASE_URL", "http://127.0.0.1:9/api"),
        ("MYBLOG_AUTH", "api_key"),
    ]);
    let s = store(dir.path(), base.clone());
    // Without the stored key the profile is incomplete ...
    let report = Connectors::builder()
        .env(base.clone())
        .credential_store(s.clone())
        .build()
        .unwrap_err();
    assert_eq!(report.problems()[0].platform, "myblog");
    assert!(report.variables().contains(&"MYBLOG_API_KEY"), "{report}");
    // ... and with it, complete.
    s.set("myblog", "api_key", "k-123").unwrap();
    let reg = Connectors::builder()
        .env(base)
        .credential_store(s)
        .build()
        .unwrap();
    assert!(reg.content("myblog").is_some());
}

#[tokio::test]
async fn call_api_reaches_the_fake_and_tokens_persist_in_the_store() {
    let fake = FakeDouyin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let vars: MapEnv = fake.env_vars().into_iter().collect();
    let base = Env::from_source(vars);
    let s = store(dir.path(), base.clone());
    let reg = Connectors::builder()
        .env(base)
        .credential_store(s.clone())
        .tune_douyin(|c| c.transport.retry = conn_douyin::fake::fast_retry())
        .build()
        .unwrap();

    let code = fake.issue_code(fake.open_id(), &["video.list.bind", "video.create.bind"]);
    let account = reg
        .require_douyin()
        .unwrap()
        .exchange_code(&code)
        .await
        .unwrap();
    assert_eq!(account.open_id, fake.open_id());
    // Persisted, encrypted, under the account's key.
    let keys = s.token_keys().unwrap();
    assert!(keys
        .iter()
        .any(|k| k.platform == "douyin" && k.account == fake.open_id()));

    let resp = reg
        .call_api(
            "douyin",
            "/api/douyin/v1/video/video_list/",
            "get",
            Some(json!({"cursor": 0, "count": 10})),
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["data"]["list"], json!([]));

    let e = reg
        .call_api("douyin", "/x", "FETCH", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Validation(v) if v.field == "method"),
        "{e}"
    );
    let e = reg.call_api("nope", "/x", "GET", None).await.unwrap_err();
    assert!(e.to_string().contains("registered: douyin"), "{e}");
    let e = reg.call_api("ths", "/x", "GET", None).await.unwrap_err();
    assert!(
        matches!(&e, Error::Config(c) if c.var.as_deref() == Some("THS_REFRESH_TOKEN")),
        "{e}"
    );

    let checks = reg.check_all().await;
    assert_eq!(checks.len(), 1);
    assert!(checks[0].1.is_ok(), "{:?}", checks[0].1);
}

#[test]
fn env_vars_holds_every_crates_list() {
    let groups = connectors::env_vars();
    let crates: Vec<&str> = groups.iter().map(|g| g.crate_name).collect();
    let mut expected = vec!["conn-core", "conn-creds"];
    if cfg!(feature = "redis") {
        expected.push("conn-redis");
    }
    expected.extend([
        "conn-douyin",
        "conn-ths",
        "conn-erp",
        "conn-content",
        "connectors-cli",
    ]);
    assert_eq!(crates, expected);
    let all: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.vars.iter().map(|v| v.name))
        .collect();
    #[allow(unused_mut)]
    let mut lists = vec![
        conn_core::env::ENV_VARS,
        conn_creds::ENV_VARS,
        conn_douyin::ENV_VARS,
        conn_ths::ENV_VARS,
        conn_erp::ENV_VARS,
        conn_content::ENV_VARS,
        connectors::CLI_ENV_VARS,
    ];
    #[cfg(feature = "redis")]
    lists.push(connectors::redis::ENV_VARS);
    for list in lists {
        for v in list {
            assert!(all.contains(&v.name), "{} missing", v.name);
        }
    }
    let text = connectors::env_example();
    for v in &all {
        assert!(
            text.contains(&format!("\n{v}=")),
            "{v} not assigned in env.example"
        );
    }
    // Secrets are listed without a value.
    assert!(text.contains("\nDOUYIN_CLIENT_SECRET=\n"));
    assert!(text.contains("\n# (secret) "));
}
