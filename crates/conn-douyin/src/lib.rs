//! # conn-douyin
//!
//! The Douyin Open Platform connector: OAuth for several accounts at once, publishing videos
//! (with bounded-memory chunked upload) and image posts, reading videos and their data, and
//! verified webhooks. It speaks the platform's real protocol (paths, form vs JSON bodies, both
//! envelope shapes, the error-code table, the webhook signature) and ships a stateful fake of
//! the platform behind the `fake` feature.
//!
//! ## Quick start
//!
//! ```
//! # #[cfg(not(feature = "fake"))] fn main() {}
//! # #[cfg(feature = "fake")] fn main() {
//! use conn_douyin::fake::FakeDouyin;
//! use conn_douyin::{Client, ImagePost, ImageSource, VideoPost, VideoSource};
//! use futures::TryStreamExt;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // A fake platform on 127.0.0.1 (feature `fake`); with the real one, use Config::from_env().
//! let fake = FakeDouyin::start().await;
//! let client = Client::new(fake.config())?;
//!
//! // OAuth: send the user to the URL; the redirect brings back `code` and `state`.
//! let auth = client.authorize_url(&["user_info", "video.create.bind", "video.list.bind"], None)?;
//! let code = fake.issue_code("_000user", &["video.create.bind", "video.list.bind"]);
//! let account = client.exchange_code(&code).await?;
//!
//! // Publish: a file path, a byte stream or an uploaded video_id.
//! let post = VideoPost::new("第一条视频").description("#开箱 来看看");
//! let published = client.publish_video(&account.open_id, VideoSource::bytes(vec![0u8; 1024]), &post).await?;
//! client
//!     .publish_images(&account.open_id, vec![ImageSource::bytes(vec![1u8; 64], "a.jpg")], &ImagePost::new("图文"))
//!     .await?;
//!
//! // Read back.
//! let items: Vec<_> = client.video_list(account.open_id.clone(), 10).try_collect().await?;
//! assert!(items.iter().any(|i| i.item_id == published.item_id));
//! # let _ = auth;
//! # Ok::<(), conn_core::Error>(())
//! # }).unwrap();
//! # }
//! ```
//!
//! ## Layout
//!
//! Every type has one public path: the crate root. The modules behind it are private; three
//! public modules remain where a namespace helps:
//!
//! | public module | holds |
//! |---|---|
//! | [`endpoint`] | the wire hosts, paths and the token header (for benches and mock servers) |
//! | [`webhook`] | Douyin's signature scheme: [`webhook::signature`], [`webhook::verifier`], [`webhook::parse_event`], [`webhook::status_for`], the header names |
//! | `fake` | `FakeDouyin` and its fault model (feature `fake`) |
//!
//! At the root: [`Client`] and its operations (OAuth, uploads, `publish_*`, `create_*`,
//! `video_list`, `video_data`), [`Config`] with [`UploadSettings`] and [`Limits`] (whose
//! [`Limits::check_video_post`] and [`Limits::check_image_post`] are the checks made before any
//! request), the post and upload models ([`VideoPost`], [`ImagePost`], [`VideoSource`],
//! [`ImageSource`], [`Published`], …), [`Journaled`] for exactly-once creates, the error-code
//! table ([`CODE_TABLE`], [`douyin_code`], [`decode_error`]) and the webhook types
//! ([`WebhookHandler`], [`Event`], …).
//!
//! Inside, the post types and [`Limits`] live in a leaf module that imports nothing else of the
//! crate, so validation, configuration and publishing depend on it and not on each other. Each
//! public operation checks its input once and passes a crate-private proof of it to the
//! internal steps (upload, create), which check nothing again.
//!
//! ## Accounts and tokens
//!
//! Each authorized account is keyed by its `open_id` and has its own conn-core `TokenManager`:
//! tokens persist through the [`TokenStore`](conn_core::token::TokenStore) given to
//! [`ClientBuilder::token_store`], refresh 5 minutes before expiry, one refresh at a time however
//! many calls wait, and a token-expired answer is refreshed once and replayed once. A dead
//! refresh token (10010) or the renewal limit (10020, on the renewal endpoint only; elsewhere
//! 10020 is rate limiting) is an error for which
//! `is_reauth_required()` holds, and that account's stored tokens are removed. A fixed
//! `DOUYIN_ACCESS_TOKEN` is used as is; when the platform rejects it, the error says it cannot be
//! refreshed. The app's client token is cached and fetched once at a time too.
//!
//! ## Where the sources disagree (⚠)
//!
//! - **Refresh and the refresh token.** Whether `/oauth/refresh_token/` returns a new
//!   `refresh_token` is not settled: this crate stores whatever comes back and keeps the previous
//!   one when nothing does. Renewal (`/oauth/renew_refresh_token/`) certainly kills the old one;
//!   the renewed token is persisted before the follow-up refresh, and a renewal is never
//!   replayed blindly after a timeout.
//! - **30 images.** The platform's limit of 30 images per post comes from a single source; the
//!   default limit follows the original system (9) and is configurable in [`Limits`]
//!   ([`PLATFORM_MAX_IMAGES`]). The 55/2000-character title/description limits are
//!   likewise the original system's rules (the platform publishes none), counted in characters.
//! - **Page and batch sizes** of `video_list`/`video_data` (20) are configurable defaults.
//!
//! ## Retry safety
//!
//! Uploads and token fetches are idempotent and retried on timeouts and 5xx. `create_video` and
//! `create_image_text` are never replayed once they may have reached the platform: a timeout
//! there is [`conn_core::Error::OutcomeUnknown`] with `open_id` and `video_id` in its context.
//! Connect errors, 429 and the busy/too-frequent codes are retried for every operation.
//! [`Client::journaled`] makes creates safe to call again under a caller-chosen key
//! ([`Journaled`]): the same keyed call after a crash or an unknown outcome reconciles through
//! `video_list` instead of publishing twice.

