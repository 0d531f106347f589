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
use conn_core::retry::RetryPolicy;
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
/// ```
/// use conn_ths::{Config, RateLimit};
/// use std::time::Duration;
/// let cfg = Config::builder("rt-from-the-ifind-client")
///     .rate_limit(RateLimit::new(50, Duration::from_secs(1)).unwrap())
///     .build()
///     .unwrap();
/// assert_eq!(cfg.base_url(), "https://quantapi.51ifind.com/api/v1");
/// assert!(!format!("{cfg:?}").contains("rt-from-the-ifind-client"));
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
    /// A builder around the refresh token.
    pub fn builder(refresh_token: impl Into<RefreshToken>) -> ConfigBuilder {
        ConfigBuilder {
            refresh_token: refresh_token.into(),
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
    /// retry variables.
    pub fn from_env_with(env: &Env) -> Result<Self> {
        let legacy: Vec<&str> = LEGACY_VARS
            .iter()
            .copied()
            .filter(|v| env.is_set(v))
            .collect();
        let Some(rt) = env.secret(REFRESH_TOKEN_VAR) else {
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
            return Err(Error::config_var(REFRESH_TOKEN_VAR, msg));
        };
        if !legacy.is_empty() {
            tracing::warn!(
                ignored = %legacy.join(", "),
                "iFinD uses THS_REFRESH_TOKEN only; the original system's key/secret variables are ignored"
            );
        }
        let base = env
            .get(BASE_URL_VAR)
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = normalize_base_url(&base, Some(BASE_URL_VAR))?;
        let mut rate = RateLimit::default();
        let window = match env.seconds(RATE_WINDOW_VAR)? {
            Some(w) if w.is_zero() => {
                return Err(Error::config_var(
                    RATE_WINDOW_VAR,
                    "expected a window longer than 0 seconds",
                ))
            }
            Some(w) => Some(w),
            None => None,
        };
        let requests = env.parse::<u32>(RATE_LIMIT_VAR, "a whole number of requests, 1 or more")?;
        if requests == Some(0) {
            return Err(Error::config_var(
                RATE_LIMIT_VAR,
                "expected at least 1 request per window",
            ));
        }
        if requests.is_some() || window.is_some() {
            rate = RateLimit::new(
                requests.unwrap_or(rate.requests()),
                window.unwrap_or(rate.window()),
            )?;
        }
        let transport = TransportConfig::from_env(env, &base, Some(BASE_URL_VAR))?;
        Config::builder(RefreshToken::from(rt))
            .base_url(base)
            .rate_limit(rate)
            .transport(transport)
            .build()
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

    /// Replaces the rate limit.
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.transport.retry = policy;
        self
    }

    /// Replaces the per-attempt timeout.
    pub fn with_attempt_timeout(mut self, d: Duration) -> Self {
        self.transport.attempt_timeout = d;
        self
    }

    /// Replaces the refresh margin.
    pub fn with_refresh_margin(mut self, d: Duration) -> Self {
        self.refresh_margin = d;
        self
    }

    /// Replaces the account name tokens are stored under.
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }
}

/// Builds a [`Config`]. `Debug` never shows the refresh token.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    refresh_token: RefreshToken,
    base_url: String,
    rate_limit: RateLimit,
    account: String,
    token_lifetime: Duration,
    refresh_margin: Duration,
    transport: Option<TransportConfig>,
}

impl ConfigBuilder {
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
    /// [`ConfigBuilder::base_url`].
    pub fn transport(mut self, t: TransportConfig) -> Self {
        self.transport = Some(t);
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Config> {
        if self.refresh_token.expose_secret().trim().is_empty() {
            return Err(Error::config_var(
                REFRESH_TOKEN_VAR,
                "the refresh token is empty; copy it from the iFinD client",
            ));
        }
        if self.account.trim().is_empty() {
            return Err(Error::validation("account", "must not be empty"));
        }
        let base = normalize_base_url(&self.base_url, None)?;
        let mut transport = match self.transport {
            Some(t) => t,
            None => TransportConfig::new(&base)?,
        };
        transport.base_url = parse_base_url(&base, None)?;
        Ok(Config {
            refresh_token: self.refresh_token,
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
    fn debug_shows_no_secret() {
        let c = Config::from_env_with(&env(&[("THS_REFRESH_TOKEN", "very-secret-rt")])).unwrap();
        let d = format!("{c:?} {:?}", Config::builder("very-secret-rt"));
        assert!(!d.contains("very-secret-rt"), "{d}");
        assert!(d.contains("[redacted]"));
    }
}
