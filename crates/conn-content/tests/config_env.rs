//! Configuration from the environment: built-ins without a base URL, custom profiles from
//! CONTENT_PROFILES and from a profile file, the fake's env_vars, and Debug without secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use conn_content::fake::FakeContent;
use conn_content::{credentials_from_env, profile_from_env, profile_names};
use conn_content::{
    AuthScheme, Builtin, Client, Config, Content, FieldMapping, ListField, ListShape, Profile,
};
use conn_core::connector::Connector;
use conn_core::env::{Env, MapEnv};
use conn_core::Error;
use serde_json::json;

fn env_of(pairs: Vec<(String, String)>) -> Env {
    Env::from_source(pairs.into_iter().collect::<MapEnv>())
}

fn config_var(e: &Error) -> Option<String> {
    match e {
        Error::Config(c) => c.var.clone(),
        _ => None,
    }
}

#[test]
fn builtins_have_no_base_url_and_say_which_variable_to_set() {
    for b in Builtin::ALL {
        let p = Profile::builtin(b.name()).unwrap();
        let token_var = p.env_var("ACCESS_TOKEN");
        let env = env_of(vec![(token_var, "t".into())]);
        let e = Config::from_env_with(&env, b.name()).unwrap_err();
        let var = p.env_var("BASE_URL");
        assert_eq!(config_var(&e), Some(var.clone()), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("documents a server-side publishing API"),
            "{msg}"
        );
        assert!(msg.contains("an endpoint you have access to"), "{msg}");
    }
    // The same from code.
    let e = Config::builder()
        .profile(Profile::toutiao())
        .credentials(conn_content::Credentials::bearer("t"))
        .build()
        .unwrap_err();
    assert_eq!(config_var(&e).as_deref(), Some("TOUTIAO_BASE_URL"));
}

#[test]
fn missing_token_and_bad_base_url_name_their_variables() {
    let env = env_of(vec![(
        "TOUTIAO_BASE_URL".into(),
        "https://gw.example.com".into(),
    )]);
    let e = Config::from_env_with(&env, "toutiao").unwrap_err();
    assert_eq!(
        config_var(&e).as_deref(),
        Some("TOUTIAO_ACCESS_TOKEN"),
        "{e}"
    );
    let env = env_of(vec![
        ("TOUTIAO_BASE_URL".into(), "gw.example.com".into()),
        ("TOUTIAO_ACCESS_TOKEN".into(), "t".into()),
    ]);
    let e = Config::from_env_with(&env, "toutiao").unwrap_err();
    assert_eq!(config_var(&e).as_deref(), Some("TOUTIAO_BASE_URL"), "{e}");
    let env = env_of(vec![
        ("TOUTIAO_BASE_URL".into(), "https://gw.example.com".into()),
        ("TOUTIAO_ACCESS_TOKEN".into(), "t".into()),
        ("API_TIMEOUT".into(), "soon".into()),
    ]);
    let e = Config::from_env_with(&env, "toutiao").unwrap_err();
    assert_eq!(config_var(&e).as_deref(), Some("API_TIMEOUT"), "{e}");
}

