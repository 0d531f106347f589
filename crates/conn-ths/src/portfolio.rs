//! `portfolio_manage`: iFinD analytic portfolios (the original system's "account info" and
//! "place order").
//!
//! There is **no retail order-placement HTTP API** on iFinD. What the original system called
//! "place order" maps to `portfolio_manage` `func: "deal"`, which *records* a trade in one of the
//! account's iFinD analytic portfolios (for performance and risk analysis); nothing is sent to
//! an exchange. "Account info" maps to `query_overview` (portfolio value, returns) and
//! `query_positions` (holdings).
//!
//! A deal is **not idempotent**: replaying it records the trade twice. It is sent once; it is
//! retried only when it surely did not arrive (connect error) or was refused before processing
//! (-4400, or -1302 followed by a token fetch). When the outcome is unknown (timeout, dropped
//! connection, server code after sending) the error is [`Error::OutcomeUnknown`] carrying the
//! deal's identifying fields (`portfid`, `thscode`, `direct`, `volume`, `price`, `date`) so the
//! caller can look at the portfolio's positions before deciding to send it again.
//!
//! ⚠ PLATFORMS.md fixes only `func` and the three function names. The other field names
//! (`portfid`, `indicators`, and the deal's `functionpara` keys `thscode`, `direct`, `volume`,
//! `price`, `date`, `time`, `fee`) follow the iFinD manual's portfolio examples as far as they
//! could be checked; every request takes raw `functionpara` options ([`Deal::param`],
//! [`PortfolioQuery::param`]) to adapt without a release.

use std::fmt;

use chrono::{NaiveDate, NaiveTime};
use conn_core::retry::Idempotency;
use conn_core::transport::Request;
use conn_core::{Error, Result};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::codes::SecurityCode;
use crate::envelope::read_envelope_full;
use crate::ops::endpoint::PORTFOLIO_MANAGE;
use crate::params::{check_name, fmt_date, FunctionPara, Indicators, IntoIndicators};
use crate::tables::Tables;

/// An iFinD portfolio id (`portfid`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortfolioId(String);

impl PortfolioId {
    /// A non-empty id without spaces.
    pub fn new(id: impl AsRef<str>) -> Result<Self> {
        Ok(Self(check_name(id.as_ref(), "portfid")?))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PortfolioId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `query_overview` or `query_positions` request.
///
/// ```
/// use conn_ths::{PortfolioId, PortfolioQuery};
/// let q = PortfolioQuery::new(PortfolioId::new("10086").unwrap())
///     .indicators(["thscode", "volume"]).unwrap();
/// assert_eq!(
///     q.body("query_positions").to_string(),
///     r#"{"func":"query_positions","indicators":"thscode,volume","portfid":"10086"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioQuery {
    portfolio: PortfolioId,
    indicators: Option<Indicators>,
    params: FunctionPara,
}

impl PortfolioQuery {
    /// A query of one portfolio (the server's default indicators).
    pub fn new(portfolio: PortfolioId) -> Self {
        Self {
            portfolio,
            indicators: None,
            params: FunctionPara::new(),
        }
    }

    /// Asks for specific indicators.
    pub fn indicators(mut self, i: impl IntoIndicators) -> Result<Self> {
        self.indicators = Some(i.into_indicators()?);
        Ok(self)
    }

    /// Adds a raw `functionpara` option.
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.params = self.params.raw(key, value)?;
        Ok(self)
    }

    /// The JSON body for `func`.
    pub fn body(&self, func: &str) -> Value {
        let mut m = Map::new();
        m.insert("func".into(), json!(func));
        m.insert("portfid".into(), json!(self.portfolio.as_str()));
        if let Some(i) = &self.indicators {
            m.insert("indicators".into(), json!(i.joined()));
        }
        if !self.params.is_empty() {
            m.insert("functionpara".into(), json!(self.params));
        }
        Value::Object(m)
    }
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    /// The value on the wire (`direct`).
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// A trade to record in a portfolio (`func: "deal"`).
///
/// ```
/// use conn_ths::{Deal, PortfolioId, SecurityCode, Side};
/// use chrono::NaiveDate;
/// use rust_decimal::Decimal;
/// let d = Deal::new(
///     PortfolioId::new("10086").unwrap(),
///     SecurityCode::parse("600519.SH").unwrap(),
///     Side::Buy,
///     100,
///     Decimal::new(168_550, 2),
///     NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
/// ).unwrap();
/// assert_eq!(
///     d.body().to_string(),
///     r#"{"func":"deal","functionpara":{"date":"2024-01-02","direct":"buy","price":"1685.50","thscode":"600519.SH","volume":"100"},"portfid":"10086"}"#
/// );
/// assert!(Deal::new(PortfolioId::new("1").unwrap(), SecurityCode::parse("600519.SH").unwrap(),
///     Side::Sell, 0, Decimal::ONE, NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    portfolio: PortfolioId,
    code: SecurityCode,
    side: Side,
    volume: u64,
    price: Decimal,
    date: NaiveDate,
    time: Option<NaiveTime>,
    fee: Option<Decimal>,
    extra: FunctionPara,
}

