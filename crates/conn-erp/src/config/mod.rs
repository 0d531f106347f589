//! Configuration: a builder, and `Config::from_env` (its rules are on [`Config`]).

use std::fmt;
use std::sync::Arc;

use conn_core::clock::{self, SharedClock};
use conn_core::env::Env;
use conn_core::transport::{parse_base_url, TransportConfig};
use conn_core::{Error, Result};
use http::header::HeaderName;

use crate::auth::{Auth, AuthMode, NoAuth, NonceSource, RandomNonce};
use crate::model::OrderFields;
use crate::pagination::{Pagination, PaginationStyle, MAX_PAGE_SIZE};
use crate::profile::{Profile, ProfileOptions};
use conn_core::envelope::Envelope;

mod auth_env;
mod env;

use env::Problems;

/// The original system's ERP address.
pub const DEFAULT_API_URL: &str = "http://localhost:8013";
/// Default idempotency header.
pub const DEFAULT_IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Resource paths, relative to `ERP_API_URL` (its own path is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Order list (`GET`), `ERP_ORDERS_PATH`, default `/api/orders`.
    pub orders: String,
    /// Order detail (`GET`), with `{id}`: `ERP_ORDER_PATH`, default `/api/orders/{id}`.
    pub order: String,
    /// Create order (`POST`), `ERP_CREATE_ORDER_PATH`, default `/api/orders`.
    pub create_order: String,
    /// Financial data (`GET`), `ERP_FINANCIAL_PATH`, default `/api/financial`.
    pub financial: String,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            orders: "/api/orders".to_owned(),
            order: "/api/orders/{id}".to_owned(),
            create_order: "/api/orders".to_owned(),
            financial: "/api/financial".to_owned(),
        }
    }
}

/// The ERP connector's configuration. Build it with [`Config::builder`] or [`Config::from_env`].
///
/// ```
/// use conn_erp::{Auth, Config};
/// use conn_erp::ApiKeyAuth;
/// let cfg = Config::builder()
///     .base_url("http://localhost:8013")
///     .auth(Auth::ApiKey(ApiKeyAuth::new("k-123".into())))
///     .page_size(50)
///     .build()
///     .unwrap();
/// assert!(!format!("{cfg:?}").contains("k-123"));
/// ```
///
/// Configuration: a builder, and [`Config::from_env`] reading the `ERP_*` variables listed in
/// [`crate::ENV_VARS`].
///
/// The auth mode comes from `ERP_AUTH_MODE`. When it is unset it is inferred: `ERP_API_KEY`
/// alone → `api_key`; `ERP_USERNAME` + `ERP_PASSWORD` → `basic`; nothing → `none`. Settings that
/// contradict each other (both an API key and a username, a credential the chosen mode does not
/// use, signing keys without a mode) are a configuration error naming the variables, never a
/// silent choice.
///
/// Signing schemes (`jst_md5`, `wdt_md5`, `kingdee_hmac`) take their own pair,
/// `ERP_APP_KEY`/`ERP_APP_SECRET`, rather than reusing `ERP_API_KEY`: the vendors call them app
/// key and app secret, and keeping them apart means a leftover API key is reported instead of
/// being signed with.
#[derive(Clone)]
pub struct Config {
    pub(crate) profile: Profile,
    pub(crate) profile_options: ProfileOptions,
    pub(crate) auth: Auth,
    pub(crate) paths: Paths,
    pub(crate) pagination: Pagination,
    pub(crate) data_pointer: String,
    pub(crate) order_fields: OrderFields,
    pub(crate) idempotency_header: Option<HeaderName>,
    pub(crate) envelope: Envelope,
    pub(crate) period_params: (String, String),
    pub(crate) transport: TransportConfig,
    pub(crate) clock: SharedClock,
    pub(crate) nonce: Arc<dyn NonceSource>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every secret inside `auth` is a redacting type; listed explicitly all the same so a
        // new field is a conscious decision.
        f.debug_struct("Config")
            .field("base_url", &self.transport.base_url.as_str())
            .field("profile", &self.profile)
            .field("auth", &self.auth)
            .field("paths", &self.paths)
            .field("pagination", &self.pagination)
            .field("data_pointer", &self.data_pointer)
            .field("idempotency_header", &self.idempotency_header)
            .field("attempt_timeout", &self.transport.attempt_timeout)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A builder with no auth and the documented defaults (the base URL is
    /// [`DEFAULT_API_URL`], the original system's, until [`ConfigBuilder::base_url`] sets it).
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::new(DEFAULT_API_URL)
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(&Env::process())
    }

