//! Token sets, token stores, and the single-flight token manager.
//!
//! A [`TokenManager`] owns one account's tokens. [`TokenManager::token`] returns a valid access
//! token, refreshing a margin (5 minutes by default, plus up to a minute of jitter so a fleet
//! does not refresh in step) before expiry. Refresh is **single-flight**: however many callers
//! find the token stale, one refresh runs and all of them get its result, success or failure.
//! The refresh runs in its own task, so a caller that gives up does not cancel it for the rest.
//!
//! [`TokenManager::with_token`] runs a call with the token and, when the platform answers
//! "token expired", refreshes once and replays once; when the call or the refresh says the
//! credential is dead ([`Error::is_reauth_required`]), it forgets the stored tokens and returns
//! [`Error::ReauthRequired`]. This is the one "dead token" path of every platform.
//!
//! A refresh that ends in any way (answer, error, panic, cancellation, or the refresh timeout,
//! [`DEFAULT_REFRESH_TIMEOUT`]) frees the single-flight slot: waiters get the error (a panic,
//! cancellation or timeout as [`Error::RefreshAborted`]) and the next call starts a new refresh.
//!
//! Lifetimes from the wire are clamped to [`MAX_TOKEN_LIFETIME`], so no answer can overflow
//! a `SystemTime`.
//!
//! Refresh tokens rotate on some platforms (Douyin renewal kills the old one), so two processes
//! refreshing at once would strand each other. A [`TokenStore`] may offer a cross-process lock;
//! the manager takes it around a refresh and re-reads the stored token first, adopting one that
//! another process already refreshed.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt, Shared};
use rand::Rng;
use tracing::Instrument;

use crate::clock::{self, SharedClock};
use crate::error::{Error, ReauthRequired, RefreshAbort, RefreshAborted, Result};
use crate::secret::{AccessToken, RefreshToken};
use crate::stats::{self, PlatformStats};

/// Which account a token set belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKey {
    /// Platform (`douyin`, `ths`).
    pub platform: String,
    /// Account within the platform (Douyin `open_id`, `client` for an app token, `default`).
    pub account: String,
}

impl TokenKey {
    /// Builds a key.
    pub fn new(platform: impl Into<String>, account: impl Into<String>) -> Self {
        Self {
            platform: platform.into(),
            account: account.into(),
        }
    }
}

impl fmt::Display for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.platform, self.account)
    }
}

/// An access token with what is known about it. `Debug` redacts the tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token, if the platform issues one.
    pub refresh_token: Option<RefreshToken>,
    /// When the access token expires.
    pub expires_at: Option<SystemTime>,
    /// When the refresh token expires.
    pub refresh_expires_at: Option<SystemTime>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The account (Douyin open_id).
    pub account: Option<String>,
    /// Non-secret metadata a platform keeps with its tokens (renewal count…).
    pub extra: BTreeMap<String, String>,
}

impl TokenSet {
    /// A token set with only an access token.
    pub fn new(access_token: AccessToken) -> Self {
        Self {
            access_token,
            refresh_token: None,
            expires_at: None,
            refresh_expires_at: None,
            scopes: Vec::new(),
            account: None,
            extra: BTreeMap::new(),
        }
    }

    /// Sets the refresh token.
    pub fn with_refresh_token(mut self, t: Option<RefreshToken>) -> Self {
        self.refresh_token = t;
        self
    }

    /// Sets expiry as `now + expires_in`, the lifetime clamped to [`MAX_TOKEN_LIFETIME`] (an
    /// absurd `expires_in` from the wire, `i64::MAX` seconds, never panics).
    ///
    /// ```
    /// use conn_core::token::{TokenSet, MAX_TOKEN_LIFETIME};
    /// use std::time::{Duration, SystemTime};
    /// let now = SystemTime::UNIX_EPOCH;
    /// let t = TokenSet::new(conn_core::secret::AccessToken::new("a")).with_expires_in(now, Duration::MAX);
    /// assert_eq!(t.expires_at, Some(now + MAX_TOKEN_LIFETIME));
    /// ```
    pub fn with_expires_in(mut self, now: SystemTime, expires_in: Duration) -> Self {
        self.expires_at = Some(expiry_after(now, expires_in));
        self
    }

