//! `cargo bench -p conn-core --bench overhead` (run by `cargo xtask bench`).
//!
//! 1. The connector stack against a raw reqwest call on loopback. A tiny keep-alive HTTP/1.1
//!    server, on a thread and runtime of its own, answers a Douyin-shaped JSON body; the client
//!    side runs on one thread. "raw" is reqwest GET + header + typed serde
//!    decode; "core" is the same call through conn-core: sensitive auth header, retry loop,
//!    tracing span (an INFO subscriber is installed, writing to a sink, as in production),
//!    envelope check and typed decode with path tracking. Measured at concurrency 1 and 64,
//!    rounds interleaved so both sides see the same machine state.
//! 2. Webhook verification against computing SHA-1(secret ‖ body) / HMAC-SHA256 by hand.
//!
//! Prints requests per second, p50/p99 latency and the core/raw throughput ratio.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conn_core::error::{ApiError, ApiErrorKind};
use conn_core::secret::Secret;
use conn_core::transport::{EnvelopeDecoder, Request, ResponseParts, Transport, TransportConfig};
use conn_core::webhook::{SignatureEncoding, SignatureScheme, SignedPayload, WebhookVerifier};
use conn_core::Error;
use hmac::Mac;
use http::{HeaderMap, HeaderName, HeaderValue};
use sha1::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: &str = r#"{"data":{"error_code":0,"description":"","cursor":1700000000,"has_more":false,"list":[{"item_id":"@9VwL2uKJ+abc=","title":"hello","create_time":1700000000,"statistics":{"digg_count":12,"play_count":345,"comment_count":6,"share_count":1}}]},"extra":{"error_code":0,"description":"","sub_error_code":0,"sub_description":"","logid":"20231114123456010203","now":1700000000}}"#;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Stats {
    digg_count: u64,
    play_count: u64,
    comment_count: u64,
    share_count: u64,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Item {
    item_id: String,
    title: String,
    create_time: i64,
    statistics: Stats,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Data {
    cursor: i64,
    has_more: bool,
    list: Vec<Item>,
}
#[derive(serde::Deserialize)]
struct Resp {
    data: Data,
}

/// Douyin-style envelope check, built the way conn-douyin's is: the shared zero-code scan
/// first, a full parse only when some code is not zero.
#[derive(Debug)]
struct DouyinLike;

impl EnvelopeDecoder for DouyinLike {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        if conn_core::lenient::codes_all_zero(r.body, &[b"\"error_code\"", b"\"sub_error_code\""]) {
            return None;
        }
        #[derive(serde::Deserialize)]
        struct Codes {
            #[serde(default)]
            error_code: i64,
            #[serde(default)]
            description: String,
        }
        #[derive(serde::Deserialize)]
        struct Env {
            data: Option<Codes>,
            extra: Option<Codes>,
        }
        let env: Env = serde_json::from_slice(r.body).ok()?;
        let c = env
            .data
            .filter(|c| c.error_code != 0)
            .or(env.extra.filter(|c| c.error_code != 0))?;
        Some(
            ApiError::new(
                "bench",
                c.error_code.to_string(),
                c.description,
                ApiErrorKind::Other,
            )
            .into(),
        )
    }
}

static ACCEPTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn serve(listener: tokio::net::TcpListener) {
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        BODY.len(),
        BODY
    );
    let response: Arc<[u8]> = Arc::from(response.into_bytes());
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        ACCEPTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = response.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut filled = 0;
            loop {
                let Ok(n) = sock.read(&mut buf[filled..]).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                filled += n;
                // Answer each complete request head (GETs carry no body).
                while let Some(end) = find_head_end(&buf[..filled]) {
                    if sock.write_all(&response).await.is_err() {
                        return;
                    }
                    buf.copy_within(end..filled, 0);
                    filled -= end;
                }
                if filled == buf.len() {
                    return;
                }
            }
        });
    }
}

fn find_head_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

