//! `connectors sandbox`: every fake on 127.0.0.1 and the `export` lines that point the library
//! and this tool at them, until Ctrl-C (or `--for SECONDS`).

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::cli::SandboxArgs;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::sandbox::{export_line, Sandbox, Seed};

/// The last line printed once the fakes are up (scripts wait for it).
pub const READY: &str = "# sandbox ready; Ctrl-C stops it";

/// Runs `sandbox`.
pub async fn run(ctx: &Ctx, a: SandboxArgs) -> CliResult {
    let sb = Sandbox::start(&Seed::from_env()).await?;
    let vars = sb.env_vars();
    if ctx.out.json {
        let m: Map<String, Value> = vars.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        println!("{}", json!({"env": m, "ready": true}));
    } else {
        println!("# Fakes of Douyin, iFinD, an ERP, Xiaohongshu, Zhihu and Toutiao on 127.0.0.1.");
        println!("# Paste these lines into a shell; then try `connectors douyin login`, `connectors ths quote 600519.SH`, …");
        for (k, v) in &vars {
            println!("{}", export_line(k, v));
        }
        println!("{READY}");
    }
    match a.for_secs {
        Some(s) => {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(s)) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    drop(sb);
    Ok(())
}
