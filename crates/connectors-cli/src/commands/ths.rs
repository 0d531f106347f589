//! `connectors ths …`: iFinD market data, calendar, EDB, usage and portfolios, as tables by
//! default and JSON with `--json`.

use chrono::{NaiveDate, NaiveDateTime};
use connectors::core::Error;
use connectors::ths::{
    Adjust, Calculate, Cell, Client, Deal, DealInput, EdbQuery, HighFrequency, HistoryQuotation,
    Interval, MarketCode, Minutes, OffsetOutput, OverviewQuery, PortfolioCurrency, PortfolioId,
    PositionsQuery, RealTimeQuotation, SecurityCode, Side, Tables, TradeDates,
};
use rust_decimal::Decimal;
use serde_json::json;

use crate::cli::{Period, ThsCmd, ThsPortfolioCmd};
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
            adjust,
        } => {
            let mut q = HistoryQuotation::new(
                codes,
                indicators,
                date("--from", &from)?,
                date("--to", &to)?,
            )?
            .interval(interval_of(interval));
            if let Some(a) = adjust {
                let a = Adjust::from_wire(&a.to_string())
                    .ok_or_else(|| Error::validation("--adjust", "1 to 7"))?;
                q = q.adjust(a);
            }
            client.cmd_history_quotation(&q).await?
        }
        ThsCmd::Hf {
            codes,
            from,
            to,
            indicators,
            minutes,
            calculate,
        } => {
            let m = Minutes::from_wire(minutes.trim())
                .ok_or_else(|| Error::validation("--minutes", "one of 1, 3, 5, 10, 15, 30, 60"))?;
            let q = HighFrequency::with_calculate(
                codes,
                indicators,
                datetime("--from", &from)?,
                datetime("--to", &to)?,
                calculate_of(&calculate)?,
            )?
            .minutes(m);
            client.high_frequency(&q).await?
        }
        ThsCmd::TradeDates {
            market,
            from,
            to,
            offset,
        } => return trade_dates(ctx, client, &market, &from, to.as_deref(), offset).await,
        ThsCmd::Edb { ids, from, to } => {
            let q = EdbQuery::new(ids, date("--from", &from)?, date("--to", &to)?)?;
            client.edb_service(&q).await?
        }
        ThsCmd::DataVolume => {
            let v = client.get_data_volume().await?;
            ctx.out
                .emit(&v, || serde_json::to_string_pretty(&v).unwrap_or_default());
            return Ok(());
        }
        ThsCmd::Portfolio(p) => match portfolio(ctx, client, p).await? {
            Some(t) => t,
            // A keyed deal printed its journal result already.
            None => return Ok(()),
        },
    };
    emit_tables(ctx, &tables);
    Ok(())
}

fn emit_tables(ctx: &Ctx, tables: &Tables) {
    let (headers, rows) = rows_of(tables);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    ctx.out.emit(
        &json!({"tables": serde_json::to_value(tables).unwrap_or_default()}),
        || table(&headers, &rows),
    );
}

async fn trade_dates(
    ctx: &Ctx,
    client: &Client,
    market: &str,
    from: &str,
    to: Option<&str>,
    offset: Option<i32>,
) -> CliResult {
    let market = MarketCode::new(market)?;
    let from = date("--from", from)?;
    let q = match (to, offset) {
        (Some(t), _) => TradeDates::between(market, from, date("--to", t)?)?,
        (None, Some(n)) => TradeDates::offset(market, from, n, OffsetOutput::Sequence),
        (None, None) => return Err(Error::validation("--to", "give --to or --offset").into()),
    };
    let dates = client.get_trade_dates(&q).await?;
    let rows: Vec<Vec<String>> = dates.iter().map(|d| vec![d.to_string()]).collect();
    ctx.out
        .emit(&json!({"dates": dates}), || table(&["DATE"], &rows));
    Ok(())
}

