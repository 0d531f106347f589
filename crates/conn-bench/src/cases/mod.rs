//! The cases: one platform read, through the connector ("stack") or by hand ("raw").

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::BenchError;

mod douyin;
mod others;

/// Every case name, in report order.
pub const NAMES: [&str; 5] = [
    "douyin.video_data",
    "douyin.video_list_page",
    "ths.history",
    "erp.orders_page",
    "content.stats",
];

/// Which side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// reqwest by hand.
    Raw,
    /// The platform's `Client`.
    Stack,
}

impl Stack {
    /// Parses `raw` or `stack`.
    pub fn parse(s: &str) -> Result<Self, BenchError> {
        match s {
            "raw" => Ok(Self::Raw),
            "stack" => Ok(Self::Stack),
            other => Err(BenchError::Usage(format!(
                "stack must be `raw` or `stack`, got {other:?}"
            ))),
        }
    }
}

/// One call's future; boxed on both sides alike, so the box costs both the same.
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<usize, BenchError>> + Send + 'a>>;

/// A ready-to-call case. `call` returns how many records the answer held (checked against
/// what the server sends, so neither side can skip the work).
pub trait Case: Send + Sync {
    /// One request, checked and decoded.
    fn call(&self) -> CallFuture<'_>;
    /// Records every answer holds.
    fn expected(&self) -> usize;
}

/// The per-request (per-attempt) timeout both sides use: long, because under callgrind 64
/// concurrent 1 MB answers on one thread take far longer than the default 30 s.
pub const TIMEOUT: Duration = Duration::from_secs(600);
/// The user agent both sides send.
pub const USER_AGENT: &str = concat!("connectors/", env!("CARGO_PKG_VERSION"));

/// A reqwest client configured as the transport configures its own.
pub fn raw_http() -> Result<reqwest::Client, BenchError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|source| BenchError::Http {
            case: "setup",
            source,
        })
}

/// Builds case `name` against the server at `base` (`http://127.0.0.1:PORT`).
pub async fn build(name: &str, stack: Stack, base: &str) -> Result<Box<dyn Case>, BenchError> {
    match name {
        "douyin.video_data" => douyin::build(douyin::Op::VideoData, stack, base).await,
        "douyin.video_list_page" => douyin::build(douyin::Op::VideoListPage, stack, base).await,
        "ths.history" => others::ths(stack, base).await,
        "erp.orders_page" => others::erp(stack, base),
        "content.stats" => others::content(stack, base),
        other => Err(BenchError::Usage(format!(
            "unknown case {other:?}; cases are {}",
            NAMES.join(", ")
        ))),
    }
}

/// Checks a raw answer's status and reads its body.
pub(crate) async fn raw_body(
    case: &'static str,
    resp: Result<reqwest::Response, reqwest::Error>,
) -> Result<conn_core::reexports::bytes::Bytes, BenchError> {
    let resp = resp.map_err(|source| BenchError::Http { case, source })?;
    if !resp.status().is_success() {
        return Err(BenchError::Unexpected {
            case,
            what: format!("HTTP {}", resp.status()),
        });
    }
    resp.bytes()
        .await
        .map_err(|source| BenchError::Http { case, source })
}

/// Decodes a raw body with plain serde.
pub(crate) fn raw_decode<T: serde::de::DeserializeOwned>(
    case: &'static str,
    body: &[u8],
) -> Result<T, BenchError> {
    serde_json::from_slice(body).map_err(|source| BenchError::Decode { case, source })
}

/// A connector error for `case`.
pub(crate) fn stack_err(case: &'static str) -> impl Fn(conn_core::Error) -> BenchError {
    move |source| BenchError::Connector { case, source }
}

/// An answer whose codes are not zero.
pub(crate) fn bad_code(case: &'static str, what: impl Into<String>) -> BenchError {
    BenchError::Unexpected {
        case,
        what: what.into(),
    }
}
