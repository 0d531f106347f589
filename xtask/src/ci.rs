//! `cargo xtask ci`: every check CI runs, in order, failing fast.
//!
//! `.ci/run` calls exactly this, so a green local run means a green CI run.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cmd::{elapsed, Cargo};
use crate::{env_example, examples, manifest, msrv};

/// The steps, in the order they run. Cheap, common failures come first.
pub const STEPS: [Step; 10] = [
    Step::Msrv,
    Step::Fmt,
    Step::Clippy,
    Step::Test,
    Step::Doc,
    Step::Rustdoc,
    Step::Examples,
    Step::Features,
    Step::Deny,
    Step::Env,
];

/// One named CI step; the name is what `--skip` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Fmt,
    Clippy,
    Test,
    Doc,
    Rustdoc,
    Examples,
    Features,
    Deny,
    Env,
    Msrv,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Fmt => "fmt",
            Step::Clippy => "clippy",
            Step::Test => "test",
            Step::Doc => "doc",
            Step::Rustdoc => "rustdoc",
            Step::Examples => "examples",
            Step::Msrv => "msrv",
            Step::Features => "features",
            Step::Deny => "deny",
            Step::Env => "env",
        }
    }

    /// One line for the header and the usage text.
    pub fn describe(self) -> &'static str {
        match self {
            Step::Fmt => "formatting (cargo fmt --check)",
            Step::Clippy => "lints (clippy, all targets and features, -D warnings)",
            Step::Test => "tests (cargo nextest if installed, else cargo test)",
            Step::Doc => "doc tests",
            Step::Rustdoc => {
                "documentation builds without a rustdoc warning (cargo doc, -D warnings)"
            }
            Step::Examples => "every example of examples/ builds and runs against the sandbox",
            Step::Msrv => "rust-version, the README's MSRV and the installed rustc agree",
            Step::Features => {
                "each crate alone without default features; one umbrella feature at a time"
            }
            Step::Deny => "licences, bans and sources (cargo deny)",
            Step::Env => "env.example matches the generated content",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        STEPS.into_iter().find(|step| step.name() == name)
    }

    fn run(self, root: &Path) -> Result<(), String> {
        match self {
            Step::Fmt => Cargo::new(["fmt", "--all", "--", "--check"]).run(root),
            Step::Clippy => Cargo::new([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ])
            .run(root),
            Step::Test => tests(root),
            Step::Doc => Cargo::new(["test", "--workspace", "--all-features", "--doc"]).run(root),
            // Broken intra-doc links, unclosed HTML tags in docs, … fail here. `--no-deps`:
            // our docs only; links into dependencies resolve all the same.
            Step::Rustdoc => Cargo::new(["doc", "--workspace", "--all-features", "--no-deps"])
                .env("RUSTDOCFLAGS", "-D warnings")
                .run(root),
            Step::Examples => examples::run(root),
            Step::Msrv => msrv::check(root),
            Step::Features => features(root),
            Step::Deny => deny(root),
            Step::Env => env_example::check(root),
        }
    }
}

/// Runs every step not in `skip`, stopping at the first failure.
pub fn run(root: &Path, skip: &BTreeSet<Step>) -> Result<(), String> {
    let start = Instant::now();
    let mut times: Vec<(Step, Duration)> = Vec::new();
    for step in STEPS {
        if skip.contains(&step) {
            println!("==> {} (skipped)", step.name());
            continue;
        }
        println!("==> {}: {}", step.name(), step.describe());
        let step_start = Instant::now();
        let result = step.run(root);
        let took = step_start.elapsed();
        match result {
            Ok(()) => {
                println!("<== {} ok in {}\n", step.name(), elapsed(took));
                times.push((step, took));
            }
            Err(e) => {
                println!("<== {} FAILED after {}", step.name(), elapsed(took));
                return Err(format!(
                    "ci step `{}` failed: {e}\n(total time {})",
                    step.name(),
                    elapsed(start.elapsed())
                ));
            }
        }
    }
    println!("==> summary");
    for (step, took) in &times {
        println!("    {:<9} {:>8}", step.name(), elapsed(*took));
    }
    if !skip.is_empty() {
        let skipped: Vec<&str> = skip.iter().map(|s| s.name()).collect();
        println!("    skipped: {}", skipped.join(", "));
    }
    println!("ci passed in {}", elapsed(start.elapsed()));
    Ok(())
}

/// Tests through nextest when it is installed (faster, and its summary line is
/// what the harness reads); plain `cargo test` otherwise. Output is passed
/// through untouched either way.
fn tests(root: &Path) -> Result<(), String> {
    crate::redis::ensure_server()?;
    if Cargo::new(["nextest", "--version"]).succeeds_quietly(root) {
        Cargo::new([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ])
        .run(root)
    } else {
        println!("    cargo-nextest not found; using cargo test");
        Cargo::new(["test", "--workspace", "--all-features", "--no-fail-fast"]).run(root)
    }
}

/// The crate every platform crate depends on; it is expected in every tree.
const CORE: &str = "conn-core";
/// Our library crates, for the dependency-tree check of the umbrella.
const OURS: [&str; 7] = [
    CORE,
    "conn-creds",
    "conn-redis",
    "conn-douyin",
    "conn-ths",
    "conn-erp",
    "conn-content",
];
/// The umbrella crate whose features are checked one at a time.
const UMBRELLA: &str = "connectors";

