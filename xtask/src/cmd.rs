//! Running cargo: every child inherits stdin/stdout/stderr unless the caller
//! needs the output, so the CI harness sees the tools' own output unmodified.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A cargo invocation that remembers its arguments for messages.
#[derive(Debug, Clone)]
pub struct Cargo {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Cargo {
    /// `cargo ARGS...`, run from the workspace root.
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        }
    }

    /// Sets a variable for this invocation only (`RUSTDOCFLAGS=-D warnings`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The process to spawn. `CARGO` is set by `cargo run` to the cargo that
    /// launched xtask, so nested calls use the same toolchain.
    fn command(&self, root: &Path) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut command = Command::new(cargo);
        command.args(&self.args).current_dir(root);
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(is_run_variable) {
                command.env_remove(&key);
            }
        }
        // Incremental caches are several GB for a workspace this size and a CI
        // run never reuses them; a developer who exported a value keeps it.
        if std::env::var_os("CARGO_INCREMENTAL").is_none() {
            command.env("CARGO_INCREMENTAL", "0");
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs with inherited stdio; an error names the command and its status.
    pub fn run(&self, root: &Path) -> Result<(), String> {
        println!("    $ {self}");
        let status = self
            .command(root)
            .status()
            .map_err(|e| format!("could not start `{self}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{self}` failed ({status})"))
        }
    }

    /// Runs with all output discarded and reports only whether it succeeded;
    /// used to probe for optional tools (`cargo nextest --version`).
    pub fn succeeds_quietly(&self, root: &Path) -> bool {
        self.command(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Runs with stdout captured (stderr still goes to the terminal, so build
    /// errors stay visible) and returns stdout; non-zero exit is an error.
    pub fn stdout(&self, root: &Path) -> Result<Vec<u8>, String> {
        println!("    $ {self}");
        self.capture(root)
    }

    /// Like [`Cargo::stdout`] without echoing the command, for look-ups that
    /// are not a check of their own (`cargo metadata`).
    pub fn capture(&self, root: &Path) -> Result<Vec<u8>, String> {
        let output = self
            .command(root)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("could not start `{self}`: {e}"))?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(format!("`{self}` failed ({})", output.status))
        }
    }
}

/// Whether `name` is one of the variables `cargo run` sets for xtask itself
/// (`CARGO_MANIFEST_DIR=.../xtask`, `CARGO_PKG_NAME=xtask`, ...).
///
/// They must not reach nested cargo calls: build scripts such as ring's emit
/// `rerun-if-env-changed=CARGO_PKG_NAME` (and `CARGO_MANIFEST_DIR`, ...), and
/// cargo compares those against its *own* environment. Leaking them makes
/// every switch between `cargo xtask ci` and a plain `cargo build` in a shell
/// rebuild ring, rustls, reqwest and everything above them.
fn is_run_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
        )
}

impl fmt::Display for Cargo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.env {
            write!(f, "{k}='{v}' ")?;
        }
        f.write_str("cargo")?;
        for arg in &self.args {
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                write!(f, " '{arg}'")?;
            } else {
                write!(f, " {arg}")?;
            }
        }
        Ok(())
    }
}

/// Formats a duration as seconds with one decimal (`12.3s`), or minutes and
/// seconds past a minute (`2m05s`).
pub fn elapsed(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_only_what_cargo_run_sets() {
        for name in [
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_MANIFEST_DIR",
        ] {
            assert!(is_run_variable(name), "{name}");
        }
        for name in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
            "CARGO",
            "PATH",
        ] {
            assert!(!is_run_variable(name), "{name}");
        }
    }

    #[test]
    fn formats_durations_and_commands() {
        assert_eq!(elapsed(Duration::from_millis(1234)), "1.2s");
        assert_eq!(elapsed(Duration::from_secs(125)), "2m05s");
        assert_eq!(
            Cargo::new(["deny", "check", "a b"]).to_string(),
            "cargo deny check 'a b'"
        );
    }
}
