//! Toutiao (今日头条) OAuth: the ByteDance authorization-code scheme on `open.snssdk.com`,
//! on conn-core's token machinery.
//!
//! - The user opens `GET /oauth/authorize/?client_key=&response_type=code&scope=a,b&redirect_uri=&state=`
//!   ([`ToutiaoOAuth::authorize_url`]; the state is a [`CsrfState`] checked on the redirect).
//! - The code is exchanged at `/oauth/access_token/` (`client_key, client_secret, code,
//!   grant_type=authorization_code`) for `data{access_token, expires_in, refresh_token,
//!   refresh_expires_in, open_id, scope}` ([`ToutiaoOAuth::exchange_code`]).
//! - `/oauth/refresh_token/` (`client_key, grant_type=refresh_token, refresh_token`, no secret)
//!   gives a new access token (15 days); a refresh token that comes back replaces the old one
//!   (rotation), one that does not keeps the old ([`ToutiaoOAuth::refresh`]).
//! - `/oauth/renew_refresh_token/` (`client_key, refresh_token`) gives a new refresh token (30
//!   days) and kills the old at once ([`ToutiaoOAuth::renew_refresh_token`]).
//! - Errors come as HTTP 200 with `data.error_code` ≠ 0; `10010` (refresh token dead) and
//!   `10020` on a renewal (renew limit reached) mean the user must authorize again
//!   ([`conn_core::Error::ReauthRequired`]); see [`kind_of`] for the rest.
//!
//! [`ToutiaoOAuth`] implements [`TokenRefresher`], so a [`TokenManager`] built with
//! [`ToutiaoOAuth::token_manager`] refreshes a margin before expiry, one refresh at a time for
//! any number of callers, and forgets the stored tokens when the refresh token is dead. Give
//! the manager to [`crate::ClientBuilder::token_manager`] and publish/stats take their bearer
//! token from it, refreshing once and replaying once when the platform rejects the token.
//!
//! ## Sources, and what is configurable (⚠)
//!
//! - Paths, parameter names and answer fields: the ByteDance OAuth description for
//!   `open.snssdk.com` as the platform notes of this workspace give it, and the generated
//!   client of that API in github.com/strangebank/douyin-open-php (`src/docs/Api/DefaultApi.md`:
//!   `oauthAccessTokenGet(client_key, client_secret, code, grant_type)`,
//!   `oauthRefreshTokenGet(client_key, grant_type, refresh_token)`).
//! - ⚠ How the parameters travel: the platform notes say `POST` with a form body; the generated
//!   client sends `GET` with a query. [`TokenRequestStyle`] (`TOUTIAO_OAUTH_REQUEST_STYLE`,
//!   default `post_form`) picks one.
//! - ⚠ Error codes: Toutiao publishes no table of its own; the ByteDance open platform's are
//!   used ([`kind_of`]).
//! - ⚠ The host: `TOUTIAO_OAUTH_URL` (default `https://open.snssdk.com`).

mod wire;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use conn_core::clock::{self, SharedClock};
use conn_core::env::Env;
use conn_core::oauth::CsrfState;
use conn_core::reexports::url::Url;
use conn_core::retry::Idempotency;
use conn_core::secret::{ClientSecret, RefreshToken};
use conn_core::token::{TokenKey, TokenManager, TokenRefresher, TokenSet, TokenStore};
use conn_core::transport::{Request, Transport, TransportConfig};
use conn_core::{Error, Result};
use http::Method;

pub use self::wire::kind_of;
use self::wire::{TokenBody, TokenEnvelope, OP_EXCHANGE, OP_REFRESH, OP_RENEW};

/// The platform name in errors, logs, counters and token keys.
pub const PLATFORM: &str = "toutiao";
/// The OAuth host.
pub const DEFAULT_OAUTH_URL: &str = "https://open.snssdk.com";
/// Longest authorization code accepted (codes are opaque; this bounds hostile input).
pub const MAX_CODE_LEN: usize = 512;

/// How the token requests carry their parameters. ⚠ The sources disagree (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenRequestStyle {
    /// `POST`, `application/x-www-form-urlencoded` body.
    #[default]
    PostForm,
    /// `GET`, parameters in the query.
    GetQuery,
}

impl FromStr for TokenRequestStyle {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "post_form" | "post" | "form" => Ok(Self::PostForm),
            "get_query" | "get" | "query" => Ok(Self::GetQuery),
            other => Err(Error::config_var(
                "TOUTIAO_OAUTH_REQUEST_STYLE",
                format!("{other:?} is not post_form or get_query"),
            )),
        }
    }
}

