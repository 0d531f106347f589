//! The data operations, one typed request per endpoint. Every request is validated when it is
//! built (codes, indicators, date order), so a bad input fails before any network traffic; its
//! JSON body ([`RealTimeQuotation::body`] etc.) is what goes on the wire.
//!
//! All of them are reads: iFinD takes them as `POST`, but repeating one changes nothing, so they
//! are declared idempotent and retried on server errors.
//!
//! | method | endpoint | request |
//! |---|---|---|
//! | [`Client::real_time_quotation`] | `real_time_quotation` | [`RealTimeQuotation`] |
//! | [`Client::cmd_history_quotation`] | `cmd_history_quotation` | [`HistoryQuotation`] |
//! | [`Client::high_frequency`] | `high_frequency` | [`HighFrequency`] |
//! | [`Client::basic_data_service`] | `basic_data_service` | [`BasicData`] |
//! | [`Client::date_sequence`] | `date_sequence` | [`DateSequence`] |
//! | [`Client::snap_shot`] | `snap_shot` | [`SnapShot`] |
//! | [`Client::edb_service`] | `edb_service` | [`EdbQuery`] |
//! | [`Client::data_pool`] | `data_pool` | [`DataPool`] |
//! | [`Client::smart_stock_picking`] | `smart_stock_picking` | [`SmartStockPicking`] |
//! | [`Client::get_trade_dates`] | `get_trade_dates` | [`TradeDates`] |

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::{Error, Result};
use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::codes::{Codes, IntoCodes};
use crate::params::{
    check_indipara, check_name, check_range, fmt_date, fmt_datetime, parse_date, FunctionPara,
    IndiPara, Indicators, Interval, IntoIndicators,
};
use crate::tables::{shape_error, Tables};

/// Endpoint names.
pub mod endpoint {
    /// Real-time quotes.
    pub const REAL_TIME_QUOTATION: &str = "real_time_quotation";
    /// Daily-or-longer history.
    pub const CMD_HISTORY_QUOTATION: &str = "cmd_history_quotation";
    /// Intraday bars.
    pub const HIGH_FREQUENCY: &str = "high_frequency";
    /// Basic data (fundamentals) per security.
    pub const BASIC_DATA_SERVICE: &str = "basic_data_service";
    /// Indicator series over dates.
    pub const DATE_SEQUENCE: &str = "date_sequence";
    /// Intraday snapshots (ticks).
    pub const SNAP_SHOT: &str = "snap_shot";
    /// Economic database series.
    pub const EDB_SERVICE: &str = "edb_service";
    /// Special reports (data pool).
    pub const DATA_POOL: &str = "data_pool";
    /// Natural-language stock screening (问财).
    pub const SMART_STOCK_PICKING: &str = "smart_stock_picking";
    /// Trading calendar.
    pub const GET_TRADE_DATES: &str = "get_trade_dates";
    /// Portfolio management.
    pub const PORTFOLIO_MANAGE: &str = "portfolio_manage";
    /// Every data endpoint (reads).
    pub const READS: [&str; 10] = [
        REAL_TIME_QUOTATION,
        CMD_HISTORY_QUOTATION,
        HIGH_FREQUENCY,
        BASIC_DATA_SERVICE,
        DATE_SEQUENCE,
        SNAP_SHOT,
        EDB_SERVICE,
        DATA_POOL,
        SMART_STOCK_PICKING,
        GET_TRADE_DATES,
    ];
}

fn with_functionpara(mut body: Value, p: &FunctionPara) -> Value {
    if !p.is_empty() {
        if let Value::Object(m) = &mut body {
            m.insert("functionpara".into(), json!(p));
        }
    }
    body
}

/// `real_time_quotation`: the latest quote of each security.
///
/// ```
/// use conn_ths::RealTimeQuotation;
/// let q = RealTimeQuotation::new(["600519.SH", "000001.SZ"], ["latest", "open"]).unwrap();
/// assert_eq!(
///     q.body().to_string(),
///     r#"{"codes":"600519.SH,000001.SZ","indicators":"latest,open"}"#
/// );
/// assert!(RealTimeQuotation::new(["600519"], ["latest"]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RealTimeQuotation {
    codes: Codes,
    indicators: Indicators,
    params: FunctionPara,
}

impl RealTimeQuotation {
    /// Codes and indicators, validated.
    pub fn new(codes: impl IntoCodes, indicators: impl IntoIndicators) -> Result<Self> {
        Ok(Self {
            codes: codes.into_codes()?,
            indicators: indicators.into_indicators()?,
            params: FunctionPara::new(),
        })
    }

