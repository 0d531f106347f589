//! A stateful fake ERP on wiremock (feature `fake`), for this crate's tests, downstream tests
//! and the CLI sandbox.
//!
//! It checks authentication exactly as a real server would: static headers are compared with
//! its credentials, and signatures are recomputed from the request as received (query, form
//! fields or headers, the path as sent) with the timestamp checked against its clock; a wrong
//! one gets the ERP's auth error (HTTP 401 for header modes and Kingdee, HTTP 200 with
//! `{"code":40001,"msg":"invalid sign"}` for the MD5 schemes). It serves seeded orders in the
//! chosen pagination style, stores created orders and answers a replay carrying the same
//! idempotency key with the first answer, serves financial figures computed from its orders,
//! counts requests per operation, and injects faults (5xx, slow answers) on demand.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use conn_erp::fake::{FakeErp, FakeOp};
//! use conn_erp::{AuthMode, Client, NewOrder};
//!
//! let fake = FakeErp::builder(AuthMode::JstMd5).orders(25).start().await;
//! let erp = Client::new(fake.config().unwrap()).unwrap();
//! let created = erp
//!     .create_order(&NewOrder::new("ACME").item("SKU-1", 2.into(), "9.90".parse().unwrap()))
//!     .await
//!     .unwrap();
//! assert_eq!(created.total_amount.unwrap().to_string(), "19.80");
//! assert_eq!(fake.requests(FakeOp::CreateOrder), 1);
//! assert_eq!(fake.created_orders().len(), 1);
//! # });
//! ```

mod profiles;
mod responder;
mod routes;
mod verify;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use conn_core::clock::{self, SharedClock};
use conn_core::fake::FakeServer;
use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::secret::{AccessToken, ApiKey, ClientSecret, Password};
use conn_core::Result;
use http::header::HeaderName;
use serde_json::Value;
use wiremock::{Mock, MockGuard};

use crate::auth::{
    ApiKeyAuth, Auth, AuthMode, BasicAuth, BearerAuth, KingdeeHmacSigner, KingdeeIdentity, NoAuth,
    NonceSource, SortedMd5Signer, TokenAuth, WdtSigner,
};
use crate::config::{ConfigBuilder, Paths, DEFAULT_IDEMPOTENCY_HEADER};
use crate::pagination::PaginationStyle;
use crate::profile::{Profile, ProfileOptions};
use crate::Config;

use responder::Responder;
use routes::{OpMatcher, State};

pub use conn_core::fake::Fault;

/// The fake's operations, for counters, faults and expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FakeOp {
    /// `GET` orders path.
    ListOrders,
    /// `GET` order detail path.
    GetOrder,
    /// `POST` create order path.
    CreateOrder,
    /// `GET` financial path.
    FinancialData,
}

/// The fake's credentials (test values, deterministic so snapshots of signatures are stable).
#[derive(Clone)]
pub struct FakeCredentials {
    /// API key (api_key, token and bearer modes).
    pub api_key: String,
    /// API key header (api_key mode).
    pub api_key_header: String,
    /// API secret (token mode).
    pub api_secret: String,
    /// Basic user.
    pub username: String,
    /// Basic password.
    pub password: String,
    /// App key (signing modes).
    pub app_key: String,
    /// App secret (signing modes).
    pub app_secret: String,
    /// Access token (jst_md5).
    pub access_token: String,
    /// Kingdee AppId (`<client id>_<32 base64 characters>`; kingdee_hmac's app key).
    pub kingdee_app_id: String,
    /// Kingdee data centre id.
    pub kingdee_acct_id: String,
    /// Kingdee user.
    pub kingdee_username: String,
    /// 旺店通 seller account.
    pub wdt_sid: String,
    /// 旺店通 salt (the app secret is issued as `app_secret:salt`).
    pub wdt_salt: String,
}

impl fmt::Debug for FakeCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeCredentials")
            .field("username", &self.username)
            .field("app_key", &self.app_key)
            .finish_non_exhaustive()
    }
}

