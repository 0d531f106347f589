//! `connectors sandbox`: every fake on 127.0.0.1 and the `export` lines that point the library
//! and this tool at them, until Ctrl-C (or `--for SECONDS`); with `--redis`, a private
//! redis-server too, for trying several workers that share state.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::cli::SandboxArgs;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::sandbox::{export_line, Sandbox, Seed};
use connectors::redis::server::{server_available, LocalRedis, Persistence};
use connectors::redis::ENCRYPTION_KEY_VAR;

/// The last line printed once the fakes are up (scripts wait for it).
pub const READY: &str = "# sandbox ready; Ctrl-C stops it";

/// Runs `sandbox`.
pub async fn run(ctx: &Ctx, a: SandboxArgs) -> CliResult {
    let sb = Sandbox::start(&Seed::from_env()).await?;
    let mut vars = sb.env_vars();
    let redis = match a.redis {
        true => Some(start_redis(&mut vars)?),
        false => None,
    };
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
    drop(redis); // kills only the redis-server started above
    Ok(())
}

/// A private redis-server beside the fakes, and the variables that point every process at it
/// (with a generated token key unless one is set: tokens in Redis are always encrypted).
fn start_redis(vars: &mut Vec<(String, String)>) -> CliResult<LocalRedis> {
    use crate::exit::{CliError, CONFIG, OTHER};
    if !server_available() {
        return Err(CliError::new(
            CONFIG,
            "--redis needs redis-server on PATH (apt-get install -y redis-server)",
        ));
    }
    let server = LocalRedis::start(Persistence::None)
        .map_err(|e| CliError::new(OTHER, format!("could not start redis-server: {e}")))?;
    vars.push(("REDIS_URL".to_owned(), server.url()));
    if std::env::var_os(ENCRYPTION_KEY_VAR).is_none() {
        let key = connectors::creds::EncryptionKey::generate()?;
        vars.push((ENCRYPTION_KEY_VAR.to_owned(), key.to_base64().to_string()));
    }
    Ok(server)
}