    /// Sets `functionpara`.
    pub fn with_params(mut self, p: FunctionPara) -> Self {
        self.params = p;
        self
    }

    /// The codes.
    pub fn codes(&self) -> &Codes {
        &self.codes
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        with_functionpara(
            json!({"codes": self.codes.joined(), "indicators": self.indicators.joined()}),
            &self.params,
        )
    }
}

/// `cmd_history_quotation`: daily (or weekly, monthly, ...) history between two dates.
///
/// ```
/// use conn_ths::{HistoryQuotation, FunctionPara, Interval, Adjust};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
/// let q = HistoryQuotation::new("600519.SH", "open,close", d(1, 2), d(1, 31))
///     .unwrap()
///     .with_params(FunctionPara::new().interval(Interval::Day).adjust(Adjust::Forward));
/// assert_eq!(
///     q.body().to_string(),
///     r#"{"codes":"600519.SH","enddate":"2024-01-31","functionpara":{"CPS":"2","Interval":"D"},"indicators":"open,close","startdate":"2024-01-02"}"#
/// );
/// assert!(HistoryQuotation::new("600519.SH", "open", d(2, 1), d(1, 1)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuotation {
    codes: Codes,
    indicators: Indicators,
    start: NaiveDate,
    end: NaiveDate,
    params: FunctionPara,
}

impl HistoryQuotation {
    /// Codes, indicators and an inclusive date range (start not after end).
    pub fn new(
        codes: impl IntoCodes,
        indicators: impl IntoIndicators,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        Ok(Self {
            codes: codes.into_codes()?,
            indicators: indicators.into_indicators()?,
            start,
            end,
            params: FunctionPara::new(),
        })
    }

    /// Sets `functionpara` ([`Interval`], `Adjust`, `Fill`, ... or raw options).
    pub fn with_params(mut self, p: FunctionPara) -> Self {
        self.params = p;
        self
    }

    /// The codes.
    pub fn codes(&self) -> &Codes {
        &self.codes
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        with_functionpara(
            json!({
                "codes": self.codes.joined(),
                "indicators": self.indicators.joined(),
                "startdate": fmt_date(self.start),
                "enddate": fmt_date(self.end),
            }),
            &self.params,
        )
    }
}

/// `high_frequency`: intraday bars between two times.
#[derive(Debug, Clone, PartialEq)]
pub struct HighFrequency {
    codes: Codes,
    indicators: Indicators,
    start: NaiveDateTime,
    end: NaiveDateTime,
    params: FunctionPara,
}

impl HighFrequency {
    /// Codes, indicators and a time range (start not after end).
    pub fn new(
        codes: impl IntoCodes,
        indicators: impl IntoIndicators,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        Ok(Self {
            codes: codes.into_codes()?,
            indicators: indicators.into_indicators()?,
            start,
            end,
            params: FunctionPara::new(),
        })
    }

    /// Sets `functionpara` (bar length with [`FunctionPara::minutes`], ...).
    pub fn with_params(mut self, p: FunctionPara) -> Self {
        self.params = p;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        with_functionpara(
            json!({
                "codes": self.codes.joined(),
                "indicators": self.indicators.joined(),
                "starttime": fmt_datetime(self.start),
                "endtime": fmt_datetime(self.end),
            }),
            &self.params,
        )
    }
}

/// `basic_data_service`: indicators with parameters, one value per security (no time column).
///
/// ```
/// use conn_ths::{BasicData, IndiPara};
/// let q = BasicData::new(
///     "300033.SZ",
///     vec![IndiPara::new("ths_stock_short_name_stock").unwrap()],
/// ).unwrap();
/// assert_eq!(
///     q.body().to_string(),
///     r#"{"codes":"300033.SZ","indipara":[{"indicator":"ths_stock_short_name_stock","indiparams":[]}]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BasicData {
    codes: Codes,
    indipara: Vec<IndiPara>,
}

impl BasicData {
    /// Codes and at least one indicator.
    pub fn new(codes: impl IntoCodes, indipara: Vec<IndiPara>) -> Result<Self> {
        check_indipara(&indipara)?;
        Ok(Self {
            codes: codes.into_codes()?,
            indipara,
        })
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"codes": self.codes.joined(), "indipara": self.indipara})
    }
}

