//! Several processes on one store: concurrent writers, writers killed with SIGKILL, and a
//! token refresh raced by four processes.
//!
//! Child processes are this test binary re-executed with `--exact child_process --ignored`;
//! `CONN_CREDS_CHILD` carries the role and its parameters. `child_process` is `#[ignore]`d so a
//! normal run skips it, and does nothing without the variable.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use conn_core::env::{Env, MapEnv};
use conn_core::secret::{AccessToken, RefreshToken};
use conn_core::token::{TokenKey, TokenManager, TokenRefresher, TokenSet};
use conn_creds::{CredentialStore, EncryptionKey, ReloadCheck, StoreConfig};
use rand::Rng;

const ROLE_VAR: &str = "CONN_CREDS_CHILD";

fn spawn_child(role: &str, dir: &Path, extra: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--ignored",
        "--test-threads=1",
    ])
    .env(ROLE_VAR, role)
    .env("API_CREDENTIALS_DIR", dir)
    .env_remove("API_CREDENTIAL_ENCRYPTION_KEY")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Reads the child's stdout until a line containing `prefix`; returns the rest of that line.
fn wait_for(out: &mut BufReader<ChildStdout>, prefix: &str) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            return None;
        }
        // libtest prints `test child_process ... ` without a newline before the child's output.
        if let Some(at) = line.find(prefix) {
            return Some(line.trim_end()[at + prefix.len()..].to_owned());
        }
    }
}

fn open_process_env() -> CredentialStore {
    CredentialStore::open(
        StoreConfig::from_env_with(&Env::process()).with_reload_check(ReloadCheck::EveryRead),
    )
    .unwrap()
}

/// The child side. Roles:
/// - `writer:<id>:<count>`: sets `w<id>_<j>` for j < count on platform `conc`, then prints DONE.
/// - `crash`: repeatedly rewrites `crash/k<i>` with the next round's value until killed.
/// - `refresh`: waits for a line on stdin, then gets a token through a TokenManager whose
///   refresher calls `$REFRESH_URL`, and prints it.
#[test]
#[ignore = "child process entry point; run by the multi-process tests"]
fn child_process() {
    let Ok(role) = std::env::var(ROLE_VAR) else {
        return;
    };
    let mut parts = role.split(':');
    match parts.next().unwrap() {
        "writer" => {
            let id: usize = parts.next().unwrap().parse().unwrap();
            let count: usize = parts.next().unwrap().parse().unwrap();
            let store = open_process_env();
            println!("READY");
            for j in 0..count {
                store
                    .set("conc", &format!("w{id}_{j}"), format!("v{id}-{j}"))
                    .unwrap();
            }
            println!("DONE");
        }
        "crash" => {
            let store = open_process_env();
            // Resume the round a killed predecessor left half done (keys already at that
            // round are rewritten with the same value).
            let mut round = crash_state(&store).1.into_iter().min().unwrap();
            println!("READY");
            loop {
                round += 1;
                for i in 0..CRASH_KEYS {
                    store
                        .set("crash", &format!("k{i}"), format!("r{round}"))
                        .unwrap();
                }
            }
        }
        "refresh" => {
            let url = std::env::var("REFRESH_URL").unwrap();
            let store = Arc::new(open_process_env());
            let key = TokenKey::new("douyin", "_000acct");
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            println!("READY");
            let mut go = String::new();
            std::io::stdin().read_line(&mut go).unwrap();
            let token = rt.block_on(async {
                let manager = TokenManager::new(key, Arc::new(HttpRefresher { url }), store)
                    .with_jitter(Duration::ZERO);
                manager.token().await.unwrap()
            });
            println!("TOKEN {}", token.expose_secret());
        }
        other => panic!("unknown role {other}"),
    }
}

const CRASH_KEYS: usize = 6;

