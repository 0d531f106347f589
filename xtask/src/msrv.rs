//! The MSRV check: the `rust-version` of `Cargo.toml`, the version the README states, and the
//! installed compiler must agree.
//!
//! Only one toolchain is installed where CI runs, so the workspace is not built again with
//! the MSRV compiler (that would need `rustup toolchain install 1.89`); what is checked is
//! that the promise is written the same way in both places and that the compiler in use is
//! not older than it.

use std::path::Path;
use std::process::Command;

use crate::manifest;

/// The README's sentence that states the MSRV: `Rust 1.89 or newer`.
const README_PATTERN: (&str, &str) = ("Rust ", " or newer");

pub fn check(root: &Path) -> Result<(), String> {
    let ws = manifest::read(&root.join("Cargo.toml"))?;
    let declared = manifest::workspace_rust_version(&ws)
        .ok_or("Cargo.toml has no [workspace.package] rust-version")?;
    let want = parse_version(declared)
        .ok_or_else(|| format!("rust-version `{declared}` is not MAJOR.MINOR[.PATCH]"))?;

    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path)
        .map_err(|e| format!("could not read {}: {e}", readme_path.display()))?;
    let stated = readme_msrv(&readme).ok_or_else(|| {
        format!(
            "README.md states no MSRV (expected a sentence with `{}{declared}{}`)",
            README_PATTERN.0, README_PATTERN.1
        )
    })?;
    if parse_version(&stated) != Some(want) {
        return Err(format!(
            "README.md says Rust {stated}, Cargo.toml's rust-version is {declared}: make them agree"
        ));
    }

    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .arg("--version")
        .output()
        .map_err(|e| format!("could not run rustc --version: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let installed = text
        .split_whitespace()
        .nth(1)
        .and_then(parse_version)
        .ok_or_else(|| format!("could not read the version in `{}`", text.trim()))?;
    if installed < want {
        return Err(format!(
            "the installed {} is older than the MSRV {declared}",
            text.trim()
        ));
    }
    println!(
        "    MSRV {declared}: Cargo.toml and README.md agree; {} is not older (not rebuilt on {declared}: one toolchain installed)",
        text.trim()
    );
    Ok(())
}

/// `1.89`, `1.89.0`, `1.95.0-nightly` → `(1, 89, 0)`.
fn parse_version(s: &str) -> Option<(u64, u64, u64)> {
    let core = s.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    parts.next().is_none().then_some((major, minor, patch))
}

/// The version in the README's first `Rust X.Y or newer`.
fn readme_msrv(readme: &str) -> Option<String> {
    let (before, after) = README_PATTERN;
    readme.match_indices(before).find_map(|(i, _)| {
        let rest = &readme[i + before.len()..];
        let end = rest.find(after)?;
        let v = &rest[..end];
        parse_version(v).map(|_| v.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("1.89"), Some((1, 89, 0)));
        assert_eq!(parse_version("1.95.0-nightly"), Some((1, 95, 0)));
        assert!(parse_version("1.100").unwrap() > parse_version("1.89.3").unwrap());
        assert_eq!(parse_version("1"), None);
        assert_eq!(parse_version("1.x"), None);
        assert_eq!(parse_version("1.2.3.4"), None);
    }

    #[test]
    fn finds_the_readme_sentence() {
        let text = "Rust API connectors…\n\nRust 1.89 or newer (the MSRV).";
        assert_eq!(readme_msrv(text).as_deref(), Some("1.89"));
        assert_eq!(readme_msrv("Rust API connectors"), None);
    }
}