/// Runs a portfolio subcommand; `None` when a keyed deal has printed its journal result.
async fn portfolio(ctx: &Ctx, client: &Client, cmd: ThsPortfolioCmd) -> CliResult<Option<Tables>> {
    Ok(Some(match cmd {
        ThsPortfolioCmd::Overview {
            portfid,
            indicators,
        } => {
            let q = OverviewQuery::new(PortfolioId::parse(&portfid)?, indicators)?;
            client.portfolio_overview(&q).await?
        }
        ThsPortfolioCmd::Positions {
            portfid,
            indicators,
            penetrate,
        } => {
            let q = PositionsQuery::new(PortfolioId::parse(&portfid)?, indicators, penetrate)?;
            client.portfolio_positions(&q).await?
        }
        ThsPortfolioCmd::Deal {
            portfid,
            code,
            side,
            name,
            price,
            volume,
            fee,
            fee_rate,
            security_type,
            currency,
            rate,
            key,
        } => {
            let code = SecurityCode::parse_field(&code, "code")?;
            let deal = Deal::new(DealInput {
                portfolio: PortfolioId::parse(&portfid)?,
                symbol: code.symbol().to_owned(),
                side: Side::from_wire(&side)
                    .ok_or_else(|| Error::validation("--side", "buy or sell"))?,
                code_name: name,
                market: market_of(&code)?,
                security_type,
                price: decimal("--price", &price)?,
                volume: decimal("--volume", &volume)?,
                currency: PortfolioCurrency::from_wire(&currency.to_ascii_uppercase())
                    .ok_or_else(|| Error::validation("--currency", "CNY, HKD or USD"))?,
                fee: decimal("--fee", &fee)?,
                fee_rate: decimal("--fee-rate", &fee_rate)?,
                fx_rate: decimal("--rate", &rate)?,
            })?;
            if let Some(key) = key {
                let key = super::journal::key(&key)?;
                let journal = super::journal::open(ctx)?;
                let done = client
                    .deal_once(&journal, &key, &deal, trade_date_today())
                    .await?;
                super::journal::emit_completed(ctx, &done);
                return Ok(None);
            }
            let receipt = client.portfolio_deal(&deal).await?;
            Tables::decode(
                "portfolio_manage.deal",
                receipt.answer.to_string().as_bytes(),
            )?
        }
    }))
}

/// Today in Beijing time: the trade date a deal sent now is recorded on, which a keyed deal's
/// reconciliation searches.
fn trade_date_today() -> chrono::NaiveDate {
    let now = chrono::Utc::now();
    // UTC+8 is always a valid offset; the fallback only keeps this free of `unwrap`.
    chrono::FixedOffset::east_opt(8 * 3600).map_or_else(
        || now.date_naive(),
        |bj| now.with_timezone(&bj).date_naive(),
    )
}

/// The exchange of a code's market suffix, for a deal's `marketCode`.
fn market_of(code: &SecurityCode) -> CliResult<MarketCode> {
    Ok(match code.market() {
        "SH" => MarketCode::sse(),
        "SZ" => MarketCode::szse(),
        "HK" => MarketCode::hkex(),
        other => {
            return Err(Error::validation(
                "code",
                format!("deals from the CLI take .SH, .SZ or .HK codes, got .{other}"),
            )
            .into())
        }
    })
}

fn decimal(option: &str, s: &str) -> CliResult<Decimal> {
    s.trim()
        .parse()
        .map_err(|_| Error::validation(option, format!("a decimal number (got {s:?})")).into())
}

fn calculate_of(specs: &[String]) -> CliResult<Calculate> {
    let mut c = Calculate::new();
    for s in specs {
        let (name, params) = s.split_once('=').unwrap_or((s.as_str(), ""));
        c = c.set(name.trim(), params.trim())?;
    }
    Ok(c)
}

/// A time `YYYY-MM-DD HH:MM:SS`, or a validation error naming the option.
pub fn datetime(option: &str, s: &str) -> CliResult<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").map_err(|_| {
        Error::validation(
            option,
            format!("a time as \"YYYY-MM-DD HH:MM:SS\" (got {s:?})"),
        )
        .into()
    })
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

/// A cell as printed: numbers are decimals, shown with the digits iFinD sent (`8.56`, never
/// `8.559999999999999`).
fn cell_text(c: Cell<'_>) -> String {
    match c {
        Cell::Number(n) => n.to_string(),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn prices_and_money_print_as_sent() {
        // 8.56 and 0.1 have no exact f64; 1.58e12 arrives in exponent form; "12.50" as text.
        let t = Tables::decode(
            "cmd_history_quotation",
            br#"{"tables":[{"thscode":"600519.SH","time":["2024-01-02","2024-01-03"],
            "table":{"close":[8.56,0.1],"amount":[1.58e12,"2305193100.10"],"open":["12.50","--"]}}]}"#,
        )
        .unwrap();
        let (headers, rows) = rows_of(&t);
        assert_eq!(headers, ["CODE", "TIME", "close", "amount", "open"]);
        assert_eq!(
            rows,
            [
                ["600519.SH", "2024-01-02", "8.56", "1580000000000", "12.50"],
                ["600519.SH", "2024-01-03", "0.1", "2305193100.10", "-"],
            ]
        );
        // `--json` carries the same exact decimals.
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["tables"][0]["table"]["close"], json!(["8.56", "0.1"]));
        assert_eq!(v["tables"][0]["table"]["open"], json!(["12.50", null]));
    }
}
