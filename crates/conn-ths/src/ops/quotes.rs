//! Quotes: `real_time_quotation`, `cmd_history_quotation`, `high_frequency`, `snap_shot`.

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::{Error, Result};
use serde_json::{json, Value};

use crate::options::{
    is_tech_indicator, Adjust, Calculate, Currency, Fill, FunctionPara, HfAdjust, Interval,
    Minutes, PriceType, TimeFormat,
};
use crate::params::{check_range, fmt_date, fmt_datetime, Indicators, IntoIndicators};
use crate::security_codes::{Codes, IntoCodes};

use super::with_functionpara;

/// `real_time_quotation`: the latest quote of each security.
///
/// ```
/// use conn_ths::RealTimeQuotation;
/// // The manual's example.
/// let q = RealTimeQuotation::new("300033.SZ,600000.SH", "open,high").unwrap();
/// assert_eq!(
///     q.body(),
///     serde_json::json!({"codes": "300033.SZ,600000.SH", "indicators": "open,high"})
/// );
/// assert!(RealTimeQuotation::new(["600519"], ["latest"]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RealTimeQuotation {
    pub(crate) codes: Codes,
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

    /// Bond quote type (`pricetype`), the one option the manual gives this function.
    pub fn price_type(mut self, p: PriceType) -> Self {
        self.params = self.params.set("pricetype", p.as_str());
        self
    }

    /// A raw `functionpara` option.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
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
/// use conn_ths::{Adjust, Currency, Fill, HistoryQuotation, Interval};
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
/// // The manual's example.
/// let q = HistoryQuotation::new("300033.SZ,600030.SH", "open,close,volume", d(2024, 8, 25), d(2025, 8, 25))
///     .unwrap()
///     .interval(Interval::Week)
///     .adjust(Adjust::Backward)
///     .currency(Currency::Rmb)
///     .fill(Fill::Blank)
///     .unwrap();
/// assert_eq!(
///     q.body(),
///     serde_json::json!({
///         "codes": "300033.SZ,600030.SH",
///         "indicators": "open,close,volume",
///         "startdate": "2024-08-25",
///         "enddate": "2025-08-25",
///         "functionpara": {"Interval": "W", "CPS": "3", "Currency": "RMB", "Fill": "Blank"}
///     })
/// );
/// assert!(HistoryQuotation::new("600519.SH", "open", d(2024, 2, 1), d(2024, 1, 1)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryQuotation {
    pub(crate) codes: Codes,
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

    /// `Interval`: aggregate per period (excludes [`HistoryQuotation::sample_interval`]).
    pub fn interval(mut self, i: Interval) -> Self {
        self.params = self
            .params
            .remove("SampleInterval")
            .set("Interval", i.as_str());
        self
    }

    /// `SampleInterval`: the last trading day of each period (excludes
    /// [`HistoryQuotation::interval`]; the manual allows one of the two).
    pub fn sample_interval(mut self, i: Interval) -> Self {
        self.params = self
            .params
            .remove("Interval")
            .set("SampleInterval", i.as_str());
        self
    }

    /// `CPS`: price adjustment.
    pub fn adjust(mut self, a: Adjust) -> Self {
        self.params = self.params.set("CPS", a.as_str());
        self
    }

    /// `PriceType` (bonds only).
    pub fn price_type(mut self, p: PriceType) -> Self {
        self.params = self.params.set("PriceType", p.as_str());
        self
    }

    /// `Fill`: `Previous`, `Blank`, `Omit` or a number ([`Fill::Original`] is high-frequency
    /// only and is refused).
    pub fn fill(mut self, f: Fill) -> Result<Self> {
        if f == Fill::Original {
            return Err(Error::validation(
                "functionpara.Fill",
                "Original is a high_frequency value; history takes Previous, Blank, Omit or a number",
            ));
        }
        self.params = self.params.set("Fill", f.wire());
        Ok(self)
    }

    /// `BaseDate`: the adjustment base date.
    pub fn base_date(mut self, d: NaiveDate) -> Self {
        self.params = self.params.set("BaseDate", fmt_date(d));
        self
    }

    /// `Currency`.
    pub fn currency(mut self, c: Currency) -> Self {
        self.params = self.params.set("Currency", c.as_str());
        self
    }

    /// A raw `functionpara` option.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
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

