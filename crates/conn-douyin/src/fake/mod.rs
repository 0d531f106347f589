//! `FakeDouyin`: a stateful fake of the Douyin Open Platform on 127.0.0.1 (feature `fake`), for
//! this crate's tests, downstream users' tests, and the CLI sandbox.
//!
//! It is a wiremock server whose responders implement the platform's rules over shared state:
//!
//! - **OAuth.** `GET /platform/oauth/connect/` is a simulated user who approves at once: a 302 to
//!   `redirect_uri` with `code` and the `state` echoed. [`FakeDouyin::issue_code`] issues a code
//!   directly. Codes are single use and live 10 minutes (by the injected clock, or
//!   [`FakeDouyin::expire_code`]). Access tokens live 15 days, refresh tokens 30; renewal kills
//!   the old refresh token, at most 5 renewals (then 10020); a dead refresh token → 10010; a new
//!   client token leaves the previous one 5 minutes. Wrong encodings (JSON where a form is due,
//!   and the reverse) are refused.
//! - **Publishing.** Single and chunked uploads are accepted and measured (part numbers and
//!   sizes, never the bytes: a front door streams multipart bodies, so a 1 GiB upload costs no
//!   memory); creates need a fresh, owned `video_id`; items are listed (cursor pages, newest
//!   first) and reported on (`video_data`, with statistics you can set).
//! - **Faults** on demand: [`FakeDouyin::fail_next`] with a [`Fault`] (busy N times, token
//!   expired, rate limited, a slow answer after the work is done, an HTTP 5xx, a dropped
//!   connection). [`FakeDouyin::requests`] counts requests per [`Op`];
//!   [`FakeDouyin::recorded`] returns every request (sizes for uploads) for snapshots.
//! - **Webhooks.** [`FakeDouyin::deliver_webhook`] signs an event with the client secret and
//!   POSTs it with a `Msg-Id`.
//!
//! ```
//! use conn_douyin::fake::{FakeDouyin, Fault, Op};
//! use conn_douyin::{Client, VideoPost, VideoSource};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let fake = FakeDouyin::start().await;
//! let client = Client::new(fake.config())?;
//! let code = fake.issue_code(fake.open_id(), &["video.create.bind"]);
//! let account = client.exchange_code(&code).await?;
//! fake.fail_next(Op::CreateVideo, Fault::Busy, 2);
//! let published = client
//!     .publish_video(&account.open_id, VideoSource::bytes(vec![7u8; 2048]), &VideoPost::new("hello"))
//!     .await?;
//! assert_eq!(fake.requests(Op::CreateVideo), 3);
//! assert_eq!(fake.items(Some(&account.open_id))[0].item_id, published.item_id);
//! # Ok::<(), conn_core::Error>(())
//! # }).unwrap();
//! ```

mod content;
mod front;
mod model;
mod multipart;
mod routes;
mod state;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use conn_core::clock::{self, SharedClock};
use conn_core::error::{Error, Result, TransportError, TransportErrorKind};
use conn_core::fake::FakeServer;
use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::secret::{AccessToken, ClientSecret, RefreshToken};
use conn_core::token::TokenSet;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

pub use model::{
    ChunkedUpload, FakeItem, Op, PartSummary, RecordedBody, RecordedRequest, RefreshRotation,
};

use crate::config::Config;
use crate::videos::Statistics;
use routes::{take_drop, FakeResponder, Shared};

pub use conn_core::fake::Fault;
use state::{Options, State};

/// The client key the fake accepts by default.
pub const DEFAULT_CLIENT_KEY: &str = "awfakeclientkey0001";
/// The client secret the fake accepts by default (a test value, not a real secret).
pub const DEFAULT_CLIENT_SECRET: &str = "fake-client-secret-0123456789abcdef";
/// The simulated user of the authorization page.
pub const DEFAULT_OPEN_ID: &str = "_000fake-open-id-0001";
/// The redirect URI of [`FakeDouyin::config`] and [`FakeDouyin::env_vars`].
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8910/callback";
/// Every scope the fake knows.
pub const ALL_SCOPES: &[&str] = &[
    "user_info",
    "video.create.bind",
    "video.list.bind",
    "video.data.bind",
];