#[tokio::test]
async fn custom_profile_from_content_profiles_and_variables() {
    // A custom profile of the generic shape with an API key in its own header.
    let fake = FakeContent::start(Profile::custom("my-blog").with_auth(AuthScheme::ApiKey {
        header: "X-Blog-Key".into(),
    }))
    .await;
    let vars = fake.env_vars();
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "MY_BLOG_BASE_URL",
            "MY_BLOG_AUTH",
            "MY_BLOG_API_KEY",
            "MY_BLOG_API_KEY_HEADER",
            "CONTENT_PROFILES"
        ]
    );
    // Built by hand, the way a user writes them.
    let env = env_of(vec![
        ("CONTENT_PROFILES".into(), "other, my-blog".into()),
        ("MY_BLOG_BASE_URL".into(), fake.uri()),
        (
            "MY_BLOG_API_KEY".into(),
            fake.credentials()
                .api_key
                .as_ref()
                .unwrap()
                .expose_secret()
                .into(),
        ),
        ("MY_BLOG_API_KEY_HEADER".into(), "X-Blog-Key".into()),
    ]);
    assert!(profile_names(&env).unwrap().contains(&"my-blog".to_owned()));
    let client = Client::new(Config::from_env_with(&env, "my-blog").unwrap()).unwrap();
    assert_eq!(client.platform(), "my-blog");
    let p = client.publish(&Content::new("标题", "正文")).await.unwrap();
    assert_eq!(client.stats(&p.id).await.unwrap().likes, Some(0));
    client.check_credentials().await.unwrap();
    // And from the fake's own list.
    let client = Client::new(Config::from_env_with(&env_of(vars), "my-blog").unwrap()).unwrap();
    client.publish(&Content::new("标题", "正文")).await.unwrap();
    assert_eq!(fake.published().len(), 2);
    assert_eq!(fake.auth_failures(), 0);
}

#[tokio::test]
async fn env_vars_point_a_client_at_each_builtin_and_auth_mode() {
    let targets = [
        Builtin::Xiaohongshu.profile(),
        Builtin::Zhihu.profile(),
        Builtin::Toutiao.profile(),
        Profile::xiaohongshu().with_auth(AuthScheme::xhs_sign()),
        Profile::zhihu().with_auth(AuthScheme::api_key()),
    ];
    for profile in targets {
        let fake = FakeContent::start(profile.clone()).await;
        let vars = fake.env_vars();
        assert!(
            vars.iter().all(|(k, _)| k != "CONTENT_PROFILES_FILE"),
            "a built-in needs no file"
        );
        let cfg = Config::from_env_with(&env_of(vars), &profile.name).unwrap();
        assert_eq!(cfg.profile().auth, profile.auth);
        let client = Client::new(cfg).unwrap();
        let c = Content::new("今年春天最值得去的地方", "正文").with_images(["u"]);
        let p = client.publish(&c).await.unwrap();
        client.stats(&p.id).await.unwrap();
        assert_eq!(fake.auth_failures(), 0, "{}", profile.name);
    }
}

#[tokio::test]
async fn env_vars_of_a_reshaped_profile_include_a_profile_file() {
    let profile = Profile::custom("shop")
        .with_mapping(FieldMapping {
            title: "/item/name".into(),
            body: "/item/text".into(),
            images: Some(ListField::new(
                "/item/pics",
                ListShape::Objects("src".into()),
            )),
            tags: None,
            fixed: Default::default(),
        })
        .with_id_pointer("/result/id")
        .with_idempotency_header("X-Request-Id");
    let fake = FakeContent::start(profile.clone()).await;
    let vars = fake.env_vars();
    let file = vars
        .iter()
        .find(|(k, _)| k == "CONTENT_PROFILES_FILE")
        .map(|(_, v)| v.clone())
        .expect("profile file");
    assert!(std::path::Path::new(&file).exists());
    let env = env_of(vars);
    let from_env = profile_from_env(&env, "shop").unwrap();
    assert_eq!(from_env.mapping, profile.mapping);
    assert_eq!(from_env.response, profile.response);
    assert_eq!(from_env.idempotency_header.as_deref(), Some("X-Request-Id"));
    let client = Client::new(Config::from_env_with(&env, "shop").unwrap()).unwrap();
    let p = client
        .publish(&Content::new("标题", "正文").with_images(["a"]))
        .await
        .unwrap();
    assert_eq!(fake.published()[0].id, p.id);
    assert_eq!(
        fake.published()[0].raw["item"]["pics"],
        json!([{"src": "a"}])
    );
}