/// `date_sequence`: indicators with parameters as a series over dates.
#[derive(Debug, Clone, PartialEq)]
pub struct DateSequence {
    codes: Codes,
    indipara: Vec<IndiPara>,
    start: NaiveDate,
    end: NaiveDate,
    params: FunctionPara,
}

impl DateSequence {
    /// Codes, indicators and a date range.
    pub fn new(
        codes: impl IntoCodes,
        indipara: Vec<IndiPara>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Self> {
        check_indipara(&indipara)?;
        check_range(&start, &end)?;
        Ok(Self {
            codes: codes.into_codes()?,
            indipara,
            start,
            end,
            params: FunctionPara::new(),
        })
    }

    /// Sets `functionpara` (`Fill`, `Interval`, ...).
    pub fn with_params(mut self, p: FunctionPara) -> Self {
        self.params = p;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        with_functionpara(
            json!({
                "codes": self.codes.joined(),
                "indipara": self.indipara,
                "startdate": fmt_date(self.start),
                "enddate": fmt_date(self.end),
            }),
            &self.params,
        )
    }
}

/// `snap_shot`: intraday snapshots between two times.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapShot {
    codes: Codes,
    indicators: Indicators,
    start: NaiveDateTime,
    end: NaiveDateTime,
    params: FunctionPara,
}

impl SnapShot {
    /// Codes, indicators and a time range.
    pub fn new(
        codes: impl IntoCodes,
        indicators: impl IntoIndicators,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        Ok(Self {
            codes: codes.into_codes()?,
            indicators: indicators.into_indicators()?,
            start,
            end,
            params: FunctionPara::new(),
        })
    }

    /// Sets `functionpara`.
    pub fn with_params(mut self, p: FunctionPara) -> Self {
        self.params = p;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        with_functionpara(
            json!({
                "codes": self.codes.joined(),
                "indicators": self.indicators.joined(),
                "starttime": fmt_datetime(self.start),
                "endtime": fmt_datetime(self.end),
            }),
            &self.params,
        )
    }
}

/// `edb_service`: economic-database series (ids such as `M001620326`) between two dates. Each
/// series comes back as one table keyed by its id.
#[derive(Debug, Clone, PartialEq)]
pub struct EdbQuery {
    ids: Vec<String>,
    start: NaiveDate,
    end: NaiveDate,
    params: FunctionPara,
}

impl EdbQuery {
    /// Series ids (ASCII letters and digits) and a date range.
    pub fn new<I, S>(ids: I, start: NaiveDate, end: NaiveDate) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        check_range(&start, &end)?;
        let mut out = Vec::new();
        for (i, id) in ids.into_iter().enumerate() {
            let id = id.as_ref().trim();
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::validation(
                    format!("indicators[{i}]"),
                    format!("an EDB series id of ASCII letters and digits such as M001620326, got {id:?}"),
                ));
            }
            out.push(id.to_owned());
        }
        if out.is_empty() {
            return Err(Error::validation(
                "indicators",
                "at least one EDB series id",
            ));
        }
        Ok(Self {
            ids: out,
            start,
            end,
            params: FunctionPara::new(),
        })
    }

    /// Sets `functionpara`.
    pub fn with_params(mut self, p: FunctionPara) -> Self {
        self.params = p;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        with_functionpara(
            json!({
                "indicators": self.ids.join(","),
                "startdate": fmt_date(self.start),
                "enddate": fmt_date(self.end),
            }),
            &self.params,
        )
    }
}

/// `data_pool`: one of iFinD's special reports (`p03341`, ...) with its parameters and the
/// output fields wanted.
///
/// ```
/// use conn_ths::DataPool;
/// let q = DataPool::new("p03341").unwrap()
///     .param("sdate", "20240101").unwrap()
///     .output("p03341_f001").unwrap()
///     .output("p03341_f002").unwrap();
/// assert_eq!(
///     q.body().to_string(),
///     r#"{"functionpara":{"sdate":"20240101"},"outputpara":"p03341_f001:Y,p03341_f002:Y","reportname":"p03341"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DataPool {
    reportname: String,
    params: FunctionPara,
    outputs: Vec<String>,
}

impl DataPool {
    /// A report by name.
    pub fn new(reportname: impl AsRef<str>) -> Result<Self> {
        Ok(Self {
            reportname: check_name(reportname.as_ref(), "reportname")?,
            params: FunctionPara::new(),
            outputs: Vec::new(),
        })
    }

