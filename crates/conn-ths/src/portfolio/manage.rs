//! Portfolio writes: `newportf`, `importf`, `fileimport` (multipart), `query_commit`, `cashacs`.

use bytes::Bytes;
use chrono::NaiveDate;
use conn_core::transport::MultipartPart;
use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::options::string_enum;
use crate::params::fmt_date;

use super::deal::{json_number, PortfolioCurrency};
use super::queries::check_text;
use super::PortfolioId;

string_enum! {
    /// The trading calendar of a new portfolio (`tday`).
    TradingCalendar {
        /// 国内交易所 (the default).
        Domestic => "国内交易所",
        /// 港股.
        HongKong => "港股",
        /// 美股.
        Us => "美股",
        /// 国内银行间.
        Interbank => "国内银行间",
    }
}

/// `newportf`: a new portfolio. `name` and `group` are required.
///
/// ⚠ The manual's example spells the currency key `curency`; its table says `currency`,
/// which is sent.
///
/// ```
/// use conn_ths::{NewPortfolio, PortfolioCurrency, TradingCalendar};
/// let p = NewPortfolio::new("股债联动", 11580).unwrap()
///     .performance_benchmark("000300.SH", "沪深300").unwrap()
///     .calendar(TradingCalendar::Domestic)
///     .currency(PortfolioCurrency::Cny)
///     .info("股票与债券结合的策略组合");
/// assert_eq!(p.body(), serde_json::json!({
///     "func": "newportf", "name": "股债联动", "group": 11580,
///     "performbm": {"code": "000300.SH", "name": "沪深300"},
///     "tday": "国内交易所", "currency": "CNY", "info": "股票与债券结合的策略组合"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewPortfolio {
    body: Map<String, Value>,
}

impl NewPortfolio {
    /// A name and a group id.
    pub fn new(name: &str, group: u64) -> Result<Self> {
        let mut body = Map::new();
        body.insert("func".into(), json!("newportf"));
        body.insert("name".into(), json!(check_text(name, "name")?));
        body.insert("group".into(), json!(group));
        Ok(Self { body })
    }

    /// `performbm`: performance benchmark (default 沪深300).
    pub fn performance_benchmark(mut self, code: &str, name: &str) -> Result<Self> {
        self.body.insert(
            "performbm".into(),
            json!({"code": check_text(code, "performbm.code")?, "name": name}),
        );
        Ok(self)
    }

    /// `supbm`: a second benchmark with its type.
    pub fn second_benchmark(mut self, code: &str, name: &str, kind: &str) -> Result<Self> {
        self.body.insert(
            "supbm".into(),
            json!({"code": check_text(code, "supbm.code")?, "name": name, "benchmarkType": kind}),
        );
        Ok(self)
    }

    /// `tday`.
    pub fn calendar(mut self, t: TradingCalendar) -> Self {
        self.body.insert("tday".into(), json!(t.as_str()));
        self
    }

    /// `currency`.
    pub fn currency(mut self, c: PortfolioCurrency) -> Self {
        self.body.insert("currency".into(), json!(c.as_str()));
        self
    }

    /// `finacrate` and `secrate`: margin financing and securities lending rates, in %.
    pub fn margin_rates(mut self, financing: Decimal, lending: Decimal) -> Self {
        self.body
            .insert("finacrate".into(), json!(financing.to_string()));
        self.body
            .insert("secrate".into(), json!(lending.to_string()));
        self
    }

    /// `info`: a description.
    pub fn info(mut self, s: &str) -> Self {
        self.body.insert("info".into(), json!(s));
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        Value::Object(self.body.clone())
    }
}

/// One row of an `importf` content table: the manual's eight columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// 交易日期.
    pub date: NaiveDate,
    /// 证券代码 (`600000.SH`; `CNY` for cash).
    pub code: String,
    /// 业务类型 (`买入`, `卖出`, `现金存入`, ...).
    pub business: String,
    /// 数量.
    pub volume: Option<Decimal>,
    /// 价格.
    pub price: Option<Decimal>,
    /// 成交金额.
    pub amount: Option<Decimal>,
    /// 费用.
    pub fee: Option<Decimal>,
    /// 证券类型 (`A股`, empty for cash).
    pub security_type: String,
}

