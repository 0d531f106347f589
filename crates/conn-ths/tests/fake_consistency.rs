//! The fake tells one story through every function, read back through the client: a day's
//! quote (at 15:00) equals that day's history close; `low ≤ open, close ≤ high`; volumes are
//! not negative; high-frequency bars and snapshot ticks stay within the day's range, and the
//! day's last bar closes at the history close.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use conn_ths::{HighFrequency, HistoryQuotation, RealTimeQuotation, SnapShot, Tables};
use rust_decimal::Decimal;

const CODES: [&str; 3] = ["600519.SH", "000001.SZ", "300033.SZ"];

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 28).unwrap()
}

fn at(h: u32, m: u32) -> NaiveDateTime {
    day().and_hms_opt(h, m, 0).unwrap()
}

fn col(t: &Tables, code: &str, name: &str) -> Vec<Decimal> {
    t.get(code)
        .unwrap_or_else(|| panic!("{code} missing"))
        .numbers(name)
        .unwrap_or_else(|| panic!("{code}.{name} not numeric"))
        .iter()
        .map(|v| v.unwrap_or_else(|| panic!("{code}.{name} has a gap")))
        .collect()
}

#[tokio::test]
async fn history_quote_bars_and_ticks_agree() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let from = NaiveDate::from_ymd_opt(2024, 6, 3).unwrap();
    let history = c
        .cmd_history_quotation(
            &HistoryQuotation::new(
                CODES,
                ["open", "high", "low", "close", "volume"],
                from,
                day(),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let quote = c
        .real_time_quotation(
            &RealTimeQuotation::new(CODES, ["open", "high", "low", "latest", "volume"]).unwrap(),
        )
        .await
        .unwrap();
    let bars = c
        .high_frequency(
            &HighFrequency::new(
                CODES,
                ["open", "high", "low", "close", "volume"],
                at(9, 30),
                at(15, 0),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let ticks = c
        .snap_shot(&SnapShot::new(CODES, ["latest", "volume"], at(9, 30), at(15, 0)).unwrap())
        .await
        .unwrap();

    for code in CODES {
        let (open, high, low, close, volume) = (
            col(&history, code, "open"),
            col(&history, code, "high"),
            col(&history, code, "low"),
            col(&history, code, "close"),
            col(&history, code, "volume"),
        );
        assert!(!close.is_empty(), "{code}: no history");
        for i in 0..close.len() {
            assert!(
                low[i] <= open[i] && open[i] <= high[i],
                "{code} day {i}: open outside"
            );
            assert!(
                low[i] <= close[i] && close[i] <= high[i],
                "{code} day {i}: close outside"
            );
            assert!(volume[i] >= Decimal::ZERO, "{code} day {i}: volume");
        }
        let (d_open, d_high, d_low, d_close) = (
            *open.last().unwrap(),
            *high.last().unwrap(),
            *low.last().unwrap(),
            *close.last().unwrap(),
        );
        let times = history.get(code).unwrap().times().unwrap();
        assert_eq!(times.last().map(String::as_str), Some("2024-06-28"));

        // The quote at the close is the day's close, within the same range.
        assert_eq!(
            col(&quote, code, "latest"),
            [d_close],
            "{code}: quote vs close"
        );
        assert_eq!(col(&quote, code, "open"), [d_open], "{code}: quote open");
        assert_eq!(col(&quote, code, "high"), [d_high], "{code}: quote high");
        assert_eq!(col(&quote, code, "low"), [d_low], "{code}: quote low");
        assert!(col(&quote, code, "volume")[0] >= Decimal::ZERO);

        // Every bar within the day's range; the last one closes at the close.
        let (b_low, b_high, b_close) = (
            col(&bars, code, "low"),
            col(&bars, code, "high"),
            col(&bars, code, "close"),
        );
        assert!(!b_close.is_empty(), "{code}: no bars");
        for i in 0..b_close.len() {
            assert!(d_low <= b_low[i] && b_high[i] <= d_high, "{code} bar {i}");
            assert!(
                b_low[i] <= b_close[i] && b_close[i] <= b_high[i],
                "{code} bar {i}"
            );
        }
        assert_eq!(b_close.last(), Some(&d_close), "{code}: last bar vs close");
        assert!(col(&bars, code, "volume")
            .iter()
            .all(|v| *v >= Decimal::ZERO));

        // Ticks within the range too.
        let t_latest = col(&ticks, code, "latest");
        assert!(!t_latest.is_empty(), "{code}: no ticks");
        assert!(
            t_latest.iter().all(|p| d_low <= *p && *p <= d_high),
            "{code}: tick"
        );
        assert!(col(&ticks, code, "volume")
            .iter()
            .all(|v| *v >= Decimal::ZERO));
    }
}