    /// Adds a report parameter.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
    }

    /// Adds a date parameter rendered `YYYYMMDD`, as report parameters take dates.
    pub fn date_param(self, key: impl AsRef<str>, d: NaiveDate) -> Result<Self> {
        self.param(key, d.format("%Y%m%d").to_string())
    }

    /// Asks for an output field (`outputpara` `field:Y`); none means the report's default.
    pub fn output(mut self, field: impl AsRef<str>) -> Result<Self> {
        let f = check_name(field.as_ref(), "outputpara")?;
        if f.contains(':') {
            return Err(Error::validation(
                "outputpara",
                format!("a field name without ':', got {f:?}"),
            ));
        }
        self.outputs.push(f);
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("reportname".into(), json!(self.reportname));
        m.insert("functionpara".into(), json!(self.params));
        if !self.outputs.is_empty() {
            let out: Vec<String> = self.outputs.iter().map(|f| format!("{f}:Y")).collect();
            m.insert("outputpara".into(), json!(out.join(",")));
        }
        Value::Object(m)
    }
}

/// The universe of a [`SmartStockPicking`] query (`searchtype`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchType(String);

impl SearchType {
    /// A-share stocks (`stock`).
    pub fn stock() -> Self {
        Self("stock".into())
    }

    /// Indexes (`zhishu`).
    pub fn index() -> Self {
        Self("zhishu".into())
    }

    /// Funds (`fund`).
    pub fn fund() -> Self {
        Self("fund".into())
    }

    /// Any other `searchtype` value (non-empty, no spaces).
    pub fn raw(s: impl AsRef<str>) -> Result<Self> {
        Ok(Self(check_name(s.as_ref(), "searchtype")?))
    }

    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `smart_stock_picking`: a natural-language screen (问财), such as `"今日涨停"`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmartStockPicking {
    search: String,
    kind: SearchType,
}

impl SmartStockPicking {
    /// A non-empty query string.
    pub fn new(search: impl Into<String>, kind: SearchType) -> Result<Self> {
        let search = search.into();
        if search.trim().is_empty() {
            return Err(Error::validation("searchstring", "must not be empty"));
        }
        Ok(Self { search, kind })
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"searchstring": self.search, "searchtype": self.kind.as_str()})
    }
}

/// An iFinD trading-calendar market code (`marketcode`), digits only.
///
/// ⚠ iFinD's examples use `212001` for the Shanghai/Shenzhen A-share calendar; other markets
/// have their own codes in the iFinD manual.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketCode(String);

impl MarketCode {
    /// The A-share calendar in iFinD's examples (`212001`).
    pub fn a_shares() -> Self {
        Self("212001".into())
    }

