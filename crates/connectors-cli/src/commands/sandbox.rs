//! `connectors sandbox`: every fake on 127.0.0.1 and the variables that point the library and
//! this tool at them: printed as `export` lines until Ctrl-C (or `--for SECONDS`), written to
//! a file (`--env-file`), or handed to a command that runs inside them (`-- cargo test`); with
//! `--redis`, a private redis-server too, for trying several workers that share state.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::cli::SandboxArgs;
use crate::ctx::Ctx;
use crate::exit::{self, CliError, CliResult};
use crate::output::print_stdout;
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
    if let Some(path) = &a.env_file {
        write_env_file(path, &vars)?;
    }
    let result = if a.command.is_empty() {
        announce(ctx, &vars, a.env_file.as_deref());
        wait(a.for_secs).await;
        Ok(())
    } else {
        // Stdout belongs to the command: the tool only notes on stderr what it started.
        ctx.out.note(&format!(
            "# sandbox ready: running `{}` with {} sandbox variables set",
            a.command.join(" "),
            vars.len()
        ));
        run_command(&a.command, &vars).await
    };
    drop(sb);
    drop(redis); // kills only the redis-server started above
    result
}

/// The `export` lines (or one JSON object) for a shell to pick up.
fn announce(ctx: &Ctx, vars: &[(String, String)], env_file: Option<&Path>) {
    if ctx.out.json {
        let m: Map<String, Value> = vars.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let file = env_file.map(|p| p.display().to_string());
        print_stdout(&json!({"env": m, "env_file": file, "ready": true}).to_string());
        return;
    }
    print_stdout("# Fakes of Douyin, iFinD, an ERP, Xiaohongshu, Zhihu and Toutiao on 127.0.0.1.");
    match env_file {
        Some(p) => print_stdout(&format!(
            "# The same lines are in {}: `. {}` in another shell picks them up.",
            p.display(),
            shell_path(p)
        )),
        None => print_stdout(
            "# Paste these lines into a shell (or rerun with --env-file FILE, or -- COMMAND);\n\
             # then try `connectors douyin login`, `connectors ths quote 600519.SH`, …",
        ),
    }
    for (k, v) in vars {
        print_stdout(&export_line(k, v));
    }
    print_stdout(READY);
}

/// A path as `.` needs it: a bare file name would be searched for on `PATH`.
fn shell_path(p: &Path) -> String {
    let s = p.display().to_string();
    if p.is_absolute() || s.starts_with("./") || s.starts_with("../") {
        s
    } else {
        format!("./{s}")
    }
}

/// Until `--for` seconds have passed, or Ctrl-C.
async fn wait(for_secs: Option<u64>) {
    match for_secs {
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
}

/// A private redis-server beside the fakes, and the variables that point every process at it
/// (with a generated token key unless one is set: tokens in Redis are always encrypted).
fn start_redis(vars: &mut Vec<(String, String)>) -> CliResult<LocalRedis> {
    use crate::exit::{CONFIG, OTHER};
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

/// Writes the `export` lines to `path`, replacing it whole (a temporary file in the same
/// directory, renamed): a reader never sees half a file. Mode 0600: the sandbox's secrets are
/// throwaway, but a file of secrets should not be readable by everyone out of habit.
fn write_env_file(path: &Path, vars: &[(String, String)]) -> CliResult {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        CliError::new(
            exit::OTHER,
            format!("--env-file {}: cannot {what}: {e}", path.display()),
        )
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut text =
        String::from("# Variables of a running `connectors sandbox`; valid while it runs.\n");
    for (k, v) in vars {
        text.push_str(&export_line(k, v));
        text.push('\n');
    }
    // tempfile creates the file with mode 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail("create it", &e))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| fail("write it", &e))?;
    tmp.persist(path)
        .map_err(|e| fail("replace it", &e.error))?;
    Ok(())
}

/// Runs `command` with the sandbox's variables added to this process's environment, and
/// passes its exit status through (a signal's death as 128 + the signal, as shells report it).
async fn run_command(command: &[String], vars: &[(String, String)]) -> CliResult {
    let Some((program, args)) = command.split_first() else {
        return Ok(());
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            // 127 and 126 are what a shell answers for a missing or unrunnable command.
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            CliError::new(code, format!("cannot run `{program}`: {e}"))
        })?;
    // Ctrl-C reaches the command too (same process group); the sandbox outlives it until it
    // has finished, so the command can still talk to the fakes while it stops.
    let status = child
        .wait()
        .await
        .map_err(|e| CliError::new(exit::OTHER, format!("waiting for `{program}`: {e}")))?;
    match status_code(&status) {
        0 => Ok(()),
        code => Err(CliError::Child(code)),
    }
}

/// The exit status as a shell reports it.
fn status_code(status: &std::process::ExitStatus) -> u8 {
    if let Some(c) = status.code() {
        // Exit statuses are 0..=255 on Unix; elsewhere a larger one still means failure.
        return u8::try_from(c).unwrap_or(exit::OTHER);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return u8::try_from(128 + sig).unwrap_or(exit::OTHER);
        }
    }
    exit::OTHER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_is_replaced_whole_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.env");
        std::fs::write(&path, "old content that must go\n").unwrap();
        let vars = vec![
            ("A_URL".to_owned(), "http://127.0.0.1:1/x".to_owned()),
            ("B_SECRET".to_owned(), "it's".to_owned()),
        ];
        write_env_file(&path, &vars).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("old content"), "{text}");
        assert!(
            text.contains("\nexport A_URL=http://127.0.0.1:1/x\n"),
            "{text}"
        );
        assert!(text.contains(r"export B_SECRET='it'\''s'"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn env_file_in_a_missing_directory_names_the_option() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/sandbox.env");
        let e = write_env_file(&path, &[]).unwrap_err();
        assert!(e.to_string().contains("--env-file"), "{e}");
    }

    #[test]
    fn bare_file_names_get_a_dot_slash_for_the_shell() {
        assert_eq!(shell_path(Path::new("s.env")), "./s.env");
        assert_eq!(shell_path(Path::new("/tmp/s.env")), "/tmp/s.env");
        assert_eq!(shell_path(Path::new("../s.env")), "../s.env");
    }
}
