//! Several Douyin accounts on one client: each account has its own tokens (refreshed on its
//! own, one refresh at a time however many calls wait), and calls for different accounts run
//! concurrently. Against the sandbox's Douyin fake:
//!
//! ```sh
//! cargo run -p connectors-examples --example many_accounts
//! ```

use std::process::ExitCode;

use connectors::douyin::{VideoPost, VideoSource};
use connectors::sandbox::{Sandbox, Seed};
use futures::TryStreamExt;

const SCOPES: &[&str] = &["user_info", "video.create.bind", "video.list.bind"];

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

    // Three users approve the app; each code becomes that account's token set.
    let mut accounts = Vec::new();
    for user in ["_000shop-a", "_000shop-b", "_000shop-c"] {
        let code = sandbox.douyin.issue_code(user, SCOPES);
        accounts.push(douyin.exchange_code(&code).await?.open_id);
    }

    // One post per account, all at once: the client is cheap to clone and shares one
    // connection pool.
    let posts = accounts.iter().map(|open_id| {
        let douyin = douyin.clone();
        async move {
            let post = VideoPost::new(format!("{open_id} 的新品"));
            let video = VideoSource::bytes(vec![0u8; 64 * 1024]);
            douyin.publish_video(open_id, video, &post).await
        }
    });
    let published = futures::future::try_join_all(posts).await?;
    for p in &published {
        println!("{}: published {}", p.open_id, p.item_id);
    }

    for open_id in &accounts {
        let items: Vec<_> = douyin.video_list(open_id.clone(), 10).try_collect().await?;
        println!("{open_id}: {} item(s) listed", items.len());
    }
    Ok(())
}