struct Run {
    rps: f64,
    p50: Duration,
    p99: Duration,
    /// CPU time (user + system) of the client thread per request.
    cpu_per_req: Duration,
}

/// CPU time (user + system) of the calling thread, from /proc (clock ticks of 10 ms; runs are
/// long enough for that). Zero where /proc is not available.
fn thread_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return Duration::ZERO;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

async fn run<F, Fut>(total: usize, concurrency: usize, call: F) -> Run
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let per = total / concurrency;
    let cpu0 = thread_cpu();
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per);
                for _ in 0..per {
                    let t = Instant::now();
                    call().await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat = Vec::with_capacity(total);
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed();
    let cpu = thread_cpu().saturating_sub(cpu0);
    lat.sort();
    Run {
        rps: lat.len() as f64 / elapsed.as_secs_f64(),
        p50: lat[lat.len() / 2],
        p99: lat[lat.len() * 99 / 100],
        cpu_per_req: cpu / lat.len() as u32,
    }
}

fn best(runs: &[Run]) -> &Run {
    runs.iter().max_by(|a, b| a.rps.total_cmp(&b.rps)).unwrap()
}

async fn http_bench(base: String, total: usize, rounds: usize) -> Vec<(usize, f64)> {
    let raw_client = reqwest::Client::new();
    let raw_url = format!("{base}/api/douyin/v1/video/video_list/?open_id=o1&cursor=0&count=10");
    let cfg = TransportConfig::new(&base).unwrap();
    let transport = Transport::new("bench", cfg, DouyinLike).unwrap();
    let token = Secret::new("act.bench-token-value");
    let header = HeaderName::from_static("access-token");

    let mut ratios = Vec::new();
    let mut cpu_ratios = Vec::new();
    println!("\n## HTTP GET + JSON decode on loopback ({total} requests per run, best of {rounds} interleaved rounds)\n");
    println!("| concurrency | stack | req/s | p50 | p99 | client CPU / request |");
    println!("|---:|---|---:|---:|---:|---:|");
    // BENCH_CONCURRENCY=64 runs one concurrency only (for profiling).
    let levels: Vec<usize> = match std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(c) => vec![c],
        None => vec![1, 64],
    };
    for concurrency in levels {
        let mut raw_runs = Vec::new();
        let mut core_runs = Vec::new();
        // BENCH_STACK=raw|core runs one side only (for profiling).
        let stack = std::env::var("BENCH_STACK").unwrap_or_default();
        for _ in 0..rounds {
            if stack == "core" {
                break;
            }
            let (c, u, tok) = (raw_client.clone(), raw_url.clone(), token.clone());
            raw_runs.push(
                run(total, concurrency, move || {
                    let (c, u, tok) = (c.clone(), u.clone(), tok.clone());
                    async move {
                        let bytes = c
                            .get(&u)
                            .header("access-token", tok.expose_secret())
                            .send()
                            .await
                            .unwrap()
                            .bytes()
                            .await
                            .unwrap();
                        let r: Resp = serde_json::from_slice(&bytes).unwrap();
                        black_box(r.data.list.len());
                    }
                })
                .await,
            );
        }
        for _ in 0..rounds {
            if stack == "raw" {
                break;
            }
            let (t, tok, h) = (transport.clone(), token.clone(), header.clone());
            core_runs.push(
                run(total, concurrency, move || {
                    let (t, tok, h) = (t.clone(), tok.clone(), h.clone());
                    async move {
                        let req = Request::get("video_list", "/api/douyin/v1/video/video_list/")
                            .query("open_id", "o1")
                            .query("cursor", "0")
                            .query("count", "10")
                            .secret_header(h, &tok)
                            .unwrap();
                        let r: Resp = t.execute_json(&req).await.unwrap();
                        black_box(r.data.list.len());
                    }
                })
                .await,
            );
        }
        eprintln!(
            "connections accepted so far: {}",
            ACCEPTED.load(std::sync::atomic::Ordering::Relaxed)
        );
        if raw_runs.is_empty() || core_runs.is_empty() {
            continue;
        }
        let (r, c) = (best(&raw_runs), best(&core_runs));
        // CPU per request: the median over the rounds (a steadier figure than throughput on a
        // shared machine).
        let median_cpu = |runs: &[Run]| {
            let mut v: Vec<Duration> = runs.iter().map(|r| r.cpu_per_req).collect();
            v.sort();
            v[v.len() / 2]
        };
        let (rc, cc) = (median_cpu(&raw_runs), median_cpu(&core_runs));
        for (name, x, cpu) in [("raw reqwest", r, rc), ("conn-core", c, cc)] {
            println!(
                "| {concurrency} | {name} | {:.0} | {:.0} µs | {:.0} µs | {:.1} µs |",
                x.rps,
                x.p50.as_secs_f64() * 1e6,
                x.p99.as_secs_f64() * 1e6,
                cpu.as_secs_f64() * 1e6
            );
        }
        ratios.push((concurrency, c.rps / r.rps));
        cpu_ratios.push((concurrency, rc.as_secs_f64() / cc.as_secs_f64().max(1e-9)));
    }
    println!();
    for (c, ratio) in &ratios {
        println!("throughput ratio core/raw at concurrency {c}: {ratio:.3} (target >= 0.90)");
    }
    for (c, ratio) in &cpu_ratios {
        println!(
            "CPU-efficiency ratio raw/core (client CPU per request) at concurrency {c}: {ratio:.3} (target >= 0.90)"
        );
    }
    ratios
}

