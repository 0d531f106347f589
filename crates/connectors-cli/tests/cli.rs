//! The `connectors` binary driven end to end: every subcommand's success path and its main
//! failure (missing configuration → 3 naming the variable, bad input → 7 naming the field, a
//! platform error → 5 with its code and log id), against fakes started once in this process
//! (and, for `sandbox` and `demo`, the tool's own).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use connectors::content::fake::{FakeContent, FakeOp as ContentOp};
use connectors::content::Builtin;
use connectors::core::token::{TokenKey, TokenStore};
use connectors::creds::{CredentialStore, StoreConfig};
use connectors::douyin::fake::{FakeDouyin, Fault, Op};
use connectors::erp::fake::{FakeErp, FakeOp};
use connectors::erp::AuthMode;
use connectors::ths::fake::FakeIfind;
use serde_json::{json, Value};

// ---- shared fakes ------------------------------------------------------------------------------

struct Fakes {
    douyin: FakeDouyin,
    ths: FakeIfind,
    erp: FakeErp,
    zhihu: FakeContent,
    rt: tokio::runtime::Handle,
}

/// The fakes, started once on a runtime of their own that lives as long as the test process.
fn fakes() -> &'static Fakes {
    static FAKES: OnceLock<&'static Fakes> = OnceLock::new();
    FAKES.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let handle = rt.handle().clone();
            let fakes = rt.block_on(async move {
                Fakes {
                    douyin: FakeDouyin::start().await,
                    ths: FakeIfind::start().await,
                    erp: FakeErp::builder(AuthMode::ApiKey).orders(10).start().await,
                    zhihu: FakeContent::start(Builtin::Zhihu).await,
                    rt: handle,
                }
            });
            tx.send(&*Box::leak(Box::new(fakes))).unwrap();
            rt.block_on(std::future::pending::<()>());
        });
        rx.recv().unwrap()
    })
}

/// Every variable that points the tool at the fakes.
fn fake_env() -> Vec<(String, String)> {
    let f = fakes();
    let mut v = f.douyin.env_vars();
    v.retain(|(k, _)| k != "DOUYIN_REDIRECT_URI" && k != "DOUYIN_OPEN_ID");
    // Any free port for the login listener.
    v.push((
        "DOUYIN_REDIRECT_URI".into(),
        "http://127.0.0.1:0/callback".into(),
    ));
    v.extend(
        f.ths
            .env_vars()
            .into_iter()
            .map(|(k, val)| (k.to_owned(), val)),
    );
    v.extend(f.erp.env_vars());
    v.extend(f.zhihu.env_vars());
    v.push(("API_RETRY_DELAY".into(), "0.01".into()));
    v
}

// ---- running the binary -------------------------------------------------------------------------

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn fails(&self, code: i32, needles: &[&str]) -> &Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "{n:?} not in stderr:\n{}",
                self.stderr
            );
        }
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

fn command(args: &[&str], env: &[(String, String)], store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_connectors"));
    c.env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .arg("--store-dir")
        .arg(store)
        .args(args);
    if let Ok(tmp) = std::env::var("TMPDIR") {
        c.env("TMPDIR", tmp);
    }
    c
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str], env: &[(String, String)], store: &Path) -> Run {
    finish(
        command(args, env, store)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    )
}

fn run_stdin(args: &[&str], env: &[(String, String)], store: &Path, input: &str) -> Run {
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
        .write_all(input.as_bytes())
        .unwrap();
    finish(child.wait_with_output().unwrap())
}

fn spawn(args: &[&str], env: &[(String, String)], store: &Path) -> Child {
    command(args, env, store)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads stdout lines until one satisfies `pred` (bounded), returning it and the reader.
fn read_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    pred: impl Fn(&str) -> bool,
) -> String {
    for _ in 0..200 {
        let line = lines.next().expect("stdout ended").unwrap();
        if pred(&line) {
            return line;
        }
    }
    panic!("no matching line in 200 lines");
}

