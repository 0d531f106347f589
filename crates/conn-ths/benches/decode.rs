//! Decoding a large `cmd_history_quotation` answer (10 codes × 5,000 rows, 6 indicators) into
//! the typed columnar [`Tables`] versus into `serde_json::Value`, from the same bytes.
//!
//! Run with `cargo bench -p conn-ths --bench decode`. Prints the median of several runs of each
//! and the ratio; the typed decode should be at least as fast as the `Value` decode, because it
//! deserializes straight into `Vec<Option<Decimal>>` columns instead of building a tree of
//! `Value`s and maps.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use conn_ths::Tables;

const CODES: usize = 10;
const ROWS: usize = 5_000;
const RUNS: usize = 9;
const INDICATORS: [&str; 6] = ["open", "high", "low", "close", "volume", "amount"];

/// A deterministic body in iFinD's shape, with a few `"--"` and numbers-as-strings mixed in.
fn body() -> Vec<u8> {
    let mut s = String::with_capacity(CODES * ROWS * 80);
    s.push_str(r#"{"errorcode":0,"errmsg":"Success!","tables":["#);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for c in 0..CODES {
        if c > 0 {
            s.push(',');
        }
        let _ = write!(s, r#"{{"thscode":"{:06}.SZ","time":["#, 300_000 + c);
        for r in 0..ROWS {
            if r > 0 {
                s.push(',');
            }
            let day = r % 28 + 1;
            let month = (r / 28) % 12 + 1;
            let year = 2000 + r / 336;
            let _ = write!(s, r#""{year:04}-{month:02}-{day:02}""#);
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
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let v = (x % 1_000_000) as f64 / 100.0;
                match x % 97 {
                    0 => s.push_str(r#""--""#),
                    1 => {
                        let _ = write!(s, r#""{v}""#);
                    }
                    _ => {
                        let _ = write!(s, "{v}");
                    }
                }
            }
            s.push(']');
        }
        s.push_str("}}");
    }
    s.push_str(r#"],"datatype":[],"inputParams":{},"perf":12,"dataVol":300000}"#);
    s.into_bytes()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        black_box(f());
        times.push(t0.elapsed());
    }
    median(times)
}

fn main() {
    let bytes = body();
    // Check once that the typed decode read everything.
    let typed = match Tables::decode("cmd_history_quotation", &bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("typed decode failed: {e}");
            std::process::exit(1);
        }
    };
    assert_eq!(typed.len(), CODES);
    assert!(typed
        .iter()
        .all(|t| t.len() == ROWS && t.columns().len() == INDICATORS.len()));

    // Warm up both paths (allocator, caches).
    for _ in 0..2 {
        black_box(Tables::decode("cmd_history_quotation", &bytes).ok());
        black_box(serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    }
    let t_typed = time(RUNS, || {
        Tables::decode("cmd_history_quotation", &bytes).ok()
    });
    let t_value = time(RUNS, || {
        serde_json::from_slice::<serde_json::Value>(&bytes).ok()
    });
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "decode {CODES} codes x {ROWS} rows x {} indicators ({mb:.1} MB), median of {RUNS} runs:",
        INDICATORS.len()
    );
    println!(
        "  typed Tables       {:>9.2} ms  ({:.0} MB/s)",
        t_typed.as_secs_f64() * 1e3,
        mb / t_typed.as_secs_f64()
    );
    println!(
        "  serde_json::Value  {:>9.2} ms  ({:.0} MB/s)",
        t_value.as_secs_f64() * 1e3,
        mb / t_value.as_secs_f64()
    );
    println!(
        "  ratio Value/typed  {:>9.2}x  (above 1: typed is faster)",
        t_value.as_secs_f64() / t_typed.as_secs_f64()
    );
}
