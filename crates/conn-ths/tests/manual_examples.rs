//! Request shapes on the wire against the vendor manual's own examples.
//!
//! Source of every expected body: the `para = {...}` example of each function in the iFinD
//! HTTP API 用户手册 v2.1 (2025-08-25), section 二 ("各函数URL及formData生成逻辑"), copied as
//! JSON values. Where the manual's example contradicts its own table of keys, the table wins
//! and the deviation is named next to the case. Each request goes through the client to the
//! fake (which enforces the manual's required keys and enums) and the body the fake received
//! is compared with the example: same keys, same value formats.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use conn_ths::fake::FakeIfind;
use conn_ths::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn last_body(fake: &FakeIfind, path: &str) -> Value {
    let reqs = fake.received_requests().await;
    let r = reqs
        .iter()
        .rev()
        .find(|r| r.url.path().ends_with(path))
        .unwrap_or_else(|| panic!("no request to {path}"));
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn data_functions_send_the_manuals_examples() {
    let fake = FakeIfind::start().await;
    let c = common::client(&fake);

    // 1、基础数据
    c.basic_data_service(
        &BasicData::new(
            "300033.SZ,600030.SH",
            vec![
                IndiPara::new("ths_roe_stock").unwrap().param("20241231"),
                IndiPara::new("ths_roe_avg_by_ths_stock")
                    .unwrap()
                    .param("20241231"),
            ],
        )
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/basic_data_service").await,
        json!({"codes": "300033.SZ,600030.SH", "indipara": [
            {"indicator": "ths_roe_stock", "indiparams": ["20241231"]},
            {"indicator": "ths_roe_avg_by_ths_stock", "indiparams": ["20241231"]}]})
    );

    // 2、日期序列 (the manual writes 20230101; YYYY-MM-DD is one of its three accepted forms).
    c.date_sequence(
        &DateSequence::new(
            "300033.SZ,600030.SH",
            vec![
                IndiPara::new("ths_total_equity_atoopc_stock")
                    .unwrap()
                    .param("")
                    .param("100"),
                IndiPara::new("ths_regular_report_actual_dd_stock")
                    .unwrap()
                    .param(""),
            ],
            d(2023, 1, 1),
            d(2024, 12, 31),
        )
        .unwrap()
        .days(Days::All)
        .fill(SequenceFill::Blank)
        .interval(Interval::Year),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/date_sequence").await,
        json!({"codes": "300033.SZ,600030.SH", "startdate": "2023-01-01", "enddate": "2024-12-31",
            "functionpara": {"Days": "Alldays", "Fill": "Blank", "Interval": "Y"},
            "indipara": [
                {"indicator": "ths_total_equity_atoopc_stock", "indiparams": ["", "100"]},
                {"indicator": "ths_regular_report_actual_dd_stock", "indiparams": [""]}]})
    );

    // 3、历史行情
    c.cmd_history_quotation(
        &HistoryQuotation::new(
            "300033.SZ,600030.SH",
            "open,close,volume",
            d(2024, 8, 25),
            d(2025, 8, 25),
        )
        .unwrap()
        .interval(Interval::Week)
        .adjust(Adjust::Backward)
        .currency(Currency::Rmb)
        .fill(Fill::Blank)
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/cmd_history_quotation").await,
        json!({"codes": "300033.SZ,600030.SH", "indicators": "open,close,volume",
            "startdate": "2024-08-25", "enddate": "2025-08-25",
            "functionpara": {"Interval": "W", "CPS": "3", "Currency": "RMB", "Fill": "Blank"}})
    );

    // 4、高频序列
    let t = |h, m| d(2018, 1, 1).and_hms_opt(h, m, 0).unwrap();
    let calc = Calculate::new()
        .set("SI", "")
        .unwrap()
        .set("MACD", "12,26,9,MACD")
        .unwrap()
        .set("DPTB", "7,000001")
        .unwrap()
        .set("OBV", "OBV_XZ")
        .unwrap()
        .set("KDJ", "9,3,3,K")
        .unwrap();
    c.high_frequency(
        &HighFrequency::with_calculate(
            "300033.SZ,600030.SH",
            "open,high,SI,MACD,DPTB,OBV,KDJ",
            t(9, 15),
            t(9, 50),
            calc,
        )
        .unwrap()
        .minutes(Minutes::One)
        .fill(Fill::Original)
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/high_frequency").await,
        json!({"codes": "300033.SZ,600030.SH", "indicators": "open,high,SI,MACD,DPTB,OBV,KDJ",
            "starttime": "2018-01-01 09:15:00", "endtime": "2018-01-01 09:50:00",
            "functionpara": {"Interval": "1", "Fill": "Original", "calculate": {
                "SI": "", "MACD": "12,26,9,MACD", "DPTB": "7,000001", "OBV": "OBV_XZ", "KDJ": "9,3,3,K"}}})
    );

    // 5、实时行情
    c.real_time_quotation(&RealTimeQuotation::new("300033.SZ,600000.SH", "open,high").unwrap())
        .await
        .unwrap();
    assert_eq!(
        last_body(&fake, "/real_time_quotation").await,
        json!({"codes": "300033.SZ,600000.SH", "indicators": "open,high"})
    );

    // 6、经济数据库(EDB)
    c.edb_service(
        &EdbQuery::new(["M001620326", "M002822183"], d(2018, 1, 1), d(2018, 1, 1))
            .unwrap()
            .updated_between(t(9, 15), t(10, 15))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/edb_service").await,
        json!({"indicators": "M001620326,M002822183", "startdate": "2018-01-01", "enddate": "2018-01-01",
            "functionpara": {"startrtime": "2018-01-01 09:15:00", "endrtime": "2018-01-01 10:15:00"}})
    );

    // 7、专题报表函数
    c.data_pool(
        &DataPool::new("p03341", ["p03341_f001", "p03341_f002"])
            .unwrap()
            .param("sdate", "20210421")
            .unwrap()
            .param("edate", "20211119")
            .unwrap()
            .param("xmzt", "全部")
            .unwrap()
            .param("jcsslx", "全部")
            .unwrap()
            .param("jys", "全部")
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/data_pool").await,
        json!({"reportname": "p03341", "functionpara": {"sdate": "20210421", "edate": "20211119",
            "xmzt": "全部", "jcsslx": "全部", "jys": "全部"}, "outputpara": "p03341_f001:Y,p03341_f002:Y"})
    );

    // 9、智能选股
    c.smart_stock_picking(&SmartStockPicking::new("个股热度", SearchType::stock()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        last_body(&fake, "/smart_stock_picking").await,
        json!({"searchstring": "个股热度", "searchtype": "stock"})
    );

    // 10、基金实时估值(分钟): the example's outputpara is data_pool's; the function's own
    // output fields (its outputpara table) are sent.
    let ft = |h| d(2021, 8, 24).and_hms_opt(h, 15, 0).unwrap();
    c.fund_valuation(
        &FundValuation::between(
            "000001.OF,000003.OF",
            ft(9),
            ft(15),
            [
                "changeRatioValuation",
                "realTimeValuation",
                "Deviation30TDays",
            ],
        )
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/fund_valuation").await,
        json!({"codes": "000001.OF,000003.OF",
            "functionpara": {"onlyLastest": "0", "beginTime": "2021-08-24 09:15:00", "endTime": "2021-08-24 15:15:00"},
            "outputpara": "changeRatioValuation:Y,realTimeValuation:Y,Deviation30TDays:Y"})
    );

    // 11、基金实时估值(日): the example separates codes with ';', its table says commas.
    c.final_fund_valuation(
        &FinalFundValuation::new(
            "000001.OF,000003.OF",
            d(2021, 6, 1),
            d(2021, 9, 2),
            ["finalValuation", "netAssetValue", "deviation"],
        )
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/final_fund_valuation").await,
        json!({"codes": "000001.OF,000003.OF", "functionpara": {"beginDate": "2021-06-01", "endDate": "2021-09-02"},
            "outputpara": "finalValuation:Y,netAssetValue:Y,deviation:Y"})
    );

    // 12、日期查询函数
    let dates = c
        .get_trade_dates(
            &TradeDates::between(MarketCode::sse(), d(2025, 9, 10), d(2025, 9, 10)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(dates, vec![d(2025, 9, 10)]);
    assert_eq!(
        last_body(&fake, "/get_trade_dates").await,
        json!({"marketcode": "212001", "functionpara": {"mode": "1", "dateType": "0", "period": "D", "dateFormat": "0"},
            "startdate": "2025-09-10", "enddate": "2025-09-10"})
    );

    // 13、日期偏移函数
    let dates = c
        .get_trade_dates(&TradeDates::offset(
            MarketCode::sse(),
            d(2025, 9, 10),
            -1,
            OffsetOutput::Sequence,
        ))
        .await
        .unwrap();
    assert_eq!(dates, vec![d(2025, 9, 9)]);
    assert_eq!(
        last_body(&fake, "/get_trade_dates").await,
        json!({"marketcode": "212001", "functionpara": {"dateType": "0", "period": "D", "offset": "-1",
            "dateFormat": "0", "output": "sequencedate"}, "startdate": "2025-09-10"})
    );

    // 14、数据量查询: no parameters (an empty object).
    c.get_data_volume().await.unwrap();
    assert_eq!(last_body(&fake, "/get_data_volume").await, json!({}));

    // 15、错误信息查询
    c.get_error_message(-1).await.unwrap();
    assert_eq!(
        last_body(&fake, "/get_error_message").await,
        json!({"errorcode": -1})
    );

    // 16、证券代码证券简称转同花顺代码
    let t16 = c
        .get_thscode(&ThsCodeLookup::by_code("300033").unwrap())
        .await
        .unwrap();
    assert_eq!(
        t16.first().unwrap().text("thscode").unwrap(),
        &[Some("300033.SZ".to_owned())]
    );
    assert_eq!(
        last_body(&fake, "/get_thscode").await,
        json!({"seccode": "300033", "functionpara": {"mode": "seccode", "sectype": "", "market": "",
            "tradestatus": "0", "isexact": "0"}})
    );

    // 17、公告查询: the example puts beginrDate/endrDate beside functionpara, the table in it.
    c.report_query(
        &ReportQuery::for_codes(
            "300033.SZ,600000.SH",
            [
                "reportDate",
                "thscode",
                "secName",
                "ctime",
                "reportTitle",
                "pdfURL",
                "seq",
            ],
        )
        .unwrap()
        .report_type("901")
        .unwrap()
        .report_dates(d(2024, 9, 10), d(2025, 9, 10))
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, "/report_query").await,
        json!({"codes": "300033.SZ,600000.SH",
            "functionpara": {"reportType": "901", "beginrDate": "2024-09-10", "endrDate": "2025-09-10"},
            "outputpara": "reportDate:Y,thscode:Y,secName:Y,ctime:Y,reportTitle:Y,pdfURL:Y,seq:Y"})
    );
}

fn manual_deal() -> Deal {
    Deal::new(DealInput {
        portfolio: PortfolioId::new(161390),
        symbol: "300033".into(),
        side: Side::Buy,
        code_name: "同花顺".into(),
        market: MarketCode::szse(),
        security_type: "001001".into(),
        price: Decimal::new(787, 1),
        volume: Decimal::from(100),
        currency: PortfolioCurrency::Cny,
        fee: Decimal::ZERO,
        fee_rate: Decimal::ZERO,
        fx_rate: Decimal::new(100, 2),
    })
    .unwrap()
    .with_name("股债策略组合")
    .unwrap()
}

#[tokio::test]
async fn portfolio_functions_send_the_manuals_examples() {
    let fake = FakeIfind::start().await;
    let c = common::client(&fake);
    let p = PortfolioId::new(161390);
    let path = "/portfolio_manage";

    // (1) 组合新建: the example spells `curency`; the table's `currency` is sent.
    c.portfolio_new(
        &NewPortfolio::new("股债联动", 11580)
            .unwrap()
            .performance_benchmark("000300.SH", "沪深300")
            .unwrap()
            .calendar(TradingCalendar::Domestic)
            .currency(PortfolioCurrency::Cny)
            .info("股票与债券结合的策略组合"),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "newportf", "name": "股债联动", "group": 11580,
            "performbm": {"code": "000300.SH", "name": "沪深300"}, "tday": "国内交易所",
            "currency": "CNY", "info": "股票与债券结合的策略组合"})
    );

    // (3) 现金存取
    c.portfolio_cash(
        &CashMovement::new(p, CashAccess::Deposit, Decimal::from(10000))
            .unwrap()
            .with_name("bldptf5")
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "cashacs", "name": "bldptf5", "portfid": 161390,
            "functionpara": {"acesscls": "101", "amount": "10000"}})
    );

    // (4) 普通交易
    c.portfolio_deal(&manual_deal()).await.unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "deal", "name": "股债策略组合", "portfid": 161390, "functionpara": {
            "thscode": "300033", "direct": "buy", "codeName": "同花顺", "marketCode": "212100",
            "securityType": "001001", "price": 78.7, "volume": 100, "currency": "CNY",
            "fee": "0", "feep": 0, "rate": "1.00", "bonus": ""}})
    );

    // (5) 交易流水 (the deal above is recorded on the fake's trading day).
    let today = NaiveDate::from_ymd_opt(2024, 6, 28).unwrap();
    let log = c
        .portfolio_exchange_records(
            &ExchangeRecordsQuery::new(p,
                "date,code,name,dealPrice,dealNumber,realPrice,businessName,serviceCharge,type,currency,exchangeRate,marketName,importType",
                today, today).unwrap().keyword("").with_name("股债策略组合").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(log.first().unwrap().len(), 1);
    assert_eq!(
        last_body(&fake, path).await["functionpara"],
        json!({"keyword": ""})
    );

    // (6) 组合监控
    c.portfolio_overview(
        &OverviewQuery::new(p, "category,thscode,stockName,newPrice,number").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "query_overview", "portfid": 161390, "indicators": "category,thscode,stockName,newPrice,number"})
    );

    // (7) 持仓分析
    c.portfolio_positions(
        &PositionsQuery::new(p,
            "categoryName,securityName,thsCode,weight,marketPrice,cost,wavepl,cumpl,price,increaseRate,amount,costPrice",
            false).unwrap().on(d(2022, 10, 19)).with_name("股债策略组合").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "query_positions", "name": "股债策略组合", "portfid": 161390,
            "indicators": "categoryName,securityName,thsCode,weight,marketPrice,cost,wavepl,cumpl,price,increaseRate,amount,costPrice",
            "date": "2022-10-19", "functionpara": {"penetrate": "false"}})
    );

    // (8) 绩效指标
    c.portfolio_perform(
        &PerformQuery::new(
            p,
            d(2020, 6, 2),
            d(2022, 10, 20),
            "000300",
            PerformClass::UnitNav,
            PerformCycle::Day,
        )
        .unwrap()
        .with_name("股债策略组合")
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "query_perform", "name": "股债策略组合", "portfid": 161390, "performbm": "000300",
            "startdate": "2020-06-02", "enddate": "2022-10-20", "functionpara": {"pfclass": "utnv", "cycle": "day"}})
    );

    // (9) 风险指标
    c.portfolio_risk(
        &RiskQuery::new(
            p,
            "alpha,yield,annual_yield,sharpe_ratio",
            d(2021, 10, 19),
            d(2022, 10, 19),
            RiskCycle::Day,
            "000300",
        )
        .unwrap()
        .with_name("股债策略组合")
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "query_risk_profits", "name": "股债策略组合", "portfid": 161390,
            "indicators": ["alpha,yield,annual_yield,sharpe_ratio"], "startdate": "2021-10-19", "enddate": "2022-10-19",
            "functionpara": {"cycle": "day", "benchmark": "000300"}})
    );

    // (2) 1) 模板导入
    let rows = vec![
        ImportRow {
            date: d(2020, 3, 30),
            code: "CNY".into(),
            business: "现金存入".into(),
            volume: None,
            price: None,
            amount: Some(Decimal::from(10_000_000)),
            fee: None,
            security_type: String::new(),
        },
        ImportRow {
            date: d(2020, 4, 1),
            code: "600000.SH".into(),
            business: "买入".into(),
            volume: Some(Decimal::from(100)),
            price: Some(Decimal::new(1009, 2)),
            amount: Some(Decimal::from(1009)),
            fee: Some(Decimal::new(5225, 3)),
            security_type: "A股".into(),
        },
    ];
    c.portfolio_import(
        &PortfolioImport::new(p, rows)
            .unwrap()
            .with_name("股债策略组合")
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "importf", "name": "股债策略组合", "portfid": 161390, "content": [
            ["交易日期", "证券代码", "业务类型", "数量", "价格", "成交金额", "费用", "证券类型"],
            ["2020-03-30", "CNY", "现金存入", "", "", 10000000, "", ""],
            ["2020-04-01", "600000.SH", "买入", 100, 10.09, 1009, 5.225, "A股"]]})
    );

    // (2) 2) 文件导入: multipart with func, portfid, name and the file.
    c.portfolio_file_import(
        &FileImport::new(
            p,
            "股债策略组合内容.xlsx",
            &b"PK\x03\x04 not really xlsx"[..],
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let reqs = fake.received_requests().await;
    let last = reqs.last().unwrap();
    let ct = last
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ct.starts_with("multipart/form-data"), "{ct}");
    let body = String::from_utf8_lossy(&last.body);
    for needle in [
        "name=\"func\"",
        "fileimport",
        "name=\"portfid\"",
        "161390",
        "name=\"file\"; filename=",
    ] {
        assert!(body.contains(needle), "{needle} missing in {body}");
    }

    // (2) 3) 状态查询: the example writes `portid`, the table `portfid`.
    c.portfolio_import_status(&ImportStatusQuery::new(PortfolioId::new(161930), 21))
        .await
        .unwrap();
    assert_eq!(
        last_body(&fake, path).await,
        json!({"func": "query_commit", "portfid": 161930, "jobid": 21})
    );
}

