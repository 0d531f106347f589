//! The client: one transport, one rate limiter and one token manager, shared by every clone.
//!
//! Every request goes through the same path:
//!
//! 1. an access token from the token manager (cached; fetched single-flight when missing or
//!    near expiry);
//! 2. the transport's retry loop, whose attempt hook is the account's [`Limiter`]
//!    (conn-ths' [`RateLimiter`] unless [`ClientBuilder::limiter`] sets a shared one): **each
//!    attempt first takes a permit**, so retries are limited too, and a -4400 answer first
//!    penalizes the account (no permit for one limiter window) before the retry. Retries follow conn-core's
//!    decision table (a -4400 or a connect error retries any operation, a server code or a
//!    timeout only idempotent ones; a non-idempotent request that may have been received ends
//!    as [`Error::OutcomeUnknown`]);
//! 3. on -1302 (token expired) or -1010 (token invalidated): conn-core's
//!    [`TokenManager::with_token`] fetches one new access token (single-flight) and replays
//!    once. If that fresh token is rejected too, the error comes back and the next fetch calls
//!    `update_access_token`. Writes (`deal` and the other non-idempotent `portfolio_manage`
//!    functions) are never replayed: a token answer fetches a new token for the next call and
//!    returns the error;
//! 4. on -1300/-1301 (the refresh token is dead) the tokens are forgotten and the error is
//!    [`Error::ReauthRequired`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use conn_core::clock::{self, SharedClock};
use conn_core::error::{ApiErrorKind, ReauthRequired};
use conn_core::retry::Idempotency;
use conn_core::secret::AccessToken;
use conn_core::stats::PlatformStats;
use conn_core::token::{MemoryTokenStore, TokenKey, TokenManager, TokenStore};
use conn_core::transport::{Request, Response, Transport};
use conn_core::{Error, Result};
use http::HeaderName;

use crate::auth::{ACCESS_TOKEN_HEADER, FINGERPRINT_KEY};
use crate::config::Config;
use crate::IfindRefresher;
use conn_core::limit::Limiter;

use crate::envelope::IfindEnvelope;
use crate::ratelimit::{LimiterHook, RateLimiter};
use crate::tables::Tables;
use crate::RateSignal;
use crate::PLATFORM;

/// The iFinD client. Cheap to clone; clones share the HTTP client, the rate limiter and the
/// tokens.
///
/// ```no_run
/// # async fn demo() -> conn_core::Result<()> {
/// use conn_ths::{Client, Config, RealTimeQuotation};
/// let client = Client::new(Config::from_env()?)?;
/// let quotes = client
///     .real_time_quotation(&RealTimeQuotation::new(["600519.SH"], ["latest", "open"])?)
///     .await?;
/// for row in quotes.get("600519.SH").into_iter().flat_map(|t| t.rows()) {
///     println!("{:?} latest={:?}", row.time(), row.number("latest"));
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    limiter: Arc<dyn Limiter>,
    tokens: TokenManager,
    refresher: Arc<IfindRefresher>,
    account: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.inner.transport)
            .field("limiter", &self.inner.limiter)
            .field("tokens", &self.inner.tokens)
            .field("account", &self.inner.account)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`] with optional pieces: a token store, a limiter, an HTTP client, a
/// clock.
///
/// ```
/// use conn_core::clock;
/// use conn_core::token::MemoryTokenStore;
/// use conn_ths::{Client, Config, RateLimit, RateLimiter};
/// use std::sync::Arc;
/// let config = Config::builder().refresh_token("rt").build().unwrap();
/// let shared = Arc::new(RateLimiter::new(RateLimit::per_minute(300).unwrap()));
/// let client = Client::builder(config)
///     .limiter(shared)
///     .token_store(Arc::new(MemoryTokenStore::new()))
///     .clock(clock::system())
///     .http_client(conn_core::reexports::reqwest::Client::new())
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    config: Config,
    store: Option<Arc<dyn TokenStore>>,
    limiter: Option<Arc<dyn Limiter>>,
    http: Option<conn_core::reexports::reqwest::Client>,
    clock: Option<SharedClock>,
}

