//! The portfolio reads: `query_overview`, `query_positions`, `query_exchange_records`,
//! `query_perform`, `query_risk_profits`.

use chrono::NaiveDate;
use conn_core::{Error, Result};
use serde_json::{json, Map, Value};

use crate::options::string_enum;
use crate::params::{check_name, check_range, fmt_date, Indicators, IntoIndicators};

use super::PortfolioId;

fn head(func: &str, p: &PortfolioId, name: &Option<String>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("func".into(), json!(func));
    if let Some(n) = name {
        m.insert("name".into(), json!(n));
    }
    m.insert("portfid".into(), json!(p.get()));
    m
}

/// `query_overview` (portfolio monitor): `portfid` and `indicators`, both required.
///
/// ```
/// use conn_ths::{OverviewQuery, PortfolioId};
/// let q = OverviewQuery::new(PortfolioId::new(161390), "category,thscode,stockName,newPrice").unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "func": "query_overview", "portfid": 161390, "indicators": "category,thscode,stockName,newPrice"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewQuery {
    pub(crate) portfolio: PortfolioId,
    indicators: Indicators,
}

impl OverviewQuery {
    /// A portfolio and the indicators wanted (`thscode`, `number`, `marketValue`, ...).
    pub fn new(portfolio: PortfolioId, indicators: impl IntoIndicators) -> Result<Self> {
        Ok(Self {
            portfolio,
            indicators: indicators.into_indicators()?,
        })
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = head("query_overview", &self.portfolio, &None);
        m.insert("indicators".into(), json!(self.indicators.joined()));
        Value::Object(m)
    }
}

/// `query_positions` (holdings analysis): `portfid`, `indicators` and `functionpara.penetrate`,
/// all required.
///
/// ```
/// use conn_ths::{PositionsQuery, PortfolioId};
/// use chrono::NaiveDate;
/// // The manual's example.
/// let q = PositionsQuery::new(
///     PortfolioId::new(161390),
///     "categoryName,securityName,thsCode,weight,marketPrice,cost,wavepl,cumpl,price,increaseRate,amount,costPrice",
///     false,
/// ).unwrap()
/// .on(NaiveDate::from_ymd_opt(2022, 10, 19).unwrap())
/// .with_name("股债策略组合").unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "func": "query_positions",
///     "name": "股债策略组合",
///     "portfid": 161390,
///     "indicators": "categoryName,securityName,thsCode,weight,marketPrice,cost,wavepl,cumpl,price,increaseRate,amount,costPrice",
///     "date": "2022-10-19",
///     "functionpara": {"penetrate": "false"}
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PositionsQuery {
    pub(crate) portfolio: PortfolioId,
    name: Option<String>,
    indicators: Indicators,
    penetrate: bool,
    date: Option<NaiveDate>,
}

impl PositionsQuery {
    /// A portfolio, indicators, and whether to look through funds (`penetrate`).
    pub fn new(
        portfolio: PortfolioId,
        indicators: impl IntoIndicators,
        penetrate: bool,
    ) -> Result<Self> {
        Ok(Self {
            portfolio,
            name: None,
            indicators: indicators.into_indicators()?,
            penetrate,
            date: None,
        })
    }

    /// The holdings of a given day (`date`, in the manual's example).
    pub fn on(mut self, d: NaiveDate) -> Self {
        self.date = Some(d);
        self
    }

    /// `name` (optional).
    pub fn with_name(mut self, n: &str) -> Result<Self> {
        self.name = Some(check_text(n, "name")?);
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = head("query_positions", &self.portfolio, &self.name);
        m.insert("indicators".into(), json!(self.indicators.joined()));
        if let Some(d) = self.date {
            m.insert("date".into(), json!(fmt_date(d)));
        }
        m.insert(
            "functionpara".into(),
            json!({"penetrate": if self.penetrate { "true" } else { "false" }}),
        );
        Value::Object(m)
    }
}

pub(crate) fn check_text(s: &str, field: &str) -> Result<String> {
    if s.trim().is_empty() {
        return Err(Error::validation(field, "must not be empty when given"));
    }
    Ok(s.to_owned())
}

/// The longest range `query_exchange_records` accepts, in days (the manual: 7).
pub const EXCHANGE_RECORDS_MAX_DAYS: i64 = 7;

