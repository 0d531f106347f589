//! The tool's terminal output as a person reads it: the rendered text of the main commands
//! and of their failures, pinned line by line, with the exit status a shell sees. Against a
//! Douyin fake started once in this process and the tool's own sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use connectors::core::token::{TokenKey, TokenStore};
use connectors::creds::{CredentialStore, StoreConfig};
use connectors::douyin::fake::FakeDouyin;

struct Fake {
    douyin: FakeDouyin,
    rt: tokio::runtime::Handle,
}

/// The fake, on a runtime of its own that lives as long as the test process.
fn fake() -> &'static Fake {
    static FAKE: OnceLock<&'static Fake> = OnceLock::new();
    FAKE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let handle = rt.handle().clone();
            let douyin = rt.block_on(FakeDouyin::start());
            tx.send(&*Box::leak(Box::new(Fake { douyin, rt: handle })))
                .unwrap();
            rt.block_on(std::future::pending::<()>());
        });
        rx.recv().unwrap()
    })
}

fn douyin_env() -> Vec<(String, String)> {
    let mut v = fake().douyin.env_vars();
    v.push(("API_RETRY_DELAY".into(), "0.01".into()));
    v
}

/// A store holding tokens of the fake's user, as `connectors douyin login` leaves it.
fn logged_in_store(dir: &Path) {
    let f = fake();
    let store = CredentialStore::open(StoreConfig::new(dir)).unwrap();
    let tokens = f
        .douyin
        .authorize(f.douyin.open_id(), &["user_info", "video.data.bind"]);
    f.rt.block_on(store.save(&TokenKey::new("douyin", f.douyin.open_id()), &tokens))
        .unwrap();
}

fn command(args: &[&str], env: &[(String, String)], store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_connectors"));
    c.env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("--store-dir")
        .arg(store)
        .args(args);
    if let Ok(tmp) = std::env::var("TMPDIR") {
        c.env("TMPDIR", tmp);
    }
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str], env: &[(String, String)], store: &Path, stdin: &str) -> Run {
    let mut child = command(args, env, store)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    finish(child.wait_with_output().unwrap())
}