    /// Sets the refresh token's expiry as `now + expires_in`, clamped like
    /// [`TokenSet::with_expires_in`].
    pub fn with_refresh_expires_in(mut self, now: SystemTime, expires_in: Duration) -> Self {
        self.refresh_expires_at = Some(expiry_after(now, expires_in));
        self
    }

    /// Sets the account.
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Sets the scopes.
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = scopes;
        self
    }

    /// True when expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }

    /// The serialisable form, secrets included: for stores that encrypt at rest.
    pub fn to_stored(&self) -> StoredTokenSet {
        StoredTokenSet {
            access_token: self.access_token.expose_secret().to_owned(),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at: self.expires_at.map(unix_secs),
            refresh_expires_at: self.refresh_expires_at.map(unix_secs),
            scopes: self.scopes.clone(),
            account: self.account.clone(),
            extra: self.extra.clone(),
        }
    }

    /// Back from the serialisable form.
    pub fn from_stored(s: StoredTokenSet) -> Self {
        Self {
            access_token: AccessToken::new(s.access_token.as_str()),
            refresh_token: s.refresh_token.as_deref().map(RefreshToken::new),
            expires_at: s.expires_at.map(from_unix_secs),
            refresh_expires_at: s.refresh_expires_at.map(from_unix_secs),
            scopes: s.scopes.clone(),
            account: s.account.clone(),
            extra: s.extra.clone(),
        }
    }
}

/// The longest token lifetime believed from the wire: ten years. Longer ones are clamped to
/// it (a token that claims to live longer is refreshed after ten years, which is harmless).
pub const MAX_TOKEN_LIFETIME: Duration = crate::lenient::MAX_WIRE_DURATION;

/// `now + lifetime`, the lifetime clamped to [`MAX_TOKEN_LIFETIME`]; never panics.
///
/// ```
/// use conn_core::token::{expiry_after, MAX_TOKEN_LIFETIME};
/// use std::time::{Duration, SystemTime};
/// let now = SystemTime::UNIX_EPOCH;
/// assert_eq!(expiry_after(now, Duration::from_secs(7200)), now + Duration::from_secs(7200));
/// assert_eq!(expiry_after(now, Duration::MAX), now + MAX_TOKEN_LIFETIME);
/// ```
pub fn expiry_after(now: SystemTime, lifetime: Duration) -> SystemTime {
    now.checked_add(lifetime.min(MAX_TOKEN_LIFETIME))
        .unwrap_or(now)
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn from_unix_secs(s: i64) -> SystemTime {
    // A hostile store file may hold any i64: before 1970 reads as the epoch, beyond what a
    // SystemTime holds as the epoch too (an expired token is refreshed, never a panic).
    UNIX_EPOCH
        .checked_add(Duration::from_secs(u64::try_from(s).unwrap_or(0)))
        .unwrap_or(UNIX_EPOCH)
}

/// A [`TokenSet`] with its secrets exposed as strings, for persistence only. Zeroized on drop;
/// `Debug` redacts.
#[derive(Clone, serde::Serialize, serde::Deserialize, zeroize::ZeroizeOnDrop)]
pub struct StoredTokenSet {
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Expiry, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[zeroize(skip)]
    pub expires_at: Option<i64>,
    /// Refresh expiry, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[zeroize(skip)]
    pub refresh_expires_at: Option<i64>,
    /// Scopes.
    #[serde(default)]
    #[zeroize(skip)]
    pub scopes: Vec<String>,
    /// Account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[zeroize(skip)]
    pub account: Option<String>,
    /// Metadata.
    #[serde(default)]
    #[zeroize(skip)]
    pub extra: BTreeMap<String, String>,
}

impl fmt::Debug for StoredTokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// A held cross-process lock; released on drop.
pub trait TokenLock: Send + Sync + fmt::Debug {}

/// Where token sets persist.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored token set, if any.
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>>;
    /// Stores a token set, replacing any previous one.
    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<()>;
    /// Removes a token set (no error if absent).
    async fn delete(&self, key: &TokenKey) -> Result<()>;
    /// Takes a lock that serialises refreshes of `key` across every user of the store (other
    /// processes included). `None`: this store has no such lock.
    async fn lock(&self, _key: &TokenKey) -> Result<Option<Box<dyn TokenLock>>> {
        Ok(None)
    }
}