    /// Reads `ERP_*` (and conn-core's `API_*`) variables from `env`. Every problem found is in
    /// the one error ([`conn_core::error::ConfigError::also`] holds all but the first);
    /// [`Config::from_env_report`] returns them as a list.
    ///
    /// ```
    /// use conn_core::env::{Env, MapEnv};
    /// use conn_erp::Config;
    /// let env = Env::from_source(
    ///     MapEnv::new().set("ERP_AUTH_MODE", "kingdee_hmac").set("ERP_PAGE_SIZE", "lots"),
    /// );
    /// let err = Config::from_env_with(&env).unwrap_err().to_string();
    /// assert!(err.contains("ERP_APP_KEY") && err.contains("ERP_PAGE_SIZE"), "{err}");
    /// ```
    pub fn from_env_with(env: &Env) -> Result<Self> {
        Self::from_env_report(env).map_err(Error::config_all)
    }

    /// The base URL.
    pub fn base_url(&self) -> &url::Url {
        &self.transport.base_url
    }

    /// The authentication.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The built-in auth mode (`None` for a custom signer).
    pub fn auth_mode(&self) -> Option<AuthMode> {
        self.auth.mode()
    }

    /// Resource paths.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Pagination settings.
    pub fn pagination(&self) -> &Pagination {
        &self.pagination
    }

    /// The idempotency header of `create_order` (`None`: creates are sent without a key and
    /// never replayed after they may have been received).
    pub fn idempotency_header(&self) -> Option<&HeaderName> {
        self.idempotency_header.as_ref()
    }

    /// Transport settings.
    pub fn transport(&self) -> &TransportConfig {
        &self.transport
    }
}

