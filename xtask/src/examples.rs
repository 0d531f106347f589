//! The `examples` step: build every example of the workspace, then run each one against the
//! sandbox it starts itself, with a time limit.
//!
//! The build uses the test step's flags (`--workspace --all-features`), so it reuses what that
//! step compiled instead of resolving features anew; cargo's JSON messages say where each
//! example's executable is.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::{elapsed, Cargo};

/// Long enough for a slow, loaded machine; every example finishes in well under a second.
const LIMIT: Duration = Duration::from_secs(120);

pub fn run(root: &Path) -> Result<(), String> {
    let messages = Cargo::new([
        "build",
        "--workspace",
        "--all-features",
        "--examples",
        "--message-format=json-render-diagnostics",
    ])
    .stdout(root)?;
    let examples = executables(&String::from_utf8_lossy(&messages));
    if examples.is_empty() {
        return Err("no example was built (expected the examples/ crate)".to_owned());
    }
    for (name, exe) in &examples {
        run_one(root, name, exe)?;
    }
    println!("    {} examples ran", examples.len());
    Ok(())
}

/// `(name, executable)` of every example in cargo's JSON messages, sorted by name.
fn executables(messages: &str) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "example"))
        })
        .filter_map(|m| {
            let name = m["target"]["name"].as_str()?.to_owned();
            let exe = m["executable"].as_str()?;
            Some((name, PathBuf::from(exe)))
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Runs one example with stdout captured (shown when it fails), stopping it at [`LIMIT`].
fn run_one(root: &Path, name: &str, exe: &Path) -> Result<(), String> {
    let start = Instant::now();
    let mut child = Command::new(exe)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start example `{name}`: {e}"))?;
    // Read on a thread: a full pipe must not stall the example while we poll.
    let reader = child.stdout.take().map(|mut stdout| {
        std::thread::spawn(move || {
            use std::io::Read;
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        })
    });
    // Bounded: poll until it exits or the limit passes.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "example `{name}` did not finish within {}",
                    elapsed(LIMIT)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("waiting for example `{name}`: {e}")),
        }
    };
    let out = reader.and_then(|r| r.join().ok()).unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "example `{name}` failed ({status}); its output:\n{out}"
        ));
    }
    if out.trim().is_empty() {
        return Err(format!("example `{name}` printed nothing"));
    }
    println!(
        "    example {name}: ok in {} ({} lines)",
        elapsed(start.elapsed()),
        out.lines().count()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_example_executables_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"connectors_examples"},"executable":null}
{"reason":"compiler-artifact","target":{"kind":["example"],"name":"webhook_server"},"executable":"/t/debug/examples/webhook_server"}
not json
{"reason":"compiler-artifact","target":{"kind":["example"],"name":"douyin_publish"},"executable":"/t/debug/examples/douyin_publish"}
{"reason":"build-finished","success":true}"#;
        let found = executables(messages);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["douyin_publish", "webhook_server"]);
        assert_eq!(
            found[0].1,
            PathBuf::from("/t/debug/examples/douyin_publish")
        );
    }
}
