//! Settings: `REDIS_URL`, `REDIS_KEY_PREFIX`, and the timeouts of the connection.

use std::fmt;
use std::time::Duration;

use conn_core::env::{Env, EnvVarDoc};
use conn_core::secret::Secret;

use crate::error::{RedisError, Result};

/// The URL variable; unset means "no Redis" (per-process state).
pub const REDIS_URL: &str = "REDIS_URL";
/// The key prefix variable.
pub const REDIS_KEY_PREFIX: &str = "REDIS_KEY_PREFIX";
/// The prefix used when `REDIS_KEY_PREFIX` is unset.
pub const DEFAULT_PREFIX: &str = "connectors";
/// Longest accepted prefix.
pub const MAX_PREFIX_LEN: usize = 64;

/// The variables this crate reads, for `env.example`.
pub const ENV_VARS: &[EnvVarDoc] = &[
    EnvVarDoc::secret(
        REDIS_URL,
        "Shared state for many workers: redis://[user:password@]host:port[/db], or rediss:// for TLS (rustls). Unset: tokens, limits and webhook dedupe stay per process.",
    ),
    EnvVarDoc::new(
        REDIS_KEY_PREFIX,
        DEFAULT_PREFIX,
        "Prefix of every Redis key (letters, digits, `-_.:`), so several deployments can share one Redis.",
    ),
];

/// Where Redis is and how this crate names its keys. `Debug` hides the URL (it may carry a
/// password) and shows only its scheme.
///
/// ```
/// use conn_core::env::{Env, MapEnv};
/// use conn_redis::RedisConfig;
///
/// let env = Env::from_source(MapEnv::new().set("REDIS_URL", "redis://127.0.0.1:6379/0"));
/// let cfg = RedisConfig::from_env_with(&env)?.expect("REDIS_URL is set");
/// assert_eq!(cfg.prefix(), "connectors");
/// assert!(!cfg.is_tls());
/// assert!(RedisConfig::from_env_with(&Env::from_source(MapEnv::new()))?.is_none());
///
/// let bad = Env::from_source(MapEnv::new().set("REDIS_URL", "http://x").set("REDIS_KEY_PREFIX", "a b"));
/// let err = RedisConfig::from_env_with(&bad).unwrap_err().to_string();
/// assert!(err.contains("REDIS_URL"), "{err}");
/// # Ok::<(), conn_redis::RedisError>(())
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    url: Secret,
    prefix: String,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// How long one command may take before it fails with [`RedisError::Unavailable`].
    pub response_timeout: Duration,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &format_args!("{}://[redacted]", self.scheme()))
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl RedisConfig {
    /// A configuration for `url` with the default prefix and timeouts (1 s to connect, 2 s per
    /// command: a down Redis is reported quickly rather than stalling every caller).
    ///
    /// # Errors
    /// [`RedisError::Config`] naming `REDIS_URL` when the URL is not `redis://`, `rediss://`
    /// or `unix://`.
    pub fn new(url: impl Into<String>) -> Result<Self> {
        let url = url.into();
        let url = url.trim();
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
        if !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix") {
            return Err(RedisError::Config {
                var: REDIS_URL,
                problem: "expected a redis://, rediss:// or unix:// URL".into(),
            });
        }
        // Parse now so a typo is a config error at start, not a failure at first use. The
        // client's own message is not kept: it could quote the URL, password included.
        if redis::Client::open(url).is_err() {
            return Err(RedisError::Config {
                var: REDIS_URL,
                problem: format!("not a valid {scheme}:// URL"),
            });
        }
        Ok(Self {
            url: Secret::new(url),
            prefix: DEFAULT_PREFIX.to_owned(),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(2),
        })
    }

    /// Sets the key prefix.
    ///
    /// # Errors
    /// [`RedisError::Config`] naming `REDIS_KEY_PREFIX` for an empty or overlong prefix or one
    /// with other characters than letters, digits and `-_.:`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Result<Self> {
        let prefix = prefix.into();
        let ok_chars = prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if prefix.is_empty() || prefix.len() > MAX_PREFIX_LEN || !ok_chars {
            return Err(RedisError::Config {
                var: REDIS_KEY_PREFIX,
                problem: format!(
                    "1 to {MAX_PREFIX_LEN} characters of letters, digits and `-_.:` ({} given)",
                    prefix.chars().count()
                ),
            });
        }
        self.prefix = prefix;
        Ok(self)
    }

    /// From `REDIS_URL` and `REDIS_KEY_PREFIX`; `Ok(None)` when `REDIS_URL` is unset.
    ///
    /// # Errors
    /// As [`new`](Self::new) and [`with_prefix`](Self::with_prefix).
    pub fn from_env_with(env: &Env) -> Result<Option<Self>> {
        let Some(url) = env.get(REDIS_URL) else {
            return Ok(None);
        };
        let cfg = Self::new(url)?;
        match env.get(REDIS_KEY_PREFIX) {
            Some(prefix) => cfg.with_prefix(prefix).map(Some),
            None => Ok(Some(cfg)),
        }
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// True for `rediss://` (TLS through rustls with the ring provider).
    pub fn is_tls(&self) -> bool {
        self.scheme() == "rediss"
    }

    fn scheme(&self) -> &str {
        self.url
            .expose_secret()
            .split_once("://")
            .map(|(s, _)| s)
            .unwrap_or("")
    }

    pub(crate) fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use conn_core::env::MapEnv;

    #[test]
    fn debug_hides_the_password() {
        let cfg = RedisConfig::new("rediss://user:hunter2@cache.example:6380/1").unwrap();
        let d = format!("{cfg:?}");
        assert!(
            !d.contains("hunter2") && !d.contains("cache.example"),
            "{d}"
        );
        assert!(d.contains("rediss://[redacted]"), "{d}");
        assert!(cfg.is_tls());
    }

    #[test]
    fn hostile_settings_are_config_errors_naming_the_variable() {
        for url in [
            "",
            "http://x",
            "redis//x",
            "redis://host:notaport",
            "mysql://root:pw@x",
        ] {
            let e = RedisConfig::new(url).unwrap_err();
            let text = e.to_string();
            assert!(text.starts_with("REDIS_URL:"), "{url}: {text}");
            assert!(!text.contains("pw@"), "{text}");
        }
        let cfg = RedisConfig::new("redis://127.0.0.1").unwrap();
        for prefix in ["", "has space", "new\nline", &"x".repeat(65), "κ"] {
            let e = cfg.clone().with_prefix(prefix).unwrap_err().to_string();
            assert!(e.starts_with("REDIS_KEY_PREFIX:"), "{prefix:?}: {e}");
        }
        assert_eq!(cfg.with_prefix("prod:eu-1").unwrap().prefix(), "prod:eu-1");
    }

    #[test]
    fn env_reads_both_variables() {
        let env = Env::from_source(
            MapEnv::new()
                .set(REDIS_URL, "redis://127.0.0.1:6390")
                .set(REDIS_KEY_PREFIX, "staging"),
        );
        let cfg = RedisConfig::from_env_with(&env).unwrap().unwrap();
        assert_eq!(cfg.prefix(), "staging");
        assert_eq!(cfg.url(), "redis://127.0.0.1:6390");
    }
}