/// Options of a [`FakeDouyin`].
#[derive(Clone)]
pub struct FakeDouyinBuilder {
    client_key: String,
    client_secret: String,
    open_id: String,
    clock: Option<SharedClock>,
    refresh_rotation: RefreshRotation,
    renew_permission: bool,
    numbers_as_strings: bool,
    daily_publish_limit: Option<usize>,
    redirect_uri: Option<String>,
    record: bool,
}

impl fmt::Debug for FakeDouyinBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDouyinBuilder")
            .field("client_key", &self.client_key)
            .field("open_id", &self.open_id)
            .field("refresh_rotation", &self.refresh_rotation)
            .finish_non_exhaustive()
    }
}

impl Default for FakeDouyinBuilder {
    fn default() -> Self {
        Self {
            client_key: DEFAULT_CLIENT_KEY.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            open_id: DEFAULT_OPEN_ID.to_owned(),
            clock: None,
            refresh_rotation: RefreshRotation::default(),
            renew_permission: true,
            numbers_as_strings: false,
            daily_publish_limit: None,
            redirect_uri: None,
            record: true,
        }
    }
}

impl FakeDouyinBuilder {
    /// The client key and secret the fake accepts.
    pub fn credentials(
        mut self,
        client_key: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.client_key = client_key.into();
        self.client_secret = client_secret.into();
        self
    }

    /// The simulated user of the authorization page.
    pub fn user(mut self, open_id: impl Into<String>) -> Self {
        self.open_id = open_id.into();
        self
    }

    /// The clock for code and token lifetimes (a `ManualClock` in tests).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// What a refresh does with the refresh token (⚠ the platform's behaviour is unsettled).
    pub fn refresh_rotation(mut self, r: RefreshRotation) -> Self {
        self.refresh_rotation = r;
        self
    }

    /// Whether the app has the `renew_refresh_token` permission (default yes; no → 10004).
    pub fn renew_permission(mut self, allowed: bool) -> Self {
        self.renew_permission = allowed;
        self
    }

    /// Sends numbers as strings (`"error_code":"0"`), as the platform sometimes does.
    pub fn numbers_as_strings(mut self, on: bool) -> Self {
        self.numbers_as_strings = on;
        self
    }

    /// Posts per account per day before 2114007.
    pub fn daily_publish_limit(mut self, n: usize) -> Self {
        self.daily_publish_limit = Some(n);
        self
    }

    /// Requires this exact redirect URI on the authorization page.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Records requests for [`FakeDouyin::recorded`] (default on; uploads are recorded as sizes).
    pub fn record_requests(mut self, on: bool) -> Self {
        self.record = on;
        self
    }

    /// Starts the fake.
    ///
    /// # Panics
    /// When no local port can be bound (as wiremock does); see [`FakeDouyinBuilder::try_start`].
    pub async fn start(self) -> FakeDouyin {
        match self.try_start().await {
            Ok(f) => f,
            Err(e) => panic!("FakeDouyin: cannot start: {e}"),
        }
    }

    /// Starts the fake, reporting a failure to bind.
    pub async fn try_start(self) -> std::io::Result<FakeDouyin> {
        let clock = self.clock.unwrap_or_else(clock::system);
        let opts = Options {
            refresh_rotation: self.refresh_rotation,
            renew_permission: self.renew_permission,
            numbers_as_strings: self.numbers_as_strings,
            daily_publish_limit: self.daily_publish_limit,
            redirect_uri: self.redirect_uri,
            record: self.record,
            default_user: self.open_id.clone(),
        };
        let state: Shared = Shared::new(State::new(
            self.client_key.clone(),
            self.client_secret.clone(),
            clock,
            opts,
        ));
        // wiremock's own request recording would keep every body: the fake records its own way.
        let server = FakeServer::new(
            MockServer::builder()
                .disable_request_recording()
                .start()
                .await,
        );
        let drops = state.clone();
        server
            .drop_connections_when("fake douyin", move |req: &wiremock::Request| {
                take_drop(&drops, req)
            })
            .await;
        // Priority 10: mocks you mount on `server()` (default priority 5) take precedence.
        Mock::given(any())
            .respond_with(FakeResponder(state.clone()))
            .with_priority(10)
            .named("fake douyin")
            .mount(&server)
            .await;
        let front = front::start(server.uri()).await?;
        let uri = format!("http://{}", front.addr);
        let config = Config::builder()
            .client_key(self.client_key.clone())
            .client_secret(self.client_secret.clone())
            .base_url(uri.clone())
            .redirect_uri(DEFAULT_REDIRECT_URI)
            .transport(
                conn_core::transport::TransportConfig::new(&uri)
                    .map_err(|e| std::io::Error::other(e.to_string()))?
                    .with_retry(fast_retry()),
            )
            .build()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        Ok(FakeDouyin {
            state,
            front,
            server,
            uri,
            client_key: self.client_key,
            client_secret: ClientSecret::new(self.client_secret),
            open_id: self.open_id,
            config,
            http,
            msg_seq: AtomicU64::new(0),
        })
    }
}