/// Settings of [`ToutiaoOAuth`]; build with [`ToutiaoOAuth::builder`].
#[derive(Clone)]
pub struct ToutiaoOAuthBuilder {
    client_key: String,
    client_secret: ClientSecret,
    base_url: String,
    style: TokenRequestStyle,
    transport: Option<TransportConfig>,
    clock: SharedClock,
}

impl fmt::Debug for ToutiaoOAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToutiaoOAuthBuilder")
            .field("client_key", &self.client_key)
            .field("base_url", &self.base_url)
            .field("style", &self.style)
            .finish_non_exhaustive()
    }
}

impl ToutiaoOAuthBuilder {
    /// The OAuth host (`TOUTIAO_OAUTH_URL`); a test points it at a fake.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// How parameters travel ([`TokenRequestStyle`]).
    pub fn request_style(mut self, style: TokenRequestStyle) -> Self {
        self.style = style;
        self
    }

    /// Transport settings (timeouts, retry); the base URL is replaced by [`Self::base_url`].
    pub fn transport(mut self, t: TransportConfig) -> Self {
        self.transport = Some(t);
        self
    }

    /// The clock token expiries are computed with.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings and builds the client. An empty client key or secret, or a base
    /// URL that is not http(s), is a validation error naming the field.
    pub fn build(self) -> Result<ToutiaoOAuth> {
        if self.client_key.trim().is_empty() {
            return Err(Error::validation("client_key", "is required"));
        }
        if self.client_secret.expose_secret().is_empty() {
            return Err(Error::validation("client_secret", "is required"));
        }
        let base = conn_core::transport::parse_base_url(&self.base_url, None)?;
        let mut tc = match self.transport {
            Some(t) => t,
            None => TransportConfig::new(base.as_str())?,
        };
        tc.base_url = base;
        let transport = Transport::new(PLATFORM, tc, TokenEnvelope)?;
        Ok(ToutiaoOAuth {
            inner: Arc::new(Inner {
                client_key: self.client_key.trim().to_owned(),
                client_secret: self.client_secret,
                style: self.style,
                transport,
                clock: self.clock,
            }),
        })
    }
}

struct Inner {
    client_key: String,
    client_secret: ClientSecret,
    style: TokenRequestStyle,
    transport: Transport,
    clock: SharedClock,
}

/// The Toutiao OAuth client. Cheap to clone. `Debug` shows the client key, never the secret.
///
/// ```
/// use conn_content::toutiao::ToutiaoOAuth;
/// let oauth = ToutiaoOAuth::builder("tt-key", "tt-secret").build()?;
/// let (url, state) = oauth.authorize_url(&["user_info"], "https://app.example.com/cb")?;
/// assert!(url.as_str().starts_with("https://open.snssdk.com/oauth/authorize/?client_key=tt-key"));
/// assert!(url.as_str().contains(state.as_str()));
/// assert!(!format!("{oauth:?}").contains("tt-secret"));
/// # Ok::<(), conn_core::Error>(())
/// ```
#[derive(Clone)]
pub struct ToutiaoOAuth {
    inner: Arc<Inner>,
}