fn time_per_op(iters: u32, mut f: impl FnMut()) -> Duration {
    // Warm up, then best of 5 batches.
    for _ in 0..iters / 10 {
        f();
    }
    (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters
        })
        .min()
        .unwrap()
}

fn webhook_bench() -> Vec<(&'static str, f64)> {
    let body: Vec<u8> = {
        let mut s = String::from(
            r#"{"event":"create_video","from_user_id":"u1","to_user_id":"u2","client_key":"ck","content":{"item_id":"@9Vw","share_id":"s"},"pad":""#,
        );
        while s.len() < 1000 {
            s.push('x');
        }
        s.push_str("\"}");
        s.into_bytes()
    };
    let secret = Secret::new("webhook-secret-0123456789");
    let iters = 200_000;

    // SHA-1(secret || body), by hand: hash, hex-decode the header, compare.
    let sig_hex = hex::encode(
        sha1::Sha1::new()
            .chain_update(secret.expose_secret().as_bytes())
            .chain_update(&body)
            .finalize(),
    );
    let raw_sha1 = time_per_op(iters, || {
        let mut h = sha1::Sha1::new();
        h.update(secret.expose_secret().as_bytes());
        h.update(&body);
        let digest = h.finalize();
        let provided = hex::decode(&sig_hex).unwrap();
        black_box(subtle::ConstantTimeEq::ct_eq(
            digest.as_slice(),
            provided.as_slice(),
        ));
    });
    let v = WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
        header: HeaderName::from_static("x-douyin-signature"),
    })
    .with_secret(secret.clone());
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-douyin-signature",
        HeaderValue::from_str(&sig_hex).unwrap(),
    );
    let core_sha1 = time_per_op(iters, || {
        black_box(v.verify(&headers, &body).unwrap());
    });

    // HMAC-SHA256 hex, by hand vs the verifier.
    let hv = WebhookVerifier::new(SignatureScheme::HmacSha256 {
        header: HeaderName::from_static("x-signature"),
        encoding: SignatureEncoding::Hex,
        prefix: None,
        payload: SignedPayload::Body,
    })
    .with_secret(secret.clone());
    let hheaders = hv.sign(&body, None, None).unwrap();
    let hsig = hheaders["x-signature"].to_str().unwrap().to_owned();
    let raw_hmac = time_per_op(iters, || {
        let mut m =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.expose_secret().as_bytes()).unwrap();
        m.update(&body);
        let provided = hex::decode(&hsig).unwrap();
        black_box(m.verify_slice(&provided).is_ok());
    });
    let core_hmac = time_per_op(iters, || {
        black_box(hv.verify(&hheaders, &body).unwrap());
    });

    // Douyin verifier with Msg-Id dedupe: every message has a fresh id, so both sides build
    // the per-message header map the same way; the raw side then hashes by hand.
    let msg_id = HeaderName::from_static("msg-id");
    // Douyin's configuration (conn-douyin builds it the same way).
    let dv = WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
        header: HeaderName::from_static("x-douyin-signature"),
    })
    .with_id_header(
        msg_id.clone(),
        conn_core::webhook::DEFAULT_SEEN_IDS_CAPACITY,
    )
    .with_secret(secret.clone());
    let mut n = 0u64;
    let mut rheaders = headers.clone();
    let raw_sha1_msg = time_per_op(iters, || {
        n += 1;
        rheaders.insert(msg_id.clone(), HeaderValue::from(n));
        let mut h = sha1::Sha1::new();
        h.update(secret.expose_secret().as_bytes());
        h.update(&body);
        let digest = h.finalize();
        let provided = hex::decode(rheaders["x-douyin-signature"].as_bytes()).unwrap();
        black_box(subtle::ConstantTimeEq::ct_eq(
            digest.as_slice(),
            provided.as_slice(),
        ));
    });
    let mut dheaders = headers.clone();
    let core_dedupe = time_per_op(iters, || {
        n += 1;
        dheaders.insert(msg_id.clone(), HeaderValue::from(n));
        black_box(dv.verify(&dheaders, &body).unwrap());
    });

    println!("\n## Webhook verification, 1 KiB body (best of 5 batches of {iters})\n");
    println!("| check | raw by hand | conn-core verifier | raw/core speed ratio |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, raw: Duration, core: Duration| {
        let ratio = raw.as_secs_f64() / core.as_secs_f64();
        println!(
            "| {name} | {:.0} ns | {:.0} ns | {ratio:.3} |",
            raw.as_secs_f64() * 1e9,
            core.as_secs_f64() * 1e9
        );
        ratio
    };
    let r1 = row("SHA-1(secret ‖ body), Douyin", raw_sha1, core_sha1);
    let r2 = row("HMAC-SHA256 hex", raw_hmac, core_hmac);
    let r3 = row(
        "SHA-1 + Msg-Id replay cache (new id per message)",
        raw_sha1_msg,
        core_dedupe,
    );
    println!("\nverification speed ratio (raw time / core time; target >= 0.90): sha1 {r1:.3}, hmac {r2:.3}, sha1+dedupe {r3:.3}");
    vec![("sha1", r1), ("hmac", r2), ("sha1+dedupe", r3)]
}

fn main() {
    // `cargo bench` passes `--bench`; a quick mode keeps `cargo test --benches` cheap.
    let quick =
        std::env::args().any(|a| a == "--quick") || std::env::var_os("BENCH_QUICK").is_some();
    let (total, rounds) = if quick { (2_000, 1) } else { (20_000, 5) };
    // BENCH_NO_SUBSCRIBER=1 measures without a subscriber, to see what tracing itself costs.
    if std::env::var_os("BENCH_NO_SUBSCRIBER").is_none() {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::sink)
            .try_init();
    }
    // The server gets a thread and runtime of its own (one core); the client runs every
    // measurement on one thread, so both stacks see the same server and the difference between
    // them is the client-side cost of the stack.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let srt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        srt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener).await;
        });
    });
    let addr = rx.recv().unwrap();
    let base = format!("http://{addr}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("# conn-core overhead benchmark");
    // BENCH_ONLY=http or BENCH_ONLY=webhook runs one half (for profiling).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only != "webhook" {
        rt.block_on(http_bench(base, total, rounds));
    }
    if only != "http" {
        webhook_bench();
    }
}
