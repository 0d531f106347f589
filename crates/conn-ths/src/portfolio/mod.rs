//! `portfolio_manage`: iFinD analytic portfolios, every `func` of the manual (the original
//! system's "account info" and "place order").
//!
//! There is **no retail order-placement HTTP API** on iFinD. What the original system called
//! "place order" maps to `func: "deal"`, which *records* a trade in one of the account's iFinD
//! analytic portfolios; nothing is sent to an exchange. "Account info" maps to
//! `query_overview` and `query_positions`.
//!
//! | method | `func` | request | replayed |
//! |---|---|---|---|
//! | [`Client::portfolio_new`] | `newportf` | [`NewPortfolio`] | no |
//! | [`Client::portfolio_import`] | `importf` | [`PortfolioImport`] | no |
//! | [`Client::portfolio_file_import`] | `fileimport` (multipart) | [`FileImport`] | no |
//! | [`Client::portfolio_import_status`] | `query_commit` | [`ImportStatusQuery`] | yes |
//! | [`Client::portfolio_cash`] | `cashacs` | [`CashMovement`] | no |
//! | [`Client::portfolio_deal`] | `deal` | [`Deal`] | no |
//! | [`Client::portfolio_exchange_records`] | `query_exchange_records` | [`ExchangeRecordsQuery`] | yes |
//! | [`Client::portfolio_overview`] | `query_overview` | [`OverviewQuery`] | yes |
//! | [`Client::portfolio_positions`] | `query_positions` | [`PositionsQuery`] | yes |
//! | [`Client::portfolio_perform`] | `query_perform` | [`PerformQuery`] | yes |
//! | [`Client::portfolio_risk`] | `query_risk_profits` | [`RiskQuery`] | yes |
//!
//! A write is **not idempotent**: replaying a deal records the trade twice. It is sent once and
//! retried only when it surely did not arrive (connect error) or was refused before processing
//! (-4400). When the outcome is unknown (timeout, dropped connection, a server code after
//! sending) the error is [`Error::OutcomeUnknown`](conn_core::Error::OutcomeUnknown) carrying the
//! deal's identifying fields; [`Client::deal_recorded`] then asks `query_exchange_records`
//! whether a matching trade was recorded before the caller decides to send it again.

pub(crate) mod deal;
pub(crate) mod ids;
pub mod keyed;
pub(crate) mod manage;
pub(crate) mod queries;

use chrono::NaiveDate;
use conn_core::retry::Idempotency;
use conn_core::transport::{Body, Request};
use conn_core::Result;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::client::Client;
use crate::envelope::read_envelope_full;
use crate::ops::endpoint::PORTFOLIO_MANAGE;
use crate::tables::{Cell, Tables};

pub(crate) use ids::{PortfolioId, WriteReceipt};
pub use manage::IMPORT_HEADER;
pub use queries::EXCHANGE_RECORDS_MAX_DAYS;

// The types of this module are at the crate root (one path each).
use crate::{
    CashMovement, Deal, DealInput, ExchangeRecordsQuery, FileImport, ImportStatusQuery,
    NewPortfolio, OverviewQuery, PerformQuery, PortfolioImport, PositionsQuery, RiskQuery,
};

fn op_name(func: &str) -> &'static str {
    match func {
        "newportf" => "portfolio_manage.newportf",
        "importf" => "portfolio_manage.importf",
        "fileimport" => "portfolio_manage.fileimport",
        "query_commit" => "portfolio_manage.query_commit",
        "cashacs" => "portfolio_manage.cashacs",
        "deal" => "portfolio_manage.deal",
        "query_exchange_records" => "portfolio_manage.query_exchange_records",
        "query_overview" => "portfolio_manage.query_overview",
        "query_positions" => "portfolio_manage.query_positions",
        "query_perform" => "portfolio_manage.query_perform",
        _ => "portfolio_manage.query_risk_profits",
    }
}

impl Client {
    async fn portfolio_read(&self, func: &'static str, body: &Value) -> Result<Tables> {
        let op = op_name(func);
        let req = Request::post(op, format!("/{PORTFOLIO_MANAGE}"), Idempotency::Idempotent)
            .json(body)?;
        let resp = self.execute(&req).await?;
        Tables::decode(op, &resp.body)
    }

    async fn portfolio_write(&self, req: Request) -> Result<WriteReceipt> {
        let resp = self.execute(&req).await?;
        let message = read_envelope_full(&resp.body)
            .map(|(_, m)| m)
            .unwrap_or_default();
        let answer = resp.json()?;
        Ok(WriteReceipt { message, answer })
    }

    fn write_request(func: &'static str) -> Request {
        Request::post(
            op_name(func),
            format!("/{PORTFOLIO_MANAGE}"),
            Idempotency::NonIdempotent,
        )
    }

    /// `newportf`: creates a portfolio. Not replayed.
    #[tracing::instrument(name = "ths.portfolio.newportf", skip_all)]
    pub async fn portfolio_new(&self, p: &NewPortfolio) -> Result<WriteReceipt> {
        self.portfolio_write(Self::write_request("newportf").json(&p.body())?)
            .await
    }

    /// `importf`: imports a history table. Not replayed.
    #[tracing::instrument(name = "ths.portfolio.importf", skip_all)]
    pub async fn portfolio_import(&self, p: &PortfolioImport) -> Result<WriteReceipt> {
        self.portfolio_write(Self::write_request("importf").json(&p.body()?)?)
            .await
    }

