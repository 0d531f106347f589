//! Project automation, in the cargo-xtask style: `cargo xtask <command>`
//! (the alias lives in `.cargo/config.toml`). Plain Rust with two small
//! dependencies (`toml` for manifests, `serde_json` for cargo's messages), so
//! it builds in seconds and works on any CI machine that has cargo.

mod ci;
mod cmd;
mod env_example;
mod examples;
mod manifest;
mod msrv;
mod redis;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cmd::Cargo;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Dispatches on the first argument; anything unknown prints the usage text
/// and fails, so a typo in CI cannot pass silently.
fn run(args: &[String]) -> Result<(), String> {
    let root = workspace_root()?;
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            print!("{}", usage());
            return Ok(());
        }
    };
    match command {
        "ci" => ci::run(&root, &parse_skip(rest)?),
        "env-example" => {
            no_arguments(command, rest)?;
            env_example::regenerate(&root)
        }
        "bench" => bench(&root, rest),
        "help" | "-h" | "--help" => {
            print!("{}", usage());
            Ok(())
        }
        other => {
            eprint!("{}", usage());
            Err(format!("unknown command `{other}`"))
        }
    }
}

/// xtask lives at `<root>/xtask`, so the workspace root is the parent of its
/// manifest directory, wherever cargo was invoked from.
fn workspace_root() -> Result<PathBuf, String> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| "xtask's manifest directory has no parent".to_owned())
}

/// Parses `--skip STEP[,STEP]` (or `--skip=...`, repeatable) for local
/// iteration. Unknown step names are errors, not silently ignored.
fn parse_skip(args: &[String]) -> Result<BTreeSet<ci::Step>, String> {
    let mut skip = BTreeSet::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let list = if arg == "--skip" {
            args.next()
                .ok_or_else(|| "`--skip` needs a list of steps, e.g. `--skip test,doc`".to_owned())?
                .as_str()
        } else if let Some(list) = arg.strip_prefix("--skip=") {
            list
        } else {
            return Err(format!(
                "unexpected argument `{arg}` to `ci`\n\n{}",
                usage()
            ));
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let step = ci::Step::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = ci::STEPS.iter().map(|s| s.name()).collect();
                format!("unknown step `{name}`; steps are {}", names.join(", "))
            })?;
            skip.insert(step);
        }
    }
    Ok(skip)
}

fn no_arguments(command: &str, rest: &[String]) -> Result<(), String> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!("`{command}` takes no arguments (got `{arg}`)")),
    }
}

/// `cargo xtask bench [ARGS...]` → `cargo bench --workspace --all-features -- ARGS...`.
///
/// Every crate keeps its benchmarks in `benches/` as plain `harness = false` binaries that
/// print their figures (loopback servers, ratios measured in one run), so one cargo command
/// runs them all; ARGS go to each bench binary. `cargo xtask bench -p conn-core` style
/// selection: pass `--package NAME` before `--`, e.g. `cargo xtask bench --package conn-ths`.
fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--check") {
        return Cargo::new(bench_check_args(args)?).run(root);
    }
    let mut full = vec!["bench".to_owned()];
    let mut rest = args.iter();
    let mut selected = false;
    let mut passthrough = Vec::new();
    while let Some(a) = rest.next() {
        if a == "--package" || a == "-p" {
            let name = rest
                .next()
                .ok_or_else(|| format!("`{a}` needs a package name"))?;
            full.push("-p".to_owned());
            full.push(name.clone());
            selected = true;
        } else {
            passthrough.push(a.clone());
        }
    }
    if !selected {
        full.push("--workspace".to_owned());
    }
    full.push("--all-features".to_owned());
    full.push("--".to_owned());
    full.extend(passthrough);
    Cargo::new(full).run(root)
}

/// `cargo xtask bench --check`: only the client-level benchmark, which fails when a ratio
/// falls under its target. Not a CI step: the figures need a quiet machine.
fn bench_check_args(args: &[String]) -> Result<Vec<String>, String> {
    if let Some(other) = args.iter().find(|a| *a != "--check") {
        return Err(format!(
            "`bench --check` takes no other arguments (got `{other}`); select cases with BENCH_CASES=a,b"
        ));
    }
    Ok([
        "bench",
        "-p",
        "conn-bench",
        "--bench",
        "client",
        "--",
        "--check",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect())
}

fn usage() -> String {
    let mut text = String::from(
        "Usage: cargo xtask <command>\n\
         \n\
         Commands:\n\
         \x20 ci [--skip STEP[,STEP]]  run every check CI runs (`.ci/run` calls exactly this)\n\
         \x20 env-example              regenerate env.example from `connectors env-example`\n\
         \x20 bench [ARGS...]          cargo bench --workspace --all-features -- ARGS...\n\
         \x20 bench --check            the client-level bench; fails when a ratio is under its target\n\
         \x20 help                     show this text\n\
         \n\
         CI steps, in order (names for --skip):\n",
    );
    for step in ci::STEPS {
        text.push_str(&format!("  {:<9} {}\n", step.name(), step.describe()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_skip_lists() {
        let skip = parse_skip(&strings(&["--skip", "test,doc", "--skip=env"])).expect("valid");
        let names: Vec<&str> = skip.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["test", "doc", "env"]);
        assert!(parse_skip(&[]).expect("valid").is_empty());
    }

    #[test]
    fn bench_check_runs_the_client_bench_alone() {
        let args = bench_check_args(&strings(&["--check"])).expect("valid");
        assert_eq!(
            args,
            [
                "bench",
                "-p",
                "conn-bench",
                "--bench",
                "client",
                "--",
                "--check"
            ]
        );
        assert!(bench_check_args(&strings(&["--check", "-p", "conn-core"])).is_err());
    }

    #[test]
    fn rejects_unknown_steps_and_arguments() {
        assert!(parse_skip(&strings(&["--skip", "lint"])).is_err());
        assert!(parse_skip(&strings(&["--skip"])).is_err());
        assert!(parse_skip(&strings(&["--fast"])).is_err());
    }
}
