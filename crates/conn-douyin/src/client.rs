//! The [`Client`]: one transport, the accounts' token managers, the client-token manager.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use conn_core::clock::{self, SharedClock};
use conn_core::error::{Error, Result};
use conn_core::retry::Idempotency;
use conn_core::secret::AccessToken;
use conn_core::token::{MemoryTokenStore, TokenKey, TokenManager, TokenSet, TokenStore};
use conn_core::transport::{Request, Response, Transport};
use http::Method;

use crate::config::Config;
use crate::endpoint::ACCESS_TOKEN_HEADER;
use crate::envelope::DouyinEnvelope;
use crate::oauth::{self, AuthorizeRequest, AuthorizeUrl, OAuth};
use crate::tokens::{self, ClientRefresher, UserRefresher, CLIENT_TOKEN_ACCOUNT};
use crate::{validate, PLATFORM};

/// What is known about an account's tokens, without the tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// The account.
    pub open_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Access token expiry.
    pub expires_at: Option<SystemTime>,
    /// Refresh token expiry.
    pub refresh_expires_at: Option<SystemTime>,
    /// How many times the refresh token was renewed (the platform allows 5).
    pub renewals: u32,
}

impl AccountInfo {
    fn from_set(open_id: &str, ts: &TokenSet) -> Self {
        Self {
            open_id: ts.account.clone().unwrap_or_else(|| open_id.to_owned()),
            scopes: ts.scopes.clone(),
            expires_at: ts.expires_at,
            refresh_expires_at: ts.refresh_expires_at,
            renewals: tokens::renewals_of(ts),
        }
    }
}

#[derive(Clone)]
struct Account {
    manager: TokenManager,
    refresher: Arc<UserRefresher>,
}

struct Inner {
    config: Config,
    transport: Transport,
    oauth: OAuth,
    store: Arc<dyn TokenStore>,
    clock: SharedClock,
    margin: Option<Duration>,
    jitter: Option<Duration>,
    accounts: Mutex<HashMap<String, Account>>,
    client_token: TokenManager,
}

/// The Douyin client. Cheap to clone (clones share the connection pool and the token managers).
///
/// ```no_run
/// use conn_douyin::{Client, Config, VideoPost, VideoSource};
/// # async fn demo() -> conn_core::Result<()> {
/// let client = Client::new(Config::from_env()?)?;
/// let auth = client.authorize_url(&["user_info", "video.create.bind"], None)?;
/// println!("open {}", auth.url);
/// // ... the redirect brings back `code` and `state` (compare it with auth.state) ...
/// # let code = "";
/// let account = client.exchange_code(code).await?;
/// let published = client
///     .publish_video(&account.open_id, VideoSource::path("clip.mp4"), &VideoPost::new("标题"))
///     .await?;
/// println!("item {}", published.item_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`] with a token store, a clock or refresh timing of your choice.
///
/// ```
/// use std::sync::Arc;
/// use conn_core::clock;
/// use conn_core::token::MemoryTokenStore;
/// use conn_douyin::{Client, Config};
/// let config = Config::builder().client_key("awx123").client_secret("s3cr3t").build()?;
/// let client = Client::builder(config)
///     .token_store(Arc::new(MemoryTokenStore::new()))
///     .clock(clock::system())
///     .http_client(reqwest::Client::new())
///     .build()?;
/// # let _ = client;
/// # Ok::<(), conn_core::Error>(())
/// ```
pub struct ClientBuilder {
    config: Config,
    store: Option<Arc<dyn TokenStore>>,
    clock: Option<SharedClock>,
    margin: Option<Duration>,
    jitter: Option<Duration>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("store", &self.store)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Where account tokens and the client token persist (default: in memory).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock for token expiry (default: the system clock).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Refresh this long before expiry (default 5 minutes, the original system's rule).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = Some(margin);
        self
    }

    /// Extra random margin so a fleet does not refresh in step (default up to 60 s).
    pub fn refresh_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Shares an existing reqwest client (connection pool).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        self.config.validate()?;
        let transport = Transport::with_optional_client(
            PLATFORM,
            self.config.transport.clone(),
            DouyinEnvelope,
            self.http,
        )?;
        let oauth = OAuth::new(transport.clone(), &self.config);
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
        let clock = self.clock.unwrap_or_else(clock::system);
        let client_token = tune(
            TokenManager::new(
                TokenKey::new(PLATFORM, CLIENT_TOKEN_ACCOUNT),
                Arc::new(ClientRefresher::new(oauth.clone(), clock.clone())),
                store.clone(),
            ),
            &clock,
            self.margin,
            self.jitter,
        );
        Ok(Client {
            inner: Arc::new(Inner {
                config: self.config,
                transport,
                oauth,
                store,
                clock,
                margin: self.margin,
                jitter: self.jitter,
                accounts: Mutex::new(HashMap::new()),
                client_token,
            }),
        })
    }
}

