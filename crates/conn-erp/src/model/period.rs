//! [`Period`]: the date range financial data is asked for.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use conn_core::{Error, Result};

/// A reporting period: a date range (inclusive) or a calendar month. Always `start ≤ end`.
///
/// ```
/// use conn_erp::Period;
/// let p: Period = "2024-02".parse().unwrap();
/// assert_eq!(p.end().to_string(), "2024-02-29");
/// let err = "2024-03-01..2024-02-01".parse::<Period>().unwrap_err();
/// assert!(err.to_string().contains("period.start"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
    month: Option<(i32, u32)>,
}

impl Period {
    /// An inclusive date range; `start > end` is a validation error naming `period.start`.
    pub fn range(start: NaiveDate, end: NaiveDate) -> Result<Self> {
        if start > end {
            return Err(Error::validation(
                "period.start",
                format!("must be on or before period.end ({start} is after {end})"),
            ));
        }
        Ok(Self {
            start,
            end,
            month: None,
        })
    }

    /// A calendar month; the month must be 1–12 (`period.month`), the year 1900–9999
    /// (`period.year`).
    pub fn month(year: i32, month: u32) -> Result<Self> {
        if !(1900..=9999).contains(&year) {
            return Err(Error::validation(
                "period.year",
                format!("must be between 1900 and 9999 (got {year})"),
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(Error::validation(
                "period.month",
                format!("must be between 1 and 12 (got {month})"),
            ));
        }
        let start = NaiveDate::from_ymd_opt(year, month, 1)
            .ok_or_else(|| Error::validation("period.month", "not a valid month"))?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        let end = next
            .and_then(|d| d.pred_opt())
            .ok_or_else(|| Error::validation("period.month", "not a valid month"))?;
        Ok(Self {
            start,
            end,
            month: Some((year, month)),
        })
    }

    /// First day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Last day (inclusive).
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// `(year, month)` when built as a month.
    pub fn as_month(&self) -> Option<(i32, u32)> {
        self.month
    }

    /// True when `date` falls in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.month {
            Some((y, m)) => write!(f, "{y:04}-{m:02}"),
            None => write!(f, "{}..{}", self.start, self.end),
        }
    }
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::validation(field, format!("expected a date as YYYY-MM-DD, got {s:?}")))
}

impl FromStr for Period {
    type Err = Error;

    /// `YYYY-MM` (a month), or `YYYY-MM-DD..YYYY-MM-DD` (`/` also separates).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..").or_else(|| s.split_once('/')) {
            return Self::range(parse_date("period.start", a)?, parse_date("period.end", b)?);
        }
        let bad = || {
            Error::validation(
                "period",
                format!("expected YYYY-MM or YYYY-MM-DD..YYYY-MM-DD, got {s:?}"),
            )
        };
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.is_empty() || m.len() > 2 {
            return Err(bad());
        }
        let year = y.parse::<i32>().map_err(|_| bad())?;
        let month = m.parse::<u32>().map_err(|_| bad())?;
        Self::month(year, month)
    }
}

impl From<NaiveDate> for Period {
    /// A single day.
    fn from(d: NaiveDate) -> Self {
        Self {
            start: d,
            end: d,
            month: None,
        }
    }
}

/// The months of a period, for callers that report month by month.
pub fn months_of(period: &Period) -> Vec<(i32, u32)> {
    let mut out = Vec::new();
    let (mut y, mut m) = (period.start().year(), period.start().month());
    let (ey, em) = (period.end().year(), period.end().month());
    // Bounded by the date range: at most 12 per year between two valid dates.
    while (y, m) <= (ey, em) {
        out.push((y, m));
        if m == 12 {
            y += 1;
            m = 1;
        } else {
            m += 1;
        }
    }
    out
}