/// `query_exchange_records` (trade log): `portfid`, `indicators`, `startdate`, `enddate` (at
/// most [`EXCHANGE_RECORDS_MAX_DAYS`] apart), optional `functionpara.keyword`.
///
/// ```
/// use conn_ths::{ExchangeRecordsQuery, PortfolioId};
/// use chrono::NaiveDate;
/// let d = |day| NaiveDate::from_ymd_opt(2022, 10, day).unwrap();
/// // The manual's example.
/// let q = ExchangeRecordsQuery::new(PortfolioId::new(161390),
///     "date,code,name,dealPrice,dealNumber,realPrice,businessName,serviceCharge,type,currency,exchangeRate,marketName,importType",
///     d(18), d(20)).unwrap()
///     .keyword("").with_name("股债策略组合").unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "func": "query_exchange_records",
///     "name": "股债策略组合",
///     "portfid": 161390,
///     "indicators": "date,code,name,dealPrice,dealNumber,realPrice,businessName,serviceCharge,type,currency,exchangeRate,marketName,importType",
///     "startdate": "2022-10-18",
///     "enddate": "2022-10-20",
///     "functionpara": {"keyword": ""}
/// }));
/// assert!(ExchangeRecordsQuery::new(PortfolioId::new(1), "date", d(1), d(9)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeRecordsQuery {
    pub(crate) portfolio: PortfolioId,
    name: Option<String>,
    indicators: Indicators,
    start: NaiveDate,
    end: NaiveDate,
    keyword: Option<String>,
}

impl ExchangeRecordsQuery {
    /// A portfolio, indicators and a range of at most 7 days.
    pub fn new(
        portfolio: PortfolioId,
        indicators: impl IntoIndicators,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        if (end - start).num_days() >= EXCHANGE_RECORDS_MAX_DAYS {
            return Err(Error::validation(
                "enddate",
                format!(
                    "at most {EXCHANGE_RECORDS_MAX_DAYS} days after startdate (the manual's limit)"
                ),
            ));
        }
        Ok(Self {
            portfolio,
            name: None,
            indicators: indicators.into_indicators()?,
            start,
            end,
            keyword: None,
        })
    }

    /// `functionpara.keyword`.
    pub fn keyword(mut self, k: &str) -> Self {
        self.keyword = Some(k.to_owned());
        self
    }

    /// `name` (optional).
    pub fn with_name(mut self, n: &str) -> Result<Self> {
        self.name = Some(check_text(n, "name")?);
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = head("query_exchange_records", &self.portfolio, &self.name);
        m.insert("indicators".into(), json!(self.indicators.joined()));
        m.insert("startdate".into(), json!(fmt_date(self.start)));
        m.insert("enddate".into(), json!(fmt_date(self.end)));
        if let Some(k) = &self.keyword {
            m.insert("functionpara".into(), json!({"keyword": k}));
        }
        Value::Object(m)
    }
}

string_enum! {
    /// What `query_perform` measures (`pfclass`).
    PerformClass {
        /// `perform`: performance.
        Perform => "perform",
        /// `nasset`: net assets.
        NetAssets => "nasset",
        /// `utnv`: unit net value.
        UnitNav => "utnv",
    }
}

string_enum! {
    /// `query_perform` period (`cycle`).
    PerformCycle {
        /// `rquota`: today, real time.
        Realtime => "rquota",
        /// `day`.
        Day => "day",
        /// `week`.
        Week => "week",
        /// `month`.
        Month => "month",
        /// `halfYear`.
        HalfYear => "halfYear",
        /// `year`.
        Year => "year",
    }
}

string_enum! {
    /// `query_risk_profits` data frequency (`cycle`).
    RiskCycle {
        /// `day`.
        Day => "day",
        /// `week`.
        Week => "week",
        /// `month`.
        Month => "month",
        /// `season`.
        Season => "season",
        /// `year`.
        Year => "year",
    }
}

fn benchmark(b: &str, field: &str) -> Result<String> {
    let b = check_name(b, field)?;
    if !b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.') {
        return Err(Error::validation(
            field,
            format!("a benchmark code such as 000300, got {b:?}"),
        ));
    }
    Ok(b)
}