impl ClientBuilder {
    /// Persists access tokens in `store` (keyed `ths/<account>`; memory by default).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The rate limiter (keyed by the account); by default a [`RateLimiter`] of the
    /// configured rate limit, private to this client and its clones. Pass a shared one
    /// (another client's, or a Redis limiter) to share the account's budget.
    pub fn limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The HTTP client (its own timeouts and proxies); by default one built from the
    /// transport settings.
    pub fn http_client(mut self, c: conn_core::reexports::reqwest::Client) -> Self {
        self.http = Some(c);
        self
    }

    /// The clock for access-token expiry: when a fetched token expires and when it is due
    /// for renewal (default: the system clock). The rate limiter keeps its own monotonic time.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let config = self.config;
        let clock = self.clock.unwrap_or_else(clock::system);
        let limiter: Arc<dyn Limiter> = match self.limiter {
            Some(l) => l,
            None => Arc::new(RateLimiter::new(config.rate_limit)),
        };
        let signal = RateSignal::default();
        let envelope = IfindEnvelope::with_signal(signal.clone());
        let transport = Transport::with_optional_client(
            PLATFORM,
            config.transport.clone(),
            envelope,
            self.http,
        )?;
        // Every attempt, retries and token fetches included, takes a permit of the account;
        // a -4400 holds the account back for one limiter window first.
        let hook = LimiterHook::new(
            limiter.clone(),
            config.account.clone(),
            config.rate_limit.window(),
            signal,
        );
        let transport = transport.with_attempt_hook(Arc::new(hook));
        let refresher = Arc::new(IfindRefresher::new(
            transport.clone(),
            config.refresh_token.clone(),
            config.token_lifetime,
            config.account.clone(),
            clock.clone(),
        ));
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
        let tokens = TokenManager::new(
            TokenKey::new(PLATFORM, config.account.clone()),
            refresher.clone(),
            store,
        )
        .with_clock(clock)
        .with_margin(config.refresh_margin)
        .with_jitter((config.refresh_margin / 5).min(Duration::from_secs(60)));
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                limiter,
                tokens,
                refresher,
                account: config.account,
            }),
        })
    }
}

