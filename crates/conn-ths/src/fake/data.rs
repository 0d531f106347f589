//! Deterministic answers of the fake: every value is derived from a hash of what identifies it,
//! so a test can compute the value it expects with [`fake_value`].

use chrono::{Datelike, Duration as Days, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde_json::{json, Map, Value};

use super::market::fnv1a;
use crate::params::{parse_date, parse_datetime};

/// The odd shapes real iFinD answers have been seen in; the fake produces them on demand
/// ([`FakeIfind::set_shapes`](super::FakeIfind::set_shapes)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// One-row tables carry scalars instead of one-element arrays (`"open": 12.5`).
    Scalars,
    /// Every value at a row index `i` with `i % 5 == 2` is `"--"` (missing).
    DashForMissing,
    /// Numbers are sent as strings with two decimals (`"12.50"`).
    NumbersAsStrings,
    /// `time` is sent inside `table` instead of beside it.
    TimeInsideTable,
    /// `time` is left out.
    NoTime,
    /// The first indicator column of each table (in name order) is one value short (a broken
    /// answer).
    MismatchedColumn,
}

/// The value the fake answers for `indicator` of `code` at `key` (a date such as
/// `2024-01-02`, a time such as `2024-01-02 09:31`, or the joined indicator parameters of
/// `basic_data_service`). Prices and volumes at a date or time come from the fake's market
/// ([`super::market`]: a day's close, a one-minute bar ending at the time); anything else is a
/// number with two decimals between 1.00 and 1000.99.
///
/// ```
/// # #[cfg(feature = "fake")] {
/// let v = conn_ths::fake::fake_value("600519.SH", "close", "2024-01-02");
/// assert!((1.0..1001.0).contains(&v));
/// assert_eq!(v, conn_ths::fake::fake_value("600519.SH", "close", "2024-01-02"));
/// # }
/// ```
pub fn fake_value(code: &str, indicator: &str, key: &str) -> f64 {
    let market = if key.len() > 10 {
        parse_datetime(key).and_then(|t| super::market::bar(code, indicator, t, 1))
    } else {
        parse_date(key).and_then(|d| super::market::daily(code, indicator, d))
    };
    if let Some(v) = market {
        return v;
    }
    let h = fnv1a(&[code, indicator, key]);
    1.0 + (h % 100_000) as f64 / 100.0
}

/// The text the fake answers for a text indicator (one whose name contains `name`).
pub fn fake_text(code: &str, indicator: &str) -> String {
    format!("{indicator}:{code}")
}

/// True for indicators the fake answers with text.
pub fn is_text_indicator(indicator: &str) -> bool {
    indicator.contains("name")
}

/// A value from the market model when there is one, else [`cell`].
pub(crate) fn market_cell(code: &str, indicator: &str, v: Option<f64>, key: &str) -> Value {
    match v {
        Some(v) if !is_text_indicator(indicator) => json!(v),
        _ => cell(code, indicator, key),
    }
}

pub(crate) fn cell(code: &str, indicator: &str, key: &str) -> Value {
    if is_text_indicator(indicator) {
        json!(fake_text(code, indicator))
    } else {
        json!(fake_value(code, indicator, key))
    }
}

/// Weekdays (the fake's trading calendar) from `start` to `end` inclusive, at most `cap`.
pub fn weekdays(start: NaiveDate, end: NaiveDate, cap: usize) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = start;
    while d <= end && out.len() < cap {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(d);
        }
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// `n` trading days from `date` (after it when positive, before it when negative), in order.
pub fn offset_days(date: NaiveDate, n: i32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let step = if n >= 0 {
        Days::days(1)
    } else {
        Days::days(-1)
    };
    let mut d = date;
    let want = n.unsigned_abs() as usize;
    let mut guard = 0;
    while out.len() < want && guard < 100_000 {
        guard += 1;
        d = match d.checked_add_signed(step) {
            Some(x) => x,
            None => break,
        };
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(d);
        }
    }
    if n < 0 {
        out.reverse();
    }
    out
}

