//! Keyed publishing killed with SIGKILL at seeded random points, then run again: the fake
//! must end with exactly one item per key. Also: two processes racing one key, and a key
//! reused for another request.
//!
//! One binary, two roles (`harness = false`): run plainly it is the parent, which starts the
//! fake in this process and re-executes itself with `JOURNAL_KILLS_CHILD` set; the child makes
//! one keyed `publish_video` against the fake through a `FileJournal`, printing a marker and
//! waiting for a line on stdin at each point where it may be killed:
//!
//! | point | where |
//! |---|---|
//! | `begun` | `sending` is durable, nothing uploaded |
//! | `noted` | the `video_id` is durable, the create not sent |
//! | `sent` | the fake holds the create's answer (the item exists; `Fault::Slow`) |
//! | `answered` | the answer is in, the result not yet recorded |
//! | `finished` | the result is recorded |
//!
//! A second series kills the child after a seeded random delay with no pauses at all.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use conn_core::journal::{Begin, Claim, Entry, Journal, JournalError, OperationKey, State};
use conn_creds::FileJournal;
use conn_douyin::fake::{FakeDouyin, Fault, Op};
use conn_douyin::{Client, Config, VideoPost, VideoSource};
use rand::{Rng, SeedableRng};

const CHILD_VAR: &str = "JOURNAL_KILLS_CHILD";
const POINTS: [&str; 5] = ["begun", "noted", "sent", "answered", "finished"];
const POINT_KILLS: usize = 100;
const TIMED_KILLS: usize = 40;

/// The one test this binary holds, by the name test runners list and filter on.
const TEST_NAME: &str = "journal_kills";

fn main() {
    if std::env::var_os(CHILD_VAR).is_some() {
        child();
        return;
    }
    // Speak enough of the libtest command line for `cargo test` and nextest: `--list` names the
    // one test (none when only ignored tests are asked for), and a name filter that does not
    // match skips the run.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("{TEST_NAME}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if !filters.is_empty() && !filters.iter().any(|f| TEST_NAME.contains(f.as_str())) {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(parent());
    println!("journal_kills: ok");
}

// ---------------------------------------------------------------- child

/// A journal that stops at each point until the parent says "go" (or kills it).
#[derive(Debug)]
struct Pausing {
    inner: FileJournal,
    pause: bool,
}

impl Pausing {
    fn at(&self, point: &str) {
        if !self.pause {
            return;
        }
        println!("POINT {point}");
        std::io::stdout().flush().unwrap();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
    }
}

#[async_trait]
impl Journal for Pausing {
    async fn begin(&self, entry: Entry) -> Result<Begin, JournalError> {
        let b = self.inner.begin(entry).await?;
        if !matches!(b, Begin::Recorded(_)) {
            self.at("begun");
        }
        Ok(b)
    }
    async fn note(&self, claim: &Claim, name: &str, value: &str) -> Result<Entry, JournalError> {
        let e = self.inner.note(claim, name, value).await?;
        self.at("noted");
        Ok(e)
    }
    async fn finish(&self, claim: Claim, state: State) -> Result<Entry, JournalError> {
        self.at("answered");
        let e = self.inner.finish(claim, state).await?;
        self.at("finished");
        Ok(e)
    }
    async fn get(&self, key: &OperationKey) -> Result<Option<Entry>, JournalError> {
        self.inner.get(key).await
    }
    async fn list(&self) -> Result<Vec<Entry>, JournalError> {
        self.inner.list().await
    }
}

fn child() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = std::env::var("JOURNAL_KILLS_DIR").unwrap();
        let key = OperationKey::new(std::env::var("JOURNAL_KILLS_KEY").unwrap()).unwrap();
        let text = std::env::var("JOURNAL_KILLS_TEXT").unwrap();
        let pause = std::env::var("JOURNAL_KILLS_PAUSE").is_ok_and(|v| v == "1");
        let journal: Arc<dyn Journal> = Arc::new(Pausing {
            inner: FileJournal::open(dir).unwrap(),
            pause,
        });
        let client = Client::new(Config::from_env().unwrap()).unwrap();
        let open_id = client.resolve_open_id(None).unwrap();
        let douyin = client.journaled(journal);
        let r = douyin
            .publish_video(
                &key,
                &open_id,
                VideoSource::bytes(vec![7u8; 2048]),
                &VideoPost::new(text),
            )
            .await;
        match r {
            Ok(c) => println!("RESULT {} {:?}", c.id, c.how),
            Err(e) => println!("ERROR {e}"),
        }
        std::io::stdout().flush().unwrap();
    });
}

// ---------------------------------------------------------------- parent

struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
}