impl Client {
    /// A client keeping its tokens in memory, with its own rate limiter.
    pub fn new(config: Config) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder for the optional pieces.
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            store: None,
            limiter: None,
            http: None,
            clock: None,
        }
    }

    /// The rate limiter (shared by every clone).
    pub fn limiter(&self) -> &Arc<dyn Limiter> {
        &self.inner.limiter
    }

    /// The account the limiter and tokens are keyed by.
    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// The token manager.
    pub fn tokens(&self) -> &TokenManager {
        &self.inner.tokens
    }

    /// The transport (settings and counters).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// This platform's counters.
    pub fn stats(&self) -> &Arc<PlatformStats> {
        self.inner.transport.stats()
    }

    /// Checks the refresh token with one `get_access_token` call (it returns the account's
    /// current token and disturbs nobody). A dead refresh token is [`Error::ReauthRequired`].
    #[tracing::instrument(name = "ths.check_credentials", skip(self))]
    pub async fn check_credentials(&self) -> Result<()> {
        self.inner.tokens.force_refresh(None).await.map(|_| ())
    }

    /// Sends any endpoint with the client's token, rate limit, retry and replay rules, and
    /// returns the raw response (envelope errors already turned into [`Error`]s). Data
    /// endpoints are reads: pass [`Idempotency::Idempotent`] for them.
    #[tracing::instrument(name = "ths.post_raw", skip(self, body))]
    pub async fn post_raw(
        &self,
        endpoint: &str,
        body: &serde_json::Value,
        idempotency: Idempotency,
    ) -> Result<Response> {
        let endpoint = endpoint.trim_matches('/');
        if endpoint.is_empty() || endpoint.contains(['?', '#']) {
            return Err(Error::validation(
                "endpoint",
                "an endpoint name such as real_time_quotation",
            ));
        }
        let req = Request::post("call", format!("/{endpoint}"), idempotency).json(body)?;
        self.execute(&req).await
    }

    pub(crate) async fn query_tables(
        &self,
        operation: &'static str,
        body: &serde_json::Value,
    ) -> Result<Tables> {
        let req = Request::post(operation, format!("/{operation}"), Idempotency::Idempotent)
            .json(body)?;
        let resp = self.execute(&req).await?;
        Tables::decode(operation, &resp.body)
    }

    /// Runs an authenticated request (see the module docs for the token rules).
    pub(crate) async fn execute(&self, req: &Request) -> Result<Response> {
        self.replace_foreign_token().await?;
        if matches!(req.idempotency_ref(), Idempotency::NonIdempotent) {
            return self.execute_once(req).await;
        }
        // Which tokens were sent, to escalate when a freshly fetched one is rejected too.
        let sent = std::sync::Mutex::new(Vec::<AccessToken>::new());
        let result = self
            .inner
            .tokens
            .with_token(|token| {
                if let Ok(mut s) = sent.lock() {
                    s.push(token.clone());
                }
                async move { self.send_with(req, &token).await.map_err(|e| self.typed(e)) }
            })
            .await;
        if matches!(&result, Err(e) if e.is_token_expired()) {
            let fresh = sent.lock().ok().and_then(|s| s.get(1).cloned());
            if let Some(fresh) = fresh {
                // The token just fetched is rejected as well: iFinD can hand out a token that
                // is already invalid, so the next fetch asks `update_access_token` instead.
                tracing::warn!(
                    operation = req.operation(),
                    "a freshly fetched access token was rejected; the next fetch calls update_access_token"
                );
                self.inner.refresher.request_update(&fresh);
            }
        }
        result
    }

    /// A write (`deal` above all) is sent once: a token answer fetches a new token for the
    /// next call but never replays this one, so a trade is never sent twice by this client.
    async fn execute_once(&self, req: &Request) -> Result<Response> {
        let token = self.inner.tokens.token().await?;
        match self.send_with(req, &token).await.map_err(|e| self.typed(e)) {
            Err(e) if e.is_token_expired() => {
                tracing::info!(
                    operation = req.operation(),
                    "access token rejected on a write; fetching a new token, not replaying"
                );
                if let Err(re) = self.inner.tokens.force_refresh(Some(&token)).await {
                    tracing::warn!(error = %re, "could not fetch a new access token");
                }
                Err(e)
            }
            Err(e) if e.is_reauth_required() => {
                if let Err(ce) = self.inner.tokens.clear().await {
                    tracing::warn!(error = %ce, "could not forget the rejected tokens");
                }
                Err(e)
            }
            other => other,
        }
    }

    /// A stored token from another refresh token (THS_REFRESH_TOKEN changed) is replaced
    /// before anything is sent with it.
    async fn replace_foreign_token(&self) -> Result<()> {
        let ts = self.inner.tokens.token_set().await?;
        let fp = self.inner.refresher.fingerprint();
        if ts.extra.get(FINGERPRINT_KEY).map(String::as_str) != Some(fp) {
            tracing::debug!("stored access token belongs to another refresh token; fetching one");
            self.inner
                .tokens
                .force_refresh(Some(&ts.access_token))
                .await?;
        }
        Ok(())
    }

    async fn send_with(&self, req: &Request, token: &AccessToken) -> Result<Response> {
        let req = req.clone().secret_header(
            HeaderName::from_static(ACCESS_TOKEN_HEADER),
            token.as_secret(),
        )?;
        self.inner.transport.execute(&req).await
    }

    /// Turns a "re-authorize" platform code into [`Error::ReauthRequired`] saying what to do
    /// (the token manager forgets the tokens when it sees it).
    fn typed(&self, e: Error) -> Error {
        if e.api_kind() != Some(ApiErrorKind::ReauthRequired)
            || matches!(e, Error::ReauthRequired(_))
        {
            return e;
        }
        ReauthRequired {
            platform: PLATFORM.into(),
            account: Some(self.inner.account.clone()),
            reason: format!(
                "iFinD rejected the account's tokens ({}); copy a new refresh_token from the \
                 iFinD client into THS_REFRESH_TOKEN",
                e.platform_code().unwrap_or("?")
            ),
            source: Some(Box::new(e)),
        }
        .into()
    }
}
