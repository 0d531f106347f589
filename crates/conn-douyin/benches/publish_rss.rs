//! Publishing a 1 GiB file through chunked upload keeps the client's peak RSS under 64 MiB.
//!
//! `cargo bench -p conn-douyin --features fake --bench publish_rss`
//!
//! The parent process writes a 1 GiB file (8 MiB at a time, never whole in memory), runs a
//! receiving server that drains request bodies without keeping them (a small hand-written
//! HTTP/1.1 responder speaking just enough of Douyin's publishing endpoints), and re-executes
//! this binary in "child" mode. The child publishes the file with `conn-douyin` (init, parts of
//! 20 MiB, complete, create) and reports its peak resident set (`VmHWM` of `/proc/self/status`),
//! so the server's memory is not counted. The parent prints the figures and fails when the peak
//! reaches 64 MiB or the parts are not 1..=N in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conn_douyin::{Client, Config, UploadProgress, VideoPost, VideoSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHILD_ENV: &str = "PUBLISH_RSS_CHILD";
const SERVER_ENV: &str = "PUBLISH_RSS_SERVER";
const FILE_ENV: &str = "PUBLISH_RSS_FILE";
const MIB: u64 = 1024 * 1024;
const FILE_SIZE: u64 = 1024 * MIB;
const PART_SIZE: u64 = 20 * MIB;
const RSS_LIMIT_KIB: u64 = 64 * 1024;

fn main() -> ExitCode {
    if std::env::var_os(CHILD_ENV).is_some() {
        child()
    } else {
        parent()
    }
}

