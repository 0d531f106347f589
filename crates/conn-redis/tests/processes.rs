//! Many OS processes sharing one Redis: single-flight refresh across processes, a holder
//! killed mid-refresh, a shared rate limit, webhook dedupe across receivers, and a consumer
//! killed before acknowledging.
//!
//! Child processes are this test binary re-executed with `--exact child_process --ignored`;
//! `CONN_REDIS_CHILD` carries the role (the pattern of conn-creds' multi-process tests). The
//! fakes (Douyin, iFinD, a counting HTTP server) run in the parent, which counts at the fake.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conn_core::env::Env;
use conn_core::limit::Limiter;
use conn_core::secret::{AccessToken, Secret};
use conn_core::token::{TokenKey, TokenStore};
use conn_core::webhook::{SignatureScheme, WebhookVerifier};
use conn_redis::server::{for_tests, LocalRedis, Persistence};
use conn_redis::{
    EventStream, Redis, RedisConfig, RedisLimiter, RedisReplayCache, RedisTokenStore, SharedLimit,
};

const ROLE_VAR: &str = "CONN_REDIS_CHILD";
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const K: usize = 8;

fn spawn_child(role: &str, server: &LocalRedis, extra: &[(String, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--ignored",
        "--test-threads=1",
    ])
    .env(ROLE_VAR, role)
    .env("REDIS_URL", server.url())
    .env("API_CREDENTIAL_ENCRYPTION_KEY", KEY)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

struct Proc {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Proc {
    fn new(mut child: Child) -> Self {
        let out = BufReader::new(child.stdout.take().unwrap());
        Self { child, out }
    }

    /// The rest of the first line containing `prefix` (the child's stdout ends: `None`).
    fn wait_for(&mut self, prefix: &str) -> Option<String> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.out.read_line(&mut line).unwrap() == 0 {
                return None;
            }
            // libtest prints `test child_process ... ` without a newline before the output.
            if let Some(at) = line.find(prefix) {
                return Some(line.trim_end()[at + prefix.len()..].trim().to_owned());
            }
        }
    }

    fn go(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
    }

    fn finish(mut self) {
        drop(self.child.stdin.take());
        assert!(self.child.wait().unwrap().success(), "a child failed");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Kill only our own children, and reap them.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for the parent's "go" line off the runtime: blocking the runtime's thread would also
/// hold back the task that releases a lease.
async fn read_line() {
    tokio::task::spawn_blocking(|| {
        let mut go = String::new();
        std::io::stdin().read_line(&mut go).unwrap();
    })
    .await
    .unwrap();
}

fn child_store() -> Arc<RedisTokenStore> {
    let env = Env::process();
    let redis = Redis::new(RedisConfig::from_env_with(&env).unwrap().unwrap()).unwrap();
    let mut store = RedisTokenStore::from_env_with(redis, &env).unwrap();
    if let Some(ms) = env.get("LEASE_MS") {
        store = store.with_lease(Duration::from_millis(ms.parse().unwrap()));
    }
    Arc::new(store)
}

fn child_redis() -> Redis {
    Redis::new(
        RedisConfig::from_env_with(&Env::process())
            .unwrap()
            .unwrap(),
    )
    .unwrap()
}

/// The child side. Roles: `douyin`, `ths`, `limiter`, `receiver`, `consumer`.
#[test]
#[ignore = "child process entry point; run by the multi-process tests"]
fn child_process() {
    let Ok(role) = std::env::var(ROLE_VAR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        match role.as_str() {
            "douyin" => {
                let open_id = std::env::var("DOUYIN_OPEN_ID").unwrap();
                let cfg = conn_douyin::Config::from_env_with(&Env::process()).unwrap();
                let client = conn_douyin::Client::builder(cfg)
                    .token_store(child_store())
                    .build()
                    .unwrap();
                // Load the shared token first, so that every process starts from the same one.
                assert!(client.account_info(&open_id).await.unwrap().is_some());
                println!("READY");
                read_line().await;
                // The fake now rejects that token: each process refreshes once and replays.
                client.video_list_page(&open_id, 0, 10).await.unwrap();
                println!("OK");
            }
            "ths" => {
                let cfg = conn_ths::Config::from_env_with(&Env::process()).unwrap();
                let client = conn_ths::Client::builder(cfg)
                    .token_store(child_store())
                    .build()
                    .unwrap();
                println!("READY");
                read_line().await;
                let first = client.tokens().token().await.unwrap();
                println!("TOKEN {}", first.expose_secret());
                read_line().await;
                // The platform said "expired" for `first` (the parent expired it at the fake).
                let second = client.tokens().force_refresh(Some(&first)).await.unwrap();
                println!("TOKEN2 {}", second.access_token.expose_secret());
            }
            "limiter" => {
                let url = std::env::var("COUNT_URL").unwrap();
                let n: usize = std::env::var("REQUESTS").unwrap().parse().unwrap();
                let limiter = RedisLimiter::new(
                    child_redis(),
                    "ths",
                    SharedLimit::new(50, Duration::from_secs(2)).unwrap(),
                );
                let http = conn_core::reexports::reqwest::Client::new();
                println!("READY");
                read_line().await;
                for _ in 0..n {
                    limiter.acquire("shared-account").await.unwrap();
                    http.get(&url).send().await.unwrap();
                }
                println!("DONE");
            }
            "receiver" => {
                let secret = Secret::new("client-secret");
                let verifier = douyin_verifier().with_secret(secret.clone());
                let seen = RedisReplayCache::new(child_redis(), "douyin");
                println!("READY");
                read_line().await;
                let mut accepted = 0;
                for i in 0..20 {
                    let body = format!(r#"{{"event":"e{i}"}}"#);
                    let mut h = http::HeaderMap::new();
                    h.insert(
                        "X-Douyin-Signature",
                        douyin_signature(&secret, body.as_bytes()).parse().unwrap(),
                    );
                    h.insert("Msg-Id", format!("msg-{i}").parse().unwrap());
                    if verifier
                        .verify_shared(&h, body.as_bytes(), &seen)
                        .await
                        .is_ok()
                    {
                        accepted += 1;
                    }
                }
                println!("ACCEPTED {accepted}");
            }
            "consumer" => {
                let events = EventStream::new(child_redis(), "events", "workers");
                let d = events.next("doomed").await.unwrap().unwrap();
                println!("GOT {}", d.entry_id);
                // The handler "runs" until the parent kills this process: no ack, ever.
                read_line().await;
                panic!("the consumer should have been killed");
            }
            other => panic!("unknown role {other}"),
        }
    });
}

fn server() -> Option<LocalRedis> {
    for_tests(Persistence::None)
}

fn parent_store(server: &LocalRedis) -> RedisTokenStore {
    let redis = Redis::new(RedisConfig::new(server.url()).unwrap()).unwrap();
    RedisTokenStore::new(redis, conn_redis::TokenCipher::from_base64(KEY).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_on_one_douyin_account_refresh_once_per_expiry() {
    let Some(server) = server() else { return };
    let fake = conn_douyin::fake::FakeDouyin::builder()
        .refresh_rotation(conn_douyin::fake::RefreshRotation::New)
        .start()
        .await;
    let open_id = fake.open_id().to_owned();
    let store = parent_store(&server);
    let key = TokenKey::new("douyin", open_id.as_str());
    store
        .save(&key, &fake.authorize(&open_id, &["video.list.bind"]))
        .await
        .unwrap();
    let vars = fake.env_vars();

    for round in 0..2 {
        let mut kids: Vec<Proc> = (0..K)
            .map(|_| Proc::new(spawn_child("douyin", &server, &vars)))
            .collect();
        let kids = tokio::task::spawn_blocking(move || {
            for k in &mut kids {
                assert!(k.wait_for("READY").is_some());
            }
            kids
        })
        .await
        .unwrap();
        fake.expire_access_tokens(&open_id);
        let before = fake.requests(conn_douyin::fake::Op::RefreshToken);
        tokio::task::spawn_blocking(move || {
            let mut kids = kids;
            for k in &mut kids {
                k.go();
            }
            for mut k in kids {
                assert!(k.wait_for("OK").is_some(), "a process failed its call");
                k.finish();
            }
        })
        .await
        .unwrap();
        let refreshes = fake.requests(conn_douyin::fake::Op::RefreshToken) - before;
        assert_eq!(
            refreshes, 1,
            "round {round}: {K} processes made {refreshes} refreshes"
        );
        // Rotation: the one live refresh token is the stored one.
        assert_eq!(fake.live_refresh_tokens(&open_id), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_on_one_ifind_account_fetch_once_per_expiry() {
    let Some(server) = server() else { return };
    let fake = conn_ths::fake::FakeIfind::start().await;
    let vars: Vec<(String, String)> = fake
        .env_vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let fetches = |f: &conn_ths::fake::FakeIfind| {
        f.request_count("get_access_token") + f.request_count("update_access_token")
    };

    let mut kids: Vec<Proc> = (0..K)
        .map(|_| Proc::new(spawn_child("ths", &server, &vars)))
        .collect();
    let (kids, firsts) = tokio::task::spawn_blocking(move || {
        for k in &mut kids {
            assert!(k.wait_for("READY").is_some());
        }
        for k in &mut kids {
            k.go();
        }
        let firsts: Vec<String> = kids
            .iter_mut()
            .map(|k| k.wait_for("TOKEN ").unwrap())
            .collect();
        (kids, firsts)
    })
    .await
    .unwrap();
    // Cold start: nothing stored, K processes at once, one fetch; everyone has its token.
    assert_eq!(fetches(&fake), 1, "cold start");
    assert!(firsts.iter().all(|t| t == &firsts[0]), "{firsts:?}");

    fake.expire_access_tokens();
    let seconds = tokio::task::spawn_blocking(move || {
        let mut kids = kids;
        for k in &mut kids {
            k.go();
        }
        let seconds: Vec<String> = kids
            .iter_mut()
            .map(|k| k.wait_for("TOKEN2 ").unwrap())
            .collect();
        for k in kids {
            k.finish();
        }
        seconds
    })
    .await
    .unwrap();
    assert_eq!(fetches(&fake), 2, "one fetch for the expiry");
    assert!(
        seconds.iter().all(|t| t == &seconds[0] && t != &firsts[0]),
        "{seconds:?}"
    );
    let stored = parent_store(&server)
        .load(&TokenKey::new("ths", "default"))
        .await
        .unwrap();
    assert_eq!(
        stored.map(|t| t.access_token),
        Some(AccessToken::new(seconds[0].as_str()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_killed_mid_refresh_is_replaced_after_its_lease() {
    let Some(server) = server() else { return };
    let fake = conn_ths::fake::FakeIfind::start().await;
    let mut vars: Vec<(String, String)> = fake
        .env_vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    vars.push(("LEASE_MS".into(), "1000".into()));
    // The first fetch hangs at the fake: the holder is inside its refresh when it dies.
    fake.fail_next(
        "get_access_token",
        conn_ths::fake::Fault::Delay(Duration::from_secs(60)),
        1,
    );
    let mut holder = Proc::new(spawn_child("ths", &server, &vars));
    let mut holder = tokio::task::spawn_blocking(move || {
        assert!(holder.wait_for("READY").is_some());
        holder.go();
        holder
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.request_count("get_access_token") == 0 {
        assert!(
            Instant::now() < deadline,
            "the holder never started its refresh"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let lease: Option<String> = {
        let r = Redis::new(RedisConfig::new(server.url()).unwrap()).unwrap();
        let mut c = r.connection().await.unwrap();
        redis::cmd("GET")
            .arg("connectors:lease:ths/default")
            .query_async(&mut c)
            .await
            .unwrap()
    };
    assert!(
        lease.is_some(),
        "the holder holds the lease while refreshing"
    );
    holder.child.kill().unwrap(); // SIGKILL: no release, no renewal
    holder.child.wait().unwrap();

    let next = Proc::new(spawn_child("ths", &server, &vars));
    let token = tokio::task::spawn_blocking(move || {
        let mut next = next;
        assert!(next.wait_for("READY").is_some());
        next.go();
        let t = next
            .wait_for("TOKEN ")
            .expect("the next process got no token");
        drop(next);
        t
    })
    .await
    .unwrap();
    assert!(fake.valid_access_tokens().contains(&token));
    let stored = parent_store(&server)
        .load(&TokenKey::new("ths", "default"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.access_token.expose_secret(), token);
}

/// A tiny HTTP server recording when each request arrived.
async fn counting_server() -> (String, Arc<Mutex<Vec<Instant>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/count", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    if buf.len() > 64 * 1024 {
                        return;
                    }
                }
                log.lock().unwrap().push(Instant::now());
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_limit_holds_across_four_processes() {
    let Some(server) = server() else { return };
    let (url, seen) = counting_server().await;
    const EACH: usize = 20;
    let vars = vec![
        ("COUNT_URL".to_owned(), url),
        ("REQUESTS".to_owned(), EACH.to_string()),
    ];
    let kids: Vec<Proc> = (0..4)
        .map(|_| Proc::new(spawn_child("limiter", &server, &vars)))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut kids = kids;
        for k in &mut kids {
            assert!(k.wait_for("READY").is_some());
        }
        for k in &mut kids {
            k.go();
        }
        for mut k in kids {
            assert!(k.wait_for("DONE").is_some());
            k.finish();
        }
    })
    .await
    .unwrap();
    let mut at = seen.lock().unwrap().clone();
    at.sort();
    assert_eq!(at.len(), 4 * EACH);
    // Every window of 2 s starting at an arrival holds at most 50 arrivals.
    let window = Duration::from_secs(2);
    let mut most = 0;
    for (i, start) in at.iter().enumerate() {
        let n = at[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < window)
            .count();
        most = most.max(n);
    }
    assert!(most <= 50, "{most} requests in one 2 s window");
    assert!(
        most >= 40,
        "the limiter let only {most} through per window: too strict"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_receiver_processes_accept_each_message_id_once() {
    let Some(server) = server() else { return };
    let kids: Vec<Proc> = (0..2)
        .map(|_| Proc::new(spawn_child("receiver", &server, &[])))
        .collect();
    let accepted: usize = tokio::task::spawn_blocking(move || {
        let mut kids = kids;
        for k in &mut kids {
            assert!(k.wait_for("READY").is_some());
        }
        for k in &mut kids {
            k.go();
        }
        let n = kids
            .iter_mut()
            .map(|k| k.wait_for("ACCEPTED ").unwrap().parse::<usize>().unwrap())
            .sum();
        for k in kids {
            k.finish();
        }
        n
    })
    .await
    .unwrap();
    assert_eq!(
        accepted, 20,
        "each of the 20 ids must be processed exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_before_ack_has_its_event_redelivered_and_processed_once() {
    let Some(server) = server() else { return };
    let redis = Redis::new(RedisConfig::new(server.url()).unwrap()).unwrap();
    let events = EventStream::new(redis, "events", "workers")
        .with_claim_idle(Duration::from_millis(300))
        .with_block(Duration::from_millis(50));
    events.ensure_group().await.unwrap();
    let entry = events
        .publish(Some("msg-1"), b"{\"event\":\"e\"}")
        .await
        .unwrap();

    let doomed = Proc::new(spawn_child("consumer", &server, &[]));
    let got = tokio::task::spawn_blocking(move || {
        let mut doomed = doomed;
        let got = doomed.wait_for("GOT ").unwrap();
        doomed.child.kill().unwrap(); // SIGKILL before the ack
        doomed.child.wait().unwrap();
        got
    })
    .await
    .unwrap();
    assert_eq!(got, entry);
    assert_eq!(events.pending().await.unwrap(), 1);

    let mut processed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && processed.is_empty() {
        if let Some(d) = events.next("survivor").await.unwrap() {
            processed.push(d.clone());
            events.ack(&d).await.unwrap();
        }
    }
    // Past the claim time again, nothing more comes: processed exactly once.
    tokio::time::sleep(Duration::from_millis(350)).await;
    while let Some(d) = events.next("survivor").await.unwrap() {
        processed.push(d);
    }
    assert_eq!(processed.len(), 1, "{processed:?}");
    assert!(processed[0].redelivered);
    assert_eq!(processed[0].entry_id, entry);
    assert_eq!(events.pending().await.unwrap(), 0);
}

/// Douyin's webhook configuration (conn-douyin's `webhook::verifier`), built from conn-core's
/// scheme-neutral pieces: this crate depends on conn-core only.
fn douyin_verifier() -> WebhookVerifier {
    WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
        header: http::HeaderName::from_static("x-douyin-signature"),
    })
    .with_id_header(
        http::HeaderName::from_static("msg-id"),
        conn_core::webhook::DEFAULT_SEEN_IDS_CAPACITY,
    )
}

/// The signature a sender with `secret` puts on `body`, by the verifier's signing helper.
fn douyin_signature(secret: &Secret, body: &[u8]) -> String {
    let headers = douyin_verifier()
        .with_secret(secret.clone())
        .sign(body, None, None)
        .unwrap();
    headers["x-douyin-signature"].to_str().unwrap().to_owned()
}
