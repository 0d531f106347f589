//! Publish on the content platforms (Xiaohongshu, Zhihu, Toutiao) through one client type,
//! each with its own profile of paths, auth and envelope; read the post's counters. Against
//! the sandbox's fakes:
//!
//! ```sh
//! cargo run -p connectors-examples --example content_publish
//! ```

use std::process::ExitCode;

use connectors::content::{Content, ContentStats};
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

    let post = Content::new("平台连接器的重试策略", "什么时候重试，什么时候绝不重试……")
        .with_images(["https://img.example.com/cover.jpg"])
        .with_tags(["Rust"]);
    for platform in ["xiaohongshu", "zhihu", "toutiao"] {
        let client = registry.require_content(platform)?;
        let published = client.publish(&post).await?;
        let stats = client.stats(&published.id).await?;
        println!(
            "{platform}: published {} ({})",
            published.id,
            counters(&stats)
        );
    }
    Ok(())
}

/// The counters the profile maps; a platform that does not report one leaves it out.
fn counters(s: &ContentStats) -> String {
    let all = [
        (s.views, "views"),
        (s.likes, "likes"),
        (s.comments, "comments"),
    ];
    let shown: Vec<String> = all
        .iter()
        .filter_map(|(v, name)| v.map(|v| format!("{v} {name}")))
        .collect();
    if shown.is_empty() {
        "no counters".to_owned()
    } else {
        shown.join(", ")
    }
}