    /// Any market code (digits only).
    pub fn new(code: impl AsRef<str>) -> Result<Self> {
        let c = code.as_ref().trim();
        if c.is_empty() || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(
                "marketcode",
                format!("digits such as 212001, got {c:?}"),
            ));
        }
        Ok(Self(c.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `get_trade_dates`: trading days between two dates, or a number of them from a date.
///
/// ```
/// use conn_ths::{MarketCode, TradeDates};
/// use chrono::NaiveDate;
/// let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
/// let q = TradeDates::offset(MarketCode::a_shares(), d, -5);
/// assert_eq!(
///     q.body().to_string(),
///     r#"{"functionpara":{"dateFormat":"0","dateType":"0","offset":"-5","output":"sequencedate","period":"D"},"marketcode":"212001","startdate":"2024-01-02"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TradeDates {
    market: MarketCode,
    start: NaiveDate,
    end: Option<NaiveDate>,
    offset: Option<i32>,
    params: FunctionPara,
}

impl TradeDates {
    fn base() -> FunctionPara {
        FunctionPara::new()
            .set("dateType", "0")
            .set("period", "D")
            .set("dateFormat", "0")
            .set("output", "sequencedate")
    }

    /// Trading days from `start` to `end` inclusive.
    pub fn between(market: MarketCode, start: NaiveDate, end: NaiveDate) -> Result<Self> {
        check_range(&start, &end)?;
        let params = Self::base();
        Ok(Self {
            market,
            start,
            end: Some(end),
            offset: None,
            params,
        })
    }

    /// `offset` trading days from `date` (negative: before it).
    pub fn offset(market: MarketCode, date: NaiveDate, offset: i32) -> Self {
        let params = Self::base();
        Self {
            market,
            start: date,
            end: None,
            offset: Some(offset),
            params,
        }
    }

    /// Sets the period (`D` daily by default, `W`, `M`, ...).
    pub fn period(mut self, p: Interval) -> Self {
        self.params = self.params.set("period", p.as_str());
        self
    }

    /// Counts calendar days instead of trading days (`dateType` 1).
    pub fn calendar_days(mut self) -> Self {
        self.params = self.params.set("dateType", "1");
        self
    }

    /// Adds a raw `functionpara` option.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut params = self.params.clone();
        if let Some(o) = self.offset {
            params = params.set("offset", o.to_string());
        }
        let mut m = Map::new();
        m.insert("marketcode".into(), json!(self.market.as_str()));
        m.insert("startdate".into(), json!(fmt_date(self.start)));
        if let Some(e) = self.end {
            m.insert("enddate".into(), json!(fmt_date(e)));
        }
        m.insert("functionpara".into(), json!(params));
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
                Some(crate::tables::Cell::Text(s)) => Some(s.to_owned()),
                Some(crate::tables::Cell::Number(n)) => Some(format!("{n}")),
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

impl Client {
    /// `real_time_quotation`.
    #[tracing::instrument(name = "ths.real_time_quotation", skip_all, fields(codes = q.codes.as_slice().len()))]
    pub async fn real_time_quotation(&self, q: &RealTimeQuotation) -> Result<Tables> {
        self.query_tables(endpoint::REAL_TIME_QUOTATION, &q.body())
            .await
    }

    /// `cmd_history_quotation`.
    #[tracing::instrument(name = "ths.cmd_history_quotation", skip_all, fields(codes = q.codes.as_slice().len()))]
    pub async fn cmd_history_quotation(&self, q: &HistoryQuotation) -> Result<Tables> {
        self.query_tables(endpoint::CMD_HISTORY_QUOTATION, &q.body())
            .await
    }

    /// `high_frequency`.
    #[tracing::instrument(name = "ths.high_frequency", skip_all)]
    pub async fn high_frequency(&self, q: &HighFrequency) -> Result<Tables> {
        self.query_tables(endpoint::HIGH_FREQUENCY, &q.body()).await
    }

    /// `basic_data_service`.
    #[tracing::instrument(name = "ths.basic_data_service", skip_all)]
    pub async fn basic_data_service(&self, q: &BasicData) -> Result<Tables> {
        self.query_tables(endpoint::BASIC_DATA_SERVICE, &q.body())
            .await
    }

    /// `date_sequence`.
    #[tracing::instrument(name = "ths.date_sequence", skip_all)]
    pub async fn date_sequence(&self, q: &DateSequence) -> Result<Tables> {
        self.query_tables(endpoint::DATE_SEQUENCE, &q.body()).await
    }

    /// `snap_shot`.
    #[tracing::instrument(name = "ths.snap_shot", skip_all)]
    pub async fn snap_shot(&self, q: &SnapShot) -> Result<Tables> {
        self.query_tables(endpoint::SNAP_SHOT, &q.body()).await
    }

    /// `edb_service`.
    #[tracing::instrument(name = "ths.edb_service", skip_all)]
    pub async fn edb_service(&self, q: &EdbQuery) -> Result<Tables> {
        self.query_tables(endpoint::EDB_SERVICE, &q.body()).await
    }

    /// `data_pool`.
    #[tracing::instrument(name = "ths.data_pool", skip_all)]
    pub async fn data_pool(&self, q: &DataPool) -> Result<Tables> {
        self.query_tables(endpoint::DATA_POOL, &q.body()).await
    }

    /// `smart_stock_picking`.
    #[tracing::instrument(name = "ths.smart_stock_picking", skip_all)]
    pub async fn smart_stock_picking(&self, q: &SmartStockPicking) -> Result<Tables> {
        self.query_tables(endpoint::SMART_STOCK_PICKING, &q.body())
            .await
    }

    /// `get_trade_dates`: the trading days as dates.
    #[tracing::instrument(name = "ths.get_trade_dates", skip_all)]
    pub async fn get_trade_dates(&self, q: &TradeDates) -> Result<Vec<NaiveDate>> {
        let op = endpoint::GET_TRADE_DATES;
        let req = conn_core::transport::Request::post(
            op,
            format!("/{op}"),
            conn_core::retry::Idempotency::Idempotent,
        )
        .json(&q.body())?;
        let resp = self.execute(&req).await?;
        let tables = Tables::decode(op, &resp.body)?;
        trade_dates_of(&tables, &resp.body)
    }
}
