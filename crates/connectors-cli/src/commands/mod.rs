//! One module per subcommand; [`run`] dispatches.

pub mod call;
pub mod content;
pub mod creds;
pub mod demo;
pub mod douyin;
pub mod erp;
pub mod journal;
pub mod sandbox;
pub mod ths;
pub mod webhook;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::exit::{self, CliError, CliResult};

/// Runs a command.
pub async fn run(ctx: &Ctx, command: Command) -> CliResult {
    match command {
        Command::Creds(c) => creds::run(ctx, c).await,
        Command::Douyin(c) => douyin::run(ctx, c).await,
        Command::Ths(c) => ths::run(ctx, c).await,
        Command::Erp(c) => erp::run(ctx, c).await,
        Command::Content(c) => content::run(ctx, c).await,
        Command::Call(a) => call::run(ctx, a).await,
        Command::Webhook(c) => webhook::run(ctx, c).await,
        Command::Sandbox(a) => sandbox::run(ctx, a).await,
        Command::Demo(a) => demo::run(ctx, a).await,
        Command::Journal(c) => journal::run(ctx, c).await,
        Command::EnvExample => {
            let text = connectors::env_example();
            crate::output::print_stdout(text.strip_suffix('\n').unwrap_or(&text));
            Ok(())
        }
    }
}

/// Parses a JSON argument, naming the option on failure.
pub fn parse_json(option: &str, text: &str) -> CliResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        CliError::from(connectors::core::Error::validation(
            option,
            format!("must be JSON ({e})"),
        ))
    })
}

/// Reads a secret from stdin when it is not a terminal, else from a prompt without echo.
/// Never from argv. The trailing newline is removed; an empty value is refused.
pub fn read_secret(prompt: &str, field: &str) -> CliResult<connectors::core::secret::Secret> {
    use std::io::{IsTerminal, Read};
    let text = if std::io::stdin().is_terminal() {
        let term = console::Term::stderr();
        term.write_str(prompt)
            .and_then(|()| term.read_secure_line())
            .map_err(|e| {
                CliError::new(
                    exit::OTHER,
                    format!("could not read from the terminal: {e}"),
                )
            })?
    } else {
        let mut s = String::new();
        std::io::stdin()
            .take(64 * 1024 + 1)
            .read_to_string(&mut s)
            .map_err(|e| CliError::new(exit::OTHER, format!("could not read stdin: {e}")))?;
        s
    };
    let value = text.trim_end_matches(['\r', '\n']).to_owned();
    if value.trim().is_empty() {
        return Err(connectors::core::Error::validation(
            field,
            "must not be empty (give it on stdin or at the prompt)",
        )
        .into());
    }
    Ok(connectors::core::secret::Secret::new(value))
}

/// A size such as `5MiB`, `20MB`, `512KiB` or `5242880`.
pub fn parse_size(option: &str, s: &str) -> CliResult<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1000 * 1000,
        "mib" => 1024 * 1024,
        "g" | "gb" => 1000 * 1000 * 1000,
        "gib" => 1024 * 1024 * 1024,
        _ => 0,
    };
    num.parse::<u64>()
        .ok()
        .filter(|_| mult > 0)
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| {
            connectors::core::Error::validation(
                option,
                format!("a size such as 5MiB, 20MB or 5242880 (got {s:?})"),
            )
            .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("s", "5MiB").unwrap(), 5 * 1024 * 1024);
        assert_eq!(parse_size("s", "20 MB").unwrap(), 20_000_000);
        assert_eq!(parse_size("s", "17").unwrap(), 17);
        let e = parse_size("--part-size", "5 parsecs").unwrap_err();
        assert!(e.to_string().contains("--part-size"), "{e}");
        assert!(parse_size("s", "MiB").is_err());
    }

    #[test]
    fn json_errors_name_the_option() {
        let e = parse_json("--data", "{nope").unwrap_err();
        assert_eq!(e.exit_code(), exit::INVALID_INPUT);
        assert!(e.to_string().contains("--data"));
    }
}
