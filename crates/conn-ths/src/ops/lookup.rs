//! Fund valuations, code lookup, announcements and account calls: `fund_valuation`,
//! `final_fund_valuation`, `get_thscode`, `report_query`, `get_error_message`,
//! `get_data_volume`.

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::{Error, Result};
use serde_json::{json, Map, Value};

use crate::ops::calendar::MarketCode;
use crate::ops::reference::{output_field, outputpara};
use crate::options::{string_enum, FunctionPara};
use crate::params::{check_range, fmt_date, fmt_datetime};
use crate::security_codes::{Codes, IntoCodes};

fn outputs<I, S>(fields: I) -> Result<Vec<String>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let out = fields
        .into_iter()
        .map(|f| output_field(f.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    if out.is_empty() {
        return Err(Error::validation("outputpara", "at least one output field"));
    }
    Ok(out)
}

/// `fund_valuation`: intraday fund valuations (minutes). Output fields of the manual:
/// `changeRatioValuation`, `realTimeValuation`, `Deviation30TDays`, `rank`.
///
/// ```
/// use conn_ths::FundValuation;
/// use chrono::NaiveDate;
/// let t = |h| NaiveDate::from_ymd_opt(2021, 8, 24).unwrap().and_hms_opt(h, 15, 0).unwrap();
/// // The manual's example, with output fields from its outputpara table (the example's own
/// // outputpara is copied from data_pool).
/// let q = FundValuation::between("000001.OF,000003.OF", t(9), t(15),
///     ["changeRatioValuation", "realTimeValuation", "Deviation30TDays"]).unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "codes": "000001.OF,000003.OF",
///     "functionpara": {"onlyLastest": "0", "beginTime": "2021-08-24 09:15:00", "endTime": "2021-08-24 15:15:00"},
///     "outputpara": "changeRatioValuation:Y,realTimeValuation:Y,Deviation30TDays:Y"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FundValuation {
    codes: Codes,
    params: FunctionPara,
    outputs: Vec<String>,
}

impl FundValuation {
    /// The latest valuation only (`onlyLastest` 1).
    pub fn latest<I, S>(codes: impl IntoCodes, fields: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ok(Self {
            codes: codes.into_codes()?,
            params: FunctionPara::new().set("onlyLastest", "1"),
            outputs: outputs(fields)?,
        })
    }

    /// Valuations between two times (`onlyLastest` 0, `beginTime`, `endTime`).
    pub fn between<I, S>(
        codes: impl IntoCodes,
        from: NaiveDateTime,
        to: NaiveDateTime,
        fields: I,
    ) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        check_range(&from, &to)?;
        Ok(Self {
            codes: codes.into_codes()?,
            params: FunctionPara::new()
                .set("onlyLastest", "0")
                .set("beginTime", fmt_datetime(from))
                .set("endTime", fmt_datetime(to)),
            outputs: outputs(fields)?,
        })
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "codes": self.codes.joined(),
            "functionpara": self.params,
            "outputpara": outputpara(&self.outputs),
        })
    }
}

/// `final_fund_valuation`: daily final valuations. Output fields of the manual:
/// `finalValuation`, `netAssetValue`, `deviation`.
///
/// ```
/// use conn_ths::FinalFundValuation;
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2021, m, day).unwrap();
/// // The manual's example (its codes are `;`-separated there, against its own table, which
/// // says commas; commas are sent).
/// let q = FinalFundValuation::new("000001.OF,000003.OF", d(6, 1), d(9, 2),
///     ["finalValuation", "netAssetValue", "deviation"]).unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "codes": "000001.OF,000003.OF",
///     "functionpara": {"beginDate": "2021-06-01", "endDate": "2021-09-02"},
///     "outputpara": "finalValuation:Y,netAssetValue:Y,deviation:Y"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FinalFundValuation {
    codes: Codes,
    start: NaiveDate,
    end: NaiveDate,
    outputs: Vec<String>,
}

impl FinalFundValuation {
    /// Codes, a date range and at least one output field.
    pub fn new<I, S>(
        codes: impl IntoCodes,
        start: NaiveDate,
        end: NaiveDate,
        fields: I,
    ) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        check_range(&start, &end)?;
        Ok(Self {
            codes: codes.into_codes()?,
            start,
            end,
            outputs: outputs(fields)?,
        })
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "codes": self.codes.joined(),
            "functionpara": {"beginDate": fmt_date(self.start), "endDate": fmt_date(self.end)},
            "outputpara": outputpara(&self.outputs),
        })
    }
}

string_enum! {
    /// Listing status filter of [`ThsCodeLookup`] (`tradestatus`).
    TradeStatus {
        /// `0`: every security.
        All => "0",
        /// `1`: listed.
        Listed => "1",
        /// `2`: delisted.
        Delisted => "2",
    }
}

/// `get_thscode`: a local code (`300033`) or a short name (`同花顺`) to iFinD codes.
///
/// ```
/// use conn_ths::ThsCodeLookup;
/// // The manual's example.
/// let q = ThsCodeLookup::by_code("300033").unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "seccode": "300033",
///     "functionpara": {"mode": "seccode", "sectype": "", "market": "", "tradestatus": "0", "isexact": "0"}
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ThsCodeLookup {
    by_name: bool,
    value: String,
    sectype: String,
    market: String,
    status: TradeStatus,
    exact: bool,
}

impl ThsCodeLookup {
    fn new(value: &str, by_name: bool, field: &str) -> Result<Self> {
        let v = value.trim();
        if v.is_empty() {
            return Err(Error::validation(field, "must not be empty"));
        }
        Ok(Self {
            by_name,
            value: v.to_owned(),
            sectype: String::new(),
            market: String::new(),
            status: TradeStatus::All,
            exact: false,
        })
    }