#[tokio::test]
async fn the_fake_refuses_what_the_manual_requires() {
    let fake = FakeIfind::start().await;
    let c = common::client(&fake);
    for (endpoint, body, code) in [
        (
            "get_trade_dates",
            json!({"marketcode": "212001", "startdate": "2025-09-10", "enddate": "2025-09-10",
            "functionpara": {"dateType": "0", "period": "D", "dateFormat": "0"}}),
            "-1202",
        ),
        (
            "cmd_history_quotation",
            json!({"codes": "300033.SZ", "indicators": "close", "startdate": "2024-01-02",
            "enddate": "2024-01-05", "functionpara": {"Currency": "USD"}}),
            "-4210",
        ),
        (
            "high_frequency",
            json!({"codes": "300033.SZ", "indicators": "close", "starttime": "2024-01-02 09:30:00",
            "endtime": "2024-01-02 10:00:00", "functionpara": {"CPS": "2"}}),
            "-4210",
        ),
        (
            "high_frequency",
            json!({"codes": "300033.SZ", "indicators": "MACD", "starttime": "2024-01-02 09:30:00",
            "endtime": "2024-01-02 10:00:00"}),
            "-1202",
        ),
        (
            "portfolio_manage",
            json!({"func": "deal", "portfid": 1, "functionpara": {"thscode": "300033.SZ",
            "direct": "buy", "volume": "100", "price": "1", "date": "2024-01-02"}}),
            "-1202",
        ),
        (
            "portfolio_manage",
            json!({"func": "query_positions", "portfid": 1}),
            "-1202",
        ),
        (
            "real_time_quotation",
            json!({"codes": "600519", "indicators": "latest"}),
            "-4206",
        ),
    ] {
        let e = c
            .post_raw(endpoint, &body, conn_core::retry::Idempotency::Idempotent)
            .await
            .unwrap_err();
        assert_eq!(e.platform_code(), Some(code), "{endpoint} {body}: {e}");
    }
}
