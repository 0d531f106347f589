//! # conn-content
//!
//! A generic content-platform adapter: publish a post and read its stats through a
//! **profile** that describes one platform's endpoint. Built-in profiles: `xiaohongshu`
//! (小红书), `zhihu` (知乎), `toutiao` (今日头条); any number of custom ones come from
//! configuration. It replaces the original system's `ContentPlatformAPIConnector`
//! (publish content, content stats, bearer-token or API-key auth).
//!
//! ## Read this first: there is no official publishing API
//!
//! **None of Xiaohongshu, Zhihu and Toutiao documents a server-side API to publish a post.**
//! This crate therefore cannot ship a working default endpoint: a profile must be pointed at an
//! endpoint **you** have access to (a partner API, your own gateway or publishing service, a
//! platform agreement), with `<P>_BASE_URL`. The built-in profiles have no base URL; using one
//! without it is a configuration error naming the variable. Their paths, field names, envelopes
//! and limits are conventions of this crate (marked ⚠ on [`Profile`]) meant to be overridden
//! to match your endpoint.
//!
//! What the platforms do document, and what this crate supports:
//! - **Xiaohongshu** has an e-commerce open platform (`POST
//!   https://ark.xiaohongshu.com/ark/open_api/v3/common_controller`) whose request signing is
//!   available as the `xhs_sign` auth scheme: the JSON body carries `appId`, `method`,
//!   `version` (`"2.0"`), `timestamp` (seconds), `accessToken` and
//!   `sign = md5(method + "?appId=" + appId + "&timestamp=" + timestamp + "&version=" + version + appSecret)`
//!   ([`auth::xhs_sign`]). Set `XIAOHONGSHU_APP_ID`, `XIAOHONGSHU_APP_SECRET` and
//!   `XIAOHONGSHU_ACCESS_TOKEN`. The timestamp comes from an injectable clock
//!   ([`ClientBuilder::clock`]). ⚠ The timestamp is sent as a string of seconds.
//! - **Toutiao** uses the ByteDance OAuth of the Douyin open platform, on
//!   `https://open.snssdk.com`: the user opens `/oauth/authorize/` (`client_key`,
//!   `response_type=code`, `scope`, `redirect_uri`, `state`); the code is exchanged at
//!   `POST /oauth/access_token/` (form: `client_key`, `client_secret`, `code`,
//!   `grant_type=authorization_code`); `POST /oauth/refresh_token/` renews the access token and
//!   `POST /oauth/renew_refresh_token/` the refresh token. Access tokens live 15 days, refresh
//!   tokens 30 days; errors come as HTTP 200 with `data.error_code`. [`toutiao::ToutiaoOAuth`]
//!   implements it on conn-core's token manager (`TOUTIAO_CLIENT_KEY`,
//!   `TOUTIAO_CLIENT_SECRET`): build the client with [`ConfigBuilder::managed_token`] and
//!   [`Client::builder`]`(config).token_manager(oauth.token_manager(store, account))`, and
//!   publish/stats refresh the token before it expires, refresh once and replay once when the
//!   platform rejects it, and answer `ReauthRequired` when the refresh token is dead. A fixed
//!   `TOUTIAO_ACCESS_TOKEN` still works without OAuth.
//! - **Zhihu** documents no open API for posting; its web API's error envelope
//!   (`{"error": {"code", "message"}}`) is the built-in's default.
//!
//! ## Quick start
//!
//! ```no_run
//! use conn_content::{Content, Client};
//! # async fn demo() -> conn_core::Result<()> {
//! // export ZHIHU_BASE_URL=https://your-gateway.example.com/zhihu
//! // export ZHIHU_ACCESS_TOKEN=...
//! let client = Client::from_env("zhihu")?;
//! let post = Content::new("如何评价 Rust？", "正文……").with_tags(["Rust"]);
//! let published = client.publish(&post).await?;
//! let stats = client.stats(&published.id).await?;
//! println!("{} likes", stats.likes.unwrap_or(0));
//! # Ok(()) }
//! ```
//!
//! From code instead of the environment:
//!
//! ```
//! use conn_content::{Client, Config, Credentials, Profile};
//! let cfg = Config::builder()
//!     .profile(Profile::toutiao().with_base_url("https://gateway.example.com/toutiao"))
//!     .credentials(Credentials::bearer("token-from-bytedance-oauth"))
//!     .build()?;
//! let client = Client::new(cfg)?;
//! # Ok::<(), conn_core::Error>(())
//! ```
//!
//! ## Defining a profile
//!
//! A [`Profile`] holds: the name; the base URL; the [`AuthScheme`] (`bearer` from
//! `<P>_ACCESS_TOKEN`, `api_key` in a configurable header from `<P>_API_KEY`, `xhs_sign`, or
//! `none`); the publish endpoint and the stats endpoint (method, path, where the id goes); the
//! [`FieldMapping`] of title, body, images and tags into the request JSON (field names or JSON
//! pointers, so `/post/title` nests; lists as arrays, joined strings or arrays of objects; fixed
//! extra fields); where the new id sits in the publish response and where the counters sit in
//! the stats response (JSON pointers); the [`Envelope`] (code field and success value, message
//! field, auth / not-found / rate-limit codes); the [`Limits`] (title and body length in
//! characters, image and tag counts), checked before any request with typed errors naming the
//! field and the limit; and an optional idempotency header.
//!
//! Build one in code ([`Profile::custom`] plus the `with_*` methods, or patch a built-in with
//! [`Profile::patched`]), or declare it in configuration: `CONTENT_PROFILES=name1,name2` for
//! profiles of the generic shape configured by variables, and `CONTENT_PROFILES_FILE` for a
//! JSON file of full definitions. [`Config`] documents both and every variable.
//!
//! ## Publishing is not idempotent
//!
//! A publish is sent once. If it may have reached the server and failed (timeout after
//! sending, 5xx, dropped connection), it is not replayed: the error is
//! [`conn_core::Error::OutcomeUnknown`] with the profile name and the title in its context,
//! so a caller can check before publishing again. Where the endpoint honours an idempotency
//! header (`<P>_IDEMPOTENCY_HEADER`), a key is generated once per publish and sent on every
//! attempt, which makes those failures safe to retry.
//!
//! ## Testing
//!
//! The `fake` feature provides [`fake::FakeContent`], a stateful wiremock fake of any profile
//! that checks its auth exactly (including the Xiaohongshu signature) and returns ids and stats.
//! `FakeContent::env_vars()` lists the variables that point a client at it.

