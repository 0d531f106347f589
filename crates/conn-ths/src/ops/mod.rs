//! The data functions of the manual, one typed request per function. Every request is
//! validated when it is built (codes, indicators, date order, the manual's required keys and
//! enums), so a bad input fails before any network traffic; its JSON body
//! ([`RealTimeQuotation::body`] etc.) is what goes on the wire, and each type's doc test
//! compares it with the manual's own example.
//!
//! All of them are reads: iFinD takes them as `POST`, but repeating one changes nothing, so they
//! are declared idempotent and retried on server errors. An answer of -4001 (no data) or -4211
//! (no trading day in the range) is an empty [`Tables`], not an error.
//!
//! | method | function | request |
//! |---|---|---|
//! | [`Client::real_time_quotation`] | `real_time_quotation` | [`RealTimeQuotation`] |
//! | [`Client::cmd_history_quotation`] | `cmd_history_quotation` | [`HistoryQuotation`] |
//! | [`Client::high_frequency`] | `high_frequency` | [`HighFrequency`] |
//! | [`Client::snap_shot`] | `snap_shot` | [`SnapShot`] |
//! | [`Client::basic_data_service`] | `basic_data_service` | [`BasicData`] |
//! | [`Client::date_sequence`] | `date_sequence` | [`DateSequence`] |
//! | [`Client::edb_service`] | `edb_service` | [`EdbQuery`] |
//! | [`Client::data_pool`] | `data_pool` | [`DataPool`] |
//! | [`Client::smart_stock_picking`] | `smart_stock_picking` | [`SmartStockPicking`] |
//! | [`Client::fund_valuation`] | `fund_valuation` | [`FundValuation`] |
//! | [`Client::final_fund_valuation`] | `final_fund_valuation` | [`FinalFundValuation`] |
//! | [`Client::get_trade_dates`] | `get_trade_dates` | [`TradeDates`] |
//! | [`Client::get_thscode`] | `get_thscode` | [`ThsCodeLookup`] |
//! | [`Client::report_query`] | `report_query` | [`ReportQuery`] |
//! | [`Client::get_data_volume`] | `get_data_volume` | none |
//! | [`Client::get_error_message`] | `get_error_message` | an error code |
//!
//! Anything the manual adds later: [`Client::post_raw`].

mod calendar;
mod lookup;
mod quotes;
mod reference;

use chrono::NaiveDate;
use conn_core::retry::Idempotency;
use conn_core::transport::Request;
use conn_core::Result;
use serde_json::{json, Value};

use crate::client::Client;
use crate::options::FunctionPara;
use crate::tables::Tables;

pub use calendar::{
    trade_dates_of, DateFormat, DateQueryMode, DateType, MarketCode, OffsetOutput, TradeDates,
};
pub use lookup::{FinalFundValuation, FundValuation, ReportQuery, ThsCodeLookup, TradeStatus};
pub use quotes::{HighFrequency, HistoryQuotation, RealTimeQuotation, SnapShot};
pub use reference::{BasicData, DataPool, DateSequence, EdbQuery, SearchType, SmartStockPicking};