fn tune(
    mut m: TokenManager,
    clock: &SharedClock,
    margin: Option<Duration>,
    jitter: Option<Duration>,
) -> TokenManager {
    m = m.with_clock(clock.clone());
    if let Some(d) = margin {
        m = m.with_margin(d);
    }
    if let Some(d) = jitter {
        m = m.with_jitter(d);
    }
    m
}

impl Client {
    /// A client with an in-memory token store and the system clock.
    pub fn new(config: Config) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder (token store, clock, refresh timing).
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            store: None,
            clock: None,
            margin: None,
            jitter: None,
            http: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The transport (base URL, counters).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The account a call acts for: `open_id` if given, else the configured default.
    pub fn resolve_open_id(&self, open_id: Option<&str>) -> Result<String> {
        match open_id.or(self.inner.config.default_open_id.as_deref()) {
            Some(o) => {
                validate::open_id(o)?;
                Ok(o.to_owned())
            }
            None => Err(Error::config_var(
                "DOUYIN_OPEN_ID",
                "no account given; pass an open_id or set DOUYIN_OPEN_ID",
            )),
        }
    }

    fn account(&self, open_id: &str) -> Account {
        let mut map = self
            .inner
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // The usual case, an account already known: no key allocated.
        if let Some(a) = map.get(open_id) {
            return a.clone();
        }
        map.entry(open_id.to_owned())
            .or_insert_with(|| {
                let refresher = Arc::new(UserRefresher::new(
                    self.inner.oauth.clone(),
                    open_id,
                    self.inner.store.clone(),
                    self.inner.clock.clone(),
                    self.inner.config.auto_renew_before,
                ));
                let manager = tune(
                    TokenManager::new(
                        TokenKey::new(PLATFORM, open_id),
                        refresher.clone(),
                        self.inner.store.clone(),
                    ),
                    &self.inner.clock,
                    self.inner.margin,
                    self.inner.jitter,
                );
                Account { manager, refresher }
            })
            .clone()
    }

    /// The accounts this client has touched (authorized, refreshed or called for).
    pub fn account_ids(&self) -> Vec<String> {
        let map = self
            .inner
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let mut ids: Vec<String> = map.keys().cloned().collect();
        ids.sort();
        ids
    }

    fn fixed_token_refresh_error(&self) -> Error {
        Error::config_var(
            "DOUYIN_ACCESS_TOKEN",
            "a fixed access token is configured; it cannot be refreshed or renewed (unset it to use OAuth tokens)",
        )
    }

    // ---- OAuth ----------------------------------------------------------------------------

    /// The authorization URL for `scopes` and the state it carries (generated from the system
    /// CSPRNG when `state` is `None`), with the configured redirect URI.
    ///
    /// ```
    /// use conn_douyin::{Client, Config};
    /// let client = Client::new(
    ///     Config::builder().client_key("awx1").client_secret("s").redirect_uri("https://example.com/cb").build()?,
    /// )?;
    /// let auth = client.authorize_url(&["user_info", "video.create.bind"], None)?;
    /// assert!(auth.url.as_str().starts_with("https://open.douyin.com/platform/oauth/connect/?client_key=awx1&response_type=code&scope=user_info%2Cvideo.create.bind"));
    /// assert!(auth.url.as_str().ends_with(&format!("state={}", auth.state)));
    /// let err = client.authorize_url(&["user_info", "fans.list"], None).unwrap_err();
    /// assert!(err.to_string().contains("unknown scope(s): fans.list"));
    /// # Ok::<(), conn_core::Error>(())
    /// ```
    pub fn authorize_url(&self, scopes: &[&str], state: Option<&str>) -> Result<AuthorizeUrl> {
        let mut req = AuthorizeRequest::new(scopes.iter().copied());
        if let Some(s) = state {
            req = req.state(s);
        }
        self.authorize_url_with(&req)
    }

    /// The authorization URL for a full [`AuthorizeRequest`] (optional scopes, a loopback
    /// redirect URI).
    pub fn authorize_url_with(&self, req: &AuthorizeRequest) -> Result<AuthorizeUrl> {
        oauth::authorize_url(&self.inner.config, req)
    }

