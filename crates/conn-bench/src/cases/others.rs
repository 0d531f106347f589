//! iFinD history, an ERP orders page and Toutiao content stats.

use std::collections::BTreeMap;
use std::time::Duration;

use conn_core::env::{Env, MapEnv};
use conn_core::transport::TransportConfig;
use serde::Deserialize;

use super::{
    bad_code, raw_body, raw_decode, raw_http, stack_err, CallFuture, Case, Stack, TIMEOUT,
};
use crate::bodies::{
    ths_codes, CONTENT_ID, ERP_API_KEY, ERP_ORDERS, THS_CODES, THS_INDICATORS, THS_REFRESH_TOKEN,
    THS_ROWS, TOUTIAO_TOKEN,
};
use crate::BenchError;

const THS: &str = "ths.history";
const ERP: &str = "erp.orders_page";
const CONTENT: &str = "content.stats";

fn dates() -> (chrono::NaiveDate, chrono::NaiveDate) {
    let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    (d(2013, 1, 4), d(2020, 2, 15))
}

// ---- iFinD --------------------------------------------------------------------------------

pub(crate) async fn ths(stack: Stack, base: &str) -> Result<Box<dyn Case>, BenchError> {
    let base = format!("{}/api/v1", base.trim_end_matches('/'));
    let (start, end) = dates();
    match stack {
        Stack::Stack => {
            let err = stack_err(THS);
            // No client-side pacing: the limiter would measure the window, not the stack.
            let limit =
                conn_ths::RateLimit::new(1_000_000_000, Duration::from_secs(1)).map_err(&err)?;
            let cfg = conn_ths::Config::builder()
                .refresh_token(THS_REFRESH_TOKEN)
                .base_url(base.as_str())
                .rate_limit(limit)
                .transport(
                    TransportConfig::new(&base)
                        .map_err(&err)?
                        .with_attempt_timeout(TIMEOUT),
                )
                .build()
                .map_err(&err)?;
            let client = conn_ths::Client::new(cfg).map_err(&err)?;
            let query = conn_ths::HistoryQuotation::new(
                ths_codes().join(",").as_str(),
                THS_INDICATORS,
                start,
                end,
            )
            .map_err(&err)?;
            Ok(Box::new(ThsStack { client, query }))
        }
        Stack::Raw => {
            let http = raw_http()?;
            // The access token, fetched once as a by-hand client would.
            let resp = http
                .post(format!("{base}/get_access_token"))
                .header("refresh_token", THS_REFRESH_TOKEN)
                .send()
                .await;
            let body = raw_body(THS, resp).await?;
            let tok: RawThsToken = raw_decode(THS, &body)?;
            let body = serde_json::json!({
                "codes": ths_codes().join(","),
                "indicators": THS_INDICATORS,
                "startdate": start.format("%Y-%m-%d").to_string(),
                "enddate": end.format("%Y-%m-%d").to_string(),
            });
            Ok(Box::new(ThsRaw {
                http,
                url: format!("{base}/cmd_history_quotation"),
                token: tok.data.access_token,
                body,
            }))
        }
    }
}

struct ThsStack {
    client: conn_ths::Client,
    query: conn_ths::HistoryQuotation,
}

impl Case for ThsStack {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let t = self
                .client
                .cmd_history_quotation(&self.query)
                .await
                .map_err(stack_err(THS))?;
            Ok(t.iter().map(|s| s.len()).sum())
        })
    }
    fn expected(&self) -> usize {
        THS_CODES * THS_ROWS
    }
}

#[derive(Deserialize)]
struct RawThsTokenData {
    access_token: String,
}

#[derive(Deserialize)]
struct RawThsToken {
    data: RawThsTokenData,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawThsTable {
    thscode: String,
    time: Vec<String>,
    table: BTreeMap<String, Vec<Option<f64>>>,
}

#[derive(Deserialize)]
struct RawThs {
    errorcode: i64,
    #[serde(default)]
    tables: Vec<RawThsTable>,
}

struct ThsRaw {
    http: reqwest::Client,
    url: String,
    token: String,
    body: serde_json::Value,
}

impl Case for ThsRaw {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let resp = self
                .http
                .post(&self.url)
                .header("access_token", &self.token)
                .json(&self.body)
                .timeout(TIMEOUT)
                .send()
                .await;
            let body = raw_body(THS, resp).await?;
            let r: RawThs = raw_decode(THS, &body)?;
            if r.errorcode != 0 {
                return Err(bad_code(THS, format!("errorcode {}", r.errorcode)));
            }
            Ok(r.tables.iter().map(|t| t.time.len()).sum())
        })
    }
    fn expected(&self) -> usize {
        THS_CODES * THS_ROWS
    }
}

// ---- ERP ----------------------------------------------------------------------------------

