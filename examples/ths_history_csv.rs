//! 同花顺 iFinD daily history as CSV on stdout: one row per trading day, one column per
//! indicator. Against the sandbox's iFinD fake:
//!
//! ```sh
//! cargo run -p connectors-examples --example ths_history_csv > 600519.csv
//! ```
//!
//! iFinD answers column-wise (`{"table": {"open": [...], "close": [...]}, "time": [...]}`);
//! the typed tables give the rows back.

use std::io::Write;
use std::process::ExitCode;

use connectors::sandbox::{Sandbox, Seed};
use connectors::ths::HistoryQuotation;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            connectors_examples::report(e.as_ref());
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(&Seed::default()).await?;
    let registry = connectors_examples::registry(&sandbox)?;
    let ths = registry.require_ths()?;

    let from = chrono_date(2024, 6, 3)?;
    let to = chrono_date(2024, 6, 28)?;
    let indicators = ["open", "high", "low", "close", "volume"];
    let query = HistoryQuotation::new("600519.SH", indicators.join(",").as_str(), from, to)?;
    let tables = ths.cmd_history_quotation(&query).await?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "code,date,{}", indicators.join(","))?;
    for table in tables.iter() {
        for row in table.rows() {
            let mut line = vec![
                csv_field(row.code().unwrap_or_default()),
                csv_field(row.time().unwrap_or_default()),
            ];
            for name in indicators {
                // A missing value is an empty field, not a 0 that would read as a price.
                let cell = row
                    .number(name)
                    .map(|v| v.to_string())
                    .or_else(|| row.text(name).map(str::to_owned))
                    .unwrap_or_default();
                line.push(csv_field(&cell));
            }
            writeln!(out, "{}", line.join(","))?;
        }
    }
    out.flush()?;
    Ok(())
}

fn chrono_date(y: i32, m: u32, d: u32) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("{y}-{m}-{d} is not a date"))
}

/// A CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