fn wait(mut child: Child) -> Run {
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            return finish(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("the child did not exit within 15 s");
}

/// GETs and POSTs run on the fakes' runtime (the tests themselves are synchronous).
struct Http;

fn http() -> Http {
    Http
}

impl Http {
    fn get(&self, url: &str) -> (u16, String) {
        let url = url.to_owned();
        fakes().rt.block_on(async move {
            let c = reqwest::Client::builder().no_proxy().build().unwrap();
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    }

    fn post(&self, url: &str, headers: &[(&str, &str)], body: &str) -> u16 {
        let url = url.to_owned();
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = body.to_owned();
        fakes().rt.block_on(async move {
            let c = reqwest::Client::builder().no_proxy().build().unwrap();
            let mut req = c.post(url).body(body);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req.send().await.unwrap().status().as_u16()
        })
    }
}

/// Installs tokens of the fake's user in a store, as a login would.
fn logged_in_store(dir: &Path) {
    let f = fakes();
    let store = CredentialStore::open(StoreConfig::new(dir)).unwrap();
    let tokens = f.douyin.authorize(
        f.douyin.open_id(),
        &[
            "user_info",
            "video.create.bind",
            "video.list.bind",
            "video.data.bind",
        ],
    );
    f.rt.block_on(store.save(&TokenKey::new("douyin", f.douyin.open_id()), &tokens))
        .unwrap();
}

fn without(env: &[(String, String)], prefix: &str) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, _)| !k.starts_with(prefix))
        .cloned()
        .collect()
}

// ---- tests -------------------------------------------------------------------------------------

#[test]
fn help_lists_exit_codes_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["--help"], &[], dir.path());
    r.ok();
    assert!(r.stdout.contains("Exit codes:"), "{}", r.stdout);
    assert!(r.stdout.contains("8  outcome unknown"));
    run(&["frobnicate"], &[], dir.path()).fails(2, &["frobnicate"]);
    let r = run(&["env-example"], &[], dir.path());
    r.ok();
    assert_eq!(r.stdout, connectors::env_example());
    // Nothing was created for commands that need no store.
    assert!(!dir.path().join("store.v1").exists());
}

#[test]
fn creds_set_reads_stdin_get_masks_unless_revealed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let secret = "s3cr3t-canary-value-8842";
    let r = run_stdin(
        &["creds", "set", "douyin", "client_secret"],
        &[],
        &store,
        &format!("{secret}\n"),
    );
    r.ok();
    assert!(
        r.stdout.contains("stored douyin/client_secret"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret));

    let r = run(&["creds", "get", "douyin", "client_secret"], &[], &store);
    r.ok();
    assert!(!r.stdout.contains(secret), "{}", r.stdout);
    assert!(r.stdout.contains("s3…42 (24 chars)"), "{}", r.stdout);
    assert!(r.stdout.contains("from:       store"), "{}", r.stdout);
    let r = run(
        &["creds", "get", "douyin", "client_secret", "--reveal"],
        &[],
        &store,
    );
    r.ok();
    assert!(r.stdout.contains(secret));
    // A variable wins over the store.
    let env = vec![(
        "DOUYIN_CLIENT_SECRET".to_owned(),
        "from-the-environment".to_owned(),
    )];
    let r = run(
        &["--json", "creds", "get", "douyin", "client_secret"],
        &env,
        &store,
    );
    r.ok();
    assert_eq!(r.json()["origin"], "environment (DOUYIN_CLIENT_SECRET)");

    // validate: incomplete → 3 naming the variable; complete → 0.
    run(&["creds", "validate", "douyin"], &[], &store).fails(3, &["DOUYIN_CLIENT_KEY"]);
    run_stdin(
        &["creds", "set", "douyin", "client_key"],
        &[],
        &store,
        "awkey",
    )
    .ok();
    let r = run(&["creds", "validate", "douyin"], &[], &store);
    r.ok();
    assert!(
        r.stdout
            .contains("client_key     DOUYIN_CLIENT_KEY     store"),
        "{}",
        r.stdout
    );

    let r = run(&["creds", "list"], &[], &store);
    r.ok();
    assert!(r.stdout.contains("client_secret") && !r.stdout.contains(secret));

    // Bad input: named field, exit 7; nothing read from argv.
    run_stdin(&["creds", "set", "Douyin", "x"], &[], &store, "v").fails(7, &["`platform`"]);
    // (A documented name: an unknown one is refused before the value is read.)
    run_stdin(&["creds", "set", "douyin", "app_id"], &[], &store, "\n").fails(7, &["`value`"]);
    run_stdin(&["creds", "set", "douyin", "x"], &[], &store, "v").fails(7, &["`name`", "--force"]);
    run(&["creds", "get", "douyin", "nope"], &[], &store).fails(3, &["DOUYIN_NOPE"]);

    // Key rotation: a malformed key is refused, a generated one re-encrypts everything.
    let bad = vec![(
        "CONNECTORS_NEW_ENCRYPTION_KEY".to_owned(),
        "short".to_owned(),
    )];
    run(&["creds", "rotate-key"], &bad, &store).fails(7, &["new key"]);
    run(&["creds", "rotate-key", "--generate"], &[], &store).ok();
    let r = run(
        &["creds", "get", "douyin", "client_secret", "--reveal"],
        &[],
        &store,
    );
    r.ok();
    assert!(r.stdout.contains(secret));
    // The wrong key is a store failure, exit 9.
    let wrong = vec![(
        "API_CREDENTIAL_ENCRYPTION_KEY".to_owned(),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
    )];
    run(&["creds", "list"], &wrong, &store).fails(9, &["wrong encryption key"]);

    let r = run(&["creds", "delete", "douyin", "client_secret"], &[], &store);
    r.ok();
    assert!(r.stdout.contains("deleted"));
    run(&["creds", "get", "douyin", "client_secret"], &[], &store)
        .fails(3, &["DOUYIN_CLIENT_SECRET"]);
}