/// The retry policy of [`FakeDouyin::config`]: 3 retries, 20 ms base delay, no jitter.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_jitter(Jitter::None)
        .with_base_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_millis(200))
}

/// The answer to a webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAnswer {
    /// Status.
    pub status: u16,
    /// Body.
    pub body: String,
}

/// A running fake; stops when dropped.
pub struct FakeDouyin {
    state: Shared,
    // Dropped before the server: it forwards to it.
    front: front::FrontDoor,
    server: FakeServer,
    uri: String,
    client_key: String,
    client_secret: ClientSecret,
    open_id: String,
    config: Config,
    http: reqwest::Client,
    msg_seq: AtomicU64,
}

impl fmt::Debug for FakeDouyin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDouyin")
            .field("uri", &self.uri)
            .field("client_key", &self.client_key)
            .field("open_id", &self.open_id)
            .field("front", &self.front.addr)
            .finish_non_exhaustive()
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    let connect = e.is_connect();
    Error::from(TransportError {
        platform: "douyin-fake".into(),
        kind: if connect {
            TransportErrorKind::Connect
        } else {
            TransportErrorKind::Other
        },
        request_sent: !connect,
        source: Some(Box::new(e.without_url())),
    })
}

impl FakeDouyin {
    /// Starts a fake with the defaults.
    pub async fn start() -> Self {
        FakeDouyinBuilder::default().start().await
    }

    /// A builder for options.
    pub fn builder() -> FakeDouyinBuilder {
        FakeDouyinBuilder::default()
    }

    /// The base URL to point a client at.
    pub fn uri(&self) -> String {
        self.uri.clone()
    }

    /// The underlying wiremock server (mount your own mocks; they take precedence). Send
    /// requests to [`FakeDouyin::uri`], not to the server's own address.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The client key the fake accepts.
    pub fn client_key(&self) -> &str {
        &self.client_key
    }

    /// The client secret the fake accepts (and signs webhooks with).
    pub fn client_secret(&self) -> &ClientSecret {
        &self.client_secret
    }

    /// The simulated user of the authorization page.
    pub fn open_id(&self) -> &str {
        &self.open_id
    }

    /// A client configuration pointing at the fake (its credentials, [`DEFAULT_REDIRECT_URI`],
    /// and a fast retry policy for tests: see [`fast_retry`]).
    pub fn config(&self) -> Config {
        self.config.clone()
    }