/// Keeps the last trading day of each week (`W`) or month (`M`); other periods keep all.
pub fn by_period(days: Vec<NaiveDate>, period: &str) -> Vec<NaiveDate> {
    let key = |d: &NaiveDate| -> (i32, u32) {
        match period {
            "W" => (d.iso_week().year(), d.iso_week().week()),
            "M" => (d.year(), d.month()),
            _ => (d.year(), d.ordinal()),
        }
    };
    let mut out: Vec<NaiveDate> = Vec::new();
    for d in days {
        match out.last_mut() {
            Some(last) if key(last) == key(&d) => *last = d,
            _ => out.push(d),
        }
    }
    out
}

/// Intraday bar times on trading days between `start` and `end`, every `minutes` minutes of the
/// sessions 09:30–11:30 and 13:00–15:00 (a bar is stamped with its end), at most `cap`.
pub fn bar_times(
    start: NaiveDateTime,
    end: NaiveDateTime,
    minutes: u32,
    cap: usize,
) -> Vec<NaiveDateTime> {
    let mut out = Vec::new();
    let minutes = minutes.max(1);
    for day in weekdays(start.date(), end.date(), 10_000) {
        for (from, to) in [((9, 30), (11, 30)), ((13, 0), (15, 0))] {
            let (Some(open), Some(close)) = (
                NaiveTime::from_hms_opt(from.0, from.1, 0),
                NaiveTime::from_hms_opt(to.0, to.1, 0),
            ) else {
                continue;
            };
            let mut t = day.and_time(open) + Days::minutes(i64::from(minutes));
            let close = day.and_time(close);
            while t <= close {
                if t >= start && t <= end {
                    out.push(t);
                    if out.len() >= cap {
                        return out;
                    }
                }
                t += Days::minutes(i64::from(minutes));
            }
        }
    }
    out
}

/// One table entry in iFinD's standard shape.
pub(crate) fn entry(
    code: Option<&str>,
    time: Option<Vec<String>>,
    table: Map<String, Value>,
) -> Value {
    let mut m = Map::new();
    if let Some(c) = code {
        m.insert("thscode".into(), json!(c));
    }
    if let Some(t) = time {
        m.insert("time".into(), json!(t));
    }
    m.insert("table".into(), Value::Object(table));
    Value::Object(m)
}

/// Applies the odd shapes to one table entry.
pub(crate) fn apply_shapes(entry: &mut Value, shapes: &[Shape]) {
    let Value::Object(m) = entry else { return };
    let rows = m
        .get("time")
        .and_then(Value::as_array)
        .map(Vec::len)
        .or_else(|| {
            m.get("table")
                .and_then(Value::as_object)
                .and_then(|t| t.values().next())
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .unwrap_or(0);
    if let Some(Value::Object(table)) = m.get_mut("table") {
        for col in table.values_mut() {
            let Value::Array(vals) = col else { continue };
            for (i, v) in vals.iter_mut().enumerate() {
                if shapes.contains(&Shape::DashForMissing) && i % 5 == 2 {
                    *v = json!("--");
                } else if shapes.contains(&Shape::NumbersAsStrings) {
                    if let Some(n) = v.as_f64() {
                        *v = json!(format!("{n:.2}"));
                    }
                }
            }
        }
        if shapes.contains(&Shape::MismatchedColumn) {
            if let Some(Value::Array(vals)) = table.values_mut().next() {
                vals.pop();
            }
        }
    }
    if shapes.contains(&Shape::NoTime) {
        m.remove("time");
    } else if shapes.contains(&Shape::TimeInsideTable) {
        if let Some(t) = m.remove("time") {
            if let Some(Value::Object(table)) = m.get_mut("table") {
                table.insert("time".into(), t);
            }
        }
    }
    if shapes.contains(&Shape::Scalars) && rows == 1 {
        let unwrap = |v: &mut Value| {
            if let Value::Array(a) = v {
                if a.len() == 1 {
                    *v = a.remove(0);
                }
            }
        };
        if let Some(t) = m.get_mut("time") {
            unwrap(t);
        }
        if let Some(Value::Object(table)) = m.get_mut("table") {
            table.values_mut().for_each(unwrap);
        }
    }
}
