//! What `Accept-Encoding: gzip` buys on a 3 MB `cmd_history_quotation` answer: bytes on the
//! wire and end-to-end time (request, transfer, decompression, decode into [`Tables`]),
//! compressed against not, through the real client and a loopback server.
//!
//! Run with `cargo bench -p conn-ths --bench gzip`. Two local servers answer the same
//! history: one gzip-encoded (`Content-Encoding: gzip`, as iFinD does when asked), one plain.
//! The client sends `Accept-Encoding: gzip` to both (reqwest's `gzip` feature), so the plain
//! server stands for a server or proxy that ignores it. Loopback has no bandwidth limit, so the
//! time column shows the CPU cost of decompression; on a real link the byte column dominates
//! (divide each size by the link's bytes per second to see the transfer time it saves).

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use conn_ths::{Client, Config, HistoryQuotation, RateLimit};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// About 3 MB of history: 12 codes × 3,800 days × 6 indicators.
const CODES: usize = 12;
const ROWS: usize = 3_800;
const RUNS: usize = 15;
const INDICATORS: [&str; 6] = ["open", "high", "low", "close", "volume", "amount"];

/// A deterministic answer in iFinD's shape: prices with two decimals, whole volumes.
fn body() -> Vec<u8> {
    let mut s = String::with_capacity(CODES * ROWS * 60);
    s.push_str(r#"{"errorcode":0,"errmsg":"Success!","tables":["#);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for c in 0..CODES {
        if c > 0 {
            s.push(',');
        }
        let _ = write!(s, r#"{{"thscode":"{:06}.SH","time":["#, 600_000 + c);
        let start = NaiveDate::from_ymd_opt(2010, 1, 4).unwrap_or_default();
        for r in 0..ROWS {
            if r > 0 {
                s.push(',');
            }
            let d = start + chrono::Duration::days(r as i64);
            let _ = write!(s, r#""{}""#, d.format("%Y-%m-%d"));
        }
        s.push_str(r#"],"table":{"#);
        for (i, ind) in INDICATORS.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, r#""{ind}":["#);
            for r in 0..ROWS {
                if r > 0 {
                    s.push(',');
                }
                let v = next();
                match *ind {
                    "volume" => {
                        let _ = write!(s, "{}", v % 50_000_000);
                    }
                    "amount" => {
                        let _ = write!(s, "{}.{:02}", v % 9_000_000_000, v % 100);
                    }
                    _ => {
                        let _ = write!(s, "{}.{:02}", 5 + v % 2_000, v % 100);
                    }
                }
            }
            s.push(']');
        }
        s.push_str("}}");
    }
    s.push_str(r#"],"dataVol":180000,"perf":120}"#);
    s.into_bytes()
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes)?;
    e.finish()
}

async fn server(answer: Vec<u8>, gzipped: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/get_access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            br#"{"errorcode":0,"errmsg":"Success","data":{"access_token":"bench-token"}}"#.to_vec(),
            "application/json",
        ))
        .mount(&server)
        .await;
    let mut r = ResponseTemplate::new(200).set_body_raw(answer, "application/json");
    if gzipped {
        r = r.insert_header("content-encoding", "gzip");
    }
    Mock::given(method("POST"))
        .and(path("/cmd_history_quotation"))
        .respond_with(r)
        .mount(&server)
        .await;
    server
}

/// The median end-to-end time of `RUNS` history calls, and the rows decoded.
async fn measure(uri: &str, q: &HistoryQuotation) -> Result<(Duration, usize), conn_core::Error> {
    let cfg = Config::builder()
        .refresh_token("bench-refresh-token")
        .base_url(uri)
        .rate_limit(RateLimit::per_minute(6_000)?)
        .build()?;
    let client = Client::new(cfg)?;
    // Warm up: token, connection, allocator.
    client.cmd_history_quotation(q).await?;
    let mut times = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let t = client.cmd_history_quotation(q).await?;
        times.push(t0.elapsed());
        rows = t.iter().map(|s| s.len()).sum();
    }
    times.sort();
    Ok((times[RUNS / 2], rows))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plain = body();
    let packed = gzip(&plain)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let codes: Vec<String> = (0..CODES)
        .map(|c| format!("{:06}.SH", 600_000 + c))
        .collect();
    let from = NaiveDate::from_ymd_opt(2010, 1, 4).ok_or("date")?;
    let to = NaiveDate::from_ymd_opt(2020, 6, 30).ok_or("date")?;
    let q = HistoryQuotation::new(codes, INDICATORS, from, to)?;
    let (t_gz, rows_gz, t_plain, rows_plain) = rt.block_on(async {
        let gz = server(packed.clone(), true).await;
        let pl = server(plain.clone(), false).await;
        let (t_gz, rows_gz) = measure(&gz.uri(), &q).await?;
        let (t_plain, rows_plain) = measure(&pl.uri(), &q).await?;
        Ok::<_, conn_core::Error>((t_gz, rows_gz, t_plain, rows_plain))
    })?;
    if rows_gz != rows_plain || rows_gz != CODES * ROWS {
        return Err(format!("rows differ: {rows_gz} vs {rows_plain}").into());
    }
    let mb = |n: usize| n as f64 / 1e6;
    println!(
        "answer: {} codes x {} rows x {} indicators ({} rows decoded per call), median of {RUNS}",
        CODES,
        ROWS,
        INDICATORS.len(),
        rows_gz
    );
    println!(
        "{:<10} {:>14} {:>16}",
        "encoding", "body on wire", "end-to-end (ms)"
    );
    println!(
        "{:<10} {:>11.2} MB {:>16.1}",
        "identity",
        mb(plain.len()),
        t_plain.as_secs_f64() * 1e3
    );
    println!(
        "{:<10} {:>11.2} MB {:>16.1}",
        "gzip",
        mb(packed.len()),
        t_gz.as_secs_f64() * 1e3
    );
    println!(
        "gzip sends {:.1}% of the bytes ({:.1}x smaller); its end-to-end time is {:.2}x identity's on loopback",
        100.0 * packed.len() as f64 / plain.len() as f64,
        plain.len() as f64 / packed.len() as f64,
        t_gz.as_secs_f64() / t_plain.as_secs_f64()
    );
    Ok(())
}
