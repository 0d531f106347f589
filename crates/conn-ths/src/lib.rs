//! # conn-ths: 同花顺 iFinD HTTP data API
//!
//! Market data and portfolio management over iFinD's HTTP API
//! (`https://quantapi.51ifind.com/api/v1`, legacy host `https://ft.10jqka.com.cn/api/v1`),
//! replacing the original system's THS connector (quotes, account info, orders).
//!
//! ## Quick start
//!
//! ```no_run
//! use conn_ths::{Adjust, Client, Config, HistoryQuotation, Interval};
//! use chrono::NaiveDate;
//!
//! # async fn demo() -> conn_core::Result<()> {
//! // THS_REFRESH_TOKEN: the refresh_token shown in the iFinD client.
//! let client = Client::new(Config::from_env()?)?;
//! let q = HistoryQuotation::new(
//!     ["600519.SH", "000001.SZ"],          // validated before any request
//!     ["open", "close", "volume"],
//!     NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
//!     NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(),
//! )?
//! .interval(Interval::Day)
//! .adjust(Adjust::Forward);
//! let tables = client.cmd_history_quotation(&q).await?;
//! let moutai = tables.get("600519.SH").expect("requested");
//! let closes: &[Option<rust_decimal::Decimal>] = moutai.numbers("close").expect("numeric column");
//! for row in moutai.rows() {
//!     println!("{:?} close={:?}", row.time(), row.number("close"));
//! }
//! # let _ = closes; Ok(()) }
//! ```
//!
//! ## What is here
//!
//! | module | holds |
//! |---|---|
//! | `config` | [`Config`] (builder, [`Config::from_env`]) |
//! | `client` | [`Client`] and [`ClientBuilder`]: token, rate-limit, retry and replay rules shared by every call |
//! | [`auth`] | access tokens from the refresh token, through conn-core's single-flight token manager |
//! | `ops` | every data function of the manual, typed (see [`endpoint`]) |
//! | `options` | the manual's `functionpara` enums ([`Adjust`], [`HfAdjust`], [`Currency`], [`Calculate`], ...) |
//! | [`portfolio`] | `portfolio_manage`, every `func` of the manual |
//! | `tables` | the typed columnar result ([`Tables`]) and its direct deserializer |
//! | `security_codes` | [`SecurityCode`] shape checks |
//! | `params` | indicators, dates, `indipara` |
//! | [`envelope`] | the manual's error table ([`envelope::ERROR_TABLE`]) → [`ApiErrorKind`](conn_core::error::ApiErrorKind) and [`Action`] |
//! | `ratelimit` | the client-side GCRA [`RateLimiter`], keyed by account, behind conn-core's `Limiter` |
//! | `fake` | (feature `fake`) `FakeIfind`, a stateful fake of the API for tests and sandboxes |
//!
//! ## Credentials: what became of the original variables
//!
//! iFinD authenticates with one long-lived **refresh token** per account (`THS_REFRESH_TOKEN`,
//! from the iFinD client: 超级命令 → 工具 → refresh_token 查询). The client exchanges it for an
//! access token (`get_access_token`, valid 7 days), caches and persists it, and sends it in an
//! `access_token` header. The original `TONGHUASHUN_API_KEY`, `TONGHUASHUN_API_SECRET`,
//! `THS_APP_KEY` and `THS_APP_SECRET` **do not exist on iFinD** and map to nothing: a
//! configuration that sets only them fails with a config error saying to set `THS_REFRESH_TOKEN`.
//! The original `THS_BASE_URL=https://api.10jqka.com.cn` was a placeholder and is refused with
//! the real hosts named.
//!
//! ## No retail order API
//!
//! iFinD has no public order-placement HTTP API for retail accounts. The original "place order"
//! maps to `portfolio_manage` `deal`, which **records a trade in an iFinD analytic portfolio**
//! (nothing reaches an exchange), and "account info" to `query_overview`/`query_positions`.
//! A deal is never replayed blindly; see [`portfolio`].
//!
//! ## Rate limit
//!
//! iFinD answers -4400 above 600 requests a minute. Every request (token fetches and retries
//! included) first takes a permit of the account from a `conn_core::limit::Limiter` shared by
//! all clones of a [`Client`] ([`RateLimiter`] by default; [`ClientBuilder::limiter`] takes a
//! shared one, such as a Redis limiter), so a busy caller waits instead of being refused. A
//! real -4400 (another process on the account) penalizes the account for one window before
//! the retry. Configure with `THS_RATE_LIMIT_PER_MINUTE` and
//! `THS_RATE_LIMIT_WINDOW` or [`ConfigBuilder::rate_limit`].
//!
//! ## ⚠ Unconfirmed details (configurable)
//!
//! - `get_access_token`'s `data.expired_time` appears in some clients only. It is read when
//!   present (Beijing time, or Unix seconds/ms); otherwise a 7-day lifetime is assumed
//!   ([`ConfigBuilder::token_lifetime`]). An overestimate costs one -1302 and a replay.
//! - `portfolio_manage` field names other than `func` (see [`portfolio`]); raw options are
//!   accepted everywhere.
//! - The trading-calendar market code of [`MarketCode::a_shares`] (`212001`).

