//! The `Connector` trait: raw calls with the client's rules; `call_api` of the original system.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use conn_core::connector::{Connector, RawRequest};
use conn_core::Error;
use conn_ths::fake::Fault;
use http::Method;
use serde_json::json;

#[tokio::test]
async fn raw_calls_share_tokens_limits_and_retries() {
    let fake = common::fake().await;
    let c: Box<dyn Connector> = Box::new(common::client(&fake));
    assert_eq!(c.platform(), "ths");
    c.check_credentials().await.unwrap();

    // A data endpoint is a read: retried after a server error even though it is a POST.
    fake.fail_next("real_time_quotation", Fault::code(-5005), 1);
    let r = c
        .call(
            RawRequest::new(Method::POST, "real_time_quotation")
                .with_data(json!({"codes": "600519.SH", "indicators": "latest"})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body["tables"][0]["thscode"], "600519.SH");
    assert_eq!(fake.request_count("real_time_quotation"), 2);

    // portfolio_manage stays non-idempotent: a server error is an unknown outcome.
    fake.fail_next("portfolio_manage", Fault::code(-5005), 1);
    let e = c
        .call(
            RawRequest::new(Method::POST, "/portfolio_manage")
                .with_data(json!({"func": "deal", "portfid": "1", "functionpara": {}})),
        )
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert_eq!(fake.request_count("portfolio_manage"), 1);

    // Envelope errors come back typed.
    let e = c
        .call(
            RawRequest::new(Method::POST, "real_time_quotation")
                .with_data(json!({"codes": "x.YY", "indicators": "latest"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.platform_code(), Some("-4206"));

    // The token endpoints belong to the client.
    let e = c
        .call(RawRequest::new(Method::POST, "get_access_token"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)));
    assert_eq!(fake.request_count("get_access_token"), 1);
}

#[tokio::test]
async fn env_vars_point_a_client_at_the_fake() {
    let fake = common::fake().await;
    let env = conn_core::env::Env::from_source(
        fake.env_vars()
            .into_iter()
            .collect::<conn_core::env::MapEnv>(),
    );
    let cfg = conn_ths::Config::from_env_with(&env).unwrap();
    assert_eq!(cfg.base_url(), fake.uri());
    assert_eq!(cfg.rate_limit().requests(), 2000);
    let client = conn_ths::Client::new(cfg).unwrap();
    client.check_credentials().await.unwrap();
    let names: Vec<&str> = fake.env_vars().iter().map(|(k, _)| *k).collect();
    for n in names {
        assert!(
            conn_ths::ENV_VARS.iter().any(|d| d.name == n),
            "{n} undocumented"
        );
    }
}