    /// By local code (`mode` `seccode`).
    pub fn by_code(code: &str) -> Result<Self> {
        Self::new(code, false, "seccode")
    }

    /// By short name (`mode` `secname`).
    pub fn by_name(name: &str) -> Result<Self> {
        Self::new(name, true, "secname")
    }

    /// `sectype`: security type code (`001`: stocks; empty: any).
    pub fn sectype(mut self, t: &str) -> Result<Self> {
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(
                "functionpara.sectype",
                "digits such as 001",
            ));
        }
        self.sectype = t.to_owned();
        Ok(self)
    }

    /// `market`: one exchange.
    pub fn market(mut self, m: &MarketCode) -> Self {
        self.market = m.as_str().to_owned();
        self
    }

    /// `tradestatus`.
    pub fn status(mut self, s: TradeStatus) -> Self {
        self.status = s;
        self
    }

    /// `isexact`: exact match only.
    pub fn exact(mut self, exact: bool) -> Self {
        self.exact = exact;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mode = if self.by_name { "secname" } else { "seccode" };
        let mut m = Map::new();
        m.insert(mode.into(), json!(self.value));
        m.insert(
            "functionpara".into(),
            json!({
                "mode": mode,
                "sectype": self.sectype,
                "market": self.market,
                "tradestatus": self.status.as_str(),
                "isexact": if self.exact { "1" } else { "0" },
            }),
        );
        Value::Object(m)
    }
}

/// `report_query`: announcements, by codes or by board (`mode`). Output fields of the
/// manual: `reportDate`, `thscode`, `secName`, `ctime`, `reportTitle`, `pdfURL`, `seq`.
///
/// ⚠ The manual's table puts the date filters (`beginrDate`, `endrDate`) in `functionpara`,
/// its example beside it; they are sent in `functionpara`, as the table says.
///
/// ```
/// use conn_ths::ReportQuery;
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
/// let q = ReportQuery::for_codes("300033.SZ,600000.SH",
///     ["reportDate", "thscode", "secName", "ctime", "reportTitle", "pdfURL", "seq"]).unwrap()
///     .report_type("901").unwrap()
///     .report_dates(d(2024, 9, 10), d(2025, 9, 10)).unwrap();
/// assert_eq!(q.body(), serde_json::json!({
///     "codes": "300033.SZ,600000.SH",
///     "functionpara": {"reportType": "901", "beginrDate": "2024-09-10", "endrDate": "2025-09-10"},
///     "outputpara": "reportDate:Y,thscode:Y,secName:Y,ctime:Y,reportTitle:Y,pdfURL:Y,seq:Y"
/// }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReportQuery {
    codes: Option<Codes>,
    params: FunctionPara,
    outputs: Vec<String>,
}

impl ReportQuery {
    /// Announcements of these codes.
    pub fn for_codes<I, S>(codes: impl IntoCodes, fields: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ok(Self {
            codes: Some(codes.into_codes()?),
            params: FunctionPara::new(),
            outputs: outputs(fields)?,
        })
    }

    /// Announcements of a whole board (`mode` such as `allAStock`, `allBond`); `codes` is then
    /// sent empty, as the manual requires.
    pub fn for_board<I, S>(mode: &str, fields: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ok(Self {
            codes: None,
            params: FunctionPara::new().raw("mode", mode)?,
            outputs: outputs(fields)?,
        })
    }

    /// `reportType` (`903` all, `901002004` listing announcements, ...): digits.
    pub fn report_type(mut self, t: &str) -> Result<Self> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(
                "functionpara.reportType",
                "digits such as 903",
            ));
        }
        self.params = self.params.set("reportType", t);
        Ok(self)
    }

    /// `beginrDate`/`endrDate`: announcement dates.
    pub fn report_dates(mut self, from: NaiveDate, to: NaiveDate) -> Result<Self> {
        check_range(&from, &to)?;
        self.params = self
            .params
            .set("beginrDate", fmt_date(from))
            .set("endrDate", fmt_date(to));
        Ok(self)
    }

    /// `begincTime`/`endcTime`: publication times.
    pub fn published_between(mut self, from: NaiveDateTime, to: NaiveDateTime) -> Result<Self> {
        check_range(&from, &to)?;
        self.params = self
            .params
            .set("begincTime", fmt_datetime(from))
            .set("endcTime", fmt_datetime(to));
        Ok(self)
    }

    /// `beginSeq`/`endSeq`: announcement sequence numbers, for paging through new ones.
    pub fn seq_between(mut self, from: u64, to: u64) -> Result<Self> {
        check_range(&from, &to)?;
        self.params = self
            .params
            .set("beginSeq", from.to_string())
            .set("endSeq", to.to_string());
        Ok(self)
    }

    /// `keyWord`: a word of the title.
    pub fn keyword(mut self, k: &str) -> Result<Self> {
        if k.trim().is_empty() {
            return Err(Error::validation(
                "functionpara.keyWord",
                "must not be empty",
            ));
        }
        self.params = self.params.set("keyWord", k.trim());
        Ok(self)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let codes = self.codes.as_ref().map(Codes::joined).unwrap_or_default();
        let mut m = Map::new();
        m.insert("codes".into(), json!(codes));
        if !self.params.is_empty() {
            m.insert("functionpara".into(), json!(self.params));
        }
        m.insert("outputpara".into(), json!(outputpara(&self.outputs)));
        Value::Object(m)
    }
}
