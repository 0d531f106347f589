//! Bad input is a typed validation error naming the field, before any request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use conn_core::Error;
use conn_ths::{
    BasicData, Codes, DataPool, Deal, DealInput, EdbQuery, FunctionPara, HistoryQuotation,
    IndiPara, Indicators, MarketCode, PortfolioCurrency, PortfolioId, RealTimeQuotation,
    SearchType, SecurityCode, Side, SmartStockPicking, TradeDates,
};
use rust_decimal::Decimal;

fn field(e: Error) -> String {
    match e {
        Error::Validation(v) => v.field,
        other => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn code_cases() {
    for ok in [
        "600519.SH",
        "000001.SZ",
        "000001.OF",
        "430047.BJ",
        "000300.SH",
        "399006.SZ",
        "00700.HK",
        "HSI.HK",
        "IF2406.CFE",
        "CU2408.SHF",
        "SC2409.INE",
        "M2409.DCE",
        "SR409.CZC",
        "019547.IB",
        "H30269.CSI",
        "801010.SI",
        "801010.SL",
        "10004000.SH",
        "885338.TI",
        "AAPL.O",
        "IBM.N",
        // Shape-valid codes are the server's to judge (-4206), not the client's: the issue
        // that made 801010.SL work removed the per-market symbol rules.
        "6005190.SH",
        "60051.SZ",
        "ABCDEF.SH",
        "000001.ZZ",
        "7.HK",
    ] {
        assert_eq!(SecurityCode::parse(ok).unwrap().as_str(), ok);
    }
    for bad in [
        "",
        "600519",
        "600519.",
        ".SH",
        "600519.SH.SH",
        "600 519.SH",
        "600519.S H",
        "a-b.SH",
        "600519.SHSHX",
    ] {
        let e = SecurityCode::parse(bad).unwrap_err();
        assert_eq!(field(e), "code", "{bad}");
    }
    assert_eq!(
        field(Codes::parse(["600519.SH", "x"]).unwrap_err()),
        "codes[1]"
    );
    assert_eq!(field(Codes::parse_list("").unwrap_err()), "codes");
    assert_eq!(
        SecurityCode::parse("600519.sh").unwrap().as_str(),
        "600519.SH"
    );
}

#[test]
fn requests_are_validated_when_built() {
    let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
    assert_eq!(
        field(RealTimeQuotation::new(["600519.SH", "bad"], ["latest"]).unwrap_err()),
        "codes[1]"
    );
    assert_eq!(
        field(RealTimeQuotation::new(Vec::<&str>::new(), ["latest"]).unwrap_err()),
        "codes"
    );
    assert_eq!(
        field(RealTimeQuotation::new(["600519.SH"], Vec::<&str>::new()).unwrap_err()),
        "indicators"
    );
    assert_eq!(
        field(RealTimeQuotation::new(["600519.SH"], ["open", ""]).unwrap_err()),
        "indicators[1]"
    );
    assert_eq!(
        field(Indicators::parse(["a b"]).unwrap_err()),
        "indicators[0]"
    );
    assert_eq!(
        field(HistoryQuotation::new("600519.SH", "open", d(2, 1), d(1, 1)).unwrap_err()),
        "enddate"
    );
    assert_eq!(
        field(BasicData::new("600519.SH", vec![]).unwrap_err()),
        "indipara"
    );
    assert_eq!(field(IndiPara::new(" ").unwrap_err()), "indipara.indicator");
    assert_eq!(
        field(EdbQuery::new(["M00-1"], d(1, 1), d(1, 2)).unwrap_err()),
        "indicators[0]"
    );
    assert_eq!(
        field(EdbQuery::new(Vec::<&str>::new(), d(1, 1), d(1, 2)).unwrap_err()),
        "indicators"
    );
    assert_eq!(field(DataPool::new("", ["f"]).unwrap_err()), "reportname");
    assert_eq!(
        field(DataPool::new("p1", ["a:Y"]).unwrap_err()),
        "outputpara"
    );
    assert_eq!(
        field(DataPool::new("p1", Vec::<&str>::new()).unwrap_err()),
        "outputpara"
    );
    assert_eq!(
        field(SmartStockPicking::new("  ", SearchType::stock()).unwrap_err()),
        "searchstring"
    );
    assert_eq!(field(MarketCode::new("SSE").unwrap_err()), "marketcode");
    assert_eq!(
        field(TradeDates::between(MarketCode::a_shares(), d(2, 1), d(1, 1)).unwrap_err()),
        "enddate"
    );
    assert_eq!(
        field(FunctionPara::new().raw("", "x").unwrap_err()),
        "functionpara"
    );
    assert_eq!(field(PortfolioId::parse("").unwrap_err()), "portfid");
    assert_eq!(field(PortfolioId::parse("12a").unwrap_err()), "portfid");
    let input = || DealInput {
        portfolio: PortfolioId::new(1),
        symbol: "600519".into(),
        side: Side::Buy,
        code_name: "贵州茅台".into(),
        market: MarketCode::sse(),
        security_type: "001001".into(),
        price: Decimal::ONE,
        volume: Decimal::ONE,
        currency: PortfolioCurrency::Cny,
        fee: Decimal::ZERO,
        fee_rate: Decimal::ZERO,
        fx_rate: Decimal::ONE,
    };
    for (bad, want) in [
        (
            DealInput {
                volume: Decimal::ZERO,
                ..input()
            },
            "functionpara.volume",
        ),
        (
            DealInput {
                price: Decimal::ZERO,
                ..input()
            },
            "functionpara.price",
        ),
        (
            DealInput {
                fee: Decimal::NEGATIVE_ONE,
                ..input()
            },
            "functionpara.fee",
        ),
        (
            DealInput {
                fee_rate: Decimal::NEGATIVE_ONE,
                ..input()
            },
            "functionpara.feep",
        ),
        (
            DealInput {
                fx_rate: Decimal::ZERO,
                ..input()
            },
            "functionpara.rate",
        ),
        (
            DealInput {
                symbol: "600519.SH".into(),
                ..input()
            },
            "functionpara.thscode",
        ),
        (
            DealInput {
                code_name: " ".into(),
                ..input()
            },
            "functionpara.codeName",
        ),
        (
            DealInput {
                security_type: "A股".into(),
                ..input()
            },
            "functionpara.securityType",
        ),
        (
            DealInput {
                price: "1.23456789012345678".parse().unwrap(),
                ..input()
            },
            "functionpara.price",
        ),
    ] {
        assert_eq!(field(Deal::new(bad).unwrap_err()), want);
    }
    assert!(Deal::new(input()).is_ok());
}

#[tokio::test]
async fn nothing_reaches_the_server_for_bad_input() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    // Raw calls with a bad endpoint are refused locally too.
    let e = c
        .post_raw(
            "",
            &serde_json::json!({}),
            conn_core::retry::Idempotency::Idempotent,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)));
    assert!(RealTimeQuotation::new(["bad"], ["latest"]).is_err());
    assert!(fake.received_requests().await.is_empty());
}