/// (highest round, per-key rounds) of the crash records.
fn crash_state(store: &CredentialStore) -> (u64, Vec<u64>) {
    let rounds: Vec<u64> = (0..CRASH_KEYS)
        .map(|i| {
            let v = store
                .get_stored("crash", &format!("k{i}"))
                .unwrap()
                .unwrap();
            v.expose_secret()
                .strip_prefix('r')
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    (rounds.iter().copied().max().unwrap(), rounds)
}

#[derive(Debug)]
struct HttpRefresher {
    url: String,
}

#[async_trait::async_trait]
impl TokenRefresher for HttpRefresher {
    async fn refresh(&self, current: Option<&TokenSet>) -> conn_core::Result<TokenSet> {
        let rt = current
            .and_then(|c| c.refresh_token.as_ref())
            .map(|r| r.expose_secret().to_owned())
            .unwrap_or_default();
        let resp = conn_core::reexports::reqwest::Client::new()
            .post(&self.url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
            ])
            .send()
            .await
            .map_err(|e| conn_core::Error::store("refresh request failed", e))?;
        let body: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| conn_core::Error::store("refresh response", e))?;
        Ok(TokenSet::new(AccessToken::new(
            body["access_token"].as_str().unwrap_or_default(),
        ))
        .with_refresh_token(body["refresh_token"].as_str().map(RefreshToken::new))
        .with_expires_in(SystemTime::now(), Duration::from_secs(3600)))
    }
}

#[test]
fn concurrent_writers_in_several_processes_lose_nothing() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join(".credentials");
    // All children open the fresh directory at once: they must also agree on one generated key.
    const WRITERS: usize = 4;
    const EACH: usize = 25;
    let mut children: Vec<Child> = (0..WRITERS)
        .map(|id| spawn_child(&format!("writer:{id}:{EACH}"), &dir, &[]))
        .collect();
    for c in &mut children {
        let mut out = BufReader::new(c.stdout.take().unwrap());
        assert!(
            wait_for(&mut out, "DONE").is_some(),
            "a writer did not finish"
        );
        assert!(c.wait().unwrap().success());
    }
    let store =
        CredentialStore::open(StoreConfig::new(&dir).with_env(Env::from_source(MapEnv::new())))
            .unwrap();
    let names = store.list("conc").unwrap();
    assert_eq!(names.len(), WRITERS * EACH, "lost writes: {names:?}");
    for id in 0..WRITERS {
        for j in 0..EACH {
            let v = store
                .get_stored("conc", &format!("w{id}_{j}"))
                .unwrap()
                .unwrap();
            assert_eq!(v.expose_secret(), format!("v{id}-{j}"));
        }
    }
}