/// The header row of an `importf` content table.
pub const IMPORT_HEADER: [&str; 8] = [
    "交易日期",
    "证券代码",
    "业务类型",
    "数量",
    "价格",
    "成交金额",
    "费用",
    "证券类型",
];

/// `importf`: template import of a portfolio's history.
///
/// ```
/// use conn_ths::{ImportRow, PortfolioId, PortfolioImport};
/// use chrono::NaiveDate;
/// use rust_decimal::Decimal;
/// let d = |day| NaiveDate::from_ymd_opt(2020, if day > 30 { 4 } else { 3 }, if day > 30 { day - 30 } else { day }).unwrap();
/// // The manual's example.
/// let rows = vec![
///     ImportRow { date: d(30), code: "CNY".into(), business: "现金存入".into(), volume: None, price: None,
///         amount: Some(Decimal::from(10_000_000)), fee: None, security_type: String::new() },
///     ImportRow { date: d(31), code: "600000.SH".into(), business: "买入".into(), volume: Some(Decimal::from(100)),
///         price: Some(Decimal::new(1009, 2)), amount: Some(Decimal::from(1009)), fee: Some(Decimal::new(5225, 3)),
///         security_type: "A股".into() },
/// ];
/// let q = PortfolioImport::new(PortfolioId::new(161390), rows).unwrap().with_name("股债策略组合").unwrap();
/// assert_eq!(q.body().unwrap(), serde_json::json!({
///     "func": "importf", "name": "股债策略组合", "portfid": 161390,
///     "content": [
///         ["交易日期", "证券代码", "业务类型", "数量", "价格", "成交金额", "费用", "证券类型"],
///         ["2020-03-30", "CNY", "现金存入", "", "", 10000000, "", ""],
///         ["2020-04-01", "600000.SH", "买入", 100, 10.09, 1009, 5.225, "A股"]
///     ]
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioImport {
    portfolio: PortfolioId,
    name: Option<String>,
    rows: Vec<ImportRow>,
}

impl PortfolioImport {
    /// At least one row.
    pub fn new(portfolio: PortfolioId, rows: Vec<ImportRow>) -> Result<Self> {
        if rows.is_empty() {
            return Err(Error::validation("content", "at least one row"));
        }
        for (i, r) in rows.iter().enumerate() {
            if r.code.trim().is_empty() || r.business.trim().is_empty() {
                return Err(Error::validation(
                    format!("content[{}]", i + 1),
                    "a code and a business type",
                ));
            }
        }
        Ok(Self {
            portfolio,
            name: None,
            rows,
        })
    }

    /// `name` (optional).
    pub fn with_name(mut self, n: &str) -> Result<Self> {
        self.name = Some(check_text(n, "name")?);
        Ok(self)
    }

    /// The JSON body; a number of more than 15 significant digits is refused.
    pub fn body(&self) -> Result<Value> {
        let mut content = vec![json!(IMPORT_HEADER)];
        for (i, r) in self.rows.iter().enumerate() {
            let field = format!("content[{}]", i + 1);
            let num = |d: Option<Decimal>| match d {
                Some(d) => json_number(&field, d),
                None => Ok(json!("")),
            };
            content.push(json!([
                fmt_date(r.date),
                r.code,
                r.business,
                num(r.volume)?,
                num(r.price)?,
                num(r.amount)?,
                num(r.fee)?,
                r.security_type,
            ]));
        }
        let mut m = Map::new();
        m.insert("func".into(), json!("importf"));
        if let Some(n) = &self.name {
            m.insert("name".into(), json!(n));
        }
        m.insert("portfid".into(), json!(self.portfolio.get()));
        m.insert("content".into(), Value::Array(content));
        Ok(Value::Object(m))
    }
}

/// `fileimport`: a portfolio file (xlsx, csv) sent as multipart, with `func`, `portfid` and an
/// optional `name` as text fields.
#[derive(Debug, Clone, PartialEq)]
pub struct FileImport {
    portfolio: PortfolioId,
    name: Option<String>,
    file_name: String,
    data: Bytes,
}