// On docs.rs, feature-gated items say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod client;
mod config;
mod connector;
pub mod envelope;
mod ops;
mod options;
mod params;
pub mod portfolio;
mod ratelimit;
mod security_codes;
mod tables;

#[cfg(feature = "fake")]
#[cfg_attr(docsrs, doc(cfg(feature = "fake")))]
pub mod fake;

use conn_core::env::EnvVarDoc;

pub use auth::endpoint::IfindRefresher;
pub use client::{Client, ClientBuilder};
pub use config::{
    normalize_base_url, Config, ConfigBuilder, DEFAULT_BASE_URL, DEFAULT_REFRESH_MARGIN,
    DEFAULT_TOKEN_LIFETIME, LEGACY_BASE_URL,
};
pub use envelope::table::{Action, CodeInfo, Limit, RateSignal};
pub use ops::{
    endpoint, trade_dates_of, BasicData, DataPool, DateFormat, DateQueryMode, DateSequence,
    DateType, EdbQuery, FinalFundValuation, FundValuation, HighFrequency, HistoryQuotation,
    MarketCode, OffsetOutput, RealTimeQuotation, ReportQuery, SearchType, SmartStockPicking,
    SnapShot, ThsCodeLookup, TradeDates, TradeStatus,
};
pub use options::{
    is_tech_indicator, Adjust, Calculate, Currency, Days, Fill, FunctionPara, HfAdjust, Interval,
    Minutes, PriceType, SequenceFill, TimeFormat, TECH_INDICATORS,
};
pub use params::{
    fmt_date, fmt_datetime, parse_date, parse_datetime, IndiPara, Indicators, IntoIndicators,
};
pub use portfolio::deal::{Bonus, Deal, DealInput, PortfolioCurrency, Side};
pub use portfolio::ids::{PortfolioId, WriteReceipt};
pub use portfolio::manage::{
    CashAccess, CashMovement, FileImport, ImportRow, ImportStatusQuery, NewPortfolio,
    PortfolioImport, TradingCalendar,
};
pub use portfolio::queries::{
    ExchangeRecordsQuery, OverviewQuery, PerformClass, PerformCycle, PerformQuery, PositionsQuery,
    RiskCycle, RiskQuery,
};
pub use ratelimit::{
    LimiterHook, RateLimit, RateLimiter, DEFAULT_REQUESTS_PER_WINDOW, DEFAULT_WINDOW,
};
pub use security_codes::{Codes, IntoCodes, SecurityCode, MARKETS};
pub use tables::{Cell, Column, ColumnData, Row, Rows, SecurityTable, Tables};

/// The platform name used in errors, stats and token keys.
pub const PLATFORM: &str = "ths";

/// Every environment variable this crate reads (env.example is generated from it), plus the
/// original system's variables, listed to say that they are not used.
pub const ENV_VARS: &[EnvVarDoc] = &[
    EnvVarDoc::secret(
        "THS_REFRESH_TOKEN",
        "iFinD refresh_token (iFinD client: 超级命令 → 工具 → refresh_token 查询); the only credential of the iFinD HTTP API.",
    ),
    EnvVarDoc::new(
        "THS_BASE_URL",
        "https://quantapi.51ifind.com/api/v1",
        "iFinD HTTP API base URL (legacy host https://ft.10jqka.com.cn/api/v1 also works).",
    ),
    EnvVarDoc::new(
        "THS_RATE_LIMIT_PER_MINUTE",
        "600",
        "Client-side limit: requests per THS_RATE_LIMIT_WINDOW (iFinD refuses more than 600 a minute with -4400).",
    ),
    EnvVarDoc::new(
        "THS_RATE_LIMIT_WINDOW",
        "60",
        "Window of THS_RATE_LIMIT_PER_MINUTE in seconds (sandboxes and tests shorten it).",
    ),
    EnvVarDoc::secret(
        "TONGHUASHUN_API_KEY",
        "Not used: iFinD has no API key (original system's variable); set THS_REFRESH_TOKEN instead.",
    ),
    EnvVarDoc::secret(
        "TONGHUASHUN_API_SECRET",
        "Not used: iFinD has no API secret (original system's variable); set THS_REFRESH_TOKEN instead.",
    ),
    EnvVarDoc::secret(
        "THS_APP_KEY",
        "Not used: iFinD has no app key (original system's variable); set THS_REFRESH_TOKEN instead.",
    ),
    EnvVarDoc::secret(
        "THS_APP_SECRET",
        "Not used: iFinD has no app secret (original system's variable); set THS_REFRESH_TOKEN instead.",
    ),
];