/// An in-memory [`TokenStore`]. Its lock serialises refreshes among every manager sharing the
/// store, which models a cross-process lock in tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryTokenStore {
    tokens: Arc<Mutex<HashMap<TokenKey, TokenSet>>>,
    locks: Arc<Mutex<HashMap<TokenKey, Arc<tokio::sync::Mutex<()>>>>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keys held.
    pub fn keys(&self) -> Vec<TokenKey> {
        let map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<TokenKey> = map.keys().cloned().collect();
        keys.sort();
        keys
    }
}

#[derive(Debug)]
struct MemoryLock(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);
impl TokenLock for MemoryLock {}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, key: &TokenKey) -> Result<Option<TokenSet>> {
        let map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(key).cloned())
    }
    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> Result<()> {
        let mut map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(key.clone(), tokens.clone());
        Ok(())
    }
    async fn delete(&self, key: &TokenKey) -> Result<()> {
        let mut map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
        Ok(())
    }
    async fn lock(&self, key: &TokenKey) -> Result<Option<Box<dyn TokenLock>>> {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(key.clone()).or_default().clone()
        };
        Ok(Some(Box::new(MemoryLock(m.lock_owned().await))))
    }
}

/// Gets a new token set. Implemented by each platform (OAuth refresh, iFinD
/// `get_access_token`, client-credential fetch).
#[async_trait]
pub trait TokenRefresher: Send + Sync + fmt::Debug {
    /// A fresh token set. `current` is the newest known set (its refresh token, if any, is the
    /// one to use). An error for which [`Error::is_reauth_required`] holds means the refresh
    /// credential is dead: the manager then deletes the stored tokens.
    async fn refresh(&self, current: Option<&TokenSet>) -> Result<TokenSet>;
}

type SharedRefresh = Shared<BoxFuture<'static, std::result::Result<TokenSet, Arc<Error>>>>;

#[derive(Default)]
struct State {
    current: Option<(TokenSet, Option<SystemTime>)>,
    loaded: bool,
    /// The refresh in flight and its generation: only the refresh that took the slot frees it.
    inflight: Option<(u64, SharedRefresh)>,
    generation: u64,
}

struct Inner {
    key: TokenKey,
    refresher: Arc<dyn TokenRefresher>,
    store: Arc<dyn TokenStore>,
    clock: SharedClock,
    margin: Duration,
    jitter: Duration,
    refresh_timeout: Duration,
    stats: Arc<PlatformStats>,
    state: Mutex<State>,
    load_once: tokio::sync::Mutex<()>,
}

/// One account's token lifecycle. Clones share state.
///
/// ```
/// use conn_core::token::{TokenManager, TokenKey, TokenRefresher, TokenSet, MemoryTokenStore};
/// use conn_core::secret::AccessToken;
/// use std::sync::Arc;
///
/// #[derive(Debug)]
/// struct Fixed;
/// #[async_trait::async_trait]
/// impl TokenRefresher for Fixed {
///     async fn refresh(&self, _: Option<&TokenSet>) -> conn_core::Result<TokenSet> {
///         Ok(TokenSet::new(AccessToken::new("fresh")))
///     }
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let m = TokenManager::new(TokenKey::new("demo", "default"), Arc::new(Fixed), Arc::new(MemoryTokenStore::new()));
/// assert_eq!(m.token().await.unwrap().expose_secret(), "fresh");
/// # });
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("key", &self.inner.key)
            .field("margin", &self.inner.margin)
            .finish_non_exhaustive()
    }
}

/// Default refresh margin before expiry (the original system's 5 minutes).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Default extra jitter added to the margin.
pub const DEFAULT_REFRESH_JITTER: Duration = Duration::from_secs(60);
/// Default limit on one refresh (store lock, refresher and its retries): past it the refresh
/// is abandoned with [`Error::RefreshAborted`]. Above the default transport's 120 s retry
/// limit, so a refresher's own retries finish first.
pub const DEFAULT_REFRESH_TIMEOUT: Duration = Duration::from_secs(180);