#[test]
fn profile_file_defines_custom_profiles_and_patches_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profiles.json");
    std::fs::write(
        &path,
        r#"{"profiles": [
            {"name": "myblog",
             "base_url": "https://blog.example.com/api",
             "auth": {"type": "api_key", "header": "X-Blog-Key"},
             "publish": {"path": "/posts"},
             "stats": {"method": "GET", "path": "/posts/{id}/stats"},
             "mapping": {"title": "/post/title", "body": "/post/html",
                         "tags": {"pointer": "/post/tags", "shape": {"joined": ","}}},
             "response": {"id": "/data/post/id"},
             "limits": {"title_max_chars": 80},
             "idempotency_header": "Idempotency-Key"},
            {"name": "zhihu", "limits": {"max_tags": 5}, "publish": {"path": "/v2/articles"}}
        ]}"#,
    )
    .unwrap();
    let env = env_of(vec![
        ("CONTENT_PROFILES_FILE".into(), path.display().to_string()),
        ("MYBLOG_API_KEY".into(), "blog-key-123".into()),
        ("ZHIHU_PUBLISH_PATH".into(), "/v3/articles".into()),
    ]);
    let names = profile_names(&env).unwrap();
    assert_eq!(names, ["xiaohongshu", "zhihu", "toutiao", "myblog"]);
    let blog = profile_from_env(&env, "myblog").unwrap();
    assert_eq!(
        blog.auth,
        AuthScheme::ApiKey {
            header: "X-Blog-Key".into()
        }
    );
    assert_eq!(blog.publish.path, "/posts");
    assert_eq!(blog.mapping.title.as_str(), "/post/title");
    assert_eq!(
        blog.mapping.images,
        Profile::custom("x").mapping.images,
        "unpatched members keep the generic value"
    );
    assert_eq!(blog.limits.title_max_chars, Some(80));
    assert_eq!(blog.limits.title_min_chars, 1);
    let zhihu = profile_from_env(&env, "zhihu").unwrap();
    assert_eq!(zhihu.limits.max_tags, Some(5));
    assert_eq!(
        zhihu.publish.path, "/v3/articles",
        "variables override the file"
    );
    assert_eq!(zhihu.envelope, Profile::zhihu().envelope);
    // Only profiles with a base URL are "configured".
    let configured = Config::configured_from_env(&env).unwrap();
    assert_eq!(configured.len(), 1);
    assert_eq!(configured[0].profile().name, "myblog");
    let creds = credentials_from_env(&env, &blog);
    assert!(creds.api_key.is_some() && creds.access_token.is_none());
    // Unknown names and broken files name the variable.
    let e = profile_from_env(&env, "weibo").unwrap_err();
    assert_eq!(config_var(&e).as_deref(), Some("CONTENT_PROFILES"));
    std::fs::write(&path, "{not json").unwrap();
    let e = profile_from_env(&env, "myblog").unwrap_err();
    assert_eq!(config_var(&e).as_deref(), Some("CONTENT_PROFILES_FILE"));
    std::fs::write(&path, r#"[{"name": "a"}, {"name": "a"}]"#).unwrap();
    let e = profile_names(&env).unwrap_err();
    assert!(e.to_string().contains("defined twice"), "{e}");
}

#[tokio::test]
async fn debug_shows_no_secret() {
    let fake = FakeContent::start(Profile::xiaohongshu().with_auth(AuthScheme::xhs_sign())).await;
    let secrets = common::secrets_of(fake.credentials());
    assert_eq!(secrets.len(), 2);
    let env = env_of(fake.env_vars());
    let cfg = Config::from_env_with(&env, "xiaohongshu").unwrap();
    let client = Client::new(cfg.clone()).unwrap();
    let printed = [
        format!("{cfg:?}"),
        format!("{cfg:#?}"),
        format!("{client:?}"),
        format!("{:?}", fake.credentials()),
        format!("{fake:?}"),
        format!("{env:?}"),
    ];
    for p in &printed {
        for s in &secrets {
            assert!(!p.contains(s.as_str()), "a secret in {p}");
        }
    }
    assert!(printed[0].contains("[redacted]"), "{}", printed[0]);
    assert!(printed[2].contains("xiaohongshu"));
}