impl Default for FakeCredentials {
    fn default() -> Self {
        Self {
            api_key: "fake-erp-api-key-7Qm2".to_owned(),
            api_key_header: "x-api-key".to_owned(),
            api_secret: "fake-erp-api-secret-Kp44".to_owned(),
            username: "fake-erp-user".to_owned(),
            password: "fake-erp-password-Zx81".to_owned(),
            app_key: "fake-erp-app-key".to_owned(),
            app_secret: "fake-erp-app-secret-Hn93".to_owned(),
            access_token: "fake-erp-access-token-Lw05".to_owned(),
            kingdee_app_id: "313131_ZmFrZS1raW5nZGVlLWFwcC1pZC0xMjM0".to_owned(),
            kingdee_acct_id: "fake-acct-01".to_owned(),
            kingdee_username: "fake-user".to_owned(),
            wdt_sid: "fake-sid".to_owned(),
            wdt_salt: "fake-salt".to_owned(),
        }
    }
}

impl FakeCredentials {
    /// Every secret value, for log and snapshot checks.
    pub fn secrets(&self) -> Vec<String> {
        vec![
            self.api_key.clone(),
            self.api_secret.clone(),
            self.password.clone(),
            self.app_secret.clone(),
            self.access_token.clone(),
        ]
    }
}

/// Settings of a [`FakeErp`].
#[derive(Clone)]
pub struct FakeErpBuilder {
    mode: AuthMode,
    profile: Profile,
    shop: String,
    style: PaginationStyle,
    page_size: u32,
    orders: usize,
    clock: SharedClock,
    nonce: Option<Arc<dyn NonceSource>>,
    tolerance: Option<Duration>,
    idempotency_header: Option<HeaderName>,
    items_pointer: String,
    total_pointer: String,
    credentials: FakeCredentials,
    paths: Paths,
}

impl fmt::Debug for FakeErpBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeErpBuilder")
            .field("mode", &self.mode)
            .field("profile", &self.profile)
            .field("style", &self.style)
            .field("page_size", &self.page_size)
            .field("orders", &self.orders)
            .finish_non_exhaustive()
    }
}

impl FakeErpBuilder {
    /// The ERP profile served (default: the one the auth mode implies). A profile with its own
    /// auth mode switches the mode too.
    pub fn profile(mut self, p: Profile) -> Self {
        self.profile = p;
        if let Some(m) = p.auth_mode() {
            self.mode = m;
        }
        self
    }

    /// Pagination style served (default `page_index`; profiles other than `own` use theirs).
    pub fn pagination(mut self, style: PaginationStyle) -> Self {
        self.style = style;
        self
    }

    /// Page size of the returned config (default 100).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n;
        self
    }

    /// Number of seeded orders (default 10).
    pub fn orders(mut self, n: usize) -> Self {
        self.orders = n;
        self
    }

    /// The clock the fake checks timestamps against and the config signs with.
    pub fn clock(mut self, c: SharedClock) -> Self {
        self.clock = c;
        self
    }

    /// The nonce source of the returned config (default: random).
    pub fn nonce_source(mut self, n: Arc<dyn NonceSource>) -> Self {
        self.nonce = Some(n);
        self
    }

    /// How far a signed timestamp may be from the fake's clock (default 300 s; `None`: no check).
    pub fn timestamp_tolerance(mut self, t: Option<Duration>) -> Self {
        self.tolerance = t;
        self
    }

    /// The idempotency header honoured (default `Idempotency-Key`; `None`: keys are ignored and
    /// the config sends none).
    pub fn idempotency_header(mut self, h: Option<HeaderName>) -> Self {
        self.idempotency_header = h;
        self
    }

    /// Where the orders sit in a list answer (default `/data`; `""` for a bare array).
    pub fn items_pointer(mut self, p: impl Into<String>) -> Self {
        self.items_pointer = p.into();
        self
    }

    /// Where the total sits in a `page_no` list answer (default `/total_count`).
    pub fn total_pointer(mut self, p: impl Into<String>) -> Self {
        self.total_pointer = p.into();
        self
    }

    /// Other credentials.
    pub fn credentials(mut self, c: FakeCredentials) -> Self {
        self.credentials = c;
        self
    }

    /// Other resource paths.
    pub fn paths(mut self, p: Paths) -> Self {
        self.paths = p;
        self
    }

    /// Starts the server (on 127.0.0.1) and mounts the fake.
    pub async fn start(self) -> FakeErp {
        let server = FakeServer::start().await;
        let auth = client_auth(self.mode, &self.credentials);
        let envelope = self.profile.envelope();
        let shared = Arc::new(Shared {
            settings: self,
            auth,
            envelope,
            state: conn_core::fake::Shared::default(),
        });
        shared.lock().seed(shared.settings.orders);
        let drops = shared.clone();
        server
            .drop_connections_when("fake ERP", move |req: &wiremock::Request| {
                drops.take_drop(req)
            })
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder(shared.clone()))
            .with_priority(10)
            .named("fake ERP")
            .mount(&server)
            .await;
        FakeErp { server, shared }
    }
}