// On docs.rs, feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod client;
mod config;
mod connector;
mod keyed;
mod model;
mod profile;
pub mod toutiao;

#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;

pub use auth::{xhs_sign, Credentials, XhsSigner};
pub use client::{Client, ClientBuilder};
pub use config::{
    credentials_from_env, profile_from_env, profile_names, Config, ConfigBuilder,
    PROFILES_FILE_VAR, PROFILES_VAR,
};
pub use connector::CREDENTIAL_CHECK_ID;
pub use keyed::{CONTENT_PLATFORM, PUBLISH_OP};
pub use model::{Content, ContentStats, Published};
pub use profile::{
    AuthScheme, Builtin, Endpoint, Envelope, FieldMapping, HttpMethod, Limits, ListField,
    ListShape, Pointer, Profile, ResponseMapping, StatsEndpoint, StatsMapping,
    DEFAULT_API_KEY_HEADER, DEFAULT_PUBLISH_API_METHOD, DEFAULT_STATS_API_METHOD, XHS_SIGN_VERSION,
};

use conn_core::env::EnvVarDoc;

macro_rules! env_vars {
    ($( ($p:literal, $publish:literal, $stats:literal, $stats_method:literal) ),* $(,)?) => {
        &[
            EnvVarDoc::new(
                "CONTENT_PROFILES",
                "",
                "Comma-separated names of custom content profiles of the generic shape, configured by <NAME>_* variables.",
            ),
            EnvVarDoc::new(
                "CONTENT_PROFILES_FILE",
                "",
                "Path of a JSON file of content profile definitions (merge patches over built-in or generic profiles).",
            ),
            $(
                EnvVarDoc::new(
                    concat!($p, "_BASE_URL"),
                    "",
                    "Base URL of a publishing endpoint you have access to; no default (the platform documents no publishing API).",
                ),
                EnvVarDoc::new(
                    concat!($p, "_AUTH"),
                    "",
                    "Auth scheme: bearer | api_key | xhs_sign | none; empty: inferred from the credentials set.",
                ),
                EnvVarDoc::secret(
                    concat!($p, "_ACCESS_TOKEN"),
                    "Bearer access token (also the accessToken of xhs_sign signing).",
                ),
                EnvVarDoc::secret(concat!($p, "_API_KEY"), "API key for api_key auth."),
                EnvVarDoc::new(
                    concat!($p, "_API_KEY_HEADER"),
                    "X-API-Key",
                    "Header carrying the API key.",
                ),
                EnvVarDoc::new(
                    concat!($p, "_APP_ID"),
                    "",
                    "Xiaohongshu open-platform appId for xhs_sign request signing.",
                ),
                EnvVarDoc::secret(
                    concat!($p, "_APP_SECRET"),
                    "Xiaohongshu open-platform appSecret for xhs_sign request signing.",
                ),
                EnvVarDoc::new(concat!($p, "_PUBLISH_PATH"), $publish, "Publish path, appended to the base URL."),
                EnvVarDoc::new(
                    concat!($p, "_STATS_PATH"),
                    $stats,
                    "Stats path; {id} is replaced by the content id.",
                ),
                EnvVarDoc::new(concat!($p, "_STATS_METHOD"), $stats_method, "Stats HTTP method: GET or POST."),
                EnvVarDoc::new(
                    concat!($p, "_IDEMPOTENCY_HEADER"),
                    "",
                    "Header for a per-publish idempotency key, if the endpoint honours one (makes publish retryable).",
                ),
            )*
            EnvVarDoc::new(
                "TOUTIAO_CLIENT_KEY",
                "",
                "Toutiao OAuth client_key (open.snssdk.com), for toutiao::ToutiaoOAuth.",
            ),
            EnvVarDoc::secret(
                "TOUTIAO_CLIENT_SECRET",
                "Toutiao OAuth client_secret, sent only in the code exchange.",
            ),
            EnvVarDoc::new(
                "TOUTIAO_OAUTH_URL",
                "https://open.snssdk.com",
                "Toutiao OAuth host.",
            ),
            EnvVarDoc::new(
                "TOUTIAO_OAUTH_REQUEST_STYLE",
                "post_form",
                "How Toutiao token requests carry their parameters: post_form | get_query (sources disagree).",
            ),
        ]
    };
}

