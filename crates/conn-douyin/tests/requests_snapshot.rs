//! Pins every request the client sends (method, path, query, headers, body; secrets redacted)
//! with insta snapshots, from a full flow against the fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use conn_core::token::MemoryTokenStore;
use conn_douyin::fake::{FakeDouyin, Op, RecordedRequest};
use conn_douyin::AuthorizeRequest;
use conn_douyin::{Anchor, Client, Cover, ImagePost, ImageSource, Privacy, VideoPost, VideoSource};
use futures::TryStreamExt;

use common::MIB;

fn first(recorded: &[RecordedRequest], op: Op) -> RecordedRequest {
    recorded
        .iter()
        .find(|r| r.op == op)
        .unwrap_or_else(|| panic!("no {op:?} request recorded"))
        .redacted()
}

#[tokio::test]
async fn every_request_matches_its_snapshot() {
    let fake = FakeDouyin::start().await;
    let store = MemoryTokenStore::new();
    let client = Client::builder(fake.config())
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();

    // OAuth: the user follows the authorization URL; the fake approves at once.
    let auth = client
        .authorize_url_with(
            &AuthorizeRequest::new([
                "user_info",
                "video.create.bind",
                "video.list.bind",
                "video.data.bind",
            ])
            .optional_scope("video.data.bind", true)
            .state("snapshot-state-0123456789"),
        )
        .unwrap();
    let user = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let resp = user.get(auth.url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    assert!(location
        .query_pairs()
        .any(|(k, v)| k == "state" && v == auth.state));

    let account = client.exchange_code(&code).await.unwrap();
    let open_id = account.open_id;
    client.refresh(&open_id).await.unwrap();
    client.renew_refresh_token(&open_id).await.unwrap();
    client.client_token().await.unwrap();

    // A single upload and a create with every field.
    let post = VideoPost::new("快照标题")
        .description("#话题 描述 @someone")
        .cover(Cover::Timestamp(2.5))
        .privacy(Privacy::OnlyMe)
        .anchor(Anchor::Poi {
            poi_id: "6601125408577488903".into(),
        })
        .at_users(vec!["_000mentioned".into()])
        .allow_download(false);
    client
        .publish_video(&open_id, VideoSource::bytes(vec![1u8; 4096]), &post)
        .await
        .unwrap();

    // A chunked upload: 11 MiB in parts of 5 MiB.
    let mut cfg = fake.config();
    cfg.upload.single_upload_max = 5 * MIB;
    cfg.upload.part_size = 5 * MIB;
    let small_parts = Client::builder(cfg)
        .token_store(Arc::new(store.clone()))
        .build()
        .unwrap();
    small_parts
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![2u8; (11 * MIB) as usize]),
            &VideoPost::new("分片"),
        )
        .await
        .unwrap();

    // An image post with a mini-app anchor.
    client
        .publish_images(
            &open_id,
            vec![
                ImageSource::bytes(vec![3u8; 100], "a.jpg"),
                ImageSource::bytes(vec![4u8; 200], "b.png"),
            ],
            &ImagePost::new("图文")
                .description("两张图")
                .anchor(Anchor::MicroApp {
                    app_id: "tt123".into(),
                    title: "小程序".into(),
                    url: "pages/index".into(),
                }),
        )
        .await
        .unwrap();

    let items: Vec<_> = client
        .video_list(open_id.clone(), 2)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    let ids: Vec<String> = items.iter().map(|i| i.item_id.clone()).collect();
    client.video_data(&open_id, &ids).await.unwrap();

    let recorded = fake.recorded();
    // The overview: which requests, in which order.
    let overview: Vec<String> = recorded
        .iter()
        .map(|r| {
            let keys: Vec<&str> = r.query.iter().map(|(k, _)| k.as_str()).collect();
            format!("{} {} [{}]", r.method, r.path, keys.join(","))
        })
        .collect();
    insta::assert_json_snapshot!("overview", overview);

    // The authorization page is requested by the user's browser: its URL is ours, its
    // headers are not.
    let mut authorize = first(&recorded, Op::Authorize);
    authorize.headers.clear();
    insta::assert_json_snapshot!("authorize", authorize);
    for (name, op) in [
        ("access_token", Op::AccessToken),
        ("refresh_token", Op::RefreshToken),
        ("renew_refresh_token", Op::RenewRefreshToken),
        ("client_token", Op::ClientToken),
        ("upload_video", Op::UploadVideo),
        ("init_video_part_upload", Op::InitVideoPartUpload),
        ("upload_video_part", Op::UploadVideoPart),
        ("complete_video_part_upload", Op::CompleteVideoPartUpload),
        ("create_video", Op::CreateVideo),
        ("upload_image", Op::UploadImage),
        ("create_image_text", Op::CreateImageText),
        ("video_list", Op::VideoList),
        ("video_data", Op::VideoData),
    ] {
        insta::assert_json_snapshot!(name, first(&recorded, op));
    }

    // The redaction covered every secret.
    let text = serde_json::to_string(
        &recorded
            .iter()
            .map(RecordedRequest::redacted)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(!text.contains(fake.client_secret().expose_secret()));
    assert!(!text.contains("act.") && !text.contains("rft.") && !text.contains(&code));
}