/// Function (endpoint) names.
pub mod endpoint {
    /// Real-time quotes.
    pub const REAL_TIME_QUOTATION: &str = "real_time_quotation";
    /// Daily-or-longer history.
    pub const CMD_HISTORY_QUOTATION: &str = "cmd_history_quotation";
    /// Intraday bars.
    pub const HIGH_FREQUENCY: &str = "high_frequency";
    /// Basic data (fundamentals) per security.
    pub const BASIC_DATA_SERVICE: &str = "basic_data_service";
    /// Indicator series over dates.
    pub const DATE_SEQUENCE: &str = "date_sequence";
    /// Intraday snapshots (ticks).
    pub const SNAP_SHOT: &str = "snap_shot";
    /// Economic database series.
    pub const EDB_SERVICE: &str = "edb_service";
    /// Special reports (data pool).
    pub const DATA_POOL: &str = "data_pool";
    /// Natural-language stock screening (问财).
    pub const SMART_STOCK_PICKING: &str = "smart_stock_picking";
    /// Intraday fund valuations.
    pub const FUND_VALUATION: &str = "fund_valuation";
    /// Daily final fund valuations.
    pub const FINAL_FUND_VALUATION: &str = "final_fund_valuation";
    /// Trading calendar (date query and date offset).
    pub const GET_TRADE_DATES: &str = "get_trade_dates";
    /// The account's data usage.
    pub const GET_DATA_VOLUME: &str = "get_data_volume";
    /// The text of an error code.
    pub const GET_ERROR_MESSAGE: &str = "get_error_message";
    /// Local codes or names to iFinD codes.
    pub const GET_THSCODE: &str = "get_thscode";
    /// Announcements.
    pub const REPORT_QUERY: &str = "report_query";
    /// Portfolio management.
    pub const PORTFOLIO_MANAGE: &str = "portfolio_manage";
    /// Every read function (everything but `portfolio_manage`).
    pub const READS: [&str; 16] = [
        REAL_TIME_QUOTATION,
        CMD_HISTORY_QUOTATION,
        HIGH_FREQUENCY,
        BASIC_DATA_SERVICE,
        DATE_SEQUENCE,
        SNAP_SHOT,
        EDB_SERVICE,
        DATA_POOL,
        SMART_STOCK_PICKING,
        FUND_VALUATION,
        FINAL_FUND_VALUATION,
        GET_TRADE_DATES,
        GET_DATA_VOLUME,
        GET_ERROR_MESSAGE,
        GET_THSCODE,
        REPORT_QUERY,
    ];
}

/// Adds an optional `functionpara` when it holds anything.
pub(crate) fn with_functionpara(mut body: Value, p: &FunctionPara) -> Value {
    if !p.is_empty() {
        if let Value::Object(m) = &mut body {
            m.insert("functionpara".into(), json!(p));
        }
    }
    body
}

impl Client {
    /// `real_time_quotation`.
    #[tracing::instrument(name = "ths.real_time_quotation", skip_all, fields(codes = q.codes.as_slice().len()))]
    pub async fn real_time_quotation(&self, q: &RealTimeQuotation) -> Result<Tables> {
        self.query_tables(endpoint::REAL_TIME_QUOTATION, &q.body())
            .await
    }

    /// `cmd_history_quotation`.
    #[tracing::instrument(name = "ths.cmd_history_quotation", skip_all, fields(codes = q.codes.as_slice().len()))]
    pub async fn cmd_history_quotation(&self, q: &HistoryQuotation) -> Result<Tables> {
        self.query_tables(endpoint::CMD_HISTORY_QUOTATION, &q.body())
            .await
    }

    /// `high_frequency`.
    #[tracing::instrument(name = "ths.high_frequency", skip_all, fields(codes = q.codes.as_slice().len()))]
    pub async fn high_frequency(&self, q: &HighFrequency) -> Result<Tables> {
        self.query_tables(endpoint::HIGH_FREQUENCY, &q.body()).await
    }

    /// `snap_shot`.
    #[tracing::instrument(name = "ths.snap_shot", skip_all)]
    pub async fn snap_shot(&self, q: &SnapShot) -> Result<Tables> {
        self.query_tables(endpoint::SNAP_SHOT, &q.body()).await
    }

    /// `basic_data_service`.
    #[tracing::instrument(name = "ths.basic_data_service", skip_all)]
    pub async fn basic_data_service(&self, q: &BasicData) -> Result<Tables> {
        self.query_tables(endpoint::BASIC_DATA_SERVICE, &q.body())
            .await
    }

    /// `date_sequence`.
    #[tracing::instrument(name = "ths.date_sequence", skip_all)]
    pub async fn date_sequence(&self, q: &DateSequence) -> Result<Tables> {
        self.query_tables(endpoint::DATE_SEQUENCE, &q.body()).await
    }