/// `high_frequency`: intraday bars between two times, with technical indicators through
/// `calculate`.
///
/// Every technical indicator asked for (the manual's list, [`TECH_INDICATORS`](crate::options::TECH_INDICATORS))
/// needs its `calculate` entry, and every `calculate` entry must be asked for: both are checked
/// when the request is built.
///
/// ```
/// use conn_ths::{Calculate, Fill, HighFrequency, Minutes};
/// use chrono::NaiveDate;
/// let t = |h, m| NaiveDate::from_ymd_opt(2018, 1, 1).unwrap().and_hms_opt(h, m, 0).unwrap();
/// // The manual's example.
/// let calc = Calculate::new()
///     .set("SI", "").unwrap()
///     .set("MACD", "12,26,9,MACD").unwrap()
///     .set("DPTB", "7,000001").unwrap()
///     .set("OBV", "OBV_XZ").unwrap()
///     .set("KDJ", "9,3,3,K").unwrap();
/// let q = HighFrequency::with_calculate(
///     "300033.SZ,600030.SH", "open,high,SI,MACD,DPTB,OBV,KDJ", t(9, 15), t(9, 50), calc,
/// )
/// .unwrap()
/// .minutes(Minutes::One)
/// .fill(Fill::Original)
/// .unwrap();
/// assert_eq!(
///     q.body(),
///     serde_json::json!({
///         "codes": "300033.SZ,600030.SH",
///         "indicators": "open,high,SI,MACD,DPTB,OBV,KDJ",
///         "starttime": "2018-01-01 09:15:00",
///         "endtime": "2018-01-01 09:50:00",
///         "functionpara": {
///             "Interval": "1",
///             "Fill": "Original",
///             "calculate": {"SI": "", "MACD": "12,26,9,MACD", "DPTB": "7,000001", "OBV": "OBV_XZ", "KDJ": "9,3,3,K"}
///         }
///     })
/// );
/// // MACD without its parameters cannot be sent.
/// assert!(HighFrequency::new("300033.SZ", "MACD", t(9, 15), t(9, 50)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HighFrequency {
    pub(crate) codes: Codes,
    indicators: Indicators,
    start: NaiveDateTime,
    end: NaiveDateTime,
    calculate: Calculate,
    params: FunctionPara,
}