/// Every environment variable this crate reads for the built-in profiles, plus the custom
/// profile variables. A custom profile `name` reads the same `NAME_*` variables. conn-core's
/// `API_TIMEOUT` and retry variables apply too (listed in [`conn_core::env::ENV_VARS`]).
pub const ENV_VARS: &[EnvVarDoc] = env_vars![
    ("XIAOHONGSHU", "/note/publish", "/note/stats", "POST"),
    ("ZHIHU", "/articles", "/articles/{id}/stats", "GET"),
    ("TOUTIAO", "/article/create/", "/article/stats/", "GET"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_list_the_originals_and_match_the_builtins() {
        let names: Vec<&str> = ENV_VARS.iter().map(|v| v.name).collect();
        for v in [
            "XIAOHONGSHU_ACCESS_TOKEN",
            "ZHIHU_ACCESS_TOKEN",
            "TOUTIAO_ACCESS_TOKEN",
            "XIAOHONGSHU_APP_ID",
            "XIAOHONGSHU_APP_SECRET",
            "XIAOHONGSHU_BASE_URL",
            "CONTENT_PROFILES",
            "CONTENT_PROFILES_FILE",
        ] {
            assert!(names.contains(&v), "{v}");
        }
        for b in Builtin::ALL {
            let p = b.profile();
            let doc = |s: &str| {
                ENV_VARS
                    .iter()
                    .find(|d| d.name == p.env_var(s))
                    .unwrap()
                    .default
            };
            assert_eq!(doc("PUBLISH_PATH"), p.publish.path);
            assert_eq!(doc("STATS_PATH"), p.stats.path);
            assert_eq!(doc("STATS_METHOD"), p.stats.method.to_string());
            assert_eq!(doc("BASE_URL"), "");
        }
        for d in ENV_VARS {
            let secret = d.name.ends_with("_TOKEN")
                || d.name.ends_with("_SECRET")
                || d.name.ends_with("_API_KEY");
            assert_eq!(d.secret, secret, "{}", d.name);
        }
    }
}