impl Deal {
    /// A trade: volume above zero, price above zero.
    pub fn new(
        portfolio: PortfolioId,
        code: SecurityCode,
        side: Side,
        volume: u64,
        price: Decimal,
        date: NaiveDate,
    ) -> Result<Self> {
        if volume == 0 {
            return Err(Error::validation("volume", "must be above 0"));
        }
        if price <= Decimal::ZERO {
            return Err(Error::validation(
                "price",
                format!("must be above 0, got {price}"),
            ));
        }
        Ok(Self {
            portfolio,
            code,
            side,
            volume,
            price,
            date,
            time: None,
            fee: None,
            extra: FunctionPara::new(),
        })
    }

    /// Sets the time of day of the trade.
    pub fn at(mut self, time: NaiveTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Sets the fee (not negative).
    pub fn fee(mut self, fee: Decimal) -> Result<Self> {
        if fee < Decimal::ZERO {
            return Err(Error::validation(
                "fee",
                format!("must not be negative, got {fee}"),
            ));
        }
        self.fee = Some(fee);
        Ok(self)
    }

    /// Adds a raw `functionpara` option (a typed field of the same name wins).
    pub fn param(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Result<Self> {
        self.extra = self.extra.raw(key, value)?;
        Ok(self)
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("thscode", self.code.to_string()),
            ("direct", self.side.as_str().to_owned()),
            ("volume", self.volume.to_string()),
            ("price", self.price.to_string()),
            ("date", fmt_date(self.date)),
        ];
        if let Some(t) = self.time {
            f.push(("time", t.format("%H:%M:%S").to_string()));
        }
        if let Some(fee) = self.fee {
            f.push(("fee", fee.to_string()));
        }
        f
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut p = self.extra.clone();
        for (k, v) in self.fields() {
            p = p.set(k, v);
        }
        json!({"func": "deal", "portfid": self.portfolio.as_str(), "functionpara": p})
    }

    /// What identifies this deal, for [`Error::OutcomeUnknown`] context.
    pub fn identity(&self) -> Vec<(String, String)> {
        let mut v = vec![("portfid".to_owned(), self.portfolio.to_string())];
        v.extend(self.fields().into_iter().map(|(k, v)| (k.to_owned(), v)));
        v
    }
}

/// What the server said about a recorded deal.
#[derive(Debug, Clone, PartialEq)]
pub struct DealReceipt {
    /// The deal as sent.
    pub deal: Deal,
    /// The server's `errmsg` (`"Success!"`).
    pub message: String,
    /// Any tables the answer carried.
    pub tables: Tables,
}

impl Client {
    /// `portfolio_manage` `query_overview`: the portfolio's value and returns.
    #[tracing::instrument(name = "ths.portfolio.query_overview", skip_all, fields(portfid = %q.portfolio))]
    pub async fn portfolio_overview(&self, q: &PortfolioQuery) -> Result<Tables> {
        self.portfolio_query("query_overview", q).await
    }

    /// `portfolio_manage` `query_positions`: the portfolio's holdings.
    #[tracing::instrument(name = "ths.portfolio.query_positions", skip_all, fields(portfid = %q.portfolio))]
    pub async fn portfolio_positions(&self, q: &PortfolioQuery) -> Result<Tables> {
        self.portfolio_query("query_positions", q).await
    }

    async fn portfolio_query(&self, func: &'static str, q: &PortfolioQuery) -> Result<Tables> {
        let req = Request::post(
            op_name(func),
            format!("/{PORTFOLIO_MANAGE}"),
            Idempotency::Idempotent,
        )
        .json(&q.body(func))?;
        let resp = self.execute(&req).await?;
        Tables::decode(op_name(func), &resp.body)
    }

    /// `portfolio_manage` `deal`: records a trade in an iFinD analytic portfolio (no order
    /// reaches an exchange). Sent once; see the [module docs](crate::portfolio) for when it is
    /// retried and for [`Error::OutcomeUnknown`].
    #[tracing::instrument(name = "ths.portfolio.deal", skip_all, fields(portfid = %deal.portfolio, thscode = %deal.code))]
    pub async fn portfolio_deal(&self, deal: &Deal) -> Result<DealReceipt> {
        let mut req = Request::post(
            op_name("deal"),
            format!("/{PORTFOLIO_MANAGE}"),
            Idempotency::NonIdempotent,
        )
        .json(&deal.body())?;
        for (k, v) in deal.identity() {
            req = req.outcome_context(k, v);
        }
        let resp = self.execute(&req).await?;
        let message = read_envelope_full(&resp.body)
            .map(|(_, m)| m)
            .unwrap_or_default();
        let tables = Tables::decode(op_name("deal"), &resp.body)?;
        Ok(DealReceipt {
            deal: deal.clone(),
            message,
            tables,
        })
    }
}

fn op_name(func: &str) -> &'static str {
    match func {
        "query_overview" => "portfolio_manage.query_overview",
        "query_positions" => "portfolio_manage.query_positions",
        _ => "portfolio_manage.deal",
    }
}
