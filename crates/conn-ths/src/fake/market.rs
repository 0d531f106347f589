//! The fake's market: one deterministic price path per security and day, so that every
//! function tells the same story. A day's open and close are drawn from a hash of code and
//! date; high and low bracket them (`low ≤ open, close ≤ high`); intraday prices move in a
//! straight line from the open at 09:30 to the close at 15:00, so every bar lies within the
//! day's range and the last bar closes at the day's close; the real-time quote is the price
//! path at the quote time; volumes are whole and not negative.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};

/// FNV-1a, 64 bits: stable across platforms and releases (unlike `DefaultHasher`).
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= u64::from(b'|');
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// One day of one security.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    /// The previous trading day's close.
    pub pre_close: f64,
    /// Open.
    pub open: f64,
    /// High.
    pub high: f64,
    /// Low.
    pub low: f64,
    /// Close.
    pub close: f64,
    /// Shares traded.
    pub volume: f64,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn unit(parts: &[&str], span: u64) -> f64 {
    (fnv1a(parts) % (span + 1)) as f64 / span as f64
}

fn base(code: &str) -> f64 {
    5.0 + (fnv1a(&[code, "base"]) % 195_000) as f64 / 100.0
}

fn open_close(code: &str, d: NaiveDate) -> (f64, f64) {
    let b = base(code);
    let key = d.format("%Y-%m-%d").to_string();
    let o = round2(b * (0.8 + 0.4 * unit(&[code, &key, "open"], 10_000)));
    let c = round2(b * (0.8 + 0.4 * unit(&[code, &key, "close"], 10_000)));
    (o, c)
}

fn prev_weekday(d: NaiveDate) -> NaiveDate {
    let mut p = d.pred_opt().unwrap_or(d);
    while matches!(p.weekday(), Weekday::Sat | Weekday::Sun) {
        p = p.pred_opt().unwrap_or(p);
    }
    p
}

/// The day's values.
pub fn day(code: &str, d: NaiveDate) -> Day {
    let (open, close) = open_close(code, d);
    let key = d.format("%Y-%m-%d").to_string();
    let high = round2(open.max(close) * (1.0 + 0.03 * unit(&[code, &key, "high"], 1000)));
    let low = round2(open.min(close) * (1.0 - 0.03 * unit(&[code, &key, "low"], 1000)));
    let volume = (1_000 + fnv1a(&[code, &key, "volume"]) % 10_000_000) as f64;
    Day {
        pre_close: open_close(code, prev_weekday(d)).1,
        open,
        high,
        low,
        close,
        volume,
    }
}

/// Minutes of trading from 09:30 to `t` (lunch 11:30–13:00 excluded), 0..=240.
fn session_minutes(t: NaiveDateTime) -> u32 {
    let m = t.hour() * 60 + t.minute();
    let (open, noon, resume, close) = (9 * 60 + 30, 11 * 60 + 30, 13 * 60, 15 * 60);
    match m {
        _ if m <= open => 0,
        _ if m <= noon => m - open,
        _ if m <= resume => noon - open,
        _ if m <= close => (noon - open) + (m - resume),
        _ => 240,
    }
}

/// The price at `t` on its day's straight line from open to close.
pub fn price_at(code: &str, t: NaiveDateTime) -> f64 {
    let d = day(code, t.date());
    round2(d.open + (d.close - d.open) * f64::from(session_minutes(t)) / 240.0)
}

fn derived(d: &Day, ind: &str, price: f64, volume: f64) -> Option<f64> {
    let avg = round2((d.open + d.close + d.high + d.low) / 4.0);
    Some(match ind {
        "preClose" => d.pre_close,
        "change" => round2(price - d.pre_close),
        "changeRatio" => round2((price - d.pre_close) / d.pre_close * 100.0),
        "avgPrice" => avg,
        "volume" => volume,
        "amount" => round2(volume * avg),
        _ => return None,
    })
}

/// A daily value (history, date sequence): `None` for indicators outside the price model.
pub fn daily(code: &str, ind: &str, d: NaiveDate) -> Option<f64> {
    let day = day(code, d);
    Some(match ind {
        "open" => day.open,
        "high" => day.high,
        "low" => day.low,
        "close" | "latest" => day.close,
        _ => return derived(&day, ind, day.close, day.volume),
    })
}

/// A bar of `minutes` ending at `t`: within the day's range; the 15:00 bar closes at the close.
pub fn bar(code: &str, ind: &str, t: NaiveDateTime, minutes: u32) -> Option<f64> {
    let day = day(code, t.date());
    let close = price_at(code, t);
    let start = t - chrono::Duration::minutes(i64::from(minutes));
    let open = if start.date() == t.date() {
        price_at(code, start)
    } else {
        day.open
    };
    let volume = (day.volume * f64::from(minutes.min(240)) / 240.0).floor();
    Some(match ind {
        "open" => open,
        "high" => open.max(close),
        "low" => open.min(close),
        "close" | "latest" => close,
        _ => return derived(&day, ind, close, volume),
    })
}

/// A real-time quote at `t`: the day's open, high, low, the price path at `t` as latest.
pub fn quote(code: &str, ind: &str, t: NaiveDateTime) -> Option<f64> {
    let day = day(code, t.date());
    let latest = price_at(code, t);
    Some(match ind {
        "open" => day.open,
        "high" => day.high,
        "low" => day.low,
        "latest" | "close" => latest,
        _ => return derived(&day, ind, latest, day.volume),
    })
}