fn spawn(fake_env: &[(String, String)], dir: &Path, key: &str, text: &str, pause: bool) -> Run {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env(CHILD_VAR, "1")
        .env("JOURNAL_KILLS_DIR", dir)
        .env("JOURNAL_KILLS_KEY", key)
        .env("JOURNAL_KILLS_TEXT", text)
        .env("JOURNAL_KILLS_PAUSE", if pause { "1" } else { "0" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, _) in std::env::vars() {
        if k.starts_with("API_") || k.starts_with("DOUYIN_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in fake_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Run { child, lines: rx }
}

impl Run {
    fn next_line(&self) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(60)).ok()
    }

    fn go(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        let _ = writeln!(stdin, "go");
        let _ = stdin.flush();
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Lets the child run to its end; returns its RESULT/ERROR line.
    fn finish(mut self) -> String {
        let mut last = None;
        while let Some(line) = self.next_line() {
            if line.starts_with("POINT ") {
                self.go();
                continue;
            }
            if line.starts_with("RESULT ") || line.starts_with("ERROR ") {
                last = Some(line);
            }
        }
        self.child.wait().unwrap();
        last.expect("the child printed no result")
    }
}

fn items_with_text(fake: &FakeDouyin, text: &str) -> usize {
    fake.items(None).iter().filter(|i| i.text == text).count()
}

async fn fake_env(fake: &FakeDouyin) -> Vec<(String, String)> {
    let tokens = fake.authorize(fake.open_id(), &["video.create.bind", "video.list.bind"]);
    let mut env = fake.env_vars();
    env.push((
        "DOUYIN_ACCESS_TOKEN".into(),
        tokens.access_token.expose_secret().to_owned(),
    ));
    env
}

async fn parent() {
    let fake = FakeDouyin::start().await;
    let env = fake_env(&fake).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("journal");
    let seed: u64 = std::env::var("JOURNAL_KILLS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0014);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let mut hits = [0usize; POINTS.len()];
    let mut hows = std::collections::BTreeMap::<String, usize>::new();
    let mut duplicates = 0;
    let started = Instant::now();

    // Series 1: a kill at a chosen point.
    for i in 0..POINT_KILLS {
        let p = rng.gen_range(0..POINTS.len());
        let key = format!("kill/point-{i}");
        let text = format!("kill point {i}");
        if POINTS[p] == "sent" {
            fake.fail_next(Op::CreateVideo, Fault::Delay(Duration::from_secs(3)), 1);
        }
        let creates_before = fake.requests(Op::CreateVideo);
        let mut run = spawn(&env, &dir, &key, &text, true);
        loop {
            let line = run
                .next_line()
                .expect("the child stopped before its kill point");
            let Some(point) = line.strip_prefix("POINT ") else {
                panic!("run {i}: unexpected {line}")
            };
            if point == POINTS[p] {
                break;
            }
            if POINTS[p] == "sent" && point == "noted" {
                run.go();
                // Bounded: the create arrives within milliseconds; 30 s is a hung child.
                let deadline = Instant::now() + Duration::from_secs(30);
                while fake.requests(Op::CreateVideo) == creates_before {
                    assert!(
                        Instant::now() < deadline,
                        "run {i}: the create never arrived"
                    );
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                break;
            }
            run.go();
        }
        run.kill();
        hits[p] += 1;

        let result = spawn(&env, &dir, &key, &text, false).finish();
        assert!(
            result.starts_with("RESULT "),
            "run {i} ({}): {result}",
            POINTS[p]
        );
        let how = result.split(' ').nth(2).unwrap_or("").to_owned();
        let expected = match POINTS[p] {
            "begun" | "noted" => "ReconciledThenSent",
            "sent" | "answered" => "Reconciled",
            _ => "Recorded",
        };
        assert_eq!(how, expected, "run {i} killed at {}", POINTS[p]);
        *hows.entry(how).or_default() += 1;
        let n = items_with_text(&fake, &text);
        duplicates += n.saturating_sub(1);
        assert_eq!(n, 1, "run {i} killed at {}: {n} items", POINTS[p]);
    }

    // Series 2: a kill after a random delay, no pauses.
    let mut timed_states = std::collections::BTreeMap::<String, usize>::new();
    let journal = FileJournal::open(&dir).unwrap();
    for i in 0..TIMED_KILLS {
        let key = format!("kill/timed-{i}");
        let text = format!("kill timed {i}");
        let run = spawn(&env, &dir, &key, &text, false);
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..40_000)));
        run.kill();
        let state = match journal
            .get(&OperationKey::new(&key).unwrap())
            .await
            .unwrap()
        {
            None => "none".to_owned(),
            Some(e) if e.detail("video_id").is_some() => format!("{}+video_id", e.state.name()),
            Some(e) => e.state.name().to_owned(),
        };
        *timed_states.entry(state).or_default() += 1;
        let result = spawn(&env, &dir, &key, &text, false).finish();
        assert!(result.starts_with("RESULT "), "timed run {i}: {result}");
        let n = items_with_text(&fake, &text);
        duplicates += n.saturating_sub(1);
        assert_eq!(n, 1, "timed run {i}: {n} items");
    }
    println!(
        "journal_kills: seed {seed:#x}; {} point kills (hits {:?}), {} timed kills (states at kill {:?}); reruns {:?}; duplicates {duplicates}; {:?}",
        POINT_KILLS,
        POINTS.iter().zip(hits).collect::<Vec<_>>(),
        TIMED_KILLS,
        timed_states,
        hows,
        started.elapsed()
    );
    assert_eq!(duplicates, 0);
    assert!(hits.iter().all(|h| *h > 0), "every point hit: {hits:?}");

    // Two processes racing one key: one create, one id.
    for round in 0..5 {
        let key = format!("race/{round}");
        let text = format!("race {round}");
        let a = spawn(&env, &dir, &key, &text, false);
        let b = spawn(&env, &dir, &key, &text, false);
        let (ra, rb) = (a.finish(), b.finish());
        let id = |r: &str| r.split(' ').nth(1).unwrap_or("").to_owned();
        assert!(
            ra.starts_with("RESULT ") && rb.starts_with("RESULT "),
            "{ra} / {rb}"
        );
        assert_eq!(id(&ra), id(&rb));
        assert_eq!(items_with_text(&fake, &text), 1, "race {round}");
    }

    // Same key, another request: a conflict, nothing uploaded or sent.
    let (uploads, creates) = (
        fake.requests(Op::UploadVideo),
        fake.requests(Op::CreateVideo),
    );
    let r = spawn(&env, &dir, "race/0", "another text", false).finish();
    assert!(
        r.starts_with("ERROR ") && r.contains("race/0") && r.contains("nothing was sent"),
        "{r}"
    );
    assert_eq!(
        (
            fake.requests(Op::UploadVideo),
            fake.requests(Op::CreateVideo)
        ),
        (uploads, creates)
    );
}