    /// The `DOUYIN_*` variables that point a client (or the CLI) at the fake.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("DOUYIN_CLIENT_KEY".to_owned(), self.client_key.clone()),
            (
                "DOUYIN_CLIENT_SECRET".to_owned(),
                self.client_secret.expose_secret().to_owned(),
            ),
            ("DOUYIN_BASE_URL".to_owned(), self.uri.clone()),
            (
                "DOUYIN_REDIRECT_URI".to_owned(),
                DEFAULT_REDIRECT_URI.to_owned(),
            ),
            ("DOUYIN_OPEN_ID".to_owned(), self.open_id.clone()),
        ]
    }

    /// Issues an authorization code for `open_id` with `scopes` (as if the user approved).
    pub fn issue_code(&self, open_id: &str, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        self.state.lock().issue_code(open_id, &scopes)
    }

    /// Issues tokens directly (what a code exchange would return), as a token set to install
    /// with `Client::set_tokens` or to use as a fixed token.
    pub fn authorize(&self, open_id: &str, scopes: &[&str]) -> TokenSet {
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let mut st = self.state.lock();
        let (access, refresh) = st.grant(open_id, &scopes);
        let now = st.clock.now();
        TokenSet::new(AccessToken::new(access))
            .with_refresh_token(Some(RefreshToken::new(refresh)))
            .with_expires_in(now, state::ACCESS_LIFETIME)
            .with_refresh_expires_in(now, state::REFRESH_LIFETIME)
            .with_account(open_id)
            .with_scopes(scopes)
    }

    /// Makes a code expired.
    pub fn expire_code(&self, code: &str) {
        self.state.lock().expire_code(code);
    }

    /// Makes every access token of an account expired (the next call answers 2190008).
    pub fn expire_access_tokens(&self, open_id: &str) {
        self.state.lock().expire_access_tokens(open_id);
    }

    /// Makes every refresh token of an account expired (the next refresh answers 10010).
    pub fn expire_refresh_tokens(&self, open_id: &str) {
        self.state.lock().expire_refresh_tokens(open_id);
    }

    /// The renewal count of an account's newest refresh token.
    pub fn renewals(&self, open_id: &str) -> Option<u32> {
        self.state.lock().renewals(open_id)
    }

    /// How many live refresh tokens an account has.
    pub fn live_refresh_tokens(&self, open_id: &str) -> usize {
        self.state.lock().live_refresh_tokens(open_id)
    }

    /// Fails the next `n` requests of `op` with `fault`.
    pub fn fail_next(&self, op: Op, fault: Fault, n: usize) {
        self.state.lock().add_fault(op, fault, n);
    }

    /// Requests received for `op` (faulted ones included).
    pub fn requests(&self, op: Op) -> usize {
        self.state.lock().requests(op)
    }

    /// Every request received, in order (uploads as field sizes). Secrets included: use
    /// [`RecordedRequest::redacted`] before printing.
    pub fn recorded(&self) -> Vec<RecordedRequest> {
        self.state.lock().recorded()
    }

    /// Forgets the recorded requests.
    pub fn clear_recorded(&self) {
        self.state.lock().clear_recorded();
    }

    /// Chunked uploads, in order: part numbers and sizes as received.
    pub fn chunked_uploads(&self) -> Vec<ChunkedUpload> {
        self.state.lock().chunked_uploads()
    }

    /// Published items (of one account, or all), oldest first.
    pub fn items(&self, open_id: Option<&str>) -> Vec<FakeItem> {
        self.state.lock().items_of(open_id)
    }

    /// Sets an item's counters; false when there is no such item.
    pub fn set_statistics(&self, item_id: &str, stats: Statistics) -> bool {
        self.state.lock().set_statistics(item_id, stats)
    }

    /// The body of an event as the platform sends it (`content` as given: an object, or a
    /// JSON string for events that send it so).
    pub fn webhook_body(&self, event: &str, content: Value) -> Vec<u8> {
        let log_id = self.state.lock().log_id();
        json!({
            "event": event,
            "from_user_id": self.open_id,
            "to_user_id": self.open_id,
            "client_key": self.client_key,
            "content": content,
            "log_id": log_id,
        })
        .to_string()
        .into_bytes()
    }

    /// The `X-Douyin-Signature` of a body.
    pub fn sign(&self, body: &[u8]) -> String {
        crate::webhook::signature(self.client_secret.as_secret(), body)
    }

    /// A fresh `Msg-Id`.
    pub fn next_msg_id(&self) -> String {
        let n = self.msg_seq.fetch_add(1, Ordering::SeqCst) + 1;
        format!("fake-msg-{n:06}")
    }

    /// Signs an event with the client secret and POSTs it to `url` with a fresh `Msg-Id`;
    /// returns the status.
    pub async fn deliver_webhook(&self, url: &str, event: &str, content: Value) -> Result<u16> {
        let body = self.webhook_body(event, content);
        let id = self.next_msg_id();
        Ok(self.deliver_signed(url, body, &id).await?.status)
    }

    /// POSTs `body` signed with the client secret and the given `Msg-Id` (send it twice to
    /// replay).
    pub async fn deliver_signed(
        &self,
        url: &str,
        body: Vec<u8>,
        msg_id: &str,
    ) -> Result<WebhookAnswer> {
        let signature = self.sign(&body);
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("x-douyin-signature", signature)
            .header("msg-id", msg_id)
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(transport_error)?;
        Ok(WebhookAnswer { status, body })
    }
}