impl TokenManager {
    /// A manager with the default margin and jitter and the system clock.
    pub fn new(
        key: TokenKey,
        refresher: Arc<dyn TokenRefresher>,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        let stats = stats::for_platform(&key.platform);
        Self {
            inner: Arc::new(Inner {
                key,
                refresher,
                store,
                clock: clock::system(),
                margin: DEFAULT_REFRESH_MARGIN,
                jitter: DEFAULT_REFRESH_JITTER,
                refresh_timeout: DEFAULT_REFRESH_TIMEOUT,
                stats,
                state: Mutex::new(State::default()),
                load_once: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn rebuild(self, f: impl FnOnce(&mut Inner)) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                f(&mut inner);
                Self {
                    inner: Arc::new(inner),
                }
            }
            // Already shared: settings are fixed once clones exist.
            Err(inner) => Self { inner },
        }
    }

    /// Sets the refresh margin (before clones are made).
    pub fn with_margin(self, margin: Duration) -> Self {
        self.rebuild(|i| i.margin = margin)
    }

    /// Sets the jitter added to the margin (before clones are made).
    pub fn with_jitter(self, jitter: Duration) -> Self {
        self.rebuild(|i| i.jitter = jitter)
    }

    /// Sets the refresh timeout (before clones are made); see [`DEFAULT_REFRESH_TIMEOUT`].
    pub fn with_refresh_timeout(self, timeout: Duration) -> Self {
        self.rebuild(|i| i.refresh_timeout = timeout)
    }

    /// Sets the clock (before clones are made).
    pub fn with_clock(self, clock: SharedClock) -> Self {
        self.rebuild(|i| i.clock = clock)
    }

    /// The account key.
    pub fn key(&self) -> &TokenKey {
        &self.inner.key
    }

    fn refresh_at(&self, ts: &TokenSet) -> Option<SystemTime> {
        let exp = ts.expires_at?;
        let jitter_ns = u64::try_from(self.inner.jitter.as_nanos()).unwrap_or(0);
        let j = if jitter_ns == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(rand::thread_rng().gen_range(0..=jitter_ns))
        };
        Some(exp.checked_sub(self.inner.margin + j).unwrap_or(UNIX_EPOCH))
    }

    fn fresh(&self, entry: &(TokenSet, Option<SystemTime>)) -> bool {
        entry.1.is_none_or(|at| self.inner.clock.now() < at)
    }

    async fn ensure_loaded(&self) -> Result<()> {
        if self.lock_state().loaded {
            return Ok(());
        }
        let _g = self.inner.load_once.lock().await;
        if self.lock_state().loaded {
            return Ok(());
        }
        let stored = self.inner.store.load(&self.inner.key).await?;
        let mut st = self.lock_state();
        if st.current.is_none() {
            st.current = stored.map(|ts| {
                let at = self.refresh_at(&ts);
                (ts, at)
            });
        }
        st.loaded = true;
        Ok(())
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current token set without refreshing (after loading from the store).
    pub async fn current(&self) -> Result<Option<TokenSet>> {
        self.ensure_loaded().await?;
        Ok(self.lock_state().current.as_ref().map(|(t, _)| t.clone()))
    }

    /// A valid access token, refreshing first when it is missing or within the margin of expiry.
    pub async fn token(&self) -> Result<AccessToken> {
        self.ensure_loaded().await?;
        // The usual case, a fresh token: copy the access token alone, not the whole set.
        {
            let st = self.lock_state();
            if let Some(entry) = &st.current {
                if self.fresh(entry) {
                    return Ok(entry.0.access_token.clone());
                }
            }
        }
        Ok(self.refresh_if(None).await?.access_token)
    }

    /// A valid token set (see [`TokenManager::token`]).
    pub async fn token_set(&self) -> Result<TokenSet> {
        self.ensure_loaded().await?;
        self.refresh_if(None).await
    }

    /// Refreshes now unless another refresh already replaced `rejected`.
    pub async fn force_refresh(&self, rejected: Option<&AccessToken>) -> Result<TokenSet> {
        self.ensure_loaded().await?;
        match rejected {
            Some(t) => self.refresh_if(Some(t)).await,
            None => self.join_or_start(None).await,
        }
    }

    /// Installs a token set (after a code exchange) and persists it.
    pub async fn set(&self, tokens: TokenSet) -> Result<()> {
        self.inner.store.save(&self.inner.key, &tokens).await?;
        let at = self.refresh_at(&tokens);
        let mut st = self.lock_state();
        st.current = Some((tokens, at));
        st.loaded = true;
        Ok(())
    }

    /// Forgets the tokens here and in the store.
    pub async fn clear(&self) -> Result<()> {
        {
            let mut st = self.lock_state();
            st.current = None;
            st.loaded = true;
        }
        self.inner.store.delete(&self.inner.key).await
    }

    /// Runs `call` with a valid token; on a "token expired" answer refreshes once and replays
    /// once. When the call, the refresh or the replay says the credential is dead
    /// ([`Error::is_reauth_required`]), the stored tokens are forgotten (here and in the store)
    /// and the error comes back as [`Error::ReauthRequired`] naming the account.
    ///
    /// ```
    /// use conn_core::error::{ApiError, ApiErrorKind, Error};
    /// use conn_core::token::{TokenManager, TokenKey, TokenRefresher, TokenSet, MemoryTokenStore};
    /// use conn_core::secret::AccessToken;
    /// use std::sync::Arc;
    /// #[derive(Debug)]
    /// struct Fixed;
    /// #[async_trait::async_trait]
    /// impl TokenRefresher for Fixed {
    ///     async fn refresh(&self, _: Option<&TokenSet>) -> conn_core::Result<TokenSet> {
    ///         Ok(TokenSet::new(AccessToken::new("fresh")))
    ///     }
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let m = TokenManager::new(TokenKey::new("demo", "a"), Arc::new(Fixed), Arc::new(MemoryTokenStore::new()));
    /// let err = m.with_token(|_| async {
    ///     Err::<(), _>(Error::from(ApiError::new("demo", "-1", "login again", ApiErrorKind::ReauthRequired)))
    /// }).await.unwrap_err();
    /// assert!(matches!(err, Error::ReauthRequired(_)));
    /// assert!(m.current().await.unwrap().is_none(), "the dead tokens are gone");
    /// # });
    /// ```
    pub async fn with_token<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        // A refresh that finds the credential dead has already forgotten the tokens.
        let token = self.token().await?;
        let result = match call(token.clone()).await {
            Err(e) if e.is_token_expired() => {
                tracing::info!(account = %self.inner.key, "token rejected; refreshing once and replaying");
                let fresh = self.refresh_if(Some(&token)).await;
                match fresh {
                    Ok(fresh) => call(fresh.access_token).await,
                    Err(e) => Err(e),
                }
            }
            other => other,
        };
        match result {
            Err(e) if e.is_reauth_required() => Err(self.forget_dead(e).await),
            other => other,
        }
    }