impl HighFrequency {
    /// Codes, indicators and a time range (start not after end). Technical indicators need
    /// [`HighFrequency::calculate`]; use [`HighFrequency::with_calculate`] to give both at once.
    pub fn new(
        codes: impl IntoCodes,
        indicators: impl IntoIndicators,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Self> {
        Self::with_calculate(codes, indicators, start, end, Calculate::new())
    }

    /// Like [`HighFrequency::new`] with the technical indicators' parameters.
    pub fn with_calculate(
        codes: impl IntoCodes,
        indicators: impl IntoIndicators,
        start: NaiveDateTime,
        end: NaiveDateTime,
        calculate: Calculate,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        let q = Self {
            codes: codes.into_codes()?,
            indicators: indicators.into_indicators()?,
            start,
            end,
            calculate: Calculate::new(),
            params: FunctionPara::new(),
        };
        if calculate.is_empty() {
            q.check_calculate(&calculate)?;
            return Ok(q);
        }
        q.calculate(calculate)
    }

    fn check_calculate(&self, c: &Calculate) -> Result<()> {
        let names = self.indicators.as_slice();
        if let Some(missing) = names
            .iter()
            .find(|n| is_tech_indicator(n) && !c.contains(n))
        {
            return Err(Error::validation(
                format!("functionpara.calculate.{missing}"),
                "a technical indicator needs its parameters in calculate",
            ));
        }
        if let Some(extra) = c.indicators().find(|k| !names.iter().any(|n| n == k)) {
            return Err(Error::validation(
                format!("functionpara.calculate.{extra}"),
                "a calculate entry must also be in indicators",
            ));
        }
        Ok(())
    }

    /// Sets `calculate` (checked against the indicators).
    pub fn calculate(mut self, c: Calculate) -> Result<Self> {
        self.check_calculate(&c)?;
        self.calculate = c;
        Ok(self)
    }

    /// `Interval`: bar length.
    pub fn minutes(mut self, m: Minutes) -> Self {
        self.params = self.params.set("Interval", m.as_str());
        self
    }

    /// `CPS`: price adjustment.
    pub fn adjust(mut self, a: HfAdjust) -> Self {
        self.params = self.params.set("CPS", a.as_str());
        self
    }

    /// `Fill`: `Previous`, `Blank`, `Original` or a number ([`Fill::Omit`] is history only
    /// and is refused).
    pub fn fill(mut self, f: Fill) -> Result<Self> {
        if f == Fill::Omit {
            return Err(Error::validation(
                "functionpara.Fill",
                "Omit is a history value; high_frequency takes Previous, Blank, Original or a number",
            ));
        }
        self.params = self.params.set("Fill", f.wire());
        Ok(self)
    }

    /// `Limitstart`/`Limitend`: the part of each trading day wanted (`HH:MM:SS`).
    pub fn daily_window(
        mut self,
        start: chrono::NaiveTime,
        end: chrono::NaiveTime,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        self.params = self
            .params
            .set("Limitstart", start.format("%H:%M:%S").to_string())
            .set("Limitend", end.format("%H:%M:%S").to_string());
        Ok(self)
    }

    /// `Timeformat`.
    pub fn time_format(mut self, t: TimeFormat) -> Self {
        self.params = self.params.set("Timeformat", t.as_str());
        self
    }

    /// `BaseDate`: the adjustment base date.
    pub fn base_date(mut self, d: NaiveDate) -> Self {
        self.params = self.params.set("BaseDate", fmt_date(d));
        self
    }

    /// A raw `functionpara` option.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
    }

    /// The codes.
    pub fn codes(&self) -> &Codes {
        &self.codes
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut p = self.params.clone();
        if !self.calculate.is_empty() {
            p = p.set_value("calculate", json!(self.calculate));
        }
        with_functionpara(
            json!({
                "codes": self.codes.joined(),
                "indicators": self.indicators.joined(),
                "starttime": fmt_datetime(self.start),
                "endtime": fmt_datetime(self.end),
            }),
            &p,
        )
    }
}

/// `snap_shot`: intraday snapshots (ticks) of one day. iFinD wants start and end on the same
/// day (-4209 otherwise), which is checked here.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapShot {
    pub(crate) codes: Codes,
    indicators: Indicators,
    start: NaiveDateTime,
    end: NaiveDateTime,
    params: FunctionPara,
}

impl SnapShot {
    /// Codes, indicators and a time range within one day.
    pub fn new(
        codes: impl IntoCodes,
        indicators: impl IntoIndicators,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<Self> {
        check_range(&start, &end)?;
        if start.date() != end.date() {
            return Err(Error::validation(
                "endtime",
                "a snapshot's start and end are on the same day",
            ));
        }
        Ok(Self {
            codes: codes.into_codes()?,
            indicators: indicators.into_indicators()?,
            start,
            end,
            params: FunctionPara::new(),
        })
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
                "indicators": self.indicators.joined(),
                "starttime": fmt_datetime(self.start),
                "endtime": fmt_datetime(self.end),
            }),
            &self.params,
        )
    }
}
