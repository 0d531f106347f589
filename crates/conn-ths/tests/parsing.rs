//! The `tables` decoder on every odd shape, from literal bodies and from the fake.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use common::dec;
use conn_core::Error;
use conn_ths::fake::{fake_text, fake_value, Shape};
use conn_ths::{BasicData, Cell, HistoryQuotation, IndiPara, RealTimeQuotation, Tables};
use rust_decimal::Decimal;

fn decode(body: &str) -> Tables {
    Tables::decode("test", body.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, day).unwrap()
}

#[test]
fn standard_shape() {
    let t = decode(
        r#"{"errorcode":0,"errmsg":"","tables":[{"thscode":"300033.SZ","time":["2024-01-02","2024-01-03"],
        "table":{"open":[100.5,101],"close":[101.25,102.0]}}],"datatype":[],"inputParams":{},"perf":12,"dataVol":4}"#,
    );
    assert_eq!(t.len(), 1);
    assert_eq!(t.perf(), Some(12.0));
    assert_eq!(t.data_vol(), Some(4.0));
    let s = t.get("300033.SZ").unwrap();
    assert_eq!(s.times().unwrap(), ["2024-01-02", "2024-01-03"]);
    assert_eq!(s.dates(), vec![Some(d(1, 2)), Some(d(1, 3))]);
    assert_eq!(
        s.numbers("open").unwrap(),
        &[Some(dec(100.5)), Some(dec(101.0))]
    );
    assert_eq!(s.column_names().collect::<Vec<_>>(), ["open", "close"]);
    let rows: Vec<(Option<&str>, Option<Decimal>)> =
        s.rows().map(|r| (r.time(), r.number("close"))).collect();
    assert_eq!(
        rows,
        [
            (Some("2024-01-02"), Some(dec(101.25))),
            (Some("2024-01-03"), Some(dec(102.0)))
        ]
    );
    let cells: Vec<_> = s.rows().next().unwrap().cells().collect();
    assert_eq!(
        cells,
        [
            ("open", Cell::Number(dec(100.5))),
            ("close", Cell::Number(dec(101.25)))
        ]
    );
}

#[test]
fn scalars_instead_of_arrays() {
    let t = decode(
        r#"{"errorcode":0,"tables":[{"thscode":"600519.SH","time":"2024-06-28 15:00:00",
        "table":{"latest":1685.5,"name":"贵州茅台"}}]}"#,
    );
    let s = t.first().unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s.times().unwrap(), ["2024-06-28 15:00:00"]);
    assert_eq!(s.numbers("latest").unwrap(), &[Some(dec(1685.5))]);
    assert_eq!(s.text("name").unwrap(), &[Some("贵州茅台".to_owned())]);
    let row = s.rows().next().unwrap();
    assert_eq!(row.text("name"), Some("贵州茅台"));
    assert_eq!(row.number("name"), None);
}

#[test]
fn dashes_nulls_and_empty_strings_are_missing() {
    let t = decode(
        r#"{"tables":[{"thscode":"000001.SZ","time":["a","b","c","d"],
        "table":{"v":[1,"--",null,""],"t":["x","--",null,"y"]}}]}"#,
    );
    let s = t.first().unwrap();
    assert_eq!(
        s.numbers("v").unwrap(),
        &[Some(Decimal::ONE), None, None, None]
    );
    assert_eq!(
        s.text("t").unwrap(),
        &[Some("x".to_owned()), None, None, Some("y".to_owned())]
    );
    assert_eq!(s.rows().nth(1).unwrap().get("v"), Some(Cell::Missing));
}

#[test]
fn numbers_as_strings_and_identifiers() {
    let t = decode(
        r#"{"tables":[{"table":{"price":["12.50","-3","1e2"],"code":["000001","600519","300033"],
        "mixed":["1.50",2,"n/a"]}}]}"#,
    );
    let s = t.first().unwrap();
    assert_eq!(
        s.numbers("price").unwrap(),
        &[Some(dec(12.5)), Some(dec(-3.0)), Some(dec(100.0))]
    );
    // A leading zero makes "000001" an identifier, so the column is text, spelled as sent.
    assert_eq!(
        s.text("code").unwrap(),
        &[
            Some("000001".to_owned()),
            Some("600519".to_owned()),
            Some("300033".to_owned())
        ]
    );
    assert_eq!(
        s.text("mixed").unwrap(),
        &[
            Some("1.50".to_owned()),
            Some("2".to_owned()),
            Some("n/a".to_owned())
        ]
    );
}

