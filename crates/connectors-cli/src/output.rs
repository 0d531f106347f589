//! What the tool prints: aligned tables and `✔` lines for people, JSON with `--json`, and
//! errors on stderr with the platform code, message, log id and outcome context.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use connectors::core::Error;
use serde_json::{json, Map, Value};

use crate::exit::{self, CliError};

/// Where results go, and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Machine output (`--json`).
    pub json: bool,
}

impl Output {
    /// Prints a result: `value` as JSON with `--json`, else what `human` renders.
    pub fn emit(&self, value: &Value, human: impl FnOnce() -> String) {
        let text = if self.json {
            serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
        } else {
            human()
        };
        print_stdout(&text);
    }

    /// A note for people, on stderr (kept out of stdout so it stays parseable).
    pub fn note(&self, line: &str) {
        if !self.json {
            eprintln!("{line}");
        }
    }

    /// Prints a failure on stderr: the message, then the platform code, log id, named field or
    /// variable, outcome context and causes; with `--json`, the same as one JSON object.
    pub fn error(&self, err: &CliError) {
        if let CliError::Child(_) = err {
            // The command's own output has said what went wrong.
            return;
        }
        let code = err.exit_code();
        let mut details: Vec<(&str, Value)> = Vec::new();
        let mut context: Vec<(String, String)> = Vec::new();
        let mut causes: Vec<String> = Vec::new();
        if let CliError::Core(e) = err {
            if let Some(c) = e.platform_code() {
                details.push(("platform_code", json!(c)));
            }
            if let Some(l) = e.log_id() {
                details.push(("log_id", json!(l)));
            }
            if let Some(s) = e.status() {
                details.push(("http_status", json!(s.as_u16())));
            }
            // Exit code 5 promises the platform's code and log id: when the answer carried
            // none (an HTTP error page without the platform's envelope), say so rather than
            // leave the reader wondering whether they were forgotten.
            if code == exit::API && !self.json {
                if e.platform_code().is_none() {
                    details.insert(
                        0,
                        (
                            "platform_code",
                            json!("none (the answer carried no platform error envelope)"),
                        ),
                    );
                }
                if e.log_id().is_none() {
                    details.push(("log_id", json!("none sent")));
                }
            }
            match root(e) {
                Error::Validation(v) => details.push(("field", json!(v.field))),
                Error::Config(c) => {
                    if let Some(v) = &c.var {
                        details.push(("variable", json!(v)));
                    }
                }
                Error::OutcomeUnknown(o) => context.clone_from(&o.context),
                Error::ReauthRequired(r) => {
                    if let Some(hint) = reauth_hint(&r.platform) {
                        details.push(("what to do", json!(hint)));
                    }
                }
                _ => {}
            }
            let top = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                let line = s.to_string();
                if !top.contains(&line) && !causes.contains(&line) {
                    causes.push(line);
                }
                src = s.source();
            }
        }
        if self.json {
            let mut m = Map::new();
            m.insert("exit_code".into(), json!(code));
            m.insert("class".into(), json!(exit::class_name(code)));
            m.insert("message".into(), json!(err.to_string()));
            for (k, v) in details {
                m.insert(k.into(), v);
            }
            if !context.is_empty() {
                let ctx: Map<String, Value> =
                    context.into_iter().map(|(k, v)| (k, json!(v))).collect();
                m.insert("outcome_context".into(), Value::Object(ctx));
            }
            if !causes.is_empty() {
                m.insert("causes".into(), json!(causes));
            }
            eprintln!("{}", json!({ "error": m }));
            return;
        }
        let mut text = format!("error: {err}");
        for (k, v) in &details {
            let label = match *k {
                "platform_code" => "platform code",
                "log_id" => "log id",
                "http_status" => "HTTP status",
                "field" => "field",
                "variable" => "variable to set",
                other => other,
            };
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            text.push_str(&format!("\n  {label}: {v}"));
        }
        if !context.is_empty() {
            text.push_str(
                "\n  outcome unknown: the request may have been processed; check before retrying with:",
            );
            for (k, v) in &context {
                text.push_str(&format!("\n    {k} = {v}"));
            }
        }
        for c in &causes {
            text.push_str(&format!("\n  caused by: {c}"));
        }
        text.push_str(&format!(
            "\n  (exit code {code}: {})",
            exit::class_name(code).replace('_', " ")
        ));
        eprintln!("{text}");
    }
}

/// The error a shared or wrapped error stands for.
fn root(e: &Error) -> &Error {
    match e {
        Error::Shared(inner) => root(inner),
        other => other,
    }
}

/// Set once stdout turned out to be closed (the reader of a pipe went away).
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Prints one line (or several) on stdout.
///
/// `println!` panics when the reader of a pipe has gone (`connectors demo | head -3`): Rust
/// ignores SIGPIPE, so the write fails with `BrokenPipe`. Here that failure is remembered
/// instead: nothing more is written, long-running commands stop, and the process ends
/// quietly with status 0, as `ls | head` does (ripgrep makes the same choice).
pub fn print_stdout(text: &str) {
    if stdout_closed() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "{text}").and_then(|()| out.flush());
    if let Err(e) = written {
        // Any other write failure (a full disk behind a redirection) is just as final for
        // this output; there is nowhere left to report it but stderr.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("connectors: cannot write to stdout: {e}");
        }
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// Whether a write to stdout has failed (its reader went away): commands that would go on
/// printing stop, and the process exits quietly.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Display width of a string: wide (CJK) characters count two columns.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// An aligned table with a header row; cells are single-line.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(c));
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w.saturating_sub(width(c)) + 2));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = vec![line(headers.to_vec())];
    for r in rows {
        out.push(line(r.iter().map(String::as_str).collect()));
    }
    if rows.is_empty() {
        out.push("(none)".to_owned());
    }
    out.join("\n")
}

/// `key: value` lines with the values aligned.
pub fn pairs(items: &[(&str, String)]) -> String {
    let w = items.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
    items
        .iter()
        .map(|(k, v)| format!("{k}:{}{v}", " ".repeat(w - width(k) + 1)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn unix_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| secs.to_string())
}

/// A `SystemTime` as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn system_time(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    unix_time(secs)
}

/// Bytes as `12.0 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The command a shell user runs when a platform says its authorization is gone: the library's
/// message names library calls, which mean nothing at a prompt.
fn reauth_hint(platform: &str) -> Option<&'static str> {
    match platform {
        "douyin" => Some("run `connectors douyin login` to authorize the account again"),
        "ths" => Some(
            "put a new refresh token from the iFinD client into THS_REFRESH_TOKEN \
             (or `connectors creds set ths refresh_token`)",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_wide_characters() {
        let t = table(
            &["CODE", "NAME"],
            &[
                vec!["600519.SH".into(), "贵州茅台".into()],
                vec!["1".into(), "x".into()],
            ],
        );
        assert_eq!(t, "CODE       NAME\n600519.SH  贵州茅台\n1          x");
        assert_eq!(table(&["A"], &[]), "A\n(none)");
    }

    #[test]
    fn sizes_and_pairs() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(12 * 1024 * 1024), "12.0 MiB");
        assert_eq!(
            pairs(&[("a", "1".into()), ("long", "2".into())]),
            "a:    1\nlong: 2"
        );
        assert_eq!(unix_time(0), "1970-01-01 00:00:00 UTC");
    }
}
