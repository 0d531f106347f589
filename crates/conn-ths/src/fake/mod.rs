//! `FakeIfind`: a stateful fake of the iFinD HTTP API on a local wiremock server (feature
//! `fake`), for this crate's tests, for users' tests, and for the CLI's sandbox.
//!
//! It behaves like the real API where a client can tell:
//!
//! - **tokens**: `get_access_token` with its refresh token (header `refresh_token`) issues an
//!   access token with an `expired_time`, and returns the same one until it expires;
//!   `update_access_token` issues a new one and invalidates every older one; data calls check the
//!   `access_token` header (-1302 when expired or unknown, -1300 when missing or after
//!   [`FakeIfind::revoke_refresh_token`]); a wrong refresh token gets -1301;
//! - **rate limit**: more than N requests in any window (600 per minute by default, any endpoint)
//!   get -4400;
//! - **data**: every operation answers for any valid code, with values derived from a hash of
//!   code, indicator and time ([`fake_value`]), so tests can assert exact numbers; a bad code
//!   gets -4203;
//! - **portfolios**: `deal` records trades, `query_positions`/`query_overview` reflect them;
//! - **faults** on demand, conn-core's kit ([`FakeIfind::fail_next`] with a [`Fault`]: error
//!   codes, busy, rate limit, token expiry, slow or cut answers, gateway statuses, dropped
//!   connections), stale tokens ([`FakeIfind::serve_stale_tokens`]), quota exhaustion; and odd
//!   but real answer shapes ([`FakeIfind::set_shapes`]).
//!
//! It counts requests per endpoint.
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! use conn_ths::fake::{FakeIfind, fake_value};
//! use conn_ths::{Client, RealTimeQuotation};
//! let fake = FakeIfind::start().await;
//! let client = Client::new(fake.config()).unwrap();
//! let q = RealTimeQuotation::new(["600519.SH"], ["latest"]).unwrap();
//! let t = client.real_time_quotation(&q).await.unwrap();
//! let row = t.get("600519.SH").unwrap().rows().next().unwrap();
//! // The fake's value, read exactly (a decimal, printed as the fake wrote it).
//! assert_eq!(
//!     row.number("latest").map(|d| d.to_string()),
//!     Some(fake_value("600519.SH", "latest", row.time().unwrap()).to_string())
//! );
//! assert_eq!(fake.request_count("get_access_token"), 1);
//! # });
//! ```

mod data;
pub mod market;
mod schema;
mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::MutexGuard;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use conn_core::fake::{FakeServer, Shared};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

pub use conn_core::fake::Fault;
pub use data::{
    bar_times, by_period, fake_text, fake_value, is_text_indicator, offset_days, weekdays, Shape,
};
pub use market::fnv1a;
pub use state::{RecordedDeal, ANY_DATA_ENDPOINT};

use crate::config::{Config, ConfigBuilder};
use crate::ratelimit::RateLimit;
use state::{Settings, State};

/// The refresh token a fake accepts unless told otherwise.
pub const DEFAULT_FAKE_REFRESH_TOKEN: &str = "fake-refresh-token-0123456789";

/// A running fake iFinD server. Dropping it stops the server.
pub struct FakeIfind {
    server: FakeServer,
    state: Shared<State>,
    refresh_token: String,
    rate_limit: Option<(u32, Duration)>,
    token_lifetime: Duration,
}

impl fmt::Debug for FakeIfind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeIfind")
            .field("uri", &self.uri())
            .field("rate_limit", &self.rate_limit)
            .field("token_lifetime", &self.token_lifetime)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`FakeIfind`] before it starts.
#[derive(Debug, Clone)]
pub struct FakeIfindBuilder {
    refresh_token: String,
    rate_limit: Option<(u32, Duration)>,
    token_lifetime: Duration,
    send_expired_time: bool,
    quote_time: NaiveDateTime,
    token_fetch_limit: Option<u32>,
}

impl Default for FakeIfindBuilder {
    fn default() -> Self {
        Self {
            refresh_token: DEFAULT_FAKE_REFRESH_TOKEN.to_owned(),
            rate_limit: Some((600, Duration::from_secs(60))),
            token_lifetime: Duration::from_secs(7 * 24 * 3600),
            send_expired_time: true,
            quote_time: NaiveDate::from_ymd_opt(2024, 6, 28)
                .and_then(|d| d.and_hms_opt(15, 0, 0))
                .unwrap_or_default(),
            token_fetch_limit: None,
        }
    }
}

