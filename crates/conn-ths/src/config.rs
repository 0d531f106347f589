//! Configuration: the refresh token, the base URL, the rate limit, transport settings.
//!
//! iFinD's HTTP API has one credential, the account's **refresh token** (`THS_REFRESH_TOKEN`),
//! shown in the iFinD client (超级命令 → 工具 → refresh_token 查询) and on the iFinD quant API
//! account page. The original system's `TONGHUASHUN_API_KEY`, `TONGHUASHUN_API_SECRET`,
//! `THS_APP_KEY` and `THS_APP_SECRET` have no counterpart on iFinD: no API key, secret or app key
//! exists there. A configuration that sets only those fails with a config error that says to set
//! `THS_REFRESH_TOKEN` instead; when both are set, the old ones are ignored with a warning.

use std::fmt;
use std::time::Duration;

use conn_core::env::Env;
use conn_core::secret::RefreshToken;
use conn_core::transport::{parse_base_url, TransportConfig};
use conn_core::{Error, Result};

use crate::ratelimit::RateLimit;

/// The current iFinD HTTP API base URL.
pub const DEFAULT_BASE_URL: &str = "https://quantapi.51ifind.com/api/v1";
/// The legacy host, still served.
pub const LEGACY_BASE_URL: &str = "https://ft.10jqka.com.cn/api/v1";
/// Access-token lifetime assumed when `get_access_token` does not say (iFinD: 7 days).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long before expiry the client fetches a new access token.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The refresh-token variable.
pub const REFRESH_TOKEN_VAR: &str = "THS_REFRESH_TOKEN";
/// The base-URL variable.
pub const BASE_URL_VAR: &str = "THS_BASE_URL";
/// The rate-limit variable (requests per window).
pub const RATE_LIMIT_VAR: &str = "THS_RATE_LIMIT_PER_MINUTE";
/// The rate-limit window variable (seconds).
pub const RATE_WINDOW_VAR: &str = "THS_RATE_LIMIT_WINDOW";
/// The original system's variables, which iFinD has no use for.
pub const LEGACY_VARS: [&str; 4] = [
    "TONGHUASHUN_API_KEY",
    "TONGHUASHUN_API_SECRET",
    "THS_APP_KEY",
    "THS_APP_SECRET",
];

const KNOWN_HOSTS: [&str; 2] = ["quantapi.51ifind.com", "ft.10jqka.com.cn"];
/// The host the original system's env.example named; it serves no iFinD API.
const SEED_HOST: &str = "api.10jqka.com.cn";

/// Connector settings. `Debug` never shows the refresh token.
///
/// Built by [`Config::builder`] or read by [`Config::from_env`]; both validate, and nothing
/// changes a built configuration afterwards (a setting to change is a builder method).
///
/// ```
/// use conn_ths::{Config, RateLimit};
/// use std::time::Duration;
/// let cfg = Config::builder()
///     .refresh_token("rt-from-the-ifind-client")
///     .rate_limit(RateLimit::new(50, Duration::from_secs(1)).unwrap())
///     .build()
///     .unwrap();
/// assert_eq!(cfg.base_url(), "https://quantapi.51ifind.com/api/v1");
/// assert!(!format!("{cfg:?}").contains("rt-from-the-ifind-client"));
/// // The refresh token is required.
/// let e = Config::builder().build().unwrap_err();
/// assert!(e.to_string().contains("refresh_token"), "{e}");
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) refresh_token: RefreshToken,
    pub(crate) transport: TransportConfig,
    pub(crate) rate_limit: RateLimit,
    pub(crate) account: String,
    pub(crate) token_lifetime: Duration,
    pub(crate) refresh_margin: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("refresh_token", &self.refresh_token)
            .field("base_url", &self.transport.base_url.as_str())
            .field("rate_limit", &self.rate_limit)
            .field("account", &self.account)
            .field("token_lifetime", &self.token_lifetime)
            .field("refresh_margin", &self.refresh_margin)
            .field("transport", &self.transport)
            .finish()
    }
}

