//! `connectors`: the command-line tool of the connectors workspace. See `connectors --help`.

mod cli;
mod commands;
mod ctx;
mod exit;
mod httpd;
mod known;
mod output;
mod sandbox;

use std::process::ExitCode;

use clap::Parser;
use connectors::core::env::Env;

use crate::cli::Cli;
use crate::ctx::Ctx;
use crate::exit::CliError;
use crate::output::Output;

fn main() -> ExitCode {
    // Usage errors exit with clap's own code 2.
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let ctx = Ctx {
        out: Output { json: cli.json },
        store_dir: cli.store_dir.clone(),
        env: Env::process(),
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(exit::OTHER, format!("cannot start the async runtime: {e}")))
        .and_then(|rt| rt.block_on(commands::run(&ctx, cli.command)));
    match result {
        // Also when stdout was closed early (`connectors demo | head -3`): quiet, like `ls`.
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            ctx.out.error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Tracing to stderr: `-v` info, `-vv` debug, `-vvv` trace; without `-v`, `RUST_LOG`, else
/// warnings only. Logs carry no secrets (every secret is a redacting type).
fn init_tracing(verbose: u8) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = match verbose {
        0 => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