    /// Exchanges an authorization code for the user's tokens and stores them under the
    /// account's `open_id`.
    #[tracing::instrument(skip_all, name = "douyin.exchange_code")]
    pub async fn exchange_code(&self, code: &str) -> Result<AccountInfo> {
        let token = self.inner.oauth.exchange_code(code).await?;
        let open_id = token.open_id.clone();
        validate::open_id(&open_id)?;
        let ts = token.into_token_set(self.inner.clock.now(), None);
        let info = AccountInfo::from_set(&open_id, &ts);
        self.account(&open_id).manager.set(ts).await?;
        tracing::info!(open_id = %open_id, "account authorized");
        Ok(info)
    }

    /// Installs tokens obtained elsewhere for an account (and persists them).
    pub async fn set_tokens(&self, open_id: &str, tokens: TokenSet) -> Result<()> {
        validate::open_id(open_id)?;
        self.account(open_id).manager.set(tokens).await
    }

    /// What is known about an account's tokens (loaded from the store if needed).
    pub async fn account_info(&self, open_id: &str) -> Result<Option<AccountInfo>> {
        validate::open_id(open_id)?;
        let current = self.account(open_id).manager.current().await?;
        Ok(current.map(|ts| AccountInfo::from_set(open_id, &ts)))
    }

    /// Refreshes an account's access token now.
    #[tracing::instrument(skip(self), name = "douyin.refresh")]
    pub async fn refresh(&self, open_id: &str) -> Result<AccountInfo> {
        validate::open_id(open_id)?;
        if self.inner.config.access_token.is_some() {
            return Err(self.fixed_token_refresh_error());
        }
        let ts = self.account(open_id).manager.force_refresh(None).await?;
        Ok(AccountInfo::from_set(open_id, &ts))
    }

    /// Renews an account's refresh token (the old one dies at once; at most 5 renewals), then
    /// refreshes its access token. The renewal limit (10020) → re-authorization required, and
    /// the account's stored tokens are removed.
    #[tracing::instrument(skip(self), name = "douyin.renew_refresh_token")]
    pub async fn renew_refresh_token(&self, open_id: &str) -> Result<AccountInfo> {
        validate::open_id(open_id)?;
        if self.inner.config.access_token.is_some() {
            return Err(self.fixed_token_refresh_error());
        }
        let account = self.account(open_id);
        account.refresher.request_renewal();
        let ts = account.manager.force_refresh(None).await?;
        Ok(AccountInfo::from_set(open_id, &ts))
    }

    /// Forgets an account's tokens, here and in the store.
    pub async fn logout(&self, open_id: &str) -> Result<()> {
        validate::open_id(open_id)?;
        self.account(open_id).manager.clear().await
    }

    /// The app's client token (cached until 5 minutes before expiry; one fetch however many
    /// callers ask at once).
    pub async fn client_token(&self) -> Result<AccessToken> {
        self.inner.client_token.token().await
    }

    // ---- calls -------------------------------------------------------------------------------

    /// A resource-API request for an account (`open_id` in the query).
    pub(crate) fn api_request(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        open_id: &str,
        idempotency: Idempotency,
    ) -> Request {
        Request::new(operation, method, path, idempotency).query("open_id", open_id)
    }

    /// Runs `call` with the account's access token: refreshes first when due, and on a
    /// token-expired answer refreshes once and replays once. With a fixed token, an expired
    /// answer becomes "re-authorization required" explaining that it cannot be refreshed.
    pub(crate) async fn with_user_token<T, F, Fut>(&self, open_id: &str, call: F) -> Result<T>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let Some(fixed) = &self.inner.config.access_token {
            return call(fixed.clone()).await.map_err(|e| {
                if e.is_token_expired() {
                    tokens::reauth(
                        open_id,
                        "the fixed DOUYIN_ACCESS_TOKEN was rejected as invalid or expired and cannot be refreshed; set a new one or log in with OAuth",
                        Some(e),
                    )
                } else {
                    e
                }
            });
        }
        self.account(open_id).manager.with_token(call).await
    }

    /// Sends a resource-API request with the account's token.
    pub(crate) async fn execute_for(&self, open_id: &str, req: Request) -> Result<Response> {
        let transport = self.inner.transport.clone();
        self.with_user_token(open_id, move |token| {
            let req = req.clone();
            let transport = transport.clone();
            async move {
                let req = req.secret_header(ACCESS_TOKEN_HEADER, token.as_secret())?;
                transport.execute(&req).await
            }
        })
        .await
    }
}
