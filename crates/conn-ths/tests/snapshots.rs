//! Each operation's exact request (method, path, headers with tokens redacted, JSON body), pinned
//! with insta snapshots, plus the token fetch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{NaiveDate, NaiveTime};
use conn_ths::fake::FakeIfind;
use conn_ths::{
    Adjust, BasicData, Currency, DataPool, DateSequence, EdbQuery, Fill, HighFrequency,
    HistoryQuotation, IndiPara, Interval, MarketCode, Minutes, OverviewQuery, PortfolioId,
    PositionsQuery, RealTimeQuotation, SearchType, SequenceFill, Side, SmartStockPicking, SnapShot,
    TradeDates,
};
use rust_decimal::Decimal;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The last request at `endpoint`, described; also checks the token header is the issued token.
async fn last(fake: &FakeIfind, endpoint: &str) -> serde_json::Value {
    let reqs = common::received_at(fake, endpoint).await;
    let req = reqs.last().expect("a request was sent");
    let token = req.headers.get("access_token").unwrap().to_str().unwrap();
    assert!(fake.valid_access_tokens().iter().any(|t| t == token));
    common::describe(req)
}

#[tokio::test]
async fn every_operation_request_is_pinned() {
    let fake = common::fake().await;
    let c = common::client(&fake);

    c.real_time_quotation(
        &RealTimeQuotation::new(["600519.SH", "000001.SZ"], ["latest", "open", "volume"]).unwrap(),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!(
        "real_time_quotation",
        last(&fake, "real_time_quotation").await
    );

    c.cmd_history_quotation(
        &HistoryQuotation::new(
            "600519.SH,000001.OF",
            "open,close",
            d(2024, 1, 2),
            d(2024, 1, 12),
        )
        .unwrap()
        .interval(Interval::Day)
        .adjust(Adjust::Forward)
        .fill(Fill::Blank)
        .unwrap()
        .currency(Currency::Original),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!(
        "cmd_history_quotation",
        last(&fake, "cmd_history_quotation").await
    );

    let t = |h, m| d(2024, 1, 2).and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap());
    c.high_frequency(
        &HighFrequency::new(["300033.SZ"], ["open", "close"], t(9, 30), t(10, 0))
            .unwrap()
            .minutes(Minutes::Five),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!("high_frequency", last(&fake, "high_frequency").await);

    c.basic_data_service(
        &BasicData::new(
            ["300033.SZ"],
            vec![
                IndiPara::new("ths_stock_short_name_stock").unwrap(),
                IndiPara::new("ths_regular_report_actual_dd_stock")
                    .unwrap()
                    .param("104"),
            ],
        )
        .unwrap(),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!(
        "basic_data_service",
        last(&fake, "basic_data_service").await
    );

    c.date_sequence(
        &DateSequence::new(
            ["300033.SZ"],
            vec![IndiPara::new("ths_close_price_stock")
                .unwrap()
                .param("")
                .param("100")],
            d(2024, 1, 2),
            d(2024, 1, 5),
        )
        .unwrap()
        .fill(SequenceFill::Previous),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!("date_sequence", last(&fake, "date_sequence").await);

    c.snap_shot(
        &SnapShot::new(
            ["300033.SZ"],
            ["latest", "bid1", "ask1"],
            t(9, 30),
            t(9, 35),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!("snap_shot", last(&fake, "snap_shot").await);

    c.edb_service(
        &EdbQuery::new(["M001620326", "M002822183"], d(2024, 1, 2), d(2024, 1, 5)).unwrap(),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!("edb_service", last(&fake, "edb_service").await);

    c.data_pool(
        &DataPool::new("p03341", ["p03341_f001", "p03341_f002"])
            .unwrap()
            .date_param("sdate", d(2024, 1, 2))
            .unwrap()
            .param("jys", "全部")
            .unwrap(),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!("data_pool", last(&fake, "data_pool").await);

    c.smart_stock_picking(&SmartStockPicking::new("今日涨停", SearchType::stock()).unwrap())
        .await
        .unwrap();
    insta::assert_json_snapshot!(
        "smart_stock_picking",
        last(&fake, "smart_stock_picking").await
    );

    c.get_trade_dates(
        &TradeDates::between(MarketCode::a_shares(), d(2024, 1, 2), d(2024, 1, 9)).unwrap(),
    )
    .await
    .unwrap();
    insta::assert_json_snapshot!("get_trade_dates", last(&fake, "get_trade_dates").await);

    let pid = PortfolioId::new(10086);
    c.portfolio_overview(&OverviewQuery::new(pid, "thscode,number,marketValue").unwrap())
        .await
        .unwrap();
    insta::assert_json_snapshot!(
        "portfolio_query_overview",
        last(&fake, "portfolio_manage").await
    );

    c.portfolio_positions(&PositionsQuery::new(pid, ["thsCode", "amount", "cost"], false).unwrap())
        .await
        .unwrap();
    insta::assert_json_snapshot!(
        "portfolio_query_positions",
        last(&fake, "portfolio_manage").await
    );

    c.portfolio_deal(&common::deal(Side::Buy, 100, Decimal::new(168_550, 2)))
        .await
        .unwrap();
    insta::assert_json_snapshot!("portfolio_deal", last(&fake, "portfolio_manage").await);

    // The token fetch: refresh token in a header, no body; exactly one for all of the above.
    let fetches = common::received_at(&fake, "get_access_token").await;
    assert_eq!(fetches.len(), 1);
    assert_eq!(
        fetches[0]
            .headers
            .get("refresh_token")
            .unwrap()
            .to_str()
            .unwrap(),
        fake.refresh_token()
    );
    insta::assert_json_snapshot!("get_access_token", common::describe(&fetches[0]));
}

#[tokio::test]
async fn update_access_token_request_is_pinned() {
    let fake = common::fake().await;
    let c = common::client(&fake);
    let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
    c.real_time_quotation(&q).await.unwrap();
    fake.expire_access_tokens();
    fake.serve_stale_tokens(1);
    // The stale "fresh" token fails the one replay; the next call asks update_access_token.
    assert!(c.real_time_quotation(&q).await.is_err());
    c.real_time_quotation(&q).await.unwrap();
    let updates = common::received_at(&fake, "update_access_token").await;
    assert_eq!(updates.len(), 1);
    insta::assert_json_snapshot!("update_access_token", common::describe(&updates[0]));
}