#[test]
fn writers_killed_at_random_points_leave_old_or_new_values() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join(".credentials");
    let key = EncryptionKey::generate().unwrap();
    let cfg = || {
        StoreConfig::new(&dir)
            .with_env(Env::from_source(MapEnv::new()))
            .with_key(key.clone())
            .with_reload_check(ReloadCheck::EveryRead)
    };
    {
        let s = CredentialStore::open(cfg()).unwrap();
        for i in 0..CRASH_KEYS {
            s.set("crash", &format!("k{i}"), "r0").unwrap();
        }
        s.set("crash", "untouched", "stays").unwrap();
    }
    let key_b64 = key.to_base64();
    let mut rng = rand::thread_rng();
    let mut last_max = 0u64;
    let (mut progressed, mut temp_files_seen) = (0, 0);
    let started = Instant::now();
    const KILLS: usize = 200;
    for kill in 0..KILLS {
        let mut child = spawn_child(
            "crash",
            &dir,
            &[("API_CREDENTIAL_ENCRYPTION_KEY", key_b64.as_str())],
        );
        let mut out = BufReader::new(child.stdout.take().unwrap());
        assert!(
            wait_for(&mut out, "READY").is_some(),
            "crash child {kill} did not start"
        );
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..20_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        temp_files_seen += std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp.")
            })
            .count();
        // The store opens, and every record holds its old or its new value: the writer goes
        // k0..k5 per round, so the rounds read r+1 for a prefix of the keys and r for the rest.
        let s = CredentialStore::open(cfg())
            .unwrap_or_else(|e| panic!("store unreadable after kill {kill}: {e}"));
        let (max, rounds) = crash_state(&s);
        let min = *rounds.iter().min().unwrap();
        assert!(max - min <= 1, "kill {kill}: torn rounds {rounds:?}");
        let boundary = rounds.iter().position(|r| *r == min).unwrap();
        assert!(
            rounds[..boundary].iter().all(|r| *r == max)
                && rounds[boundary..].iter().all(|r| *r == min),
            "kill {kill}: rounds out of order {rounds:?}"
        );
        assert!(
            max >= last_max,
            "kill {kill}: a completed write was lost ({max} < {last_max})"
        );
        assert_eq!(
            s.get_stored("crash", "untouched")
                .unwrap()
                .unwrap()
                .expose_secret(),
            "stays"
        );
        if max > last_max {
            progressed += 1;
        }
        last_max = max;
    }
    let per_kill: BTreeMap<&str, String> = [
        ("elapsed", format!("{:?}", started.elapsed())),
        ("kills that landed after progress", progressed.to_string()),
        ("final round", last_max.to_string()),
        ("temp files left by kills", temp_files_seen.to_string()),
    ]
    .into_iter()
    .collect();
    eprintln!("crash test: {per_kill:?}");
    // The children wrote: the kills interrupted real work, not just idle processes. (How many
    // runs progressed depends on fsync speed, so only some progress is required.)
    assert!(
        last_max > 0 && progressed > 0,
        "the children never completed a write"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_with_an_expired_token_refresh_once() {
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/refresh_token/"))
        .and(body_string_contains("refresh_token=rft.old"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(
                    serde_json::json!({"access_token": "act.new", "refresh_token": "rft.new"}),
                )
                .set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    conn_core::testing::mount_catch_all(&server).await;
    assert!(server.uri().starts_with("http://127.0.0.1:"));

    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join(".credentials");
    let key = TokenKey::new("douyin", "_000acct");
    let store =
        CredentialStore::open(StoreConfig::new(&dir).with_env(Env::from_source(MapEnv::new())))
            .unwrap();
    let expired = TokenSet::new(AccessToken::new("act.old"))
        .with_refresh_token(Some(RefreshToken::new("rft.old")))
        .with_expires_in(
            SystemTime::now() - Duration::from_secs(7200),
            Duration::from_secs(3600),
        );
    store.save_token(&key, &expired).unwrap();

    let url = format!("{}/oauth/refresh_token/", server.uri());
    let dir2 = dir.clone();
    let outputs = tokio::task::spawn_blocking(move || {
        let mut children: Vec<(Child, BufReader<ChildStdout>)> = (0..4)
            .map(|_| {
                let mut c = spawn_child("refresh", &dir2, &[("REFRESH_URL", url.as_str())]);
                let out = BufReader::new(c.stdout.take().unwrap());
                (c, out)
            })
            .collect();
        for (_, out) in &mut children {
            assert!(wait_for(out, "READY").is_some());
        }
        // Release all four at once.
        for (c, _) in &mut children {
            writeln!(c.stdin.as_mut().unwrap(), "go").unwrap();
        }
        children
            .into_iter()
            .map(|(mut c, mut out)| {
                let token = wait_for(&mut out, "TOKEN ");
                assert!(c.wait().unwrap().success());
                token
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();

    assert_eq!(outputs, vec![Some("act.new".to_owned()); 4]);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "refresh requests: {}", requests.len());
    let stored = store.load_token(&key).unwrap().unwrap();
    assert_eq!(stored.access_token.expose_secret(), "act.new");
    assert_eq!(stored.refresh_token.unwrap().expose_secret(), "rft.new");
    server.verify().await;
}
