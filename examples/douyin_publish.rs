//! Publish a video on Douyin: authorize an account, upload a file with a progress callback,
//! publish it, read its statistics. Against the sandbox's Douyin fake:
//!
//! ```sh
//! cargo run -p connectors-examples --example douyin_publish
//! ```
//!
//! With a real app, the code comes from the redirect after the user approved
//! (`connectors douyin login` does all of it and stores the tokens).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use connectors::douyin::{UploadProgress, VideoPost, VideoSource};
use connectors::sandbox::{Sandbox, Seed};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            connectors_examples::report(&e);
            ExitCode::FAILURE
        }
    }
}

async fn run() -> connectors::core::Result<()> {
    let sandbox = Sandbox::start(&Seed::default()).await?;
    let registry = connectors_examples::registry(&sandbox)?;
    let douyin = registry.require_douyin()?;

    // What the user's approval in the browser produces; the client exchanges it for tokens
    // and refreshes them by itself from then on.
    let code = sandbox.douyin.issue_code(
        sandbox.douyin.open_id(),
        &["user_info", "video.create.bind", "video.data.bind"],
    );
    let account = douyin.exchange_code(&code).await?;
    println!("authorized account {}", account.open_id);

    // A file on disk: it is streamed, not read into memory first.
    let dir = tempfile::tempdir()
        .map_err(|e| connectors::core::Error::io("create a temporary directory", None, e))?;
    let path = dir.path().join("clip.mp4");
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    video.resize(3 * 1024 * 1024, 7);
    std::fs::write(&path, &video)
        .map_err(|e| connectors::core::Error::io("write the video", Some(&path), e))?;

    let sent = Arc::new(AtomicU64::new(0));
    let progress = {
        let sent = sent.clone();
        move |p: UploadProgress| {
            sent.store(p.uploaded, Ordering::Relaxed);
        }
    };
    let post = VideoPost::new("第一条视频").description("#开箱 来看看");
    let published = douyin
        .publish_video_with_progress(&account.open_id, VideoSource::path(&path), &post, &progress)
        .await?;
    println!(
        "published item {} ({} bytes uploaded)",
        published.item_id,
        sent.load(Ordering::Relaxed)
    );

    let data = douyin
        .video_data(&account.open_id, std::slice::from_ref(&published.item_id))
        .await?;
    for item in data {
        println!(
            "{}: {} plays, {} likes",
            item.item_id, item.statistics.play_count, item.statistics.digg_count
        );
    }
    Ok(())
}