#[test]
fn douyin_login_end_to_end_with_a_user_following_the_url() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let mut child = spawn(&["douyin", "login", "--timeout", "20"], &env, &store);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = read_until(&mut lines, |l| l.starts_with("http://"));
    assert!(url.contains("/platform/oauth/connect/?client_key=") && url.contains("state="));
    // The user: open the URL; the fake approves and redirects to the tool's listener.
    let (status, page) = http().get(&url);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Authorized"));
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let r = wait(child);
    r.ok();
    let text = rest.join("\n");
    assert!(text.contains("✔ logged in"), "{text}");
    assert!(text.contains(fakes().douyin.open_id()), "{text}");

    // The tokens are in the store, and later commands find the account there.
    let r = run(&["creds", "list", "douyin"], &env, &store);
    r.ok();
    assert!(r.stdout.contains(fakes().douyin.open_id()) && r.stdout.contains("token"));
    let r = run(&["douyin", "refresh"], &env, &store);
    r.ok();
    assert!(r.stdout.contains("access token refreshed"), "{}", r.stdout);
}

#[test]
fn douyin_login_refuses_a_state_mismatch_and_times_out() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let mut child = spawn(&["douyin", "login", "--timeout", "20"], &env, &store);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = read_until(&mut lines, |l| l.starts_with("http://"));
    // A forged redirect: the state is not the one the tool generated.
    let (start, _) = url.split_once("&state=").unwrap();
    let forged = format!("{start}&state=forged-state-0123456789abcdef");
    let (status, page) = http().get(&forged);
    assert_eq!(status, 400, "{page}");
    drop(lines);
    wait(child).fails(4, &["state mismatch", "nothing was stored"]);
    let s = CredentialStore::open(StoreConfig::new(&store)).unwrap();
    assert!(s.token_keys().unwrap().is_empty());

    run(&["douyin", "login", "--timeout", "1"], &env, &store)
        .fails(6, &["no redirect arrived within 1 s"]);
}

