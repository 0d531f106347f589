//! `connectors content publish|stats` through a content profile.

use connectors::content::{Content, ContentStats};
use connectors::core::Error;
use serde_json::json;

use crate::cli::ContentCmd;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::pairs;

/// Runs a `content` subcommand.
pub async fn run(ctx: &Ctx, cmd: ContentCmd) -> CliResult {
    match cmd {
        ContentCmd::Publish {
            platform,
            title,
            body,
            body_file,
            images,
            tags,
            key,
        } => {
            let body = match (body, body_file) {
                (Some(b), _) => b,
                (None, Some(path)) => std::fs::read_to_string(&path).map_err(|e| {
                    Error::validation(
                        "--body-file",
                        format!("a readable UTF-8 file ({}: {e})", path.display()),
                    )
                })?,
                (None, None) => {
                    return Err(Error::validation("--body", "required (or --body-file)").into())
                }
            };
            let built = ctx.build(&[platform.as_str()], false, None)?;
            let client = built.reg.require_content(&platform)?;
            let post = Content::new(title, body)
                .with_images(images)
                .with_tags(tags);
            if let Some(key) = key {
                let key = super::journal::key(&key)?;
                let journal = super::journal::open(ctx)?;
                let done = client.publish_once(&journal, &key, &post).await?;
                super::journal::emit_completed(ctx, &done);
                return Ok(());
            }
            let p = client.publish(&post).await?;
            ctx.out.emit(
                &json!({"id": p.id, "profile": p.profile, "idempotency_key": p.idempotency_key}),
                || {
                    format!(
                        "✔ published to {}\n{}",
                        p.profile,
                        pairs(&[
                            ("id", p.id.clone()),
                            (
                                "idempotency key",
                                p.idempotency_key.clone().unwrap_or_else(|| "-".into())
                            ),
                        ])
                    )
                },
            );
        }
        ContentCmd::Stats { platform, id } => {
            let built = ctx.build(&[platform.as_str()], false, None)?;
            let client = built.reg.require_content(&platform)?;
            let s = client.stats(&id).await?;
            ctx.out.emit(&json!({"stats": s}), || stats_text(&s));
        }
    }
    Ok(())
}

fn stats_text(s: &ContentStats) -> String {
    let n = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    pairs(&[
        ("id", s.content_id.clone()),
        ("views", n(s.views)),
        ("likes", n(s.likes)),
        ("comments", n(s.comments)),
        ("shares", n(s.shares)),
        ("favorites", n(s.favorites)),
    ])
}
