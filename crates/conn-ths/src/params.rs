//! Request parameters shared by the operations: indicator lists, dates, `indipara`.
//!
//! Dates are `chrono` values, rendered in the API's `YYYY-MM-DD` (and `YYYY-MM-DD HH:MM:SS` for
//! intraday ranges), so a malformed date cannot be sent. The `functionpara` options live in
//! [`crate::options`].

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::{Error, Result};

/// Renders a date as the API takes it: `2024-01-02`.
pub fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Renders a date-time as the API takes it: `2024-01-02 09:30:00`.
pub fn fmt_datetime(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Parses a date in any of the API's formats: `YYYY-MM-DD`, `YYYYMMDD`, `YYYY/MM/DD` (a time
/// part after a space is ignored).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let day = s.split(' ').next().unwrap_or(s);
    ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(day, f).ok())
}

/// Parses a date-time (`YYYY-MM-DD HH:MM[:SS]`, `/` or no separators also accepted); a bare
/// date is midnight.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y%m%d %H:%M:%S",
        "%Y%m%d%H%M%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0))
}

pub(crate) fn check_range<T: PartialOrd + fmt::Display>(start: &T, end: &T) -> Result<()> {
    if start > end {
        return Err(Error::validation(
            "enddate",
            format!("must not be before startdate ({start} > {end})"),
        ));
    }
    Ok(())
}

/// A non-empty list of indicator names (`open`, `close`, `ths_close_price_stock`), sent
/// comma-separated.
///
/// ```
/// use conn_ths::Indicators;
/// assert_eq!(Indicators::parse(["open", "close"]).unwrap().joined(), "open,close");
/// assert!(Indicators::parse(Vec::<&str>::new()).is_err());
/// assert!(Indicators::parse(["open", ""]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicators(Vec<String>);

impl Indicators {
    /// Validates each name (non-empty, no comma or whitespace inside; errors name
    /// `indicators[i]`); an empty list is an error.
    pub fn parse<I, S>(names: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Vec::new();
        for (i, n) in names.into_iter().enumerate() {
            out.push(check_name(n.as_ref(), &format!("indicators[{i}]"))?);
        }
        if out.is_empty() {
            return Err(Error::validation("indicators", "at least one indicator"));
        }
        Ok(Self(out))
    }

    /// Parses a comma-separated list, as a CLI receives it.
    pub fn parse_list(list: &str) -> Result<Self> {
        Self::parse(list.split(',').map(str::trim).filter(|s| !s.is_empty()))
    }

    /// The names.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Comma-separated, as the API takes them.
    pub fn joined(&self) -> String {
        self.0.join(",")
    }
}

/// Anything that can become validated [`Indicators`]: `Indicators`, a comma-separated `&str`, or
/// an array/slice/`Vec` of strings.
pub trait IntoIndicators {
    /// Validates and converts.
    fn into_indicators(self) -> Result<Indicators>;
}

impl IntoIndicators for Indicators {
    fn into_indicators(self) -> Result<Indicators> {
        Ok(self)
    }
}

impl IntoIndicators for &Indicators {
    fn into_indicators(self) -> Result<Indicators> {
        Ok(self.clone())
    }
}

impl IntoIndicators for &str {
    fn into_indicators(self) -> Result<Indicators> {
        Indicators::parse_list(self)
    }
}

impl IntoIndicators for &String {
    fn into_indicators(self) -> Result<Indicators> {
        Indicators::parse_list(self)
    }
}

impl<S: AsRef<str>, const N: usize> IntoIndicators for [S; N] {
    fn into_indicators(self) -> Result<Indicators> {
        Indicators::parse(self)
    }
}

impl<S: AsRef<str>> IntoIndicators for &[S] {
    fn into_indicators(self) -> Result<Indicators> {
        Indicators::parse(self)
    }
}

impl<S: AsRef<str>> IntoIndicators for Vec<S> {
    fn into_indicators(self) -> Result<Indicators> {
        Indicators::parse(self)
    }
}

pub(crate) fn check_name(n: &str, field: &str) -> Result<String> {
    let t = n.trim();
    if t.is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    if t.contains(',') || t.chars().any(char::is_whitespace) {
        return Err(Error::validation(
            field,
            format!("one name without commas or spaces, got {n:?}"),
        ));
    }
    Ok(t.to_owned())
}

/// One indicator with its parameters (`indipara` of `basic_data_service` and `date_sequence`).
///
/// ```
/// use conn_ths::IndiPara;
/// let p = IndiPara::new("ths_regular_report_actual_dd_stock").unwrap().param("104");
/// assert_eq!(
///     serde_json::to_string(&p).unwrap(),
///     r#"{"indicator":"ths_regular_report_actual_dd_stock","indiparams":["104"]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndiPara {
    indicator: String,
    indiparams: Vec<String>,
}

impl IndiPara {
    /// An indicator without parameters (the name is validated).
    pub fn new(indicator: impl AsRef<str>) -> Result<Self> {
        Ok(Self {
            indicator: check_name(indicator.as_ref(), "indipara.indicator")?,
            indiparams: Vec::new(),
        })
    }

    /// Appends a positional parameter (an empty string keeps a position's default).
    pub fn param(mut self, p: impl Into<String>) -> Self {
        self.indiparams.push(p.into());
        self
    }

    /// Appends a date parameter rendered as `YYYYMMDD`, the form iFinD's indicator
    /// parameters use.
    pub fn date_param(self, d: NaiveDate) -> Self {
        self.param(d.format("%Y%m%d").to_string())
    }

    /// The indicator name.
    pub fn indicator(&self) -> &str {
        &self.indicator
    }

    /// The parameters.
    pub fn params(&self) -> &[String] {
        &self.indiparams
    }
}

pub(crate) fn check_indipara(list: &[IndiPara]) -> Result<()> {
    if list.is_empty() {
        return Err(Error::validation("indipara", "at least one indicator"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_render_and_parse() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        assert_eq!(fmt_date(d), "2024-01-02");
        for s in [
            "2024-01-02",
            "20240102",
            "2024/01/02",
            "2024-01-02 15:00:00",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        let t = d.and_hms_opt(9, 30, 0).unwrap();
        assert_eq!(fmt_datetime(t), "2024-01-02 09:30:00");
        assert_eq!(parse_datetime("2024-01-02 09:30"), Some(t));
        assert_eq!(parse_datetime("2024/01/02 09:30:00"), Some(t));
        assert_eq!(parse_date("02.01.2024"), None);
        assert!(check_range(&d, &d.pred_opt().unwrap()).is_err());
    }

    #[test]
    fn raw_keys_are_checked() {
        use crate::options::FunctionPara;
        assert!(FunctionPara::new().raw("", "x").is_err());
        assert!(FunctionPara::new().raw("a b", "x").is_err());
        let p = FunctionPara::new().raw("Fill", "Blank").unwrap();
        assert_eq!(p.get("Fill"), Some("Blank"));
    }
}