// ---- child: the client under measurement ---------------------------------------------------

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn child() -> ExitCode {
    let server = std::env::var(SERVER_ENV).unwrap();
    let file = std::env::var(FILE_ENV).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(async {
        let cfg = Config::builder()
            .access_token("act.bench-token")
            .default_open_id("bench-user")
            .base_url(server)
            .part_size(PART_SIZE)
            .build()?;
        let client = Client::new(cfg)?;
        let parts = Arc::new(Mutex::new(0u32));
        let p = parts.clone();
        let progress = move |u: UploadProgress| {
            if u.part.is_some() {
                *p.lock().unwrap() += 1;
            }
        };
        let t0 = Instant::now();
        let published = client
            .publish_video_with_progress(
                "bench-user",
                VideoSource::path(&file),
                &VideoPost::new("1 GiB"),
                &progress,
            )
            .await?;
        let secs = t0.elapsed().as_secs_f64();
        let parts = *parts.lock().unwrap();
        Ok::<_, conn_core::Error>((published, parts, secs))
    });
    match result {
        Ok((published, parts, secs)) => {
            println!(
                "RESULT parts={parts} secs={secs:.3} hwm_kib={} item={}",
                vm_hwm_kib(),
                published.item_id
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("child failed: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---- parent: file, server, report ------------------------------------------------------------

#[derive(Default, Debug)]
struct Received {
    part_numbers: Vec<u32>,
    body_bytes: u64,
    creates: u32,
}

fn parent() -> ExitCode {
    let t_gen = Instant::now();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    // A cheap pseudo-random pattern, 8 MiB at a time.
    let mut chunk = vec![0u8; (8 * MIB) as usize];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..(FILE_SIZE / (8 * MIB)) {
        for word in chunk.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        file.write_all(&chunk).unwrap();
    }
    file.flush().unwrap();
    drop(chunk);
    let gen_secs = t_gen.elapsed().as_secs_f64();

    let received = Arc::new(Mutex::new(Received::default()));
    let (tx, rx) = std::sync::mpsc::channel();
    let r = received.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                tokio::spawn(connection(sock, r.clone()));
            }
        });
    });
    let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();

    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, "1")
        .env(SERVER_ENV, format!("http://{addr}"))
        .env(FILE_ENV, file.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find(|l| l.starts_with("RESULT ")) else {
        eprintln!(
            "child failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        return ExitCode::FAILURE;
    };
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .unwrap_or("0")
            .to_owned()
    };
    let parts: u32 = field("parts").parse().unwrap();
    let secs: f64 = field("secs").parse().unwrap();
    let hwm_kib: u64 = field("hwm_kib").parse().unwrap();
    let got = received.lock().unwrap();
    let expected_parts = FILE_SIZE.div_ceil(PART_SIZE) as u32;
    let in_order = got.part_numbers == (1..=expected_parts).collect::<Vec<_>>();
    let mb_s = FILE_SIZE as f64 / MIB as f64 / secs;
    let ok = hwm_kib < RSS_LIMIT_KIB && in_order && parts == expected_parts && got.creates == 1;

    println!();
    println!("publish_rss: chunked upload of a generated file, client measured in a child process");
    println!("+-------------------------------+----------------------+");
    println!(
        "| file size                     | {:>16} MiB |",
        FILE_SIZE / MIB
    );
    println!(
        "| part size                     | {:>16} MiB |",
        PART_SIZE / MIB
    );
    println!("| parts sent (client)           | {parts:>20} |");
    println!(
        "| parts received, in order      | {:>14} ({}) |",
        got.part_numbers.len(),
        if in_order { "yes" } else { " NO" }
    );
    println!("| bytes on the wire (bodies)    | {:>20} |", got.body_bytes);
    println!("| upload + publish time         | {secs:>18.2} s |");
    println!("| throughput                    | {mb_s:>14.1} MiB/s |");
    println!(
        "| client peak RSS (VmHWM)       | {:>16.1} MiB |",
        hwm_kib as f64 / 1024.0
    );
    println!(
        "| limit                         | {:>16} MiB |",
        RSS_LIMIT_KIB / 1024
    );
    println!("| file generation (not counted) | {gen_secs:>18.2} s |");
    println!("+-------------------------------+----------------------+");
    println!("result: {}", if ok { "PASS" } else { "FAIL" });
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Serves one keep-alive connection: parses each request head, drains the body (never keeping
/// more than 64 KiB of it), answers like Douyin.
async fn connection(mut sock: TcpStream, received: Arc<Mutex<Received>>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut have = 0usize;
    loop {
        let head_end = loop {
            if let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if have == buf.len() {
                return;
            }
            match sock.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.copy_within(head_end..have, 0);
        have -= head_end;
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        let chunked =
            header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let body = if chunked {
            drain_chunked(&mut sock, &mut buf, &mut have).await
        } else {
            let len: u64 = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            drain_exact(&mut sock, &mut buf, &mut have, len).await
        };
        let Some(body) = body else {
            return;
        };
        let url = url::Url::parse(&format!("http://bench{target}")).unwrap();
        let query = |k: &str| {
            url.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        let data = {
            let mut r = received.lock().unwrap();
            r.body_bytes += body;
            match url.path() {
                "/api/douyin/v1/video/init_video_part_upload/" => {
                    r#"{"upload_id":"bench-upload"}"#.to_owned()
                }
                "/api/douyin/v1/video/upload_video_part/" => {
                    r.part_numbers.push(
                        query("part_number")
                            .and_then(|p| p.parse().ok())
                            .unwrap_or(0),
                    );
                    "{}".to_owned()
                }
                "/api/douyin/v1/video/complete_video_part_upload/" => {
                    r#"{"video":{"video_id":"bench-video","width":1080,"height":1920}}"#.to_owned()
                }
                "/api/douyin/v1/video/create_video/" => {
                    r.creates += 1;
                    r#"{"item_id":"@bench"}"#.to_owned()
                }
                _ => String::new(),
            }
        };
        let (status, payload) = if data.is_empty() {
            ("404 Not Found", "not found".to_owned())
        } else {
            let mut d: serde_json::Value = serde_json::from_str(&data).unwrap();
            d["error_code"] = 0.into();
            d["description"] = "".into();
            let extra = serde_json::json!({"error_code": 0, "sub_error_code": 0, "logid": "bench"});
            (
                "200 OK",
                serde_json::json!({"data": d, "extra": extra}).to_string(),
            )
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{payload}",
            payload.len()
        );
        if sock.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Drains `len` body bytes (some already in `buf[..have]`); returns the count.
async fn drain_exact(
    sock: &mut TcpStream,
    buf: &mut [u8],
    have: &mut usize,
    len: u64,
) -> Option<u64> {
    let mut left = len;
    let from_buf = (*have as u64).min(left) as usize;
    buf.copy_within(from_buf..*have, 0);
    *have -= from_buf;
    left -= from_buf as u64;
    while left > 0 {
        let want = (buf.len() as u64).min(left) as usize;
        match sock.read(&mut buf[..want]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => left -= n as u64,
        }
    }
    Some(len)
}

/// Drains a chunked body; returns the payload size.
async fn drain_chunked(sock: &mut TcpStream, buf: &mut [u8], have: &mut usize) -> Option<u64> {
    let mut total = 0u64;
    loop {
        let line_end = loop {
            if let Some(i) = buf[..*have].windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            if *have == buf.len() {
                return None;
            }
            match sock.read(&mut buf[*have..]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => *have += n,
            }
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = u64::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        buf.copy_within(line_end + 2..*have, 0);
        *have -= line_end + 2;
        // The chunk and its CRLF (the last chunk has only the CRLF of an empty trailer).
        drain_exact(sock, buf, have, size + 2).await?;
        total += size;
        if size == 0 {
            return Some(total);
        }
    }
}