impl Config {
    /// A builder with the defaults; [`ConfigBuilder::refresh_token`] is required.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            refresh_token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            rate_limit: RateLimit::default(),
            account: "default".to_owned(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            transport: None,
        }
    }

    /// Reads the process environment (see [`crate::ENV_VARS`]).
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(&Env::process())
    }

    /// Reads the given environment: `THS_REFRESH_TOKEN` (required), `THS_BASE_URL`,
    /// `THS_RATE_LIMIT_PER_MINUTE`, `THS_RATE_LIMIT_WINDOW`, and conn-core's `API_TIMEOUT` and
    /// retry variables. Every problem found is in the one error
    /// ([`conn_core::error::ConfigError::also`] holds all but the first);
    /// [`Config::from_env_report`] returns them as a list.
    ///
    /// ```
    /// use conn_core::env::{Env, MapEnv};
    /// use conn_ths::Config;
    /// let env = Env::from_source(MapEnv::new().set("THS_RATE_LIMIT_PER_MINUTE", "0"));
    /// let err = Config::from_env_with(&env).unwrap_err().to_string();
    /// assert!(err.contains("THS_REFRESH_TOKEN") && err.contains("THS_RATE_LIMIT_PER_MINUTE"), "{err}");
    /// let all = Config::from_env_report(&env).unwrap_err();
    /// let text: Vec<String> = all.iter().map(|e| e.to_string()).collect();
    /// assert!(text.iter().any(|e| e.contains("THS_REFRESH_TOKEN")), "{text:?}");
    /// assert!(text.iter().any(|e| e.contains("THS_RATE_LIMIT_PER_MINUTE")), "{text:?}");
    /// ```
    pub fn from_env_with(env: &Env) -> Result<Self> {
        Self::from_env_report(env).map_err(Error::config_all)
    }

    /// Reads the given environment, reporting every missing or invalid setting at once.
    pub fn from_env_report(env: &Env) -> std::result::Result<Self, Vec<Error>> {
        let mut errors = Vec::new();
        let legacy: Vec<&str> = LEGACY_VARS
            .iter()
            .copied()
            .filter(|v| env.is_set(v))
            .collect();
        let rt = env.secret(REFRESH_TOKEN_VAR);
        if rt.is_none() {
            let msg = if legacy.is_empty() {
                "not set; set it to the refresh_token of your iFinD account (iFinD client: \
                 超级命令 → 工具 → refresh_token 查询)"
                    .to_owned()
            } else {
                format!(
                    "not set, but {} {} set: iFinD has no API key/secret or app key/secret \
                     (those variables came from the original system and are not used). The iFinD \
                     HTTP API authenticates with the account's refresh_token: copy it from the \
                     iFinD client (超级命令 → 工具 → refresh_token 查询) into THS_REFRESH_TOKEN",
                    legacy.join(", "),
                    if legacy.len() == 1 { "is" } else { "are" }
                )
            };
            errors.push(Error::config_var(REFRESH_TOKEN_VAR, msg));
        } else if !legacy.is_empty() {
            tracing::warn!(
                ignored = %legacy.join(", "),
                "iFinD uses THS_REFRESH_TOKEN only; the original system's key/secret variables are ignored"
            );
        }
        let base = env
            .get(BASE_URL_VAR)
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = match normalize_base_url(&base, Some(BASE_URL_VAR)) {
            Ok(b) => Some(b),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let rate = rate_from_env(env, &mut errors);
        // Transport variables are checked even when the base URL is bad, against the default.
        let transport = match TransportConfig::from_env(
            env,
            base.as_deref().unwrap_or(DEFAULT_BASE_URL),
            Some(BASE_URL_VAR),
        ) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let (Some(rt), Some(base), Some(rate), Some(transport), true) =
            (rt, base, rate, transport, errors.is_empty())
        else {
            return Err(errors);
        };
        Config::builder()
            .refresh_token(RefreshToken::from(rt))
            .base_url(base)
            .rate_limit(rate)
            .transport(transport)
            .build()
            .map_err(|e| vec![e])
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        self.transport.base_url.as_str().trim_end_matches('/')
    }

    /// The rate limit.
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    /// The account name tokens are stored under.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The transport settings.
    pub fn transport(&self) -> &TransportConfig {
        &self.transport
    }

    /// The assumed access-token lifetime.
    pub fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }

    /// The refresh margin before expiry.
    pub fn refresh_margin(&self) -> Duration {
        self.refresh_margin
    }
}

