//! `cargo bench -p conn-bench --bench client [-- --check]` (run by `cargo xtask bench`;
//! `cargo xtask bench --check` runs this alone with `--check`).
//!
//! Starts `bench-server` in a process of its own, then for every case, concurrency (1, 64) and
//! subscriber (INFO `fmt` as in production, none) runs `bench-client` for both stacks:
//! - under `valgrind --tool=callgrind` twice, with REQUESTS and with 0 requests, and reports
//!   (Ir(N) − Ir(0)) / N, the client process's instructions per request without its setup;
//! - natively, reporting the client's CPU time (getrusage) per request.
//!
//! Ratios are raw/stack (1.0 = the stack costs what raw reqwest costs; higher is better for
//! the stack). With `--check` it exits non-zero when a Douyin ratio by instructions falls
//! under its target. `BENCH_QUICK=1` divides the request counts by 4; `BENCH_CASES=a,b`
//! selects cases.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// raw/stack by instructions the Douyin reads must reach.
const TARGET: f64 = 0.90;
/// The stretch goal.
const STRETCH: f64 = 0.95;

const SERVER: &str = env!("CARGO_BIN_EXE_bench-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_bench-client");

/// Requests per counted run (callgrind) and per CPU run (native).
fn counts(case: &str) -> (usize, usize) {
    let (cg, cpu) = match case {
        "ths.history" => (8, 64),
        "erp.orders_page" => (128, 1_024),
        _ => (384, 4_096),
    };
    if std::env::var_os("BENCH_QUICK").is_some() {
        ((cg / 4).max(4), (cpu / 4).max(16))
    } else {
        (cg, cpu)
    }
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(SERVER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start bench-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the server's address");
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .expect("`listening ADDR`")
            .to_owned();
        Self {
            child,
            base: format!("http://{addr}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client_args(case: &str, stack: &str, c: usize, n: usize, sub: &str, base: &str) -> Vec<String> {
    [case, stack, &c.to_string(), &n.to_string(), sub, base]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// Total instructions of one client process under callgrind.
fn instructions(args: &[String], out: &Path) -> u64 {
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--dump-line=no")
        .arg(CLIENT)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run valgrind (apt-get install -y valgrind)");
    assert!(
        status.status.success(),
        "callgrind run {args:?} failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(out).expect("read callgrind output");
    let _ = std::fs::remove_file(out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .expect("a summary line in callgrind's output")
}

/// CPU nanoseconds the client reports for its measured calls.
fn cpu_ns(args: &[String]) -> u64 {
    let out = Command::new(CLIENT)
        .args(args)
        .output()
        .expect("run bench-client");
    assert!(
        out.status.success(),
        "bench-client {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("cpu_ns="))
        .and_then(|v| v.parse().ok())
        .expect("cpu_ns= in bench-client's output")
}

#[derive(Debug, Clone, Copy)]
struct Side {
    instr_per_req: f64,
    cpu_per_req_us: f64,
}

fn measure(server: &Server, case: &str, stack: &str, c: usize, sub: &str, tmp: &Path) -> Side {
    let (n_cg, n_cpu) = counts(case);
    let out = tmp.join(format!("callgrind.{case}.{stack}.{c}.{sub}.out"));
    let full = instructions(&client_args(case, stack, c, n_cg, sub, &server.base), &out);
    let setup = instructions(&client_args(case, stack, c, 0, sub, &server.base), &out);
    let cpu = cpu_ns(&client_args(case, stack, c, n_cpu, sub, &server.base));
    Side {
        instr_per_req: full.saturating_sub(setup) as f64 / n_cg as f64,
        cpu_per_req_us: cpu as f64 / n_cpu as f64 / 1_000.0,
    }
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let selected: Option<Vec<String>> = std::env::var("BENCH_CASES")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let tmp = std::env::temp_dir();
    let server = Server::start();
    println!("client-level: raw reqwest vs the connector stack; server in its own process");
    println!();
    println!("| case | C | subscriber | raw instr/req | stack instr/req | raw/stack instr | raw CPU/req | stack CPU/req | raw/stack CPU | target |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---|");
    let mut failures = Vec::new();
    for case in conn_bench::cases::NAMES {
        if selected
            .as_ref()
            .is_some_and(|s| !s.iter().any(|x| x == case))
        {
            continue;
        }
        for c in [1usize, 64] {
            for sub in ["info", "none"] {
                let raw = measure(&server, case, "raw", c, sub, &tmp);
                let stack = measure(&server, case, "stack", c, sub, &tmp);
                let ratio = raw.instr_per_req / stack.instr_per_req;
                let cpu_ratio = raw.cpu_per_req_us / stack.cpu_per_req_us;
                let targeted = case.starts_with("douyin.");
                let verdict = if !targeted {
                    "reported".to_owned()
                } else if ratio >= STRETCH {
                    format!("≥ {TARGET:.2}: met (stretch {STRETCH:.2} met)")
                } else if ratio >= TARGET {
                    format!("≥ {TARGET:.2}: met")
                } else {
                    failures.push(format!("{case} C={c} {sub}: {ratio:.3} < {TARGET:.2}"));
                    format!("≥ {TARGET:.2}: **not met**")
                };
                println!(
                    "| {case} | {c} | {sub} | {:.1} k | {:.1} k | **{ratio:.3}** | {:.1} µs | {:.1} µs | {cpu_ratio:.3} | {verdict} |",
                    raw.instr_per_req / 1_000.0,
                    stack.instr_per_req / 1_000.0,
                    raw.cpu_per_req_us,
                    stack.cpu_per_req_us,
                );
            }
        }
    }
    drop(server);
    if check && !failures.is_empty() {
        eprintln!("below target:\n  {}", failures.join("\n  "));
        std::process::exit(1);
    }
}