#[test]
fn douyin_publish_list_stats_and_platform_errors() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    logged_in_store(&store);
    let video = dir.path().join("clip.mp4");
    std::fs::write(&video, vec![7u8; 6 * 1024 * 1024 + 10]).unwrap();

    let r = run(
        &[
            "--json",
            "douyin",
            "publish-video",
            video.to_str().unwrap(),
            "--title",
            "第一条",
            "--part-size",
            "5MiB",
            "--chunk-above",
            "1MiB",
        ],
        &env,
        &store,
    );
    r.ok();
    let published = r.json();
    assert_eq!(published["parts"], 2, "{published}");
    let item = published["item_id"].as_str().unwrap().to_owned();

    let png = dir.path().join("a.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\nxxxxxxxx").unwrap();
    let r = run(
        &[
            "douyin",
            "publish-images",
            png.to_str().unwrap(),
            png.to_str().unwrap(),
            "--title",
            "图文",
        ],
        &env,
        &store,
    );
    r.ok();
    assert!(r.stdout.contains("image post published"), "{}", r.stdout);

    let r = run(&["douyin", "videos", "--limit", "50"], &env, &store);
    r.ok();
    assert!(r.stdout.starts_with("ITEM ID"), "{}", r.stdout);
    assert!(
        r.stdout.contains(&item) && r.stdout.contains("第一条"),
        "{}",
        r.stdout
    );
    let r = run(&["douyin", "stats", &item], &env, &store);
    r.ok();
    assert!(r.stdout.contains(&item));

    // Bad input: named field, before any upload.
    let long = "长".repeat(56);
    run(
        &[
            "douyin",
            "publish-video",
            video.to_str().unwrap(),
            "--title",
            &long,
        ],
        &env,
        &store,
    )
    .fails(7, &["`title`", "55"]);
    run(&["douyin", "auth-url", "--state", "short"], &env, &store).fails(7, &["`state`"]);
    let r = run(&["--json", "douyin", "auth-url"], &env, &store);
    r.ok();
    assert!(r.json()["url"].as_str().unwrap().contains("client_key="));

    // A platform error: its code and log id are printed, exit 5.
    fakes().douyin.fail_next(
        Op::VideoData,
        Fault::Code(2190001, "quota used up".into()),
        1,
    );
    let r = run(&["douyin", "stats", &item], &env, &store);
    r.fails(5, &["2190001", "quota used up", "log id: "]);
    let r = run(&["--json", "douyin", "stats", &item], &env, &store);
    r.ok();

    let missing = dir.path().join("missing.png");
    run(
        &[
            "douyin",
            "publish-images",
            missing.to_str().unwrap(),
            "--title",
            "图文",
        ],
        &env,
        &store,
    )
    .fails(7, &["`images[0]`"]);

    // No account: neither --open-id, DOUYIN_OPEN_ID nor a login.
    let empty = dir.path().join("empty-store");
    run(&["douyin", "refresh"], &env, &empty).fails(3, &["DOUYIN_OPEN_ID", "douyin login"]);

    // Missing configuration: the variable to set, exit 3.
    run(&["douyin", "videos"], &without(&env, "DOUYIN_"), &store)
        .fails(3, &["DOUYIN_CLIENT_KEY", "DOUYIN_CLIENT_SECRET"]);
}

#[test]
fn douyin_keyed_publish_is_recorded_listed_and_never_sent_twice() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    logged_in_store(&store);
    let video = dir.path().join("clip.mp4");
    std::fs::write(&video, vec![7u8; 4096]).unwrap();
    let args = |title: &str| {
        vec![
            "--json".to_owned(),
            "douyin".into(),
            "publish-video".into(),
            video.to_str().unwrap().into(),
            "--title".into(),
            title.into(),
            "--key".into(),
            "cli/campaign-1".into(),
        ]
    };
    let a = args("keyed 第一条");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let first = run(&a, &env, &store);
    first.ok();
    let first = first.json();
    assert_eq!(first["how"], "sent", "{first}");
    let again = run(&a, &env, &store);
    again.ok();
    let again = again.json();
    assert_eq!(
        (&again["id"], &again["how"]),
        (&first["id"], &serde_json::json!("recorded"))
    );

    let b = args("another title");
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    run(&b, &env, &store).fails(9, &["cli/campaign-1", "nothing was sent"]);

    let list = run(&["journal", "list"], &env, &store);
    list.ok();
    assert!(
        list.stdout.contains("cli/campaign-1") && list.stdout.contains("done"),
        "{}",
        list.stdout
    );
    let show = run(
        &["--json", "journal", "show", "cli/campaign-1"],
        &env,
        &store,
    );
    show.ok();
    assert_eq!(show.json()["state"], "done");
    assert!(store.join("journal").join("journal.v1").exists());
    let r = run(&["journal", "reconcile"], &env, &store);
    r.ok();
    run(&["journal", "show", "bad key"], &env, &store).fails(7, &["operation_key"]);
}

