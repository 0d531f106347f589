//! `get_trade_dates`: the manual's two calendar functions on one URL, the date query
//! (dates or their count between two dates) and the date offset (N periods from a date).

use chrono::NaiveDate;
use conn_core::{Error, Result};
use serde_json::{json, Map, Value};

use crate::options::{string_enum, FunctionPara, Interval};
use crate::params::{check_range, fmt_date, parse_date};
use crate::tables::{shape_error, Cell, Tables};

use super::endpoint;

/// An iFinD exchange code (`marketcode`, also `marketCode` of a deal): digits only. The
/// constants are the manual's main exchanges; [`MarketCode::new`] takes any other code of its
/// table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MarketCode(String);

impl MarketCode {
    /// `212001`: Shanghai Stock Exchange.
    pub fn sse() -> Self {
        Self("212001".into())
    }

    /// `212100`: Shenzhen Stock Exchange.
    pub fn szse() -> Self {
        Self("212100".into())
    }

    /// `212200`: Hong Kong Exchanges.
    pub fn hkex() -> Self {
        Self("212200".into())
    }

    /// `212004`: the interbank bond market.
    pub fn interbank() -> Self {
        Self("212004".into())
    }

    /// `212020001`: China Financial Futures Exchange.
    pub fn cffex() -> Self {
        Self("212020001".into())
    }

    /// The A-share calendar (the Shanghai exchange's, `212001`).
    pub fn a_shares() -> Self {
        Self::sse()
    }