impl FakeIfindBuilder {
    /// The refresh token the fake accepts.
    /// An empty token is ignored (the fake keeps [`DEFAULT_FAKE_REFRESH_TOKEN`]).
    pub fn refresh_token(mut self, rt: impl Into<String>) -> Self {
        let rt = rt.into();
        if !rt.trim().is_empty() {
            self.refresh_token = rt;
        }
        self
    }

    /// Enforces at most `requests` per `window` (default 600 per minute).
    pub fn rate_limit(mut self, requests: u32, window: Duration) -> Self {
        self.rate_limit = Some((requests.max(1), window));
        self
    }

    /// Enforces no rate limit.
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// The lifetime of issued access tokens (default 7 days).
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.token_lifetime = d;
        self
    }

    /// Leaves `data.expired_time` out of token answers (some iFinD deployments do).
    pub fn without_expired_time(mut self) -> Self {
        self.send_expired_time = false;
        self
    }

    /// The time stamped on real-time quotes (default 2024-06-28 15:00:00).
    pub fn quote_time(mut self, t: NaiveDateTime) -> Self {
        self.quote_time = t;
        self
    }

    /// Refuses token fetches beyond `n` with -1305 (daily fetch limit).
    pub fn token_fetch_limit(mut self, n: u32) -> Self {
        self.token_fetch_limit = Some(n);
        self
    }

    /// Starts the server on 127.0.0.1.
    pub async fn start(self) -> FakeIfind {
        let state = Shared::new(State::new(Settings {
            refresh_token: self.refresh_token.clone(),
            rate_limit: self.rate_limit,
            token_lifetime: self.token_lifetime,
            send_expired_time: self.send_expired_time,
            quote_time: self.quote_time,
            token_fetch_limit: self.token_fetch_limit,
        }));
        let server = FakeServer::start().await;
        let drops = state.clone();
        server
            .drop_connections_when("fake iFinD", move |req: &wiremock::Request| {
                drops.lock().take_drop(req.url.path())
            })
            .await;
        Mock::given(any())
            .respond_with(Responder {
                state: state.clone(),
            })
            .named("fake iFinD")
            .mount(&server)
            .await;
        FakeIfind {
            server,
            state,
            refresh_token: self.refresh_token,
            rate_limit: self.rate_limit,
            token_lifetime: self.token_lifetime,
        }
    }
}

struct Responder {
    state: Shared<State>,
}

impl Respond for Responder {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let answer = {
            let mut st = self.state.lock();
            st.handle(req.url.path(), &req.headers, &req.body)
        };
        let mut t = ResponseTemplate::new(answer.status);
        t = if answer.json {
            t.set_body_raw(answer.body, "application/json; charset=utf-8")
        } else {
            t.set_body_raw(answer.body, "text/html")
        };
        if let Some(d) = answer.delay {
            t = t.set_delay(d);
        }
        t
    }
}

impl FakeIfind {
    /// Starts a fake with the defaults (600 requests per minute, 7-day tokens).
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// A builder.
    pub fn builder() -> FakeIfindBuilder {
        FakeIfindBuilder::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// The base URL (`http://127.0.0.1:PORT/api/v1`).
    pub fn uri(&self) -> String {
        format!("{}/api/v1", self.server.uri())
    }

    /// The refresh token the fake accepts.
    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }

    /// The wiremock server (received requests, extra mocks).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The client rate limit matching the fake's (default 600 per minute when the fake has
    /// none).
    pub fn client_rate_limit(&self) -> RateLimit {
        self.rate_limit
            .and_then(|(n, w)| RateLimit::new(n, w).ok())
            .unwrap_or_default()
    }

    /// A configuration builder pointing at the fake, with its refresh token and a matching
    /// rate limit (the refresh margin is a tenth of the token lifetime, at most 5 minutes);
    /// tests tune it (retry, timeouts) before building.
    pub fn config_builder(&self) -> ConfigBuilder {
        let margin = (self.token_lifetime / 10).min(Duration::from_secs(300));
        Config::builder()
            .refresh_token(self.refresh_token.as_str())
            .base_url(self.uri())
            .rate_limit(self.client_rate_limit())
            .token_lifetime(self.token_lifetime)
            .refresh_margin(margin)
    }