/// Builds a [`Config`]; [`ConfigBuilder::build`] validates it.
#[derive(Clone)]
pub struct ConfigBuilder {
    base_url: String,
    base_url_var: Option<&'static str>,
    profile: Profile,
    profile_options: ProfileOptions,
    auth: Auth,
    paths: Paths,
    pagination: Pagination,
    data_pointer: String,
    order_fields: OrderFields,
    idempotency_header: Option<HeaderName>,
    envelope: Envelope,
    period_params: (String, String),
    transport: Option<TransportConfig>,
    /// The fake's clock (set crate-privately; users set theirs on the client builder).
    clock: SharedClock,
    nonce: Arc<dyn NonceSource>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field("paths", &self.paths)
            .field("pagination", &self.pagination)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// Defaults for an ERP at `base_url` (callers use [`Config::builder`]).
    pub(crate) fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            base_url_var: None,
            profile: Profile::Own,
            profile_options: ProfileOptions::default(),
            auth: Auth::None(NoAuth),
            paths: Paths::default(),
            pagination: Pagination::default(),
            data_pointer: "/data".to_owned(),
            order_fields: OrderFields::default(),
            idempotency_header: Some(HeaderName::from_static(DEFAULT_IDEMPOTENCY_HEADER)),
            envelope: crate::envelope::generic(),
            period_params: ("start_date".to_owned(), "end_date".to_owned()),
            transport: None,
            clock: clock::system(),
            nonce: Arc::new(RandomNonce),
        }
    }

    /// The ERP's base URL (its own path is kept; request paths are appended).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The ERP profile; sets its error envelope, pagination style and page size, so call it
    /// before overriding those.
    pub fn profile(mut self, p: Profile) -> Self {
        self.profile = p;
        self.envelope = p.envelope();
        if let Some(s) = p.pagination_style() {
            self.pagination.style = s;
        }
        if let Some(n) = p.page_size() {
            self.pagination.page_size = n;
        }
        self
    }

    /// The profile settings.
    pub fn profile_options(mut self, o: ProfileOptions) -> Self {
        self.profile_options = o;
        self
    }

    /// The authentication.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// All resource paths.
    pub fn paths(mut self, paths: Paths) -> Self {
        self.paths = paths;
        self
    }

    /// The order list path.
    pub fn orders_path(mut self, p: impl Into<String>) -> Self {
        self.paths.orders = p.into();
        self
    }

    /// The order detail path (with `{id}`).
    pub fn order_path(mut self, p: impl Into<String>) -> Self {
        self.paths.order = p.into();
        self
    }

    /// The create order path.
    pub fn create_order_path(mut self, p: impl Into<String>) -> Self {
        self.paths.create_order = p.into();
        self
    }

    /// The financial data path.
    pub fn financial_path(mut self, p: impl Into<String>) -> Self {
        self.paths.financial = p.into();
        self
    }

    /// The pagination style.
    pub fn pagination_style(mut self, s: PaginationStyle) -> Self {
        self.pagination.style = s;
        self
    }

    /// Orders per page.
    pub fn page_size(mut self, n: u32) -> Self {
        self.pagination.page_size = n;
        self
    }

    /// Most pages one stream fetches.
    pub fn max_pages(mut self, n: u64) -> Self {
        self.pagination.max_pages = n;
        self
    }

    /// JSON pointer to the orders array of a list answer (`/data`, `/data/orders`, `""`).
    pub fn items_pointer(mut self, p: impl Into<String>) -> Self {
        self.pagination.items_pointer = p.into();
        self
    }

    /// JSON pointer to the total count of a list answer (`/total_count`).
    pub fn total_pointer(mut self, p: impl Into<String>) -> Self {
        self.pagination.total_pointer = p.into();
        self
    }

    /// JSON pointer to the payload of detail, create and financial answers (`/data`; the
    /// whole body is used when the pointer finds nothing).
    pub fn data_pointer(mut self, p: impl Into<String>) -> Self {
        self.data_pointer = p.into();
        self
    }

    /// Which keys hold the order fields.
    pub fn order_fields(mut self, f: OrderFields) -> Self {
        self.order_fields = f;
        self
    }

    /// The idempotency header of `create_order`; `None` sends no key (and a create that may
    /// have been received is then never replayed).
    pub fn idempotency_header(mut self, h: Option<HeaderName>) -> Self {
        self.idempotency_header = h;
        self
    }

    /// The response envelope: where the ERP puts its code and message, and which codes mean
    /// what (default: the profile's, [`Profile::envelope`]).
    pub fn envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// The query parameter names of a period's first and last day (`start_date`, `end_date`).
    pub fn period_params(mut self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.period_params = (start.into(), end.into());
        self
    }

    /// Transport settings: timeouts, retry policy, body cap (default:
    /// [`TransportConfig::new`]'s). Their base URL is replaced by this builder's.
    pub fn transport(mut self, t: TransportConfig) -> Self {
        self.transport = Some(t);
        self
    }

    /// The fake's clock, so a fake's config signs by the time the fake checks against;
    /// [`ClientBuilder::clock`](crate::ClientBuilder::clock) overrides it.
    #[cfg(feature = "fake")]
    pub(crate) fn clock(mut self, c: SharedClock) -> Self {
        self.clock = c;
        self
    }

    /// The source of signing nonces.
    pub fn nonce_source(mut self, n: Arc<dyn NonceSource>) -> Self {
        self.nonce = n;
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Config> {
        let mut transport = match self.transport {
            Some(t) => t,
            None => TransportConfig::new(DEFAULT_API_URL)?,
        };
        transport.base_url = parse_base_url(&self.base_url, self.base_url_var)?;
        check_path("ERP_ORDERS_PATH", &self.paths.orders)?;
        check_path("ERP_ORDER_PATH", &self.paths.order)?;
        check_path("ERP_CREATE_ORDER_PATH", &self.paths.create_order)?;
        check_path("ERP_FINANCIAL_PATH", &self.paths.financial)?;
        if !self.paths.order.contains("{id}") {
            return Err(Error::config_var(
                "ERP_ORDER_PATH",
                format!(
                    "must contain {{id}} where the order id goes, got {:?}",
                    self.paths.order
                ),
            ));
        }
        let ps = self.pagination.page_size;
        if ps == 0 || ps > MAX_PAGE_SIZE {
            return Err(Error::config_var(
                "ERP_PAGE_SIZE",
                format!("expected 1 to {MAX_PAGE_SIZE}, got {ps}"),
            ));
        }
        if self.pagination.max_pages == 0 {
            return Err(Error::validation("max_pages", "must be at least 1"));
        }
        check_pointer("ERP_ORDERS_LIST_POINTER", &self.pagination.items_pointer)?;
        check_pointer("ERP_ORDERS_TOTAL_POINTER", &self.pagination.total_pointer)?;
        check_pointer("ERP_DATA_POINTER", &self.data_pointer)?;
        if self.order_fields.id.is_empty() {
            return Err(Error::config_var(
                "ERP_ORDER_ID_FIELD",
                "at least one id field name is needed",
            ));
        }
        let mode = self.auth.mode();
        match (self.profile.auth_mode(), mode) {
            (Some(want), Some(got)) if want != got && got != AuthMode::None => {
                return Err(Error::config_var(
                    "ERP_AUTH_MODE",
                    format!("ERP_PROFILE={} signs with {want}, not {got}", self.profile),
                ));
            }
            (None, Some(m @ (AuthMode::WdtMd5 | AuthMode::KingdeeHmac))) => {
                return Err(Error::config_var(
                    "ERP_PROFILE",
                    format!(
                        "ERP_AUTH_MODE={m} only fits its ERP's requests: set ERP_PROFILE={}",
                        Profile::implied_by(m)
                    ),
                ));
            }
            _ => {}
        }
        if self.period_params.0.is_empty() || self.period_params.1.is_empty() {
            return Err(Error::validation(
                "period_params",
                "names must not be empty",
            ));
        }
        Ok(Config {
            profile: self.profile,
            profile_options: self.profile_options,
            auth: self.auth,
            paths: self.paths,
            pagination: self.pagination,
            data_pointer: self.data_pointer,
            order_fields: self.order_fields,
            idempotency_header: self.idempotency_header,
            envelope: self.envelope,
            period_params: self.period_params,
            transport,
            clock: self.clock,
            nonce: self.nonce,
        })
    }
}

