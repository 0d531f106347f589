//! `connectors ths quote|history`: iFinD market data as tables.

use chrono::NaiveDate;
use connectors::core::Error;
use connectors::ths::{Cell, FunctionPara, HistoryQuotation, Interval, RealTimeQuotation, Tables};
use serde_json::json;

use crate::cli::{Period, ThsCmd};
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::output::table;

/// Runs a `ths` subcommand.
pub async fn run(ctx: &Ctx, cmd: ThsCmd) -> CliResult {
    let built = ctx.build(&["ths"], false, None)?;
    let client = built.reg.require_ths()?;
    let tables = match cmd {
        ThsCmd::Quote { codes, indicators } => {
            let q = RealTimeQuotation::new(codes, indicators)?;
            client.real_time_quotation(&q).await?
        }
        ThsCmd::History {
            codes,
            from,
            to,
            indicators,
            interval,
        } => {
            let q = HistoryQuotation::new(
                codes,
                indicators,
                date("--from", &from)?,
                date("--to", &to)?,
            )?
            .with_params(FunctionPara::new().interval(interval_of(interval)));
            client.cmd_history_quotation(&q).await?
        }
    };
    let (headers, rows) = rows_of(&tables);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    ctx.out.emit(
        &json!({"tables": serde_json::to_value(&tables).unwrap_or_default()}),
        || table(&headers, &rows),
    );
    Ok(())
}

/// A date `YYYY-MM-DD`, or a validation error naming the option.
pub fn date(option: &str, s: &str) -> CliResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::validation(option, format!("a date as YYYY-MM-DD (got {s:?})")).into())
}

fn interval_of(p: Period) -> Interval {
    match p {
        Period::Day => Interval::Day,
        Period::Week => Interval::Week,
        Period::Month => Interval::Month,
        Period::Quarter => Interval::Quarter,
        Period::Year => Interval::Year,
    }
}

fn cell_text(c: Cell<'_>) -> String {
    match c {
        Cell::Number(n) => format!("{n}"),
        Cell::Text(s) => s.to_owned(),
        Cell::Missing => "-".to_owned(),
    }
}

/// One row per security and time; columns are the union of every table's, in order.
pub fn rows_of(tables: &Tables) -> (Vec<String>, Vec<Vec<String>>) {
    let mut columns: Vec<String> = Vec::new();
    for t in tables {
        for name in t.column_names() {
            if !columns.iter().any(|c| c == name) {
                columns.push(name.to_owned());
            }
        }
    }
    let mut rows = Vec::new();
    for t in tables {
        for row in t.rows() {
            let mut r = vec![
                row.code().unwrap_or("-").to_owned(),
                row.time().unwrap_or("-").to_owned(),
            ];
            for c in &columns {
                r.push(row.get(c).map_or_else(|| "-".to_owned(), cell_text));
            }
            rows.push(r);
        }
    }
    let mut headers = vec!["CODE".to_owned(), "TIME".to_owned()];
    headers.extend(columns);
    (headers, rows)
}