/// Waits (bounded) for a child that should end by itself.
fn wait(mut child: Child) -> Run {
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            return finish(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("the child did not exit within 30 s");
}

#[test]
fn demo_into_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(&["demo"], &[], &dir.path().join("creds"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -3`: read three lines, then close the pipe.
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    for _ in 0..3 {
        lines.next().unwrap().unwrap();
    }
    drop(lines);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn demo_counts_its_steps_and_visits_toutiao() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["demo"], &[], &dir.path().join("creds"), "");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let steps = r.stdout.lines().filter(|l| l.starts_with("  ✔ ")).count();
    let summary = r
        .stdout
        .lines()
        .find(|l| l.contains("steps passed"))
        .unwrap();
    // The summary line is itself a ✔ line but not one of the steps it counts.
    assert!(
        summary.starts_with(&format!("  ✔ {} steps passed in ", steps - 1)),
        "{summary} after {steps} ✔ lines"
    );
    assert!(
        r.stdout
            .contains("  ✔ published an article to toutiao: id "),
        "{}",
        r.stdout
    );
}

#[test]
fn creds_set_refuses_typos_with_the_closest_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let r = run(
        &["creds", "set", "douyn", "client_secret"],
        &[],
        &store,
        "s3cret\n",
    );
    assert_eq!(r.code, 7, "{}", r.stderr);
    let first = r.stderr.lines().next().unwrap();
    assert!(
        first.starts_with("error: invalid input: platform: `douyn` is not a known platform; did you mean `douyin`?")
            || first.contains("`douyn` is not a known platform; did you mean `douyin`?"),
        "{first}"
    );
    assert!(r.stderr.contains("  field: platform"), "{}", r.stderr);
    assert!(
        r.stderr.contains("(exit code 7: invalid input)"),
        "{}",
        r.stderr
    );
    // Nothing was stored, not even the directory.
    assert!(!store.exists());

    let r = run(
        &["creds", "set", "douyin", "client_secert"],
        &[],
        &store,
        "s3cret\n",
    );
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(
        r.stderr.contains("no variable DOUYIN_CLIENT_SECERT is documented for douyin; did you mean `client_secret`?"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--force"), "{}", r.stderr);

    // --force stores a custom name; the key-beside-the-store warning goes to stderr.
    let r = run(
        &["creds", "set", "myblog", "access_token", "--force"],
        &[],
        &store,
        "s3cret\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("✔ stored myblog/access_token encrypted in "),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .starts_with("warning: the key that decrypts this store is "),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("API_CREDENTIAL_ENCRYPTION_KEY"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("s3cret") && !r.stderr.contains("s3cret"));

    // With the key in the environment there is nothing to warn about.
    let key = vec![(
        "API_CREDENTIAL_ENCRYPTION_KEY".to_owned(),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
    )];
    let other = dir.path().join("creds2");
    let r = run(
        &["creds", "set", "douyin", "client_secret"],
        &key,
        &other,
        "s3cret\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

#[test]
fn douyin_stats_of_an_unknown_item_says_so_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    logged_in_store(&store);
    let r = run(&["douyin", "stats", "@nope"], &douyin_env(), &store, "");
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "", "no empty table");
    let open_id = fake().douyin.open_id();
    assert_eq!(
        r.stderr.lines().next().unwrap(),
        format!("error: item not found for account {open_id}: @nope (list the account's items with `connectors douyin videos`)")
    );
}

#[test]
fn an_api_error_without_an_envelope_still_shows_code_and_log_id_lines() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    logged_in_store(&store);
    let r = run(
        &["call", "douyin", "GET", "/no/such/endpoint/"],
        &douyin_env(),
        &store,
        "",
    );
    assert_eq!(r.code, 5, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: douyin: HTTP 404"),
        "{}",
        r.stderr
    );
    assert_eq!(
        lines[1],
        "  platform code: none (the answer carried no platform error envelope)"
    );
    // The fake's gateway sends x-tt-logid on a 404, as Douyin's does.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  log id: ") && !l.ends_with("none sent")),
        "{}",
        r.stderr
    );
    assert!(lines.contains(&"  HTTP status: 404"), "{}", r.stderr);
    assert_eq!(*lines.last().unwrap(), "  (exit code 5: api)");
}

#[test]
fn sandbox_runs_a_command_inside_its_environment_and_passes_the_status_through() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let script = "echo \"douyin at $DOUYIN_BASE_URL\"; exit 3";
    let child = command(&["sandbox", "--", "sh", "-c", script], &[], &store)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = wait(child);
    assert_eq!(r.code, 3, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.starts_with("douyin at http://127.0.0.1:"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.starts_with("# sandbox ready: running `sh -c echo"),
        "{}",
        r.stderr
    );
    // The command's failure is its own to report: no `error:` line from the tool.
    assert!(!r.stderr.contains("error:"), "{}", r.stderr);

    let r = wait(
        command(&["sandbox", "--", "no-such-command-here"], &[], &store)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(r.code, 127, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error: cannot run `no-such-command-here`"),
        "{}",
        r.stderr
    );
}

#[test]
fn sandbox_writes_an_env_file_a_shell_can_source() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let file = dir.path().join("sandbox.env");
    let file_arg = file.to_str().unwrap();
    let r = wait(
        command(
            &["sandbox", "--env-file", file_arg, "--for", "0"],
            &[],
            &store,
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[1],
        format!(
            "# The same lines are in {file_arg}: `. {file_arg}` in another shell picks them up."
        )
    );
    assert_eq!(*lines.last().unwrap(), "# sandbox ready; Ctrl-C stops it");
    let text = std::fs::read_to_string(&file).unwrap();
    let exports: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("export "))
        .collect();
    assert!(exports.len() > 20, "{}", r.stdout);
    for e in &exports {
        assert!(text.lines().any(|l| l == *e), "{e} missing from the file");
    }
    // A POSIX shell reads the file back.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(". '{file_arg}' && printf %s \"$DOUYIN_BASE_URL\""))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("http://127.0.0.1:"),
        "{out:?}"
    );
}

#[test]
fn sandbox_help_documents_for_env_file_and_the_command_form() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["sandbox", "--help"], &[], &dir.path().join("creds"), "");
    assert_eq!(r.code, 0);
    for needle in [
        "--for <SECONDS>",
        "--env-file <PATH>",
        "[COMMAND]...",
        "connectors sandbox -- cargo test",
    ] {
        assert!(r.stdout.contains(needle), "{needle} not in:\n{}", r.stdout);
    }
}