    /// Any market code of the manual's table (digits only).
    pub fn new(code: impl AsRef<str>) -> Result<Self> {
        let c = code.as_ref().trim();
        if c.is_empty() || c.len() > 12 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(
                "marketcode",
                format!("1-12 digits such as 212001, got {c:?}"),
            ));
        }
        Ok(Self(c.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_enum! {
    /// Which days count (`dateType`).
    DateType {
        /// `0`: trading days.
        Trading => "0",
        /// `1`: calendar days.
        Calendar => "1",
    }
}

string_enum! {
    /// How the answer writes dates (`dateFormat`).
    DateFormat {
        /// `0`: `YYYY-MM-DD`.
        Dashed => "0",
        /// `1`: `YYYY/MM/DD`.
        Slashed => "1",
        /// `2`: `YYYYMMDD`.
        Compact => "2",
    }
}

string_enum! {
    /// What a date query returns (`mode`).
    DateQueryMode {
        /// `1`: the dates.
        Dates => "1",
        /// `2`: how many dates.
        Count => "2",
    }
}

string_enum! {
    /// What a date offset returns (`output`).
    OffsetOutput {
        /// `sequencedate`: every date from the base to the target.
        Sequence => "sequencedate",
        /// `singledate`: the target date only.
        Single => "singledate",
    }
}

/// A `get_trade_dates` request: a date query or a date offset.
///
/// ```
/// use conn_ths::{MarketCode, TradeDates, OffsetOutput};
/// use chrono::NaiveDate;
/// let d = NaiveDate::from_ymd_opt(2025, 9, 10).unwrap();
/// // The manual's date-query example.
/// let q = TradeDates::between(MarketCode::sse(), d, d).unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "marketcode": "212001",
///     "functionpara": {"mode": "1", "dateType": "0", "period": "D", "dateFormat": "0"},
///     "startdate": "2025-09-10",
///     "enddate": "2025-09-10"
/// }));
/// // The manual's date-offset example.
/// let q = TradeDates::offset(MarketCode::sse(), d, -1, OffsetOutput::Sequence);
/// assert_eq!(q.body(), serde_json::json!({
///     "marketcode": "212001",
///     "functionpara": {"dateType": "0", "period": "D", "offset": "-1", "dateFormat": "0", "output": "sequencedate"},
///     "startdate": "2025-09-10"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TradeDates {
    market: MarketCode,
    start: NaiveDate,
    end: Option<NaiveDate>,
    params: FunctionPara,
}

impl TradeDates {
    fn base() -> FunctionPara {
        FunctionPara::new()
            .set("dateType", DateType::Trading.as_str())
            .set("period", Interval::Day.as_str())
            .set("dateFormat", DateFormat::Dashed.as_str())
    }

    /// Date query (`mode` 1): the trading days from `start` to `end` inclusive.
    pub fn between(market: MarketCode, start: NaiveDate, end: NaiveDate) -> Result<Self> {
        Self::query(market, start, end, DateQueryMode::Dates)
    }

    /// Date query with an explicit `mode` ([`DateQueryMode::Count`] answers a count).
    pub fn query(
        market: MarketCode,
        start: NaiveDate,
        end: NaiveDate,
        mode: DateQueryMode,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        Ok(Self {
            market,
            start,
            end: Some(end),
            params: Self::base().set("mode", mode.as_str()),
        })
    }

    /// Date offset: `offset` periods from `date` (negative: before it).
    pub fn offset(market: MarketCode, date: NaiveDate, offset: i32, output: OffsetOutput) -> Self {
        Self {
            market,
            start: date,
            end: None,
            params: Self::base()
                .set("offset", offset.to_string())
                .set("output", output.as_str()),
        }
    }

    /// `period` (`D` by default).
    pub fn period(mut self, p: Interval) -> Self {
        self.params = self.params.set("period", p.as_str());
        self
    }

    /// `dateType` (trading days by default).
    pub fn date_type(mut self, t: DateType) -> Self {
        self.params = self.params.set("dateType", t.as_str());
        self
    }

    /// `dateFormat` of the answer (`YYYY-MM-DD` by default; every form is parsed back).
    pub fn date_format(mut self, f: DateFormat) -> Self {
        self.params = self.params.set("dateFormat", f.as_str());
        self
    }

    /// `periodnum`: the n-th day of each period (1 first, -1 last; not 0).
    pub fn period_num(mut self, n: i32) -> Result<Self> {
        if n == 0 {
            return Err(Error::validation(
                "functionpara.periodnum",
                "1 for the first day of a period, -1 for the last; not 0",
            ));
        }
        self.params = self.params.set("periodnum", n.to_string());
        Ok(self)
    }

    /// A raw `functionpara` option.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
    }

    /// True for a date query in count mode.
    pub fn is_count(&self) -> bool {
        self.params.get("mode") == Some(DateQueryMode::Count.as_str())
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("marketcode".into(), json!(self.market.as_str()));
        m.insert("functionpara".into(), json!(self.params));
        m.insert("startdate".into(), json!(fmt_date(self.start)));
        if let Some(e) = self.end {
            m.insert("enddate".into(), json!(fmt_date(e)));
        }
        Value::Object(m)
    }
}

/// Reads the dates of a `get_trade_dates` answer: the time column of its table, or a column
/// named `time`/`date`/`tradedate`, or a comma-separated string.
pub fn trade_dates_of(tables: &Tables, body: &[u8]) -> Result<Vec<NaiveDate>> {
    let op = endpoint::GET_TRADE_DATES;
    let Some(t) = tables.first() else {
        return Ok(Vec::new());
    };
    let raw: Vec<String> = if let Some(times) = t.times() {
        times.to_vec()
    } else if let Some(col) = ["date", "tradedate", "tradedates"]
        .iter()
        .find_map(|n| t.column(n))
    {
        (0..col.data().len())
            .filter_map(|i| match col.data().cell(i) {
                Some(Cell::Text(s)) => Some(s.to_owned()),
                Some(Cell::Number(n)) => Some(format!("{n}")),
                _ => None,
            })
            .collect()
    } else {
        return Err(shape_error(
            op,
            "tables",
            "no time column in the answer",
            body,
        ));
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, s) in raw
        .iter()
        .flat_map(|s| s.split(',').map(str::trim).filter(|p| !p.is_empty()))
        .enumerate()
    {
        match parse_date(s) {
            Some(d) => out.push(d),
            None => {
                return Err(shape_error(
                    op,
                    &format!("tables.time[{i}]"),
                    &format!("not a date: {s:?}"),
                    body,
                ))
            }
        }
    }
    Ok(out)
}