/// `query_perform` (performance): a date range, a benchmark, `pfclass` and `cycle`.
///
/// ```
/// use conn_ths::{PerformClass, PerformCycle, PerformQuery, PortfolioId};
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
/// // The manual's example.
/// let q = PerformQuery::new(PortfolioId::new(161390), d(2020, 6, 2), d(2022, 10, 20), "000300",
///     PerformClass::UnitNav, PerformCycle::Day).unwrap().with_name("股债策略组合").unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "func": "query_perform", "name": "股债策略组合", "portfid": 161390, "performbm": "000300",
///     "startdate": "2020-06-02", "enddate": "2022-10-20",
///     "functionpara": {"pfclass": "utnv", "cycle": "day"}
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerformQuery {
    pub(crate) portfolio: PortfolioId,
    name: Option<String>,
    start: NaiveDate,
    end: NaiveDate,
    benchmark: String,
    class: PerformClass,
    cycle: PerformCycle,
}

impl PerformQuery {
    /// Every required key. With [`PerformCycle::Realtime`] the manual's `date` is sent too
    /// (the end date).
    pub fn new(
        portfolio: PortfolioId,
        start: NaiveDate,
        end: NaiveDate,
        bench: &str,
        class: PerformClass,
        cycle: PerformCycle,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        Ok(Self {
            portfolio,
            name: None,
            start,
            end,
            benchmark: benchmark(bench, "performbm")?,
            class,
            cycle,
        })
    }

    /// `name` (optional).
    pub fn with_name(mut self, n: &str) -> Result<Self> {
        self.name = Some(check_text(n, "name")?);
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = head("query_perform", &self.portfolio, &self.name);
        m.insert("performbm".into(), json!(self.benchmark));
        if self.cycle == PerformCycle::Realtime {
            m.insert("date".into(), json!(fmt_date(self.end)));
        }
        m.insert("startdate".into(), json!(fmt_date(self.start)));
        m.insert("enddate".into(), json!(fmt_date(self.end)));
        m.insert(
            "functionpara".into(),
            json!({"pfclass": self.class.as_str(), "cycle": self.cycle.as_str()}),
        );
        Value::Object(m)
    }
}

/// `query_risk_profits` (risk indicators): indicators, a date range, `cycle` and `benchmark`.
/// The indicators go as a one-element list holding the comma-separated names, as in the
/// manual's table and example.
///
/// ```
/// use conn_ths::{PortfolioId, RiskCycle, RiskQuery};
/// use chrono::NaiveDate;
/// let d = |y| NaiveDate::from_ymd_opt(y, 10, 19).unwrap();
/// // The manual's example.
/// let q = RiskQuery::new(PortfolioId::new(161390), "alpha,yield,annual_yield,sharpe_ratio",
///     d(2021), d(2022), RiskCycle::Day, "000300").unwrap().with_name("股债策略组合").unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "func": "query_risk_profits", "name": "股债策略组合", "portfid": 161390,
///     "indicators": ["alpha,yield,annual_yield,sharpe_ratio"],
///     "startdate": "2021-10-19", "enddate": "2022-10-19",
///     "functionpara": {"cycle": "day", "benchmark": "000300"}
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RiskQuery {
    pub(crate) portfolio: PortfolioId,
    name: Option<String>,
    indicators: Indicators,
    start: NaiveDate,
    end: NaiveDate,
    cycle: RiskCycle,
    benchmark: String,
}

impl RiskQuery {
    /// Every required key.
    pub fn new(
        portfolio: PortfolioId,
        indicators: impl IntoIndicators,
        start: NaiveDate,
        end: NaiveDate,
        cycle: RiskCycle,
        bench: &str,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        Ok(Self {
            portfolio,
            name: None,
            indicators: indicators.into_indicators()?,
            start,
            end,
            cycle,
            benchmark: benchmark(bench, "functionpara.benchmark")?,
        })
    }

    /// `name` (optional).
    pub fn with_name(mut self, n: &str) -> Result<Self> {
        self.name = Some(check_text(n, "name")?);
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = head("query_risk_profits", &self.portfolio, &self.name);
        m.insert("indicators".into(), json!([self.indicators.joined()]));
        m.insert("startdate".into(), json!(fmt_date(self.start)));
        m.insert("enddate".into(), json!(fmt_date(self.end)));
        m.insert(
            "functionpara".into(),
            json!({"cycle": self.cycle.as_str(), "benchmark": self.benchmark}),
        );
        Value::Object(m)
    }
}