/// Which of our crates an umbrella feature is meant to pull in; `None` means
/// the feature is not a platform switch and its tree is not checked.
fn feature_crate(feature: &str) -> Option<&'static str> {
    match feature {
        "douyin" => Some("conn-douyin"),
        "ths" => Some("conn-ths"),
        "erp" => Some("conn-erp"),
        "content" => Some("conn-content"),
        "creds" => Some("conn-creds"),
        "redis" => Some("conn-redis"),
        _ => None,
    }
}

/// Every crate must build on its own without default features, and each
/// umbrella feature must build alone and pull in only its own platform crate
/// (plus conn-core): that is what lets a Douyin-only user compile nothing of
/// the others.
fn features(root: &Path) -> Result<(), String> {
    let packages = crate_names(root)?;
    if packages.is_empty() {
        return Err("no crates found under crates/*/Cargo.toml".to_owned());
    }
    for name in &packages {
        Cargo::new(["check", "-p", name, "--no-default-features"]).run(root)?;
    }

    if !packages.iter().any(|name| name == UMBRELLA) {
        println!("    no `{UMBRELLA}` crate; umbrella feature checks skipped");
        return Ok(());
    }
    let umbrella = manifest::read(&root.join("crates").join(UMBRELLA).join("Cargo.toml"))?;
    let Some(features) = manifest::feature_names(&umbrella) else {
        println!("    {UMBRELLA} has no [features] table; umbrella feature checks skipped");
        return Ok(());
    };
    for feature in &features {
        let feature = feature.as_str();
        if feature == "default" || feature == "full" {
            continue;
        }
        Cargo::new([
            "check",
            "-p",
            UMBRELLA,
            "--no-default-features",
            "--features",
            feature,
        ])
        .run(root)?;
        match feature_crate(feature) {
            Some(expected) => check_tree(root, feature, expected)?,
            None => println!("    feature `{feature}` names no platform crate; tree check skipped"),
        }
    }
    Ok(())
}

/// Asserts that the normal-dependency tree of the umbrella with only
/// `feature` enabled contains, of our crates, exactly conn-core and `expected`.
fn check_tree(root: &Path, feature: &str, expected: &str) -> Result<(), String> {
    let tree = Cargo::new([
        "tree",
        "-p",
        UMBRELLA,
        "--no-default-features",
        "--features",
        feature,
        "-e",
        "normal",
        "--prefix",
        "none",
    ])
    .stdout(root)?;
    let tree = String::from_utf8_lossy(&tree);
    let found = our_crates_in(&tree);
    let wanted: BTreeSet<&str> = [CORE, expected].into_iter().collect();
    let extra: Vec<&str> = found.difference(&wanted).copied().collect();
    let missing: Vec<&str> = wanted.difference(&found).copied().collect();
    if !extra.is_empty() {
        return Err(format!(
            "feature `{feature}` of {UMBRELLA} pulls in {} (only {} expected)",
            extra.join(", "),
            join_set(&wanted),
        ));
    }
    if !missing.is_empty() {
        return Err(format!(
            "feature `{feature}` of {UMBRELLA} does not pull in {} (expected {})",
            missing.join(", "),
            join_set(&wanted),
        ));
    }
    println!(
        "    feature `{feature}`: of our crates only {} in the tree",
        join_set(&found)
    );
    Ok(())
}

/// Our library crates named in `cargo tree --prefix none` output, where each
/// line is `name vX.Y.Z (path)`, optionally followed by `(*)`.
fn our_crates_in(tree: &str) -> BTreeSet<&str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| OURS.contains(name))
        .collect()
}

fn join_set(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(" and ")
}

/// Package names of `crates/*/Cargo.toml`, sorted by directory, so a new crate
/// is checked without editing xtask.
fn crate_names(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("crates");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("could not list {}: {e}", dir.display()))?;
    let mut manifests = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("could not list {}: {e}", dir.display()))?;
        let manifest = entry.path().join("Cargo.toml");
        if manifest.is_file() {
            manifests.push(manifest);
        }
    }
    manifests.sort();
    manifests
        .iter()
        .map(|path| {
            let t = manifest::read(path)?;
            manifest::package_name(&t)
                .map(str::to_owned)
                .ok_or_else(|| format!("{}: no `name = \"...\"` in [package]", path.display()))
        })
        .collect()
}

/// cargo-deny checks licences, bans and sources against `deny.toml`.
/// Advisories are left out on purpose: they need the advisory database from
/// the internet, which CI machines here do not have.
fn deny(root: &Path) -> Result<(), String> {
    if !Cargo::new(["deny", "--version"]).succeeds_quietly(root) {
        println!("    cargo-deny not found; installing it");
        Cargo::new(["install", "--locked", "cargo-deny"])
            .run(root)
            .map_err(|e| format!("could not install cargo-deny: {e}"))?;
    }
    Cargo::new(["deny", "check", "licenses", "bans", "sources"]).run(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_crates_in_a_tree() {
        let tree = "connectors v0.1.0 (/w/crates/connectors)\n\
                    conn-core v0.1.0 (/w/crates/conn-core)\n\
                    reqwest v0.12.28\n\
                    conn-douyin v0.1.0 (/w/crates/conn-douyin)\n\
                    conn-core v0.1.0 (/w/crates/conn-core) (*)\n\
                    conn-core-macros v0.1.0\n";
        let found: Vec<&str> = our_crates_in(tree).into_iter().collect();
        assert_eq!(found, ["conn-core", "conn-douyin"]);
    }

    #[test]
    fn step_names_round_trip() {
        for step in STEPS {
            assert_eq!(Step::from_name(step.name()), Some(step));
        }
        assert_eq!(Step::from_name("lint"), None);
    }
}