    /// Forgets the dead tokens and returns the typed error.
    async fn forget_dead(&self, e: Error) -> Error {
        tracing::warn!(account = %self.inner.key, "credential rejected for good; forgetting the stored tokens");
        if let Err(ce) = self.clear().await {
            tracing::warn!(account = %self.inner.key, error = %ce, "could not delete dead tokens");
        }
        self.reauth_error(e)
    }

    fn reauth_error(&self, e: Error) -> Error {
        match e {
            Error::ReauthRequired(_) => e,
            Error::Shared(s) if matches!(*s, Error::ReauthRequired(_)) => Error::Shared(s),
            other => Error::from(ReauthRequired {
                platform: self.inner.key.platform.clone().into(),
                account: Some(self.inner.key.account.clone()),
                reason: "the platform rejected the credential; authorize again".into(),
                source: Some(Box::new(other)),
            }),
        }
    }

    /// Returns the current token if it is fresh (and is not `rejected`), else joins or starts
    /// the one refresh in flight.
    async fn refresh_if(&self, rejected: Option<&AccessToken>) -> Result<TokenSet> {
        {
            let st = self.lock_state();
            if let Some(entry) = &st.current {
                let replaced = rejected.is_some_and(|r| &entry.0.access_token != r);
                if replaced || (rejected.is_none() && self.fresh(entry)) {
                    return Ok(entry.0.clone());
                }
            }
        }
        self.join_or_start(rejected.cloned()).await
    }

