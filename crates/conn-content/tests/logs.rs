//! A whole publish flow (config from env, publish, stats, an auth failure, a retried fault)
//! logs no secret at TRACE level.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use conn_content::fake::{FakeContent, FakeOp, FakeStats, Fault};
use conn_content::{AuthScheme, Client, Config, Content, Credentials, Profile};
use conn_core::env::{Env, MapEnv};
use conn_core::testing::LogCapture;

#[test]
fn publish_flow_logs_no_token() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (cap, _guard) = LogCapture::start();
    let secrets = rt.block_on(async {
        let mut secrets = Vec::new();
        for profile in [
            Profile::xiaohongshu().with_auth(AuthScheme::xhs_sign()),
            Profile::toutiao(),
            Profile::custom("blog")
                .with_auth(AuthScheme::api_key())
                .with_idempotency_header("Idempotency-Key"),
        ] {
            let fake = FakeContent::start(profile.clone()).await;
            secrets.extend(common::secrets_of(fake.credentials()));
            let env = Env::from_source(fake.env_vars().into_iter().collect::<MapEnv>());
            let cfg = common::tuned(Config::from_env_with(&env, &profile.name).unwrap(), |t| {
                t.with_retry(common::fast_retry())
            });
            let client = Client::new(cfg).unwrap();
            let c = Content::new("今年春天最值得去的地方", "正文").with_images(["u"]);
            fake.fail_next(FakeOp::Any, Fault::Status(429), 1);
            let p = client.publish(&c).await.unwrap();
            fake.set_stats(
                &p.id,
                FakeStats {
                    views: 1,
                    ..Default::default()
                },
            );
            client.stats(&p.id).await.unwrap();
            // A rejected credential: the error path logs too.
            let wrong = match &profile.auth {
                AuthScheme::XhsSign { .. } => Credentials {
                    app_secret: Some("wrong-app-secret-000".into()),
                    ..fake.credentials().clone()
                },
                AuthScheme::ApiKey { .. } => Credentials::api_key("wrong-api-key-000"),
                _ => Credentials::bearer("wrong-token-000"),
            };
            secrets.extend(common::secrets_of(&wrong));
            let bad = Client::new(
                Config::builder()
                    .profile(fake.profile().clone())
                    .credentials(wrong)
                    .build()
                    .unwrap(),
            )
            .unwrap();
            assert!(bad.publish(&c).await.is_err());
        }
        secrets
    });
    assert!(secrets.len() >= 7);
    let logs = cap.contents();
    assert!(logs.contains("content.publish"), "the flow was logged");
    assert!(logs.contains("retrying"), "the retry was logged");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    cap.assert_no_secrets(&refs);
}