    /// `fileimport`: imports a file, as multipart. Not replayed.
    #[tracing::instrument(name = "ths.portfolio.fileimport", skip_all)]
    pub async fn portfolio_file_import(&self, f: &FileImport) -> Result<WriteReceipt> {
        self.portfolio_write(Self::write_request("fileimport").body(Body::Multipart(f.parts())))
            .await
    }

    /// `query_commit`: the state of an import job.
    #[tracing::instrument(name = "ths.portfolio.query_commit", skip_all)]
    pub async fn portfolio_import_status(&self, q: &ImportStatusQuery) -> Result<Tables> {
        self.portfolio_read("query_commit", &q.body()).await
    }

    /// `cashacs`: a deposit or withdrawal. Not replayed; an unknown outcome carries
    /// `portfid`, `acesscls` and `amount`.
    #[tracing::instrument(name = "ths.portfolio.cashacs", skip_all, fields(portfid = %c.portfolio))]
    pub async fn portfolio_cash(&self, c: &CashMovement) -> Result<WriteReceipt> {
        let req = Self::write_request("cashacs")
            .json(&c.body())?
            .outcome_context("portfid", c.portfolio.to_string());
        self.portfolio_write(req).await
    }

    /// `deal`: records a trade in an iFinD analytic portfolio (no order reaches an exchange).
    /// Sent once; see the [module docs](crate::portfolio) for when it is retried and how to
    /// reconcile an unknown outcome.
    #[tracing::instrument(name = "ths.portfolio.deal", skip_all, fields(portfid = %deal.input().portfolio, thscode = %deal.input().symbol))]
    pub async fn portfolio_deal(&self, deal: &Deal) -> Result<WriteReceipt> {
        let mut req = Self::write_request("deal").json(&deal.body())?;
        for (k, v) in deal.identity() {
            req = req.outcome_context(k, v);
        }
        self.portfolio_write(req).await
    }

    /// `query_exchange_records`: the trade log.
    #[tracing::instrument(name = "ths.portfolio.query_exchange_records", skip_all, fields(portfid = %q.portfolio))]
    pub async fn portfolio_exchange_records(&self, q: &ExchangeRecordsQuery) -> Result<Tables> {
        self.portfolio_read("query_exchange_records", &q.body())
            .await
    }

    /// `query_overview`: the portfolio's value and returns.
    #[tracing::instrument(name = "ths.portfolio.query_overview", skip_all, fields(portfid = %q.portfolio))]
    pub async fn portfolio_overview(&self, q: &OverviewQuery) -> Result<Tables> {
        self.portfolio_read("query_overview", &q.body()).await
    }

    /// `query_positions`: the portfolio's holdings.
    #[tracing::instrument(name = "ths.portfolio.query_positions", skip_all, fields(portfid = %q.portfolio))]
    pub async fn portfolio_positions(&self, q: &PositionsQuery) -> Result<Tables> {
        self.portfolio_read("query_positions", &q.body()).await
    }

    /// `query_perform`: performance.
    #[tracing::instrument(name = "ths.portfolio.query_perform", skip_all, fields(portfid = %q.portfolio))]
    pub async fn portfolio_perform(&self, q: &PerformQuery) -> Result<Tables> {
        self.portfolio_read("query_perform", &q.body()).await
    }

    /// `query_risk_profits`: risk indicators.
    #[tracing::instrument(name = "ths.portfolio.query_risk_profits", skip_all, fields(portfid = %q.portfolio))]
    pub async fn portfolio_risk(&self, q: &RiskQuery) -> Result<Tables> {
        self.portfolio_read("query_risk_profits", &q.body()).await
    }

    /// Reconciliation after an unknown outcome: asks `query_exchange_records` for `on` and
    /// reports whether a trade with the deal's code, price and volume was recorded (the trade
    /// log keeps no client reference, so two identical deals of one day cannot be told
    /// apart: the count is returned).
    #[tracing::instrument(name = "ths.portfolio.deal_recorded", skip_all)]
    pub async fn deal_recorded(&self, deal: &Deal, on: NaiveDate) -> Result<usize> {
        let i = deal.input();
        let q = ExchangeRecordsQuery::new(i.portfolio, "date,code,dealPrice,dealNumber", on, on)?;
        let tables = self.portfolio_exchange_records(&q).await?;
        Ok(matching_records(&tables, i))
    }
}

fn decimal_of(c: Option<Cell<'_>>) -> Option<Decimal> {
    match c? {
        Cell::Number(n) => Some(n),
        Cell::Text(s) => s.trim().parse().ok(),
        Cell::Missing => None,
    }
}

/// How many rows of a trade log match a deal (code starting with its symbol, same price and
/// volume).
pub fn matching_records(tables: &Tables, i: &DealInput) -> usize {
    tables
        .iter()
        .flat_map(|t| t.rows())
        .filter(|r| {
            let code = match r.get("code") {
                Some(Cell::Text(s)) => s.to_owned(),
                Some(Cell::Number(n)) => format!("{n}"),
                _ => return false,
            };
            code.split('.').next() == Some(i.symbol.as_str())
                && decimal_of(r.get("dealPrice")).map(|d| d.normalize())
                    == Some(i.price.normalize())
                && decimal_of(r.get("dealNumber")).map(|d| d.abs().normalize())
                    == Some(i.volume.normalize())
        })
        .count()
}