#[test]
fn webhook_serve_verifies_prints_and_answers_the_url_check() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let f = fakes();
    let mut child = spawn(
        &[
            "--json",
            "webhook",
            "serve",
            "--port",
            "0",
            "--max-events",
            "4",
            "--for",
            "20",
        ],
        &env,
        &store,
    );
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value =
        serde_json::from_str(&read_until(&mut lines, |l| l.contains("listening"))).unwrap();
    let url = first["listening"].as_str().unwrap().to_owned();

    let body = f.douyin.webhook_body(
        "create_video",
        json!({"item_id": "@item1", "share_id": "s1"}),
    );
    let answer =
        f.rt.block_on(f.douyin.deliver_signed(&url, body.clone(), "wh-msg-1"))
            .unwrap();
    assert_eq!(answer.status, 200);
    let replay =
        f.rt.block_on(f.douyin.deliver_signed(&url, body, "wh-msg-1"))
            .unwrap();
    assert_eq!(
        replay.status, 200,
        "a replay is acknowledged so the platform stops retrying"
    );
    let forged = http().post(
        &url,
        &[
            ("x-douyin-signature", &"0".repeat(40)),
            ("msg-id", "wh-msg-2"),
        ],
        r#"{"event":"create_video","content":{}}"#,
    );
    assert_eq!(forged, 401);
    let check = f
        .douyin
        .webhook_body("verify_webhook", json!({"challenge": 12345}));
    let answer =
        f.rt.block_on(f.douyin.deliver_signed(&url, check, "wh-msg-3"))
            .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&answer.body).unwrap(),
        json!({"challenge": 12345})
    );

    let printed: Vec<Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    wait(child).ok();
    assert_eq!(printed.len(), 4, "{printed:?}");
    assert_eq!(printed[0]["event"], "create_video");
    assert_eq!(printed[0]["content"]["item_id"], "@item1");
    assert_eq!(printed[0]["msg_id"], "wh-msg-1");
    assert_eq!(printed[1]["delivery"], "rejected");
    assert!(printed[1]["error"]
        .as_str()
        .unwrap()
        .contains("already received"));
    assert_eq!(printed[2]["status"], 401);
    assert_eq!(
        printed[3],
        json!({"delivery": "challenge", "challenge": 12345})
    );

    // Without the client secret nothing can be verified.
    let mut no_secret = without(&env, "DOUYIN_CLIENT_SECRET");
    no_secret.push(("DOUYIN_ACCESS_TOKEN".into(), "act.fixed".into()));
    run(
        &["webhook", "serve", "--port", "0", "--for", "1"],
        &no_secret,
        &store,
    )
    .fails(3, &["DOUYIN_CLIENT_SECRET"]);
}

#[test]
fn ths_quote_and_history() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let r = run(
        &[
            "ths",
            "quote",
            "600519.SH",
            "000001.SZ",
            "--indicators",
            "latest,open",
        ],
        &env,
        &store,
    );
    r.ok();
    assert!(r.stdout.starts_with("CODE       TIME"), "{}", r.stdout);
    assert!(r.stdout.contains("600519.SH") && r.stdout.contains("000001.SZ"));
    let r = run(
        &[
            "--json",
            "ths",
            "history",
            "600519.SH",
            "--from",
            "2024-06-03",
            "--to",
            "2024-06-07",
        ],
        &env,
        &store,
    );
    r.ok();
    assert!(r.json()["tables"].is_object() || r.json()["tables"].is_array());
    let r = run(&["creds", "validate", "ths", "--online"], &env, &store);
    r.ok();
    assert!(
        r.stdout.contains("ths accepted the credentials"),
        "{}",
        r.stdout
    );
    run(&["ths", "quote", "600519"], &env, &store).fails(7, &["600519"]);
    run(
        &[
            "ths",
            "history",
            "600519.SH",
            "--from",
            "2024-13-01",
            "--to",
            "2024-06-07",
        ],
        &env,
        &store,
    )
    .fails(7, &["`--from`"]);
    fakes()
        .ths
        .fail_next("cmd_history_quotation", Fault::code(-4310), 1);
    run(
        &[
            "ths",
            "history",
            "600519.SH",
            "--from",
            "2024-06-03",
            "--to",
            "2024-06-07",
        ],
        &env,
        &store,
    )
    .fails(5, &["-4310", "platform code: -4310"]);
    let only_legacy = {
        let mut e = without(&env, "THS_");
        e.push(("TONGHUASHUN_API_KEY".into(), "k".into()));
        e
    };
    run(&["ths", "quote", "600519.SH"], &only_legacy, &store).fails(3, &["THS_REFRESH_TOKEN"]);
    run(
        &["ths", "quote", "600519.SH"],
        &without(&env, "THS_"),
        &store,
    )
    .fails(3, &["THS_REFRESH_TOKEN"]);
}