/// The client-side auth matching the fake's credentials.
fn client_auth(mode: AuthMode, c: &FakeCredentials) -> Auth {
    match mode {
        AuthMode::None => Auth::None(NoAuth),
        AuthMode::ApiKey => Auth::ApiKey(
            ApiKeyAuth::new(ApiKey::new(c.api_key.clone())).with_header(
                HeaderName::from_bytes(c.api_key_header.as_bytes())
                    .unwrap_or(HeaderName::from_static("x-api-key")),
            ),
        ),
        AuthMode::Basic => Auth::Basic(BasicAuth::new(
            c.username.clone(),
            Password::new(c.password.clone()),
        )),
        AuthMode::Token => Auth::Token(TokenAuth::new(
            ApiKey::new(c.api_key.clone()),
            ClientSecret::new(c.api_secret.clone()),
        )),
        AuthMode::Bearer => Auth::Bearer(BearerAuth::new(AccessToken::new(c.api_key.clone()))),
        AuthMode::JstMd5 => Auth::Md5(
            SortedMd5Signer::jushuitan(c.app_key.clone(), ClientSecret::new(c.app_secret.clone()))
                .with_access_token(AccessToken::new(c.access_token.clone())),
        ),
        AuthMode::WdtMd5 => WdtSigner::new(
            c.wdt_sid.clone(),
            c.app_key.clone(),
            ClientSecret::new(format!("{}:{}", c.app_secret, c.wdt_salt)),
        )
        .map_or(Auth::None(NoAuth), Auth::Wdt),
        AuthMode::KingdeeHmac => KingdeeHmacSigner::new(
            c.kingdee_app_id.clone(),
            ClientSecret::new(c.app_secret.clone()),
            KingdeeIdentity::new(c.kingdee_acct_id.clone(), c.kingdee_username.clone()),
        )
        .map_or(Auth::None(NoAuth), Auth::Kingdee),
    }
}

pub(crate) struct Shared {
    settings: FakeErpBuilder,
    auth: Auth,
    /// The profile's envelope, which injected error answers are written in.
    envelope: conn_core::envelope::Envelope,
    state: conn_core::fake::Shared<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Takes a pending [`Fault::Drop`] for the request's operation (and counts the request).
    fn take_drop(&self, req: &wiremock::Request) -> bool {
        let Some((op, _)) = routes::route(self, req) else {
            return false;
        };
        let mut st = self.lock();
        if st.faults.peek(&op) != Some(&Fault::Drop) {
            return false;
        }
        st.faults.take(&op);
        *st.counts.entry(op).or_insert(0) += 1;
        true
    }
}

/// A running fake ERP. Dropping it stops the server (and verifies expectations).
pub struct FakeErp {
    server: FakeServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for FakeErp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeErp")
            .field("uri", &self.server.uri())
            .field("mode", &self.shared.settings.mode)
            .finish_non_exhaustive()
    }
}

impl FakeErp {
    /// A fake with default settings for an auth mode.
    pub async fn start(mode: AuthMode) -> Self {
        Self::builder(mode).start().await
    }