pub(crate) fn erp(stack: Stack, base: &str) -> Result<Box<dyn Case>, BenchError> {
    match stack {
        Stack::Stack => {
            let err = stack_err(ERP);
            let env = Env::from_source(
                MapEnv::new()
                    .set("ERP_API_URL", base)
                    .set("ERP_API_KEY", ERP_API_KEY)
                    .set("API_TIMEOUT", TIMEOUT.as_secs().to_string()),
            );
            let cfg = conn_erp::Config::from_env_with(&env).map_err(&err)?;
            let client = conn_erp::Client::new(cfg).map_err(&err)?;
            Ok(Box::new(ErpStack {
                client,
                query: conn_erp::OrderQuery::new(),
            }))
        }
        Stack::Raw => Ok(Box::new(ErpRaw {
            http: raw_http()?,
            url: format!("{}/api/orders", base.trim_end_matches('/')),
        })),
    }
}

struct ErpStack {
    client: conn_erp::Client,
    query: conn_erp::OrderQuery,
}

impl Case for ErpStack {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let p = self
                .client
                .orders_page(&self.query, 0)
                .await
                .map_err(stack_err(ERP))?;
            Ok(p.orders.len())
        })
    }
    fn expected(&self) -> usize {
        ERP_ORDERS
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawLine {
    sku: String,
    name: String,
    quantity: u32,
    unit_price: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawOrder {
    id: String,
    status: String,
    customer: String,
    currency: String,
    total_amount: String,
    created_at: String,
    items: Vec<RawLine>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawOrders {
    code: i64,
    data: Vec<RawOrder>,
    total_count: u64,
}

struct ErpRaw {
    http: reqwest::Client,
    url: String,
}

impl Case for ErpRaw {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let resp = self
                .http
                .get(&self.url)
                .query(&[("page_index", "1"), ("page_size", "100")])
                .header("x-api-key", ERP_API_KEY)
                .timeout(TIMEOUT)
                .send()
                .await;
            let body = raw_body(ERP, resp).await?;
            let r: RawOrders = raw_decode(ERP, &body)?;
            if r.code != 0 {
                return Err(bad_code(ERP, format!("code {}", r.code)));
            }
            Ok(r.data.len())
        })
    }
    fn expected(&self) -> usize {
        ERP_ORDERS
    }
}

// ---- content (Toutiao profile) --------------------------------------------------------------

pub(crate) fn content(stack: Stack, base: &str) -> Result<Box<dyn Case>, BenchError> {
    match stack {
        Stack::Stack => {
            let err = stack_err(CONTENT);
            let env = Env::from_source(
                MapEnv::new()
                    .set("TOUTIAO_BASE_URL", base)
                    .set("TOUTIAO_ACCESS_TOKEN", TOUTIAO_TOKEN),
            );
            let cfg = conn_content::Config::from_env_with(&env, "toutiao").map_err(&err)?;
            let transport = cfg.transport().clone().with_attempt_timeout(TIMEOUT);
            let cfg = cfg.with_transport(transport);
            let client = conn_content::Client::new(cfg).map_err(&err)?;
            Ok(Box::new(ContentStack { client }))
        }
        Stack::Raw => Ok(Box::new(ContentRaw {
            http: raw_http()?,
            url: format!("{}/article/stats/", base.trim_end_matches('/')),
            auth: format!("Bearer {TOUTIAO_TOKEN}"),
        })),
    }
}

struct ContentStack {
    client: conn_content::Client,
}

impl Case for ContentStack {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let s = self
                .client
                .stats(CONTENT_ID)
                .await
                .map_err(stack_err(CONTENT))?;
            Ok(usize::from(s.views.is_some()))
        })
    }
    fn expected(&self) -> usize {
        1
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawStatsData {
    error_code: i64,
    item_id: String,
    read_count: u64,
    digg_count: u64,
    comment_count: u64,
    share_count: u64,
    favorite_count: u64,
}

#[derive(Deserialize)]
struct RawStats {
    data: RawStatsData,
}

struct ContentRaw {
    http: reqwest::Client,
    url: String,
    auth: String,
}

impl Case for ContentRaw {
    fn call(&self) -> CallFuture<'_> {
        Box::pin(async move {
            let resp = self
                .http
                .get(&self.url)
                .query(&[("item_id", CONTENT_ID)])
                .header("authorization", &self.auth)
                .timeout(TIMEOUT)
                .send()
                .await;
            let body = raw_body(CONTENT, resp).await?;
            let r: RawStats = raw_decode(CONTENT, &body)?;
            if r.data.error_code != 0 {
                return Err(bad_code(
                    CONTENT,
                    format!("error_code {}", r.data.error_code),
                ));
            }
            Ok(1)
        })
    }
    fn expected(&self) -> usize {
        1
    }
}