fn check_path(var: &str, p: &str) -> Result<()> {
    if p.trim().is_empty() {
        return Err(Error::config_var(var, "must not be empty"));
    }
    if p.contains('?') || p.contains('#') {
        return Err(Error::config_var(
            var,
            format!("a path takes no query or fragment, got {p:?}"),
        ));
    }
    Ok(())
}

fn check_pointer(var: &str, p: &str) -> Result<()> {
    if !p.is_empty() && !p.starts_with('/') {
        return Err(Error::config_var(
            var,
            format!("expected a JSON pointer such as /data or /data/orders, got {p:?}"),
        ));
    }
    Ok(())
}

pub(super) fn header_name(var: &str, v: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(v.trim().as_bytes())
        .map_err(|_| Error::config_var(var, format!("not a valid HTTP header name: {v:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::env::MapEnv;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_source(pairs.iter().copied().collect::<MapEnv>())
    }

    fn err_var(e: Error) -> String {
        match e {
            Error::Config(c) => c.var.unwrap_or_default(),
            other => panic!("not a config error: {other}"),
        }
    }

    #[test]
    fn defaults_match_the_original() {
        let c = Config::from_env_with(&env(&[])).unwrap();
        assert_eq!(c.base_url().as_str(), "http://localhost:8013/");
        assert_eq!(c.auth_mode(), Some(AuthMode::None));
        assert_eq!(c.idempotency_header().unwrap().as_str(), "idempotency-key");
        assert_eq!(c.pagination().style, PaginationStyle::PageIndex);
    }

    #[test]
    fn modes_are_inferred() {
        let c = Config::from_env_with(&env(&[("ERP_API_KEY", "k")])).unwrap();
        assert_eq!(c.auth_mode(), Some(AuthMode::ApiKey));
        let c =
            Config::from_env_with(&env(&[("ERP_USERNAME", "u"), ("ERP_PASSWORD", "p")])).unwrap();
        assert_eq!(c.auth_mode(), Some(AuthMode::Basic));
    }

    #[test]
    fn contradictions_name_the_variables() {
        let e = Config::from_env_with(&env(&[("ERP_API_KEY", "k"), ("ERP_USERNAME", "u")]))
            .unwrap_err();
        assert!(e.to_string().contains("ERP_USERNAME"), "{e}");
        assert_eq!(err_var(e), "ERP_AUTH_MODE");
        let e = Config::from_env_with(&env(&[
            ("ERP_AUTH_MODE", "basic"),
            ("ERP_USERNAME", "u"),
            ("ERP_PASSWORD", "p"),
            ("ERP_APP_SECRET", "s"),
        ]))
        .unwrap_err();
        assert_eq!(err_var(e), "ERP_APP_SECRET");
        let e = Config::from_env_with(&env(&[("ERP_USERNAME", "u")])).unwrap_err();
        assert_eq!(err_var(e), "ERP_PASSWORD");
        let e = Config::from_env_with(&env(&[("ERP_APP_KEY", "a"), ("ERP_APP_SECRET", "s")]))
            .unwrap_err();
        assert_eq!(err_var(e), "ERP_AUTH_MODE");
        let e = Config::from_env_with(&env(&[("ERP_AUTH_MODE", "oauth")])).unwrap_err();
        assert_eq!(err_var(e), "ERP_AUTH_MODE");
        let e = Config::from_env_with(&env(&[("ERP_AUTH_MODE", "token"), ("ERP_API_KEY", "k")]))
            .unwrap_err();
        assert_eq!(err_var(e), "ERP_API_SECRET");
    }

    #[test]
    fn bad_settings_name_their_variable() {
        for (var, val) in [
            ("ERP_PAGINATION", "cursor"),
            ("ERP_PAGE_SIZE", "0"),
            ("ERP_PAGE_SIZE", "ten"),
            ("ERP_ORDER_PATH", "/api/orders"),
            ("ERP_ORDERS_LIST_POINTER", "data"),
            ("ERP_API_URL", "ftp://x"),
            ("ERP_IDEMPOTENCY_HEADER", "bad header"),
        ] {
            let e = Config::from_env_with(&env(&[(var, val)])).unwrap_err();
            assert_eq!(err_var(e), var);
        }
        // A Kingdee AppId without its `_<32 characters>` part: the client secret cannot be derived.
        let e = Config::from_env_with(&env(&[
            ("ERP_AUTH_MODE", "kingdee_hmac"),
            ("ERP_APP_KEY", "a"),
            ("ERP_APP_SECRET", "s"),
            ("ERP_KINGDEE_ACCT_ID", "acct"),
            ("ERP_KINGDEE_USERNAME", "u"),
        ]))
        .unwrap_err();
        assert_eq!(err_var(e), "ERP_APP_KEY");
        // 旺店通's secret is issued as secret:salt.
        let e = Config::from_env_with(&env(&[
            ("ERP_PROFILE", "wangdiantong"),
            ("ERP_WDT_SID", "sid"),
            ("ERP_APP_KEY", "k"),
            ("ERP_APP_SECRET", "no-salt"),
        ]))
        .unwrap_err();
        assert_eq!(err_var(e), "ERP_APP_SECRET");
        let e = Config::from_env_with(&env(&[("ERP_PROFILE", "sap")])).unwrap_err();
        assert_eq!(err_var(e), "ERP_PROFILE");
        // A profile and a mode that do not fit.
        let e = Config::from_env_with(&env(&[
            ("ERP_PROFILE", "kingdee"),
            ("ERP_AUTH_MODE", "api_key"),
            ("ERP_API_KEY", "k"),
        ]))
        .unwrap_err();
        assert_eq!(err_var(e), "ERP_AUTH_MODE");
    }

    #[test]
    fn idempotency_header_can_be_disabled() {
        let c = Config::from_env_with(&env(&[("ERP_IDEMPOTENCY_HEADER", "none")])).unwrap();
        assert!(c.idempotency_header().is_none());
        let c = Config::from_env_with(&env(&[("ERP_IDEMPOTENCY_HEADER", "X-Request-Id")])).unwrap();
        assert_eq!(c.idempotency_header().unwrap().as_str(), "x-request-id");
    }

    #[test]
    fn debug_shows_no_secret() {
        for pairs in [
            vec![("ERP_API_KEY", "canary-api-key-1")],
            vec![("ERP_USERNAME", "u"), ("ERP_PASSWORD", "canary-password-2")],
            vec![
                ("ERP_AUTH_MODE", "token"),
                ("ERP_API_KEY", "canary-api-key-3"),
                ("ERP_API_SECRET", "canary-api-secret-4"),
            ],
            vec![
                ("ERP_AUTH_MODE", "jst_md5"),
                ("ERP_APP_KEY", "ak"),
                ("ERP_APP_SECRET", "canary-app-secret-5"),
                ("ERP_ACCESS_TOKEN", "canary-token-6"),
            ],
            vec![
                ("ERP_AUTH_MODE", "kingdee_hmac"),
                ("ERP_APP_KEY", "224466_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"),
                ("ERP_APP_SECRET", "canary-app-secret-7"),
                ("ERP_KINGDEE_ACCT_ID", "acct"),
                ("ERP_KINGDEE_USERNAME", "u"),
            ],
            vec![
                ("ERP_PROFILE", "wangdiantong"),
                ("ERP_WDT_SID", "sid"),
                ("ERP_APP_KEY", "ak"),
                ("ERP_APP_SECRET", "canary-wdt-secret-9:salt"),
            ],
            vec![
                ("ERP_AUTH_MODE", "bearer"),
                ("ERP_API_KEY", "canary-odoo-8"),
            ],
        ] {
            let c = Config::from_env_with(&env(&pairs)).unwrap();
            let d = format!(
                "{c:?} {c:#?} {:?}",
                ConfigBuilder::from_env(&env(&pairs)).unwrap()
            );
            for (_, v) in &pairs {
                if v.starts_with("canary") {
                    assert!(!d.contains(v), "{d}");
                }
            }
        }
    }
}