#[test]
fn erp_orders_create_and_finance() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let r = run(&["erp", "orders", "--limit", "3"], &env, &store);
    r.ok();
    assert!(
        r.stdout.contains("SO-000001") && r.stdout.contains("(3 orders)"),
        "{}",
        r.stdout
    );
    let r = run(
        &[
            "--json",
            "erp",
            "create-order",
            "--customer",
            "ACME",
            "--item",
            "SKU-1:2:9.90",
            "--item",
            "SKU-2:1:0.20",
        ],
        &env,
        &store,
    );
    r.ok();
    let created = r.json();
    assert_eq!(created["created"]["total_amount"], "20.00", "{created}");
    assert!(created["created"]["idempotency_key"].is_string());
    let r = run(&["erp", "finance", "--period", "2024-01"], &env, &store);
    r.ok();
    assert!(
        r.stdout.contains("revenue:") && r.stdout.contains("CNY"),
        "{}",
        r.stdout
    );

    run(
        &[
            "erp",
            "create-order",
            "--customer",
            "ACME",
            "--item",
            "SKU-1:two:9.90",
        ],
        &env,
        &store,
    )
    .fails(7, &["`--item[0]`"]);
    run(&["erp", "finance", "--period", "2024-13"], &env, &store).fails(7, &["period"]);
    // A server failure, not retried here: exit 5 with the status.
    fakes()
        .erp
        .fail_next(FakeOp::FinancialData, Fault::Status(503), 1);
    let mut no_retry = env.clone();
    no_retry.push(("API_MAX_RETRIES".into(), "0".into()));
    run(
        &["erp", "finance", "--period", "2024-01"],
        &no_retry,
        &store,
    )
    .fails(5, &["503"]);
    run(&["erp", "orders"], &without(&env, "ERP_"), &store).fails(3, &["ERP_API_URL"]);
    let mut bad = env.clone();
    bad.push(("ERP_AUTH_MODE".into(), "oauth9".into()));
    run(&["erp", "orders"], &bad, &store).fails(3, &["ERP_AUTH_MODE"]);
}

#[test]
fn content_publish_stats_and_an_unknown_outcome() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let r = run(
        &[
            "--json",
            "content",
            "publish",
            "--platform",
            "zhihu",
            "--title",
            "标题",
            "--body",
            "正文",
            "--tag",
            "Rust",
        ],
        &env,
        &store,
    );
    r.ok();
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = run(
        &["content", "stats", "--platform", "zhihu", &id],
        &env,
        &store,
    );
    r.ok();
    assert!(
        r.stdout.contains(&id) && r.stdout.contains("likes:"),
        "{}",
        r.stdout
    );

    run(
        &[
            "content",
            "publish",
            "--platform",
            "zhihu",
            "--title",
            "",
            "--body",
            "x",
        ],
        &env,
        &store,
    )
    .fails(7, &["title"]);
    run(
        &["content", "stats", "--platform", "zhihu", "no-such-id"],
        &env,
        &store,
    )
    .fails(5, &["platform code"]);
    // A publish that may have reached the server is not replayed: exit 8 with the context.
    fakes()
        .zhihu
        .fail_next(ContentOp::Any, Fault::Status(502), 1);
    run(
        &[
            "content",
            "publish",
            "--platform",
            "zhihu",
            "--title",
            "t",
            "--body",
            "b",
        ],
        &env,
        &store,
    )
    .fails(8, &["outcome unknown", "profile = zhihu", "title = t"]);
    run(
        &[
            "content",
            "publish",
            "--platform",
            "toutiao",
            "--title",
            "t",
            "--body",
            "b",
        ],
        &env,
        &store,
    )
    .fails(3, &["TOUTIAO_BASE_URL"]);
}