/// `THS_RATE_LIMIT_PER_MINUTE` and `THS_RATE_LIMIT_WINDOW`, each problem pushed to `errors`.
fn rate_from_env(env: &Env, errors: &mut Vec<Error>) -> Option<RateLimit> {
    let before = errors.len();
    let window = match env.seconds(RATE_WINDOW_VAR) {
        Ok(Some(w)) if w.is_zero() => {
            errors.push(Error::config_var(
                RATE_WINDOW_VAR,
                "expected a window longer than 0 seconds",
            ));
            None
        }
        Ok(w) => w,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let requests = match env.parse::<u32>(RATE_LIMIT_VAR, "a whole number of requests, 1 or more") {
        Ok(Some(0)) => {
            errors.push(Error::config_var(
                RATE_LIMIT_VAR,
                "expected at least 1 request per window",
            ));
            None
        }
        Ok(r) => r,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if errors.len() > before {
        return None;
    }
    let rate = RateLimit::default();
    if requests.is_none() && window.is_none() {
        return Some(rate);
    }
    match RateLimit::new(
        requests.unwrap_or(rate.requests()),
        window.unwrap_or(rate.window()),
    ) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// Builds a [`Config`]. `Debug` never shows the refresh token.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    refresh_token: Option<RefreshToken>,
    base_url: String,
    rate_limit: RateLimit,
    account: String,
    token_lifetime: Duration,
    refresh_margin: Duration,
    transport: Option<TransportConfig>,
}

impl ConfigBuilder {
    /// Sets the account's refresh token (required).
    pub fn refresh_token(mut self, token: impl Into<RefreshToken>) -> Self {
        self.refresh_token = Some(token.into());
        self
    }

    /// Sets the base URL ([`DEFAULT_BASE_URL`], [`LEGACY_BASE_URL`], or a fake's).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the rate limit (default 600 per minute).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Sets the account name tokens are stored under (default `default`).
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }

    /// Sets the access-token lifetime assumed when the server does not give one (default 7
    /// days).
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.token_lifetime = d;
        self
    }

    /// Sets how long before expiry a new token is fetched (default 5 minutes).
    pub fn refresh_margin(mut self, d: Duration) -> Self {
        self.refresh_margin = d;
        self
    }

    /// Sets the transport settings (timeouts, retry, body cap); its base URL is replaced by
    /// [`ConfigBuilder::base_url`]. Without it, [`TransportConfig::new`]'s defaults apply.
    pub fn transport(mut self, t: TransportConfig) -> Self {
        self.transport = Some(t);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Config> {
        let Some(refresh_token) = self.refresh_token else {
            return Err(Error::validation(
                "refresh_token",
                "required: the refresh_token of the iFinD account (iFinD client: 超级命令 → 工具 → refresh_token 查询)",
            ));
        };
        if refresh_token.expose_secret().trim().is_empty() {
            return Err(Error::config_var(
                REFRESH_TOKEN_VAR,
                "the refresh token is empty; copy it from the iFinD client",
            ));
        }
        if self.account.trim().is_empty() {
            return Err(Error::validation("account", "must not be empty"));
        }
        if self
            .transport
            .as_ref()
            .is_some_and(|t| t.attempt_timeout.is_zero())
        {
            return Err(Error::validation(
                "attempt_timeout",
                "must be longer than 0 seconds",
            ));
        }
        let base = normalize_base_url(&self.base_url, None)?;
        let mut transport = match self.transport {
            Some(t) => t,
            None => TransportConfig::new(&base)?,
        };
        transport.base_url = parse_base_url(&base, None)?;
        Ok(Config {
            refresh_token,
            transport,
            rate_limit: self.rate_limit,
            account: self.account,
            token_lifetime: self.token_lifetime,
            refresh_margin: self.refresh_margin,
        })
    }
}

/// Checks a base URL; the two iFinD hosts without a path get `/api/v1`, and the original
/// system's placeholder host is refused with the real ones named.
pub fn normalize_base_url(s: &str, var: Option<&str>) -> Result<String> {
    let u = parse_base_url(s, var)?;
    let err = |msg: String| match var {
        Some(v) => Error::config_var(v, msg),
        None => Error::validation("base_url", msg),
    };
    let host = u.host_str().unwrap_or_default();
    if host.eq_ignore_ascii_case(SEED_HOST) {
        return Err(err(format!(
            "{s:?} is the original system's placeholder, not the iFinD HTTP API; use \
             {DEFAULT_BASE_URL} (or the legacy {LEGACY_BASE_URL})"
        )));
    }
    let mut out = u.as_str().trim_end_matches('/').to_owned();
    if KNOWN_HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h))
        && u.path().trim_matches('/').is_empty()
    {
        out.push_str("/api/v1");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::env::MapEnv;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_source(pairs.iter().copied().collect::<MapEnv>())
    }

    #[test]
    fn defaults_from_env() {
        let c = Config::from_env_with(&env(&[("THS_REFRESH_TOKEN", "rt-1")])).unwrap();
        assert_eq!(c.base_url(), DEFAULT_BASE_URL);
        assert_eq!(c.rate_limit().requests(), 600);
        assert_eq!(c.rate_limit().window(), Duration::from_secs(60));
        assert_eq!(c.refresh_token.expose_secret(), "rt-1");
    }

    #[test]
    fn legacy_host_and_rate_limit() {
        let c = Config::from_env_with(&env(&[
            ("THS_REFRESH_TOKEN", "rt"),
            ("THS_BASE_URL", "https://ft.10jqka.com.cn"),
            ("THS_RATE_LIMIT_PER_MINUTE", "50"),
            ("THS_RATE_LIMIT_WINDOW", "1"),
        ]))
        .unwrap();
        assert_eq!(c.base_url(), LEGACY_BASE_URL);
        assert_eq!(c.rate_limit().requests(), 50);
        assert_eq!(c.rate_limit().window(), Duration::from_secs(1));
    }

    #[test]
    fn errors_name_the_variable() {
        for (pairs, var, needle) in [
            (vec![], "THS_REFRESH_TOKEN", "refresh_token"),
            (
                vec![("THS_APP_KEY", "k"), ("TONGHUASHUN_API_SECRET", "s")],
                "THS_REFRESH_TOKEN",
                "TONGHUASHUN_API_SECRET, THS_APP_KEY are set",
            ),
            (
                vec![
                    ("THS_REFRESH_TOKEN", "rt"),
                    ("THS_BASE_URL", "https://api.10jqka.com.cn"),
                ],
                "THS_BASE_URL",
                "placeholder",
            ),
            (
                vec![
                    ("THS_REFRESH_TOKEN", "rt"),
                    ("THS_RATE_LIMIT_PER_MINUTE", "0"),
                ],
                "THS_RATE_LIMIT_PER_MINUTE",
                "at least 1",
            ),
            (
                vec![("THS_REFRESH_TOKEN", "rt"), ("THS_RATE_LIMIT_WINDOW", "0")],
                "THS_RATE_LIMIT_WINDOW",
                "longer than 0",
            ),
        ] {
            let e = Config::from_env_with(&env(&pairs)).unwrap_err();
            let Error::Config(c) = &e else {
                panic!("{e:?}")
            };
            assert_eq!(c.var.as_deref(), Some(var), "{e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = Config::from_env_report(&env(&[
            ("THS_APP_KEY", "k"),
            ("THS_BASE_URL", "https://api.10jqka.com.cn"),
            ("THS_RATE_LIMIT_PER_MINUTE", "many"),
            ("THS_RATE_LIMIT_WINDOW", "0"),
            ("API_TIMEOUT", "-3"),
        ]))
        .unwrap_err();
        let vars: Vec<_> = errors
            .iter()
            .map(|e| match e {
                Error::Config(c) => c.var.clone().unwrap_or_default(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            vars,
            [
                "THS_REFRESH_TOKEN",
                "THS_BASE_URL",
                "THS_RATE_LIMIT_WINDOW",
                "THS_RATE_LIMIT_PER_MINUTE",
                "API_TIMEOUT"
            ],
            "{errors:?}"
        );
        // The single-error form returns the first of them.
        let first = Config::from_env_with(&env(&[("THS_RATE_LIMIT_WINDOW", "0")])).unwrap_err();
        assert!(first.to_string().contains("THS_REFRESH_TOKEN"), "{first}");
    }

    #[test]
    fn builder_requires_the_refresh_token_and_checks_settings() {
        let e = Config::builder().build().unwrap_err();
        let Error::Validation(v) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(v.field, "refresh_token");
        for b in [
            Config::builder().refresh_token("  "),
            Config::builder().refresh_token("rt").account(" "),
            Config::builder()
                .refresh_token("rt")
                .transport(transport().with_attempt_timeout(Duration::ZERO)),
            Config::builder().refresh_token("rt").base_url("not a url"),
        ] {
            assert!(b.build().is_err());
        }
        let c = Config::builder()
            .refresh_token("rt")
            .transport(transport().with_attempt_timeout(Duration::from_millis(150)))
            .build()
            .unwrap();
        assert_eq!(c.transport().attempt_timeout, Duration::from_millis(150));
        // The transport settings' base URL gives way to the builder's.
        assert_eq!(
            c.transport().base_url.as_str(),
            "https://quantapi.51ifind.com/api/v1"
        );
        // Without transport settings: conn-core's defaults.
        let c = Config::builder().refresh_token("rt").build().unwrap();
        assert_eq!(c.transport().attempt_timeout, Duration::from_secs(30));
    }

    fn transport() -> TransportConfig {
        TransportConfig::new("http://127.0.0.1:1").unwrap()
    }

    #[test]
    fn debug_shows_no_secret() {
        let c = Config::from_env_with(&env(&[("THS_REFRESH_TOKEN", "very-secret-rt")])).unwrap();
        let d = format!(
            "{c:?} {:?}",
            Config::builder().refresh_token("very-secret-rt")
        );
        assert!(!d.contains("very-secret-rt"), "{d}");
        assert!(d.contains("[redacted]"));
    }
}