#[test]
fn time_inside_table_missing_time_and_single_object_tables() {
    let t = decode(
        r#"{"tables":[{"thscode":"600519.SH","table":{"time":["2024-01-02","2024-01-03"],"close":[1,2]}}]}"#,
    );
    let s = t.first().unwrap();
    assert_eq!(s.times().unwrap(), ["2024-01-02", "2024-01-03"]);
    assert!(s.column("time").is_none());
    assert_eq!(s.len(), 2);

    let t = decode(r#"{"tables":[{"thscode":"600519.SH","table":{"ths_pe":[31.2]}}]}"#);
    let s = t.first().unwrap();
    assert!(s.times().is_none());
    assert_eq!(s.len(), 1);
    assert_eq!(s.rows().next().unwrap().time(), None);

    let t = decode(r#"{"errorcode":0,"tables":{"time":["2024-01-02","2024-01-03"]}}"#);
    assert_eq!(
        t.first().unwrap().dates(),
        vec![Some(d(1, 2)), Some(d(1, 3))]
    );

    let t = decode(
        r#"{"tables":[{"id":"M001620326","time":["2024-01"],"unit":"%","table":{"value":[2.1]}}]}"#,
    );
    let s = t.get("M001620326").unwrap();
    assert_eq!(s.meta(), [("unit".to_owned(), "%".to_owned())]);

    let t = decode(r#"{"errorcode":0,"tables":null}"#);
    assert!(t.is_empty());
}

#[test]
fn mismatched_column_lengths_name_the_column() {
    let body = br#"{"errorcode":0,"tables":[{"thscode":"600519.SH","time":["a","b"],"table":{"open":[1,2]}},
        {"thscode":"000001.SZ","time":["a","b","c"],"table":{"open":[1,2,3],"close":[1,2]}}]}"#;
    let e = Tables::decode("cmd_history_quotation", body).unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.path, "tables[1]");
    let msg = e.to_string();
    assert!(
        msg.contains("column `close` has 2 values but `time` has 3"),
        "{msg}"
    );
    assert!(msg.contains("000001.SZ"), "{msg}");
    assert!(msg.contains("cmd_history_quotation"), "{msg}");

    // Without time, the first column is the reference.
    let e = Tables::decode("x", br#"{"tables":[{"table":{"a":[1,2],"b":[1]}}]}"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("column `b` has 1 values but column `a` has 2"),
        "{e}"
    );
}

#[test]
fn nested_values_are_decode_errors_with_a_path() {
    let e = Tables::decode("x", br#"{"tables":[{"table":{"a":[1,{"x":1}]}}]}"#).unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.path, "tables[0].table.a[1]");
    let e = Tables::decode("x", b"{\"tables\":[").unwrap_err();
    assert!(matches!(e, Error::Decode(_)));
}

// --- the same shapes produced by the fake, end to end -----------------------------------------

#[tokio::test]
async fn fake_scalars() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    fake.set_shapes(&[Shape::Scalars]);
    let t = c
        .real_time_quotation(
            &RealTimeQuotation::new(["600519.SH", "000001.SZ"], ["latest", "ths_name"]).unwrap(),
        )
        .await
        .unwrap();
    let body = common::received_at(&fake, "real_time_quotation").await;
    assert_eq!(body.len(), 1);
    for code in ["600519.SH", "000001.SZ"] {
        let s = t.get(code).unwrap();
        let time = s.times().unwrap()[0].clone();
        assert_eq!(time, "2024-06-28 15:00:00");
        assert_eq!(
            s.numbers("latest").unwrap(),
            &[Some(dec(fake_value(code, "latest", &time)))]
        );
        assert_eq!(
            s.text("ths_name").unwrap(),
            &[Some(fake_text(code, "ths_name"))]
        );
    }
}

async fn history_with(shapes: &[Shape]) -> Result<Tables, Error> {
    let fake = common::fake().await;
    let c = common::client(&fake);
    fake.set_shapes(shapes);
    c.cmd_history_quotation(
        &HistoryQuotation::new(["600519.SH"], ["open", "close"], d(1, 1), d(1, 12)).unwrap(),
    )
    .await
}

#[tokio::test]
async fn fake_history_values_are_exact() {
    let t = history_with(&[]).await.unwrap();
    let s = t.get("600519.SH").unwrap();
    // Weekdays of 2024-01-01..12: 10 trading days.
    assert_eq!(s.len(), 10);
    for row in s.rows() {
        let time = row.time().unwrap();
        assert_eq!(
            row.number("close"),
            Some(dec(fake_value("600519.SH", "close", time)))
        );
    }
}

#[tokio::test]
async fn fake_dashes_and_numbers_as_strings() {
    let t = history_with(&[Shape::DashForMissing, Shape::NumbersAsStrings])
        .await
        .unwrap();
    let s = t.get("600519.SH").unwrap();
    for row in s.rows() {
        let want = (row.index() % 5 != 2)
            .then(|| dec(fake_value("600519.SH", "open", row.time().unwrap())));
        assert_eq!(row.number("open"), want, "row {}", row.index());
    }
}

#[tokio::test]
async fn fake_time_inside_table_and_no_time() {
    let t = history_with(&[Shape::TimeInsideTable]).await.unwrap();
    let s = t.get("600519.SH").unwrap();
    assert_eq!(s.times().unwrap().len(), 10);
    assert_eq!(s.times().unwrap()[0], "2024-01-01");
    assert!(s.column("time").is_none());

    let t = history_with(&[Shape::NoTime]).await.unwrap();
    let s = t.get("600519.SH").unwrap();
    assert!(s.times().is_none());
    assert_eq!(s.len(), 10);
}

#[tokio::test]
async fn fake_mismatched_column() {
    let e = history_with(&[Shape::MismatchedColumn]).await.unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.path, "tables[0]");
    assert!(
        e.to_string()
            .contains("column `close` has 9 values but `time` has 10"),
        "{e}"
    );
}

#[tokio::test]
async fn fake_basic_data_has_no_time() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let t = c
        .basic_data_service(
            &BasicData::new(
                ["300033.SZ"],
                vec![IndiPara::new("ths_pe_ttm_stock")
                    .unwrap()
                    .param("2024-01-02")],
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let s = t.get("300033.SZ").unwrap();
    assert!(s.times().is_none());
    assert_eq!(
        s.numbers("ths_pe_ttm_stock").unwrap(),
        &[Some(dec(fake_value(
            "300033.SZ",
            "ths_pe_ttm_stock",
            "2024-01-02"
        )))]
    );
}