#[test]
fn call_sends_any_endpoint_with_the_platforms_auth() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    logged_in_store(&store);
    let r = run(
        &[
            "--json",
            "call",
            "erp",
            "GET",
            "/api/orders",
            "--data",
            r#"{"page_index":1,"page_size":2}"#,
        ],
        &env,
        &store,
    );
    r.ok();
    let v = r.json();
    assert_eq!(v["status"], 200);
    assert_eq!(v["body"]["data"].as_array().unwrap().len(), 2);
    let r = run(
        &[
            "call",
            "douyin",
            "get",
            "/api/douyin/v1/video/video_list/",
            "--account",
            fakes().douyin.open_id(),
            "--data",
            r#"{"cursor":0,"count":5}"#,
        ],
        &env,
        &store,
    );
    r.ok();
    assert!(r.stdout.starts_with("HTTP 200"), "{}", r.stdout);
    run(
        &["call", "erp", "GET", "/api/orders", "--data", "{nope"],
        &env,
        &store,
    )
    .fails(7, &["`--data`"]);
    run(&["call", "erp", "FETCH", "/api/orders"], &env, &store).fails(7, &["`method`"]);
    run(&["call", "weibo", "GET", "/x"], &env, &store)
        .fails(7, &["unknown platform `weibo`", "douyin"]);
    run(
        &["call", "ths", "POST", "/real_time_quotation"],
        &without(&env, "THS_"),
        &store,
    )
    .fails(3, &["THS_REFRESH_TOKEN"]);
    run(
        &[
            "call",
            "ths",
            "POST",
            "/real_time_quotation",
            "--data",
            r#"{"codes":"600519","indicators":"latest"}"#,
        ],
        &env,
        &store,
    )
    .fails(5, &["platform code: -4"]);
}

#[test]
fn sandbox_prints_variables_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let mut child = spawn(&["sandbox", "--for", "10"], &[], &store);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut env = Vec::new();
    loop {
        let line = lines.next().expect("sandbox output ended").unwrap();
        if line.starts_with("# sandbox ready") {
            break;
        }
        if let Some(rest) = line.strip_prefix("export ") {
            let (k, v) = rest.split_once('=').unwrap();
            env.push((k.to_owned(), v.trim_matches('\'').to_owned()));
        }
    }
    for k in [
        "DOUYIN_BASE_URL",
        "THS_REFRESH_TOKEN",
        "ERP_API_URL",
        "ZHIHU_BASE_URL",
        "XIAOHONGSHU_APP_ID",
    ] {
        assert!(env.iter().any(|(n, _)| n == k), "{k} not exported");
    }
    let r = run(&["ths", "quote", "600519.SH"], &env, &store);
    r.ok();
    assert!(r.stdout.contains("600519.SH"));
    let r = run(
        &[
            "content",
            "publish",
            "--platform",
            "xiaohongshu",
            "--title",
            "t",
            "--body",
            "b",
            "--image",
            "https://img.example.com/1.jpg",
        ],
        &env,
        &store,
    );
    r.ok();
    // Stopping it is the test's business: it is our own child.
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn demo_runs_the_whole_tour() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["demo"], &[], &dir.path().join("unused"));
    r.ok();
    for needle in [
        "✔ OAuth: a simulated user approved",
        "uploaded in 3 parts",
        "image post with 2 images published",
        "statistics of",
        "signed webhook create_video delivered",
        "recognised as a replay",
        "real-time quotes",
        "daily history of 600519.SH",
        "order SO-",
        "financial data 2024-01",
        "published to zhihu",
        "published to xiaohongshu with xhs_sign",
        "steps passed",
    ] {
        assert!(
            r.stdout.contains(needle),
            "{needle:?} missing:\n{}",
            r.stdout
        );
    }
    assert!(
        !dir.path().join("unused").exists(),
        "the demo keeps its store in a temporary directory"
    );
    let r = run(&["--json", "demo"], &[], &dir.path().join("unused"));
    r.ok();
    assert_eq!(r.json()["demo"], "passed");
}