// On docs.rs, feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod config;
mod connector;
mod envelope;
mod keyed;
mod models;
mod oauth;
mod publish;
mod tokens;
mod upload;
mod validate;
mod videos;

pub mod endpoint;
pub mod webhook;

#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;

pub use client::{AccountInfo, Client, ClientBuilder};
pub use config::{
    Config, ConfigBuilder, UploadSettings, DEFAULT_AUTO_RENEW_BEFORE, KNOWN_SCOPES,
    MAX_SINGLE_UPLOAD, MIN_PART_SIZE,
};
pub use envelope::{code_info, decode_error, douyin_code, CodeInfo, DouyinCode, CODE_TABLE};
pub use keyed::{Journaled, ReconcileWindow, CREATE_IMAGE_TEXT_OP, CREATE_VIDEO_OP};
pub use models::{
    wire_text, Anchor, Cover, ImagePost, ImageSource, Limits, Privacy, ProgressFn, Published,
    UploadProgress, UploadedImage, UploadedVideo, VideoPost, VideoSource, PLATFORM_MAX_IMAGES,
};
pub use oauth::{AuthorizeRequest, AuthorizeUrl};
pub use tokens::CLIENT_TOKEN_ACCOUNT;
pub use videos::{Statistics, VideoItem, VideoPage, MAX_PAGES};
pub use webhook::event::{Event, EventPayload};
pub use webhook::handler::{WebhookHandler, WebhookReply, WebhookResponse};

use conn_core::env::EnvVarDoc;

/// The platform name used in errors, counters and token keys.
pub const PLATFORM: &str = "douyin";

/// Every environment variable this crate reads (besides conn-core's `API_*`).
pub const ENV_VARS: &[EnvVarDoc] = &[
    EnvVarDoc::new(
        "DOUYIN_CLIENT_KEY",
        "",
        "Douyin app client key (alias: DOUYIN_APP_ID; both set to different values is an error).",
    ),
    EnvVarDoc::secret(
        "DOUYIN_CLIENT_SECRET",
        "Douyin app client secret; also verifies webhooks (alias: DOUYIN_APP_SECRET).",
    ),
    EnvVarDoc::new(
        "DOUYIN_APP_ID",
        "",
        "Original name of DOUYIN_CLIENT_KEY, still accepted.",
    ),
    EnvVarDoc::secret(
        "DOUYIN_APP_SECRET",
        "Original name of DOUYIN_CLIENT_SECRET, still accepted.",
    ),
    EnvVarDoc::secret(
        "DOUYIN_CLIENT_SECRET_PREVIOUS",
        "Previous client secret, still accepted on webhooks during a rotation.",
    ),
    EnvVarDoc::secret(
        "DOUYIN_ACCESS_TOKEN",
        "Fixed user access token (never refreshed; OAuth tokens are used when unset).",
    ),
    EnvVarDoc::new(
        "DOUYIN_OPEN_ID",
        "",
        "Default account (open_id) for calls that name none, e.g. the fixed token's owner.",
    ),
    EnvVarDoc::new(
        "DOUYIN_BASE_URL",
        endpoint::DEFAULT_BASE_URL,
        "Douyin Open Platform base URL (sandbox: https://open-sandbox.douyin.com).",
    ),
    EnvVarDoc::new(
        "DOUYIN_REDIRECT_URI",
        "",
        "OAuth redirect URI: https (http only for 127.0.0.1/localhost), no query.",
    ),
];

#[cfg(test)]
mod send_tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The futures a CLI spawns on a multi-threaded runtime must be `Send`.
    #[test]
    fn operation_futures_are_send() {
        let client = Client::new(
            Config::builder()
                .access_token("t")
                .base_url("http://127.0.0.1:9")
                .build()
                .unwrap(),
        )
        .unwrap();
        let post = VideoPost::new("t");
        let progress = |_: UploadProgress| {};
        assert_send(&client.publish_video("o", VideoSource::path("x"), &post));
        assert_send(&client.publish_video_with_progress(
            "o",
            VideoSource::reader(tokio::io::empty(), None),
            &post,
            &progress,
        ));
        assert_send(&client.publish_images("o", vec![], &ImagePost::new("t")));
        assert_send(&client.exchange_code("c"));
        assert_send(&client.refresh("o"));
        assert_send(&client.renew_refresh_token("o"));
        assert_send(&client.client_token());
        assert_send(&client.video_data("o", &[]));
        assert_send(&client.video_list("o", 10));
        let handler = WebhookHandler::new([conn_core::secret::Secret::new("s")]);
        let headers = http::HeaderMap::new();
        assert_send(&handler.handle(&headers, b""));
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<Client>();
        assert_sync::<WebhookHandler>();
    }
}
