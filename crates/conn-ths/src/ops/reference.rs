//! Reference data: `basic_data_service`, `date_sequence`, `edb_service`, `data_pool`,
//! `smart_stock_picking`.

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::{Error, Result};
use serde_json::{json, Map, Value};

use crate::options::{Days, FunctionPara, Interval, SequenceFill};
use crate::params::{check_indipara, check_name, check_range, fmt_date, fmt_datetime, IndiPara};
use crate::security_codes::{Codes, IntoCodes};

use super::with_functionpara;

/// `basic_data_service`: indicators with parameters, one value per security (no time column).
///
/// ```
/// use conn_ths::{BasicData, IndiPara};
/// // The manual's example.
/// let q = BasicData::new(
///     "300033.SZ,600030.SH",
///     vec![
///         IndiPara::new("ths_roe_stock").unwrap().param("20241231"),
///         IndiPara::new("ths_roe_avg_by_ths_stock").unwrap().param("20241231"),
///     ],
/// ).unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "codes": "300033.SZ,600030.SH",
///     "indipara": [
///         {"indicator": "ths_roe_stock", "indiparams": ["20241231"]},
///         {"indicator": "ths_roe_avg_by_ths_stock", "indiparams": ["20241231"]}
///     ]
/// }));
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
///
/// ```
/// use conn_ths::{DateSequence, Days, IndiPara, Interval, SequenceFill};
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
/// // The manual's example (dates rendered YYYY-MM-DD, one of the three forms it accepts).
/// let q = DateSequence::new(
///     "300033.SZ,600030.SH",
///     vec![
///         IndiPara::new("ths_total_equity_atoopc_stock").unwrap().param("").param("100"),
///         IndiPara::new("ths_regular_report_actual_dd_stock").unwrap().param(""),
///     ],
///     d(2023, 1, 1),
///     d(2024, 12, 31),
/// ).unwrap()
/// .days(Days::All)
/// .fill(SequenceFill::Blank)
/// .interval(Interval::Year);
/// assert_eq!(q.body(), serde_json::json!({
///     "codes": "300033.SZ,600030.SH",
///     "startdate": "2023-01-01",
///     "enddate": "2024-12-31",
///     "functionpara": {"Days": "Alldays", "Fill": "Blank", "Interval": "Y"},
///     "indipara": [
///         {"indicator": "ths_total_equity_atoopc_stock", "indiparams": ["", "100"]},
///         {"indicator": "ths_regular_report_actual_dd_stock", "indiparams": [""]}
///     ]
/// }));
/// ```
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

    /// `Interval`.
    pub fn interval(mut self, i: Interval) -> Self {
        self.params = self.params.set("Interval", i.as_str());
        self
    }

    /// `Days`.
    pub fn days(mut self, d: Days) -> Self {
        self.params = self.params.set("Days", d.as_str());
        self
    }

    /// `Fill`.
    pub fn fill(mut self, f: SequenceFill) -> Self {
        self.params = self.params.set("Fill", f.as_str());
        self
    }

    /// A raw `functionpara` option.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
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

/// `edb_service`: economic-database series (ids such as `M001620326`) between two dates. Each
/// series comes back as one table keyed by its id.
///
/// ```
/// use conn_ths::EdbQuery;
/// use chrono::NaiveDate;
/// let d = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap();
/// let t = |h| d.and_hms_opt(h, 15, 0).unwrap();
/// // The manual's example.
/// let q = EdbQuery::new(["M001620326", "M002822183"], d, d).unwrap()
///     .updated_between(t(9), t(10)).unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "indicators": "M001620326,M002822183",
///     "startdate": "2018-01-01",
///     "enddate": "2018-01-01",
///     "functionpara": {"startrtime": "2018-01-01 09:15:00", "endrtime": "2018-01-01 10:15:00"}
/// }));
/// ```
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

    /// `startrtime`/`endrtime`: only values updated in this window.
    pub fn updated_between(mut self, from: NaiveDateTime, to: NaiveDateTime) -> Result<Self> {
        check_range(&from, &to)?;
        self.params = self
            .params
            .set("startrtime", fmt_datetime(from))
            .set("endrtime", fmt_datetime(to));
        Ok(self)
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

/// Renders `outputpara`: `field:Y,field:Y`.
pub(crate) fn outputpara(fields: &[String]) -> String {
    let out: Vec<String> = fields.iter().map(|f| format!("{f}:Y")).collect();
    out.join(",")
}

/// Checks one `outputpara` field name.
pub(crate) fn output_field(field: &str) -> Result<String> {
    let f = check_name(field, "outputpara")?;
    if f.contains(':') {
        return Err(Error::validation(
            "outputpara",
            format!("a field name without ':', got {f:?}"),
        ));
    }
    Ok(f)
}

/// `data_pool`: one of iFinD's special reports (`p03341`, ...) with its parameters and output
/// fields. All three keys are required by the manual: [`DataPool::new`] takes the report, its
/// parameters come with [`DataPool::param`], and the body is refused until at least one output
/// field is given.
///
/// ```
/// use conn_ths::DataPool;
/// // The manual's example.
/// let q = DataPool::new("p03341", ["p03341_f001", "p03341_f002"]).unwrap()
///     .param("sdate", "20210421").unwrap()
///     .param("edate", "20211119").unwrap()
///     .param("xmzt", "全部").unwrap()
///     .param("jcsslx", "全部").unwrap()
///     .param("jys", "全部").unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "reportname": "p03341",
///     "functionpara": {"sdate": "20210421", "edate": "20211119", "xmzt": "全部", "jcsslx": "全部", "jys": "全部"},
///     "outputpara": "p03341_f001:Y,p03341_f002:Y"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DataPool {
    reportname: String,
    params: FunctionPara,
    outputs: Vec<String>,
}

impl DataPool {
    /// A report by name with the output fields wanted (at least one).
    pub fn new<I, S>(reportname: impl AsRef<str>, outputs: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let outputs = outputs
            .into_iter()
            .map(|f| output_field(f.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        if outputs.is_empty() {
            return Err(Error::validation("outputpara", "at least one output field"));
        }
        Ok(Self {
            reportname: check_name(reportname.as_ref(), "reportname")?,
            params: FunctionPara::new(),
            outputs,
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

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("reportname".into(), json!(self.reportname));
        m.insert("functionpara".into(), json!(self.params));
        m.insert("outputpara".into(), json!(outputpara(&self.outputs)));
        Value::Object(m)
    }
}

/// The universe of a [`SmartStockPicking`] query (`searchtype`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchType(String);

impl SearchType {
    /// A-share stocks (`stock`), the manual's example.
    pub fn stock() -> Self {
        Self("stock".into())
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

/// `smart_stock_picking`: a natural-language screen (问财).
///
/// ```
/// use conn_ths::{SearchType, SmartStockPicking};
/// // The manual's example.
/// let q = SmartStockPicking::new("个股热度", SearchType::stock()).unwrap();
/// assert_eq!(q.body(), serde_json::json!({"searchstring": "个股热度", "searchtype": "stock"}));
/// ```
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