    async fn join_or_start(&self, rejected: Option<AccessToken>) -> Result<TokenSet> {
        let fut = {
            let mut st = self.lock_state();
            // Re-check under the lock: a refresh may have finished since refresh_if looked.
            if let (Some(r), Some(entry)) = (&rejected, &st.current) {
                if &entry.0.access_token != r {
                    return Ok(entry.0.clone());
                }
            }
            match &st.inflight {
                Some((_, f)) => f.clone(),
                None => {
                    st.generation = st.generation.wrapping_add(1);
                    let generation = st.generation;
                    let current = st.current.as_ref().map(|(t, _)| t.clone());
                    let this = self.clone();
                    let account = self.inner.key.to_string();
                    // The refresh outlives a caller that gives up, so it runs in its own task;
                    // it stays inside the caller's span so its logs nest under the operation.
                    // The guard frees the slot however the task ends: an answer, a panic
                    // (dropped while unwinding), a cancellation (dropped with the task).
                    let guard = SlotGuard {
                        manager: self.clone(),
                        generation,
                    };
                    let handle = tokio::spawn(
                        async move {
                            let _guard = guard;
                            this.run_refresh(current).await
                        }
                        .instrument(tracing::Span::current()),
                    );
                    let f = async move {
                        match handle.await {
                            Ok(r) => r,
                            Err(join) => {
                                let how = if join.is_panic() {
                                    RefreshAbort::Panicked
                                } else {
                                    RefreshAbort::Cancelled
                                };
                                tracing::warn!(account = %account, ?how, "token refresh ended without an answer");
                                Err(Arc::new(Error::from(RefreshAborted { account, how })))
                            }
                        }
                    }
                    .boxed()
                    .shared();
                    st.inflight = Some((generation, f.clone()));
                    f
                }
            }
        };
        fut.await.map_err(Error::Shared)
    }

    /// The one refresh: under the store's lock, adopt a token another process stored, else call
    /// the refresher, persist, and publish the result to every waiter. Bounded by the refresh
    /// timeout.
    async fn run_refresh(
        &self,
        current: Option<TokenSet>,
    ) -> std::result::Result<TokenSet, Arc<Error>> {
        let result =
            match tokio::time::timeout(self.inner.refresh_timeout, self.refresh_locked(current))
                .await
            {
                Ok(r) => r,
                Err(_) => Err(Error::from(RefreshAborted {
                    account: self.inner.key.to_string(),
                    how: RefreshAbort::TimedOut,
                })),
            };
        let mut st = self.lock_state();
        st.inflight = None;
        match &result {
            Ok(ts) => {
                let at = self.refresh_at(ts);
                st.current = Some((ts.clone(), at));
            }
            Err(e) if e.is_reauth_required() => st.current = None,
            Err(_) => {}
        }
        result.map_err(Arc::new)
    }

    async fn refresh_locked(&self, mut current: Option<TokenSet>) -> Result<TokenSet> {
        let inner = &self.inner;
        let _lock = inner.store.lock(&inner.key).await?;
        if _lock.is_some() {
            // Another process may have refreshed (and rotated the refresh token) while we waited.
            if let Some(stored) = inner.store.load(&inner.key).await? {
                let changed = current
                    .as_ref()
                    .is_none_or(|c| c.access_token != stored.access_token);
                let at = self.refresh_at(&stored);
                if changed && at.is_none_or(|at| inner.clock.now() < at) {
                    tracing::debug!(account = %inner.key, "adopted a token refreshed elsewhere");
                    return Ok(stored);
                }
                current = Some(stored);
            }
        }
        inner.stats.record_token_refresh();
        tracing::debug!(account = %inner.key, "refreshing token");
        match inner.refresher.refresh(current.as_ref()).await {
            Ok(ts) => {
                if let Err(e) = inner.store.save(&inner.key, &ts).await {
                    // The new token is kept in memory: dropping it could strand a rotated
                    // refresh token, which is worse than a stale store.
                    tracing::warn!(account = %inner.key, error = %e, "token refreshed but not persisted");
                }
                Ok(ts)
            }
            Err(e) if e.is_reauth_required() => {
                if let Err(de) = inner.store.delete(&inner.key).await {
                    tracing::warn!(account = %inner.key, error = %de, "could not delete dead tokens");
                }
                Err(match e {
                    Error::ReauthRequired(_) => e,
                    other => Error::from(ReauthRequired {
                        platform: inner.key.platform.clone().into(),
                        account: Some(inner.key.account.clone()),
                        reason: "the refresh credential was rejected".into(),
                        source: Some(Box::new(other)),
                    }),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// Frees the manager's refresh slot when the refresh task ends, however it ends.
struct SlotGuard {
    manager: TokenManager,
    generation: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut st = self.manager.lock_state();
        if st
            .inflight
            .as_ref()
            .is_some_and(|(g, _)| *g == self.generation)
        {
            st.inflight = None;
        }
    }
}