    /// `edb_service`.
    #[tracing::instrument(name = "ths.edb_service", skip_all)]
    pub async fn edb_service(&self, q: &EdbQuery) -> Result<Tables> {
        self.query_tables(endpoint::EDB_SERVICE, &q.body()).await
    }

    /// `data_pool`.
    #[tracing::instrument(name = "ths.data_pool", skip_all)]
    pub async fn data_pool(&self, q: &DataPool) -> Result<Tables> {
        self.query_tables(endpoint::DATA_POOL, &q.body()).await
    }

    /// `smart_stock_picking`.
    #[tracing::instrument(name = "ths.smart_stock_picking", skip_all)]
    pub async fn smart_stock_picking(&self, q: &SmartStockPicking) -> Result<Tables> {
        self.query_tables(endpoint::SMART_STOCK_PICKING, &q.body())
            .await
    }

    /// `fund_valuation`.
    #[tracing::instrument(name = "ths.fund_valuation", skip_all)]
    pub async fn fund_valuation(&self, q: &FundValuation) -> Result<Tables> {
        self.query_tables(endpoint::FUND_VALUATION, &q.body()).await
    }

    /// `final_fund_valuation`.
    #[tracing::instrument(name = "ths.final_fund_valuation", skip_all)]
    pub async fn final_fund_valuation(&self, q: &FinalFundValuation) -> Result<Tables> {
        self.query_tables(endpoint::FINAL_FUND_VALUATION, &q.body())
            .await
    }

    /// `get_thscode`.
    #[tracing::instrument(name = "ths.get_thscode", skip_all)]
    pub async fn get_thscode(&self, q: &ThsCodeLookup) -> Result<Tables> {
        self.query_tables(endpoint::GET_THSCODE, &q.body()).await
    }

    /// `report_query`.
    #[tracing::instrument(name = "ths.report_query", skip_all)]
    pub async fn report_query(&self, q: &ReportQuery) -> Result<Tables> {
        self.query_tables(endpoint::REPORT_QUERY, &q.body()).await
    }

    /// `get_trade_dates`, decoded as dates (a date query in [`DateQueryMode::Dates`] or a
    /// date offset). For [`DateQueryMode::Count`] use [`Client::get_trade_dates_tables`].
    #[tracing::instrument(name = "ths.get_trade_dates", skip_all)]
    pub async fn get_trade_dates(&self, q: &TradeDates) -> Result<Vec<NaiveDate>> {
        let op = endpoint::GET_TRADE_DATES;
        let req = Request::post(op, format!("/{op}"), Idempotency::Idempotent).json(&q.body())?;
        let resp = self.execute(&req).await?;
        let tables = Tables::decode(op, &resp.body)?;
        trade_dates_of(&tables, &resp.body)
    }

    /// `get_trade_dates` as tables (any mode, the count included).
    #[tracing::instrument(name = "ths.get_trade_dates", skip_all)]
    pub async fn get_trade_dates_tables(&self, q: &TradeDates) -> Result<Tables> {
        self.query_tables(endpoint::GET_TRADE_DATES, &q.body())
            .await
    }

    /// `get_data_volume`: the account's data usage, as the server's JSON answer (the manual
    /// does not document its fields).
    #[tracing::instrument(name = "ths.get_data_volume", skip_all)]
    pub async fn get_data_volume(&self) -> Result<Value> {
        let op = endpoint::GET_DATA_VOLUME;
        let req = Request::post(op, format!("/{op}"), Idempotency::Idempotent).json(&json!({}))?;
        self.execute(&req).await?.json()
    }

    /// `get_error_message`: the server's text for an error code, as its JSON answer.
    #[tracing::instrument(name = "ths.get_error_message", skip_all)]
    pub async fn get_error_message(&self, code: i64) -> Result<Value> {
        let op = endpoint::GET_ERROR_MESSAGE;
        let req = Request::post(op, format!("/{op}"), Idempotency::Idempotent)
            .json(&json!({"errorcode": code}))?;
        self.execute(&req).await?.json()
    }
}