impl FileImport {
    /// A file by name and content (not empty).
    pub fn new(portfolio: PortfolioId, file_name: &str, data: impl Into<Bytes>) -> Result<Self> {
        let data = data.into();
        if data.is_empty() {
            return Err(Error::validation("file", "the file is empty"));
        }
        Ok(Self {
            portfolio,
            name: None,
            file_name: check_text(file_name, "file")?,
            data,
        })
    }

    /// `name` (optional).
    pub fn with_name(mut self, n: &str) -> Result<Self> {
        self.name = Some(check_text(n, "name")?);
        Ok(self)
    }

    /// The multipart parts.
    pub fn parts(&self) -> Vec<MultipartPart> {
        let text = |name: &str, v: String| MultipartPart {
            name: name.into(),
            file_name: None,
            content_type: None,
            data: Bytes::from(v),
        };
        let mut parts = vec![
            text("func", "fileimport".into()),
            text("portfid", self.portfolio.to_string()),
        ];
        if let Some(n) = &self.name {
            parts.push(text("name", n.clone()));
        }
        parts.push(MultipartPart {
            name: "file".into(),
            file_name: Some(self.file_name.clone()),
            content_type: Some("application/octet-stream".into()),
            data: self.data.clone(),
        });
        parts
    }
}

/// `query_commit`: the state of an import job.
///
/// ```
/// use conn_ths::{ImportStatusQuery, PortfolioId};
/// let q = ImportStatusQuery::new(PortfolioId::new(161930), 21);
/// assert_eq!(q.body(), serde_json::json!({"func": "query_commit", "portfid": 161930, "jobid": 21}));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ImportStatusQuery {
    portfolio: PortfolioId,
    job: u64,
}

impl ImportStatusQuery {
    /// A portfolio and the job id an import answered.
    pub fn new(portfolio: PortfolioId, job: u64) -> Self {
        Self { portfolio, job }
    }

    /// The JSON body. ⚠ The manual's example writes `portid`; its table says `portfid`,
    /// which is sent.
    pub fn body(&self) -> Value {
        json!({"func": "query_commit", "portfid": self.portfolio.get(), "jobid": self.job})
    }
}

string_enum! {
    /// Cash movement type (`acesscls`).
    CashAccess {
        /// `101`: deposit, not counted as return.
        Deposit => "101",
        /// `102`: withdrawal, not counted as return.
        Withdraw => "102",
    }
}

/// `cashacs`: a cash deposit or withdrawal. Not idempotent, like a deal.
///
/// ```
/// use conn_ths::{CashAccess, CashMovement, PortfolioId};
/// use rust_decimal::Decimal;
/// // The manual's example.
/// let c = CashMovement::new(PortfolioId::new(161390), CashAccess::Deposit, Decimal::from(10000))
///     .unwrap().with_name("bldptf5").unwrap();
/// assert_eq!(c.body(), serde_json::json!({
///     "func": "cashacs", "name": "bldptf5", "portfid": 161390,
///     "functionpara": {"acesscls": "101", "amount": "10000"}
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CashMovement {
    pub(crate) portfolio: PortfolioId,
    name: Option<String>,
    access: CashAccess,
    amount: Decimal,
}

impl CashMovement {
    /// An amount above 0.
    pub fn new(portfolio: PortfolioId, access: CashAccess, amount: Decimal) -> Result<Self> {
        if amount <= Decimal::ZERO {
            return Err(Error::validation(
                "functionpara.amount",
                format!("must be above 0, got {amount}"),
            ));
        }
        Ok(Self {
            portfolio,
            name: None,
            access,
            amount,
        })
    }

    /// `name` (optional).
    pub fn with_name(mut self, n: &str) -> Result<Self> {
        self.name = Some(check_text(n, "name")?);
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("func".into(), json!("cashacs"));
        if let Some(n) = &self.name {
            m.insert("name".into(), json!(n));
        }
        m.insert("portfid".into(), json!(self.portfolio.get()));
        m.insert(
            "functionpara".into(),
            json!({"acesscls": self.access.as_str(), "amount": self.amount.to_string()}),
        );
        Value::Object(m)
    }
}