    /// Settings for a fake of an auth mode: `page_index`, page size 100, 10 seeded orders.
    pub fn builder(mode: AuthMode) -> FakeErpBuilder {
        FakeErpBuilder {
            mode,
            profile: Profile::implied_by(mode),
            shop: "10001".to_owned(),
            style: PaginationStyle::PageIndex,
            page_size: 100,
            orders: 10,
            clock: clock::system(),
            nonce: None,
            tolerance: Some(Duration::from_secs(300)),
            idempotency_header: Some(HeaderName::from_static(DEFAULT_IDEMPOTENCY_HEADER)),
            items_pointer: "/data".to_owned(),
            total_pointer: "/total_count".to_owned(),
            credentials: FakeCredentials::default(),
            paths: Paths::default(),
        }
    }

    /// The base URL (`http://127.0.0.1:port`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A fake of a built-in ERP profile, with its auth mode.
    pub async fn start_profile(p: Profile) -> Self {
        Self::builder(p.auth_mode().unwrap_or(AuthMode::ApiKey))
            .profile(p)
            .start()
            .await
    }

    /// The auth mode.
    pub fn mode(&self) -> AuthMode {
        self.shared.settings.mode
    }

    /// The profile served.
    pub fn profile(&self) -> Profile {
        self.shared.settings.profile
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> &FakeCredentials {
        &self.shared.settings.credentials
    }

    /// A config builder pointing at the fake with matching credentials, pagination, clock and
    /// nonce source, fast retries (5 ms, no jitter) and a 5 s attempt timeout.
    pub fn config_builder(&self) -> ConfigBuilder {
        let s = &self.shared.settings;
        let mut b = Config::builder().base_url(self.uri()).profile(s.profile);
        if s.profile == Profile::Own {
            b = b
                .paths(s.paths.clone())
                .pagination_style(s.style)
                .items_pointer(s.items_pointer.clone())
                .total_pointer(s.total_pointer.clone());
        }
        let mut b = b
            .auth(self.shared.auth.clone())
            .profile_options(ProfileOptions {
                shop: Some(s.shop.clone()),
                ..ProfileOptions::default()
            })
            .page_size(s.page_size)
            .idempotency_header(s.idempotency_header.clone())
            .clock(s.clock.clone());
        // Fast retries so fault tests take milliseconds. The base URL is replaced by the
        // builder's, so the default one parses.
        if let Ok(t) = conn_core::transport::TransportConfig::new(crate::DEFAULT_API_URL) {
            b = b.transport(
                t.with_retry(
                    RetryPolicy::default()
                        .with_base_delay(Duration::from_millis(5))
                        .with_max_delay(Duration::from_millis(50))
                        .with_jitter(Jitter::None),
                )
                .with_attempt_timeout(Duration::from_secs(5)),
            );
        }
        if let Some(n) = &s.nonce {
            b = b.nonce_source(n.clone());
        }
        b
    }

    /// A config pointing at the fake (see [`FakeErp::config_builder`]).
    pub fn config(&self) -> Result<Config> {
        self.config_builder().build()
    }

    /// The `ERP_*` variables that point a client (the CLI sandbox) at the fake.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let s = &self.shared.settings;
        let c = &s.credentials;
        let mut v: Vec<(&str, String)> = vec![
            ("ERP_API_URL", self.uri()),
            ("ERP_AUTH_MODE", s.mode.as_str().to_owned()),
            ("ERP_PROFILE", s.profile.as_str().to_owned()),
        ];
        if s.profile != Profile::Own {
            v.push(("ERP_SHOP", s.shop.clone()));
        }
        match s.mode {
            AuthMode::None => {}
            AuthMode::ApiKey => {
                v.push(("ERP_API_KEY", c.api_key.clone()));
                v.push(("ERP_API_KEY_HEADER", c.api_key_header.clone()));
            }
            AuthMode::Basic => {
                v.push(("ERP_USERNAME", c.username.clone()));
                v.push(("ERP_PASSWORD", c.password.clone()));
            }
            AuthMode::Token => {
                v.push(("ERP_API_KEY", c.api_key.clone()));
                v.push(("ERP_API_SECRET", c.api_secret.clone()));
            }
            AuthMode::Bearer => v.push(("ERP_API_KEY", c.api_key.clone())),
            AuthMode::JstMd5 => {
                v.push(("ERP_APP_KEY", c.app_key.clone()));
                v.push(("ERP_APP_SECRET", c.app_secret.clone()));
                v.push(("ERP_ACCESS_TOKEN", c.access_token.clone()));
            }
            AuthMode::WdtMd5 => {
                v.push(("ERP_WDT_SID", c.wdt_sid.clone()));
                v.push(("ERP_APP_KEY", c.app_key.clone()));
                v.push(("ERP_APP_SECRET", format!("{}:{}", c.app_secret, c.wdt_salt)));
            }
            AuthMode::KingdeeHmac => {
                v.push(("ERP_APP_KEY", c.kingdee_app_id.clone()));
                v.push(("ERP_APP_SECRET", c.app_secret.clone()));
                v.push(("ERP_KINGDEE_ACCT_ID", c.kingdee_acct_id.clone()));
                v.push(("ERP_KINGDEE_USERNAME", c.kingdee_username.clone()));
            }
        }
        v.push(("ERP_PAGE_SIZE", s.page_size.to_string()));
        v.push((
            "ERP_IDEMPOTENCY_HEADER",
            s.idempotency_header
                .as_ref()
                .map_or_else(|| "none".to_owned(), |h| h.as_str().to_owned()),
        ));
        if s.profile != Profile::Own {
            return v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        }
        v.push(("ERP_ORDERS_PATH", s.paths.orders.clone()));
        v.push(("ERP_ORDER_PATH", s.paths.order.clone()));
        v.push(("ERP_CREATE_ORDER_PATH", s.paths.create_order.clone()));
        v.push(("ERP_FINANCIAL_PATH", s.paths.financial.clone()));
        v.push(("ERP_PAGINATION", s.style.as_str().to_owned()));
        let ptr = |p: &str| {
            if p.is_empty() {
                ".".to_owned()
            } else {
                p.to_owned()
            }
        };
        v.push(("ERP_ORDERS_LIST_POINTER", ptr(&s.items_pointer)));
        v.push(("ERP_ORDERS_TOTAL_POINTER", ptr(&s.total_pointer)));
        v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// Requests received for an operation (rejected ones included).
    pub fn requests(&self, op: FakeOp) -> usize {
        self.shared.lock().count(op)
    }

    /// Requests rejected for their authentication.
    pub fn auth_failures(&self) -> usize {
        self.shared.lock().auth_failures
    }

    /// Every stored order (seeded then created), as served.
    pub fn stored_orders(&self) -> Vec<Value> {
        self.shared.lock().orders.clone()
    }

    /// The orders created through the API, in creation order.
    pub fn created_orders(&self) -> Vec<Value> {
        self.shared.lock().created()
    }

    /// Queues `fault` for the next `times` requests of `op`. Errors (`Status`, `Code`, `Busy`,
    /// `RateLimited`, `TokenExpired`) are answered in the profile's envelope without doing the
    /// work ([`envelope_answer`](conn_core::fake::envelope_answer)); `Delay` and `Cut` do the
    /// work and then answer late or cut; `Drop` closes the connection unanswered.
    ///
    /// ```no_run
    /// # async fn f() {
    /// use conn_erp::fake::{FakeErp, FakeOp, Fault};
    /// use conn_erp::AuthMode;
    /// let fake = FakeErp::start(AuthMode::JstMd5).await;
    /// fake.fail_next(FakeOp::CreateOrder, Fault::Status(503), 2);
    /// # }
    /// ```
    pub fn fail_next(&self, op: FakeOp, fault: Fault, times: usize) {
        self.shared.lock().push_fault(op, fault, times);
    }

    /// Expects exactly `n` requests of `op` from now on; verified when the guard drops.
    pub async fn expect(&self, op: FakeOp, n: u64) -> MockGuard {
        Mock::given(OpMatcher {
            shared: self.shared.clone(),
            op,
        })
        .respond_with(Responder(self.shared.clone()))
        .with_priority(1)
        .expect(n)
        .named(format!("expected {op:?} x{n}"))
        .mount_as_scoped(&self.server)
        .await
    }

    /// Every request the server received, as wiremock recorded it.
    pub async fn received_requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// Counts per operation, for reports.
    pub fn counts(&self) -> HashMap<FakeOp, usize> {
        self.shared.lock().counts.clone()
    }
}

/// A fault queued for an operation covers requests of that operation only.
impl conn_core::fake::FaultTarget for FakeOp {}
