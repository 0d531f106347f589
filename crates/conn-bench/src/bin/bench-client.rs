//! One bench run in a process of its own:
//! `bench-client CASE raw|stack CONCURRENCY REQUESTS info|none BASE_URL`.
//!
//! It builds the case, warms up with one call per concurrent task (so every connection is open
//! and every token loaded), then makes REQUESTS calls spread over CONCURRENCY tasks on a
//! current-thread runtime (one thread, so callgrind's count repeats) and prints
//! `requests=N cpu_ns=T`: the CPU time of the measured calls alone. Run with REQUESTS = 0 it
//! measures the setup that a counted run subtracts.

use std::sync::Arc;

use conn_bench::cases::{self, Case, Stack};
use conn_bench::BenchError;

struct Args {
    case: String,
    stack: Stack,
    concurrency: usize,
    requests: usize,
    info: bool,
    base: String,
}

fn args() -> Result<Args, BenchError> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [case, stack, c, n, sub, base] = a.as_slice() else {
        return Err(BenchError::Usage(
            "usage: bench-client CASE raw|stack CONCURRENCY REQUESTS info|none BASE_URL".into(),
        ));
    };
    let num = |what: &str, v: &str| {
        v.parse::<usize>()
            .map_err(|_| BenchError::Usage(format!("{what} must be a number, got {v:?}")))
    };
    Ok(Args {
        case: case.clone(),
        stack: Stack::parse(stack)?,
        concurrency: num("CONCURRENCY", c)?.max(1),
        requests: num("REQUESTS", n)?,
        info: match sub.as_str() {
            "info" => true,
            "none" => false,
            other => {
                return Err(BenchError::Usage(format!(
                    "subscriber must be `info` or `none`, got {other:?}"
                )))
            }
        },
        base: base.clone(),
    })
}

async fn calls(case: Arc<dyn Case>, concurrency: usize, total: usize) -> Result<(), BenchError> {
    let mut set = tokio::task::JoinSet::new();
    for t in 0..concurrency {
        // Spread `total` as evenly as it goes.
        let n = total / concurrency + usize::from(t < total % concurrency);
        let case = case.clone();
        set.spawn(async move {
            for _ in 0..n {
                let got = case.call().await?;
                if got != case.expected() {
                    return Err(BenchError::Usage(format!(
                        "expected {} records, got {got}",
                        case.expected()
                    )));
                }
            }
            Ok::<_, BenchError>(())
        });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| BenchError::Usage(format!("a task failed: {e}")))??;
    }
    Ok(())
}

fn run(a: Args) -> Result<(), BenchError> {
    if a.info {
        // As in production: an INFO fmt subscriber, writing to a sink so that terminal speed
        // does not count.
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::sink)
            .init();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::Usage(format!("runtime: {e}")))?;
    rt.block_on(async {
        let case: Arc<dyn Case> = Arc::from(cases::build(&a.case, a.stack, &a.base).await?);
        calls(case.clone(), a.concurrency, a.concurrency).await?;
        let before = conn_bench::cpu::process_cpu();
        calls(case, a.concurrency, a.requests).await?;
        let cpu = conn_bench::cpu::process_cpu().saturating_sub(before);
        println!("requests={} cpu_ns={}", a.requests, cpu.as_nanos());
        Ok(())
    })
}

fn main() -> std::process::ExitCode {
    match args().and_then(run) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-client: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