impl fmt::Debug for ToutiaoOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToutiaoOAuth")
            .field("client_key", &self.inner.client_key)
            .field("style", &self.inner.style)
            .field("base_url", &self.inner.transport.config().base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// The environment variables of Toutiao OAuth (listed in [`crate::ENV_VARS`]).
pub const ENV_CLIENT_KEY: &str = "TOUTIAO_CLIENT_KEY";
/// See [`ENV_CLIENT_KEY`].
pub const ENV_CLIENT_SECRET: &str = "TOUTIAO_CLIENT_SECRET";
/// See [`ENV_CLIENT_KEY`].
pub const ENV_OAUTH_URL: &str = "TOUTIAO_OAUTH_URL";
/// See [`ENV_CLIENT_KEY`].
pub const ENV_REQUEST_STYLE: &str = "TOUTIAO_OAUTH_REQUEST_STYLE";

impl ToutiaoOAuth {
    /// Settings with the defaults (`https://open.snssdk.com`, `post_form`, system clock).
    pub fn builder(
        client_key: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> ToutiaoOAuthBuilder {
        ToutiaoOAuthBuilder {
            client_key: client_key.into(),
            client_secret: ClientSecret::new(client_secret),
            base_url: DEFAULT_OAUTH_URL.to_owned(),
            style: TokenRequestStyle::default(),
            transport: None,
            clock: clock::system(),
        }
    }

    /// From `TOUTIAO_CLIENT_KEY`, `TOUTIAO_CLIENT_SECRET`, `TOUTIAO_OAUTH_URL` and
    /// `TOUTIAO_OAUTH_REQUEST_STYLE` (plus conn-core's `API_*` transport variables). `None`
    /// when neither key nor secret is set (OAuth is optional: a fixed `TOUTIAO_ACCESS_TOKEN`
    /// works without it); every problem otherwise, all at once.
    ///
    /// ```
    /// use conn_core::env::{Env, MapEnv};
    /// use conn_content::toutiao::ToutiaoOAuth;
    /// let env = Env::from_source(MapEnv::new().set("TOUTIAO_OAUTH_REQUEST_STYLE", "carrier-pigeon"));
    /// let errors = ToutiaoOAuth::from_env_report(&env).unwrap_err();
    /// let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    /// assert!(text.iter().any(|e| e.contains("TOUTIAO_CLIENT_KEY")));
    /// assert!(text.iter().any(|e| e.contains("TOUTIAO_CLIENT_SECRET")));
    /// assert!(text.iter().any(|e| e.contains("TOUTIAO_OAUTH_REQUEST_STYLE")));
    /// assert!(ToutiaoOAuth::from_env_report(&Env::from_source(MapEnv::new())).unwrap().is_none());
    /// ```
    pub fn from_env_report(env: &Env) -> std::result::Result<Option<Self>, Vec<Error>> {
        let key = env.get(ENV_CLIENT_KEY).filter(|s| !s.trim().is_empty());
        let secret = env
            .secret(ENV_CLIENT_SECRET)
            .filter(|s| !s.expose_secret().is_empty());
        let style = env.get(ENV_REQUEST_STYLE).filter(|s| !s.trim().is_empty());
        let url = env.get(ENV_OAUTH_URL).filter(|s| !s.trim().is_empty());
        if key.is_none() && secret.is_none() && style.is_none() && url.is_none() {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let need =
            "is needed for Toutiao OAuth (set both, or neither and use TOUTIAO_ACCESS_TOKEN)";
        if key.is_none() {
            errors.push(Error::config_var(ENV_CLIENT_KEY, need));
        }
        if secret.is_none() {
            errors.push(Error::config_var(ENV_CLIENT_SECRET, need));
        }
        let style = match style.map(|s| s.parse::<TokenRequestStyle>()).transpose() {
            Ok(s) => s.unwrap_or_default(),
            Err(e) => {
                errors.push(e);
                TokenRequestStyle::default()
            }
        };
        let base = url.unwrap_or_else(|| DEFAULT_OAUTH_URL.to_owned());
        let transport = match TransportConfig::from_env(env, &base, Some(ENV_OAUTH_URL)) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let (Some(key), Some(secret), Some(transport), true) =
            (key, secret, transport, errors.is_empty())
        else {
            return Err(errors);
        };
        Self::builder(key, secret.expose_secret())
            .base_url(base)
            .request_style(style)
            .transport(transport)
            .build()
            .map(Some)
            .map_err(|e| vec![e])
    }

    /// The client key.
    pub fn client_key(&self) -> &str {
        &self.inner.client_key
    }

    /// The transport (counters).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The URL the user opens to authorize the app, and the state to check on the redirect.
    /// `scopes` must not be empty; `redirect_uri` must be an absolute http(s) URL.
    pub fn authorize_url(&self, scopes: &[&str], redirect_uri: &str) -> Result<(Url, CsrfState)> {
        self.authorize_url_with_state(scopes, redirect_uri, CsrfState::new_random())
    }

    /// [`Self::authorize_url`] with a state of the caller's (one it stored).
    pub fn authorize_url_with_state(
        &self,
        scopes: &[&str],
        redirect_uri: &str,
        state: CsrfState,
    ) -> Result<(Url, CsrfState)> {
        let scopes: Vec<&str> = scopes.iter().map(|s| s.trim()).collect();
        if scopes.is_empty() || scopes.iter().any(|s| s.is_empty()) {
            return Err(Error::validation("scope", "at least one scope, none empty"));
        }
        if let Some(bad) = scopes
            .iter()
            .find(|s| !s.bytes().all(|b| b.is_ascii_graphic() && b != b','))
        {
            return Err(Error::validation(
                "scope",
                format!("{bad:?} holds a comma, a space or a non-ASCII character"),
            ));
        }
        let redirect = Url::parse(redirect_uri)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or_else(|| Error::validation("redirect_uri", "must be an absolute http(s) URL"))?;
        let query = [
            ("client_key", self.inner.client_key.as_str()),
            ("response_type", "code"),
            ("scope", &scopes.join(",")),
            ("redirect_uri", redirect.as_str()),
            ("state", state.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let url = self.inner.transport.url_for("/oauth/authorize/", &query)?;
        Ok((url, state))
    }

    fn token_request(
        &self,
        op: &'static str,
        path: &str,
        params: Vec<(&str, String)>,
    ) -> Result<Request> {
        // Token fetches are idempotent in the retry sense: a lost answer costs one more code
        // or refresh attempt, never a duplicate side effect the user sees (a used code is
        // refused with 10007, which is not retried).
        let req = match self.inner.style {
            TokenRequestStyle::PostForm => {
                Request::post(op, path, Idempotency::Idempotent).form(&params)?
            }
            TokenRequestStyle::GetQuery => params.into_iter().fold(
                Request::new(op, Method::GET, path, Idempotency::Idempotent),
                |r, (k, v)| r.query(k, v),
            ),
        };
        Ok(req.secret_response())
    }

    async fn send(&self, req: Request, previous: Option<&TokenSet>) -> Result<TokenSet> {
        let resp = self.inner.transport.execute(&req).await?;
        let body: TokenBody = resp.json()?;
        body.data
            .into_answer(false)?
            .into_token_set(self.inner.clock.now(), previous)
    }

    /// Exchanges the code of the redirect for tokens (`/oauth/access_token/`).
    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet> {
        let code = code.trim();
        if code.is_empty() || code.len() > MAX_CODE_LEN || code.chars().any(char::is_control) {
            return Err(Error::validation(
                "code",
                format!("must be 1 to {MAX_CODE_LEN} characters without control characters"),
            ));
        }
        let i = &self.inner;
        let req = self.token_request(
            OP_EXCHANGE,
            "/oauth/access_token/",
            vec![
                ("client_key", i.client_key.clone()),
                ("client_secret", i.client_secret.expose_secret().to_owned()),
                ("code", code.to_owned()),
                ("grant_type", "authorization_code".to_owned()),
            ],
        )?;
        self.send(req, None).await
    }

    fn refresh_token_of(current: &TokenSet) -> Result<&RefreshToken> {
        current
            .refresh_token
            .as_ref()
            .ok_or_else(|| no_refresh_token(current.account.clone()))
    }

    /// A new access token from the refresh token of `current` (`/oauth/refresh_token/`). A
    /// refresh token in the answer replaces the old one; otherwise the old one is kept.
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet> {
        let rt = Self::refresh_token_of(current)?;
        let req = self.token_request(
            OP_REFRESH,
            "/oauth/refresh_token/",
            vec![
                ("client_key", self.inner.client_key.clone()),
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", rt.expose_secret().to_owned()),
            ],
        )?;
        self.send(req, Some(current)).await
    }

    /// A new refresh token (`/oauth/renew_refresh_token/`); the old one dies at once, so the
    /// result must be stored (a [`TokenManager::set`]) before anything else uses the tokens.
    pub async fn renew_refresh_token(&self, current: &TokenSet) -> Result<TokenSet> {
        let rt = Self::refresh_token_of(current)?;
        let req = self.token_request(
            OP_RENEW,
            "/oauth/renew_refresh_token/",
            vec![
                ("client_key", self.inner.client_key.clone()),
                ("refresh_token", rt.expose_secret().to_owned()),
            ],
        )?;
        self.send_renewal(req, current).await
    }

    async fn send_renewal(&self, req: Request, current: &TokenSet) -> Result<TokenSet> {
        // The renewal answer has no access token: lend the current one to the conversion.
        let resp = self.inner.transport.execute(&req).await?;
        let body: TokenBody = resp.json()?;
        let mut answer = body.data.into_answer(true)?;
        if answer.refresh_token.is_none() {
            return Err(Error::validation(
                "refresh_token",
                "the renewal answer carries no refresh token",
            ));
        }
        answer.access_token = Some(current.access_token.clone());
        let mut ts = answer.into_token_set(self.inner.clock.now(), Some(current))?;
        ts.expires_at = current.expires_at;
        Ok(ts)
    }

    /// A token manager for `account` that refreshes through this client and persists in
    /// `store` (key `toutiao/<account>`).
    pub fn token_manager(
        &self,
        store: Arc<dyn TokenStore>,
        account: impl Into<String>,
    ) -> TokenManager {
        TokenManager::new(
            TokenKey::new(PLATFORM, account),
            Arc::new(self.clone()),
            store,
        )
        .with_clock(self.inner.clock.clone())
    }
}

#[async_trait]
impl TokenRefresher for ToutiaoOAuth {
    async fn refresh(&self, current: Option<&TokenSet>) -> Result<TokenSet> {
        match current {
            Some(c) => ToutiaoOAuth::refresh(self, c).await,
            None => Err(no_refresh_token(None)),
        }
    }
}

/// Nothing to refresh with: only a new authorization helps.
fn no_refresh_token(account: Option<String>) -> Error {
    Error::from(conn_core::error::ReauthRequired {
        platform: PLATFORM.into(),
        account,
        reason: "no refresh token is stored; authorize again".into(),
        source: None,
    })
}