/// True when `text` holds `prefix` followed by 32 lower-case hex digits (a fake's token).
fn has_token(text: &str, prefix: &str) -> bool {
    text.match_indices(prefix).any(|(i, _)| {
        let rest = &text[i + prefix.len()..];
        rest.len() >= 32 && rest[..32].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[test]
fn demo_at_trace_level_prints_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let seed = "canary-7d41c09e55b2";
    let env = vec![("CONNECTORS_DEMO_SECRET_SEED".to_owned(), seed.to_owned())];
    for args in [&["-vvv", "demo"][..], &["demo"][..]] {
        let mut env = env.clone();
        if args.len() == 1 {
            env.push(("RUST_LOG".into(), "trace".into()));
        }
        let r = run(args, &env, &dir.path().join("unused"));
        r.ok();
        let all = format!("{}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("TRACE"), "tracing was not at trace level");
        assert!(!all.contains(seed), "a secret leaked:\n{all}");
        for prefix in ["act.", "rft.", "clt."] {
            assert!(!has_token(&all, prefix), "a {prefix} token leaked");
        }
    }
}

/// `--key` on the ERP, content and iFinD creates: the same command again answers from the
/// journal without sending, and the same key with another request is refused with nothing sent.
#[test]
fn keyed_order_post_and_deal_are_recorded_once() {
    let env = fake_env();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("creds");
    let cases: [(&str, Vec<&str>, Vec<&str>); 3] = [
        (
            "cli/order-1",
            vec![
                "erp",
                "create-order",
                "--customer",
                "ACME",
                "--item",
                "SKU-1:2:9.90",
            ],
            vec![
                "erp",
                "create-order",
                "--customer",
                "ACME",
                "--item",
                "SKU-1:3:9.90",
            ],
        ),
        (
            "cli/post-1",
            vec![
                "content",
                "publish",
                "--platform",
                "zhihu",
                "--title",
                "标题",
                "--body",
                "正文",
            ],
            vec![
                "content",
                "publish",
                "--platform",
                "zhihu",
                "--title",
                "标题",
                "--body",
                "另一篇",
            ],
        ),
        (
            "cli/deal-1",
            vec![
                "ths",
                "portfolio",
                "deal",
                "10086",
                "600519.SH",
                "--side",
                "buy",
                "--name",
                "贵州茅台",
                "--price",
                "1685.50",
                "--volume",
                "100",
            ],
            vec![
                "ths",
                "portfolio",
                "deal",
                "10086",
                "600519.SH",
                "--side",
                "buy",
                "--name",
                "贵州茅台",
                "--price",
                "1685.50",
                "--volume",
                "200",
            ],
        ),
    ];
    // Zhihu sends no idempotency header by default, so a keyed post is refused before
    // anything is sent; with one configured, it is recorded like the others.
    run(
        &[
            "content",
            "publish",
            "--platform",
            "zhihu",
            "--title",
            "t",
            "--body",
            "b",
            "--key",
            "cli/refused",
        ],
        &env,
        &store,
    )
    .fails(3, &["ZHIHU_IDEMPOTENCY_HEADER"]);
    let mut env = env;
    env.push(("ZHIHU_IDEMPOTENCY_HEADER".into(), "Idempotency-Key".into()));
    for (key, first, other) in cases {
        let with_key = |args: &[&str]| {
            let mut v = vec!["--json"];
            v.extend_from_slice(args);
            v.extend_from_slice(&["--key", key]);
            v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>()
        };
        let a = with_key(&first);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let sent = run(&a, &env, &store);
        sent.ok();
        let sent = sent.json();
        assert_eq!(sent["how"], "sent", "{key}: {sent}");
        let again = run(&a, &env, &store);
        again.ok();
        let again = again.json();
        assert_eq!(
            (&again["id"], &again["how"]),
            (&sent["id"], &serde_json::json!("recorded")),
            "{key}"
        );
        let b = with_key(&other);
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        run(&b, &env, &store).fails(9, &[key, "nothing was sent"]);
        let show = run(&["--json", "journal", "show", key], &env, &store);
        show.ok();
        assert_eq!(show.json()["state"], "done", "{key}");
    }
}
