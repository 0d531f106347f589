//! Answers captured from live calls to `quantapi.51ifind.com`, kept in public repositories,
//! decoded by our decoders. Each fixture under `tests/fixtures/live/` is the answer as the
//! source printed it (whitespace aside); where the source elided fields (`…`), the fixture
//! keeps only the fields it shows. The expected values below are the source's, not ours.
//!
//! Sources:
//! - (A) the document "iFinD (同花顺 quantapi) HTTP API — practical guide" in a public
//!   repository ("Everything here was verified against the live API on 2026-08-25 with a paid
//!   seat"): §1 `get_access_token` answer, §2 `cmd_history_quotation` answer for 600519.SH on
//!   2026-08-25, §6 `real_time_quotation` answer for the same code and day (after the close,
//!   "verified matching the official close"). The copy we read did not carry its
//!   repository's name.
//! - (B) a public Go client of the iFinD HTTP API, test `TestParseTHSQuotesVectorTable`: a
//!   `real_time_quotation` answer for 600519.SH at 2026-09-03 16:01:17.
//! - (C) a public Python client, test `test_quote_parses_real_shape` ("用实测返回结构 mock": a
//!   mock built from the answer measured live): a `real_time_quotation` answer for 600519.SH at
//!   2026-06-15 16:00:59, with `1.58e12` written in exponent form.
//!
//! No public repository we found keeps a live answer of `high_frequency`, `snap_shot`,
//! `edb_service`, `data_pool`, `get_trade_dates` or `portfolio_manage`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use conn_ths::auth::parse_token_response;
use conn_ths::{Cell, Tables};
use rust_decimal::Decimal;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/live/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// The text of a numeric cell, as the CLI and CSV print it.
fn printed(t: &Tables, code: &str, column: &str) -> String {
    t.get(code)
        .unwrap()
        .rows()
        .next()
        .unwrap()
        .number(column)
        .unwrap()
        .to_string()
}

#[test]
fn history_of_600519_on_2026_08_25_source_a() {
    let t = Tables::decode(
        "cmd_history_quotation",
        &fixture("cmd_history_quotation_600519_20260825.json"),
    )
    .unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t.data_vol(), Some(12.0));
    assert_eq!(t.perf(), Some(63.0));
    let s = t.get("600519.SH").unwrap();
    assert_eq!(s.times().unwrap(), ["2026-08-25"]);
    assert_eq!(s.dates(), [chrono::NaiveDate::from_ymd_opt(2026, 8, 25)]);
    assert_eq!(s.numbers("open").unwrap(), &[Some(dec("1311.89"))]);
    assert_eq!(s.numbers("close").unwrap(), &[Some(dec("1304"))]);
    assert_eq!(printed(&t, "600519.SH", "open"), "1311.89");
}

#[test]
fn settled_quote_equals_that_days_history_close_source_a() {
    let q = Tables::decode(
        "real_time_quotation",
        &fixture("real_time_quotation_600519_20260825.json"),
    )
    .unwrap();
    let h = Tables::decode(
        "cmd_history_quotation",
        &fixture("cmd_history_quotation_600519_20260825.json"),
    )
    .unwrap();
    let row = q.get("600519.SH").unwrap().rows().next().unwrap();
    assert_eq!(row.time(), Some("2026-08-25 16:01:08"));
    assert_eq!(row.number("preClose"), Some(dec("1304.66")));
    // Lots here (21111) against shares in the history (2111118): the source's §4.3.
    assert_eq!(row.number("volume"), Some(dec("21111")));
    // The live service's own consistency: the settled quote is the day's close. Our fake
    // promises the same (see the fake-consistency tests).
    let close = h.get("600519.SH").unwrap().numbers("close").unwrap()[0];
    assert_eq!(row.number("latest"), close);
}

#[test]
fn quote_of_600519_on_2026_09_03_source_b() {
    let t = Tables::decode(
        "real_time_quotation",
        &fixture("real_time_quotation_600519_20260903.json"),
    )
    .unwrap();
    let s = t.get("600519.SH").unwrap();
    assert_eq!(
        s.datetimes(),
        [chrono::NaiveDate::from_ymd_opt(2026, 9, 3).and_then(|d| d.and_hms_opt(16, 1, 17))]
    );
    let want = [
        ("latest", "1298.88"),
        ("changeRatio", "0.1063"),
        ("open", "1297.5"),
        ("high", "1305"),
        ("low", "1293.02"),
        ("preClose", "1297.5"),
        ("volume", "17747"),
        ("amount", "2305193100"),
        ("turnoverRatio", "0.1419"),
    ];
    let row = s.rows().next().unwrap();
    for (column, value) in want {
        assert_eq!(row.get(column), Some(Cell::Number(dec(value))), "{column}");
        assert_eq!(printed(&t, "600519.SH", column), value, "{column}");
    }
    // The live quote is itself consistent: low ≤ open, latest ≤ high.
    let n = |c| row.number(c).unwrap();
    assert!(n("low") <= n("open") && n("open") <= n("high"));
    assert!(n("low") <= n("latest") && n("latest") <= n("high"));
    // The source's own derived check: latest − preClose = 1.38.
    assert_eq!(n("latest") - n("preClose"), dec("1.38"));
}

#[test]
fn quote_with_an_exponent_number_source_c() {
    let t = Tables::decode(
        "real_time_quotation",
        &fixture("real_time_quotation_600519_20260615.json"),
    )
    .unwrap();
    let row = t.get("600519.SH").unwrap().rows().next().unwrap();
    assert_eq!(row.time(), Some("2026-06-15 16:00:59"));
    assert_eq!(row.number("latest"), Some(dec("1271.1")));
    assert_eq!(row.number("changeRatio"), Some(dec("-1.61")));
    assert_eq!(row.number("pe_ttm"), Some(dec("19.21")));
    assert_eq!(row.number("totalCapital"), Some(dec("1580000000000")));
    assert_eq!(printed(&t, "600519.SH", "totalCapital"), "1580000000000");
}

#[test]
fn access_token_answer_source_a() {
    // A pinned clock a week before the answer's expired_time (Beijing time, UTC+8).
    let expiry = UNIX_EPOCH + Duration::from_secs(1_788_255_360); // 2026-09-01 09:36:00 UTC
    let now = expiry - Duration::from_secs(7 * 24 * 3600);
    let ts = parse_token_response(
        "get_access_token",
        &fixture("get_access_token.json"),
        now,
        Duration::from_secs(3600),
    )
    .unwrap();
    assert_eq!(ts.access_token.expose_secret(), "deffb680a859…");
    assert_eq!(ts.expires_at, Some(expiry));
    // Read later than its expiry, the same answer falls back to the default lifetime rather
    // than an already-expired token.
    let late = expiry + Duration::from_secs(60);
    let ts = parse_token_response(
        "get_access_token",
        &fixture("get_access_token.json"),
        late,
        Duration::from_secs(3600),
    )
    .unwrap();
    assert_eq!(ts.expires_at, Some(late + Duration::from_secs(3600)));
}