    /// [`FakeIfind::config_builder`], built.
    pub fn try_config(&self) -> conn_core::Result<Config> {
        self.config_builder().build()
    }

    /// [`FakeIfind::try_config`] for tests.
    ///
    /// # Panics
    /// Never for a fake started by this module: its URL is a local http URL and its refresh
    /// token is non-empty (an empty one given to the builder is replaced by the default).
    pub fn config(&self) -> Config {
        match self.try_config() {
            Ok(c) => c,
            Err(e) => panic!("FakeIfind::config: {e}"),
        }
    }

    /// The `THS_*` variables that point a client at the fake (a CLI sandbox prints them).
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let (n, w) = self.rate_limit.unwrap_or((600, Duration::from_secs(60)));
        vec![
            ("THS_REFRESH_TOKEN", self.refresh_token.clone()),
            ("THS_BASE_URL", self.uri()),
            ("THS_RATE_LIMIT_PER_MINUTE", n.to_string()),
            ("THS_RATE_LIMIT_WINDOW", format!("{}", w.as_secs_f64())),
        ]
    }

    /// Expires every access token now (the next data call gets -1302).
    pub fn expire_access_tokens(&self) {
        self.state().expire_tokens();
    }

    /// Regenerates the account's refresh token: the old one gets -1301 and every access token
    /// -1300.
    pub fn revoke_refresh_token(&self) {
        self.state().revoke();
    }

    /// Access tokens currently valid.
    pub fn valid_access_tokens(&self) -> Vec<String> {
        self.state().valid_tokens()
    }

    /// Queues `fault` for the next `times` requests to `endpoint` (its name in the manual,
    /// `real_time_quotation`; [`ANY_DATA_ENDPOINT`] for any data endpoint, not the token
    /// endpoints). Errors are answered without doing the work: `Code` as that `errorcode`,
    /// `Busy` as -5002, `RateLimited` as -4400, `TokenExpired` as -1302, `Status` as a
    /// gateway's HTML page. `Delay` and `Cut` do the work and answer late or cut; a delay and
    /// an error queued for the same request both apply. `Drop` closes the connection.
    ///
    /// ```no_run
    /// # async fn f() {
    /// use conn_ths::fake::{FakeIfind, Fault};
    /// let fake = FakeIfind::start().await;
    /// fake.fail_next("real_time_quotation", Fault::code(-1302), 1);
    /// # }
    /// ```
    pub fn fail_next(&self, endpoint: &str, fault: Fault, times: usize) {
        self.state().inject(endpoint, fault, times);
    }

    /// Makes the next `times` `get_access_token` calls return the current token even if it
    /// expired (so a freshly fetched token is still rejected).
    pub fn serve_stale_tokens(&self, times: usize) {
        self.state().serve_stale_tokens(times);
    }

    /// Answers every data request with quota code `code` (-4301..-4322) until
    /// [`FakeIfind::clear_faults`].
    pub fn exhaust_quota(&self, code: i64) {
        self.state().quota_code = Some(code);
    }

    /// Removes queued faults and quota exhaustion.
    pub fn clear_faults(&self) {
        self.state().clear_faults();
    }

    /// Sets the odd answer shapes of data endpoints (empty: the standard shape).
    pub fn set_shapes(&self, shapes: &[Shape]) {
        self.state().shapes = shapes.to_vec();
    }

    /// Requests received by `endpoint` (every arrival, refused ones included).
    pub fn request_count(&self, endpoint: &str) -> usize {
        self.state().counts.get(endpoint).copied().unwrap_or(0)
    }

    /// Requests received per endpoint.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.state().counts.clone()
    }

    /// How many requests were refused with -4400.
    pub fn rate_limited(&self) -> usize {
        self.state().rate_limited
    }

    /// How many answers carried each error code.
    pub fn answered_codes(&self) -> BTreeMap<i64, usize> {
        self.state().answered_codes.clone()
    }

    /// Deals recorded so far.
    pub fn deals(&self) -> Vec<RecordedDeal> {
        self.state().deals.clone()
    }

    /// Every request received, in order (method, path, headers, body).
    pub async fn received_requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}
