//! The client: one transport, one rate limiter and one token manager, shared by every clone.
//!
//! Every request goes through the same path:
//!
//! 1. an access token from the token manager (cached; fetched single-flight when missing or
//!    near expiry);
//! 2. the transport's retry loop, whose attempt hook is the rate limiter: **each attempt first
//!    takes a slot**, so retries are limited too. Retries follow conn-core's
//!    decision table (a -4400 or a connect error retries any operation, a server code or a
//!    timeout only idempotent ones; a non-idempotent request that may have been received ends
//!    as [`Error::OutcomeUnknown`]);
//! 3. on -1302 (token expired): one `get_access_token`, one replay; if the fresh token is still
//!    rejected, one `update_access_token`, one replay;
//! 4. on -1010/-1300/-1301 the tokens are forgotten and the error is
//!    [`Error::ReauthRequired`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use conn_core::error::{ApiErrorKind, ReauthRequired};
use conn_core::retry::Idempotency;
use conn_core::secret::AccessToken;
use conn_core::stats::PlatformStats;
use conn_core::token::{MemoryTokenStore, TokenKey, TokenManager, TokenStore};
use conn_core::transport::{Request, Response, Transport};
use conn_core::{Error, Result};
use http::HeaderName;

use crate::auth::{IfindRefresher, ACCESS_TOKEN_HEADER, FINGERPRINT_KEY};
use crate::config::Config;
use crate::envelope::IfindEnvelope;
use crate::ratelimit::RateLimiter;
use crate::tables::Tables;
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
    limiter: RateLimiter,
    tokens: TokenManager,
    refresher: Arc<IfindRefresher>,
    account: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.inner.transport)
            .field("limiter", &self.inner.limiter.limit())
            .field("tokens", &self.inner.tokens)
            .field("account", &self.inner.account)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client keeping its tokens in memory.
    pub fn new(config: Config) -> Result<Self> {
        Self::with_token_store(config, Arc::new(MemoryTokenStore::new()))
    }

    /// A client persisting its access token in `store` (tokens are keyed `ths/<account>`).
    pub fn with_token_store(config: Config, store: Arc<dyn TokenStore>) -> Result<Self> {
        let limiter = RateLimiter::new(config.rate_limit);
        // Every attempt, retries and token fetches included, takes a rate-limiter slot.
        let transport = Transport::new(PLATFORM, config.transport.clone(), IfindEnvelope)?
            .with_attempt_hook(Arc::new(limiter.clone()));
        let refresher = Arc::new(IfindRefresher::new(
            transport.clone(),
            config.refresh_token.clone(),
            config.token_lifetime,
            config.account.clone(),
        ));
        let tokens = TokenManager::new(
            TokenKey::new(PLATFORM, config.account.clone()),
            refresher.clone(),
            store,
        )
        .with_margin(config.refresh_margin)
        .with_jitter((config.refresh_margin / 5).min(Duration::from_secs(60)));
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                limiter,
                tokens,
                refresher,
                account: config.account,
            }),
        })
    }

    /// The rate limiter (shared by every clone).
    pub fn limiter(&self) -> &RateLimiter {
        &self.inner.limiter
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
        let t0 = self.access_token().await?;
        let first = self.send_with(req, &t0).await;
        if !matches!(&first, Err(e) if e.is_token_expired()) {
            return self.reauth(first).await;
        }
        tracing::info!(
            operation = req.operation(),
            "access token rejected (-1302); fetching a token once and replaying once"
        );
        let t1 = self
            .inner
            .tokens
            .force_refresh(Some(&t0))
            .await?
            .access_token;
        let second = self.send_with(req, &t1).await;
        if !matches!(&second, Err(e) if e.is_token_expired()) {
            return self.reauth(second).await;
        }
        self.inner.refresher.request_update(&t1);
        let t2 = self
            .inner
            .tokens
            .force_refresh(Some(&t1))
            .await?
            .access_token;
        let third = self.send_with(req, &t2).await;
        self.reauth(third).await
    }

    async fn access_token(&self) -> Result<AccessToken> {
        let ts = self.inner.tokens.token_set().await?;
        let fp = self.inner.refresher.fingerprint();
        if ts.extra.get(FINGERPRINT_KEY).map(String::as_str) != Some(fp) {
            // A stored token from another refresh token (THS_REFRESH_TOKEN changed).
            tracing::debug!("stored access token belongs to another refresh token; fetching one");
            return Ok(self
                .inner
                .tokens
                .force_refresh(Some(&ts.access_token))
                .await?
                .access_token);
        }
        Ok(ts.access_token)
    }

    async fn send_with(&self, req: &Request, token: &AccessToken) -> Result<Response> {
        let req = req.clone().secret_header(
            HeaderName::from_static(ACCESS_TOKEN_HEADER),
            token.as_secret(),
        )?;
        self.inner.transport.execute(&req).await
    }

    /// Turns a "re-authorize" platform code into [`Error::ReauthRequired`] and forgets tokens.
    async fn reauth(&self, r: Result<Response>) -> Result<Response> {
        match r {
            Err(e)
                if e.api_kind() == Some(ApiErrorKind::ReauthRequired)
                    && !matches!(e, Error::ReauthRequired(_)) =>
            {
                if let Err(ce) = self.inner.tokens.clear().await {
                    tracing::warn!(error = %ce, "could not forget the rejected tokens");
                }
                Err(ReauthRequired {
                    platform: PLATFORM.into(),
                    account: Some(self.inner.account.clone()),
                    reason: format!(
                        "iFinD rejected the account's tokens ({}); copy a new refresh_token \
                         from the iFinD client into THS_REFRESH_TOKEN",
                        e.platform_code().unwrap_or("?")
                    ),
                    source: Some(Box::new(e)),
                }
                .into())
            }
            other => other,
        }
    }
}
