//! Configuration: a builder and [`Config::from_env`].
//!
//! | variable | meaning |
//! |---|---|
//! | `DOUYIN_CLIENT_KEY` (alias `DOUYIN_APP_ID`) | the app's client key |
//! | `DOUYIN_CLIENT_SECRET` (alias `DOUYIN_APP_SECRET`) | the app's client secret (also signs webhooks) |
//! | `DOUYIN_CLIENT_SECRET_PREVIOUS` | the previous client secret, still accepted on webhooks during a rotation |
//! | `DOUYIN_ACCESS_TOKEN` | a fixed user access token (no refresh possible) |
//! | `DOUYIN_OPEN_ID` | the default account (`open_id`) for calls that do not name one |
//! | `DOUYIN_BASE_URL` | `https://open.douyin.com` (the sandbox `https://open-sandbox.douyin.com` works too) |
//! | `DOUYIN_REDIRECT_URI` | the OAuth redirect URI (https; http only for 127.0.0.1/localhost; no query) |
//!
//! `API_TIMEOUT`, `API_MAX_RETRIES`, `API_RETRY_DELAY` and `API_RETRY_STRATEGY` are read too
//! (see `conn_core::env::ENV_VARS`).
//!
//! A new name and its original alias set to different values is a contradiction and a config
//! error naming both variables; the same value in both is accepted.

use std::fmt;
use std::time::Duration;

use conn_core::error::{Error, Result};
use conn_core::secret::{AccessToken, ClientSecret};
use conn_core::transport::TransportConfig;

use crate::models::{Limits, MIB};

mod builder;
mod env;

pub use builder::ConfigBuilder;

/// The scope names of PLATFORMS.md. Add the platform's other scopes with
/// [`ConfigBuilder::extra_scope`].
pub const KNOWN_SCOPES: &[&str] = &[
    "user_info",
    "video.create.bind",
    "video.list.bind",
    "video.data.bind",
];

/// The platform's smallest part size (except the last part): 5 MB.
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// Above this size the platform requires chunked upload: 128 MB.
pub const MAX_SINGLE_UPLOAD: u64 = 128 * MIB;

/// Upload settings.
///
/// Peak memory of an upload is about `max(single_upload_max, part_size)`: a single upload sends
/// the file from memory, a chunked one holds one part at a time.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSettings {
    /// Files up to this size go in one request; larger ones through chunked upload
    /// (default 50 MiB, at most 128 MiB).
    pub single_upload_max: u64,
    /// Part size of chunked upload (default 20 MiB, at least 5 MiB).
    pub part_size: u64,
    /// Per-attempt timeout of an upload request (default 300 s).
    pub timeout: Duration,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            single_upload_max: 50 * MIB,
            part_size: 20 * MIB,
            timeout: Duration::from_secs(300),
        }
    }
}

impl UploadSettings {
    fn validate(&self) -> Result<()> {
        if self.part_size < MIN_PART_SIZE {
            return Err(Error::validation(
                "upload.part_size",
                format!(
                    "at least {MIN_PART_SIZE} bytes (5 MiB, the platform's minimum), got {}",
                    self.part_size
                ),
            ));
        }
        if self.part_size > MAX_SINGLE_UPLOAD {
            return Err(Error::validation(
                "upload.part_size",
                format!(
                    "at most {MAX_SINGLE_UPLOAD} bytes (128 MiB), got {}",
                    self.part_size
                ),
            ));
        }
        if self.single_upload_max == 0 || self.single_upload_max > MAX_SINGLE_UPLOAD {
            return Err(Error::validation(
                "upload.single_upload_max",
                format!(
                    "between 1 and {MAX_SINGLE_UPLOAD} bytes (the platform requires chunked upload above 128 MB), got {}",
                    self.single_upload_max
                ),
            ));
        }
        if self.timeout.is_zero() {
            return Err(Error::validation("upload.timeout", "above 0 seconds"));
        }
        Ok(())
    }
}

/// Everything a [`Client`](crate::Client) needs. Build with [`Config::builder`] or
/// [`Config::from_env`]; fields stay public for adjustment, and [`Client::new`](crate::Client::new)
/// validates them again.
///
/// `Debug` never shows a secret.
#[non_exhaustive]
#[derive(Clone)]
pub struct Config {
    /// The app's client key (public: it appears in authorization URLs).
    pub client_key: Option<String>,
    /// The app's client secret.
    pub client_secret: Option<ClientSecret>,
    /// A previous client secret still accepted on incoming webhooks during a rotation.
    pub previous_client_secret: Option<ClientSecret>,
    /// A fixed user access token: used for every account, never refreshed.
    pub access_token: Option<AccessToken>,
    /// The account used when a call names none (the fixed token's owner, typically).
    pub default_open_id: Option<String>,
    /// The OAuth redirect URI.
    pub redirect_uri: Option<url::Url>,
    /// Base URL, timeouts and retry policy.
    pub transport: TransportConfig,
    /// Upload thresholds.
    pub upload: UploadSettings,
    /// Validation limits (the original system's rules as defaults).
    pub limits: Limits,
    /// Scope names accepted by [`authorize_url`](crate::Client::authorize_url) besides
    /// [`KNOWN_SCOPES`].
    pub extra_scopes: Vec<String>,
    /// Renew the refresh token during a refresh when it expires within this window (default
    /// 16 days, so it never dies between two refreshes of a 15-day access token); `None`
    /// disables automatic renewal. Needs the app's `renew_refresh_token` permission; without
    /// it the refresh proceeds without renewal.
    pub auto_renew_before: Option<Duration>,
    /// Largest webhook body accepted (default 1 MiB).
    pub webhook_max_body_bytes: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |b: bool| if b { "[redacted]" } else { "None" };
        f.debug_struct("Config")
            .field("client_key", &self.client_key)
            .field("client_secret", &set(self.client_secret.is_some()))
            .field(
                "previous_client_secret",
                &set(self.previous_client_secret.is_some()),
            )
            .field("access_token", &set(self.access_token.is_some()))
            .field("default_open_id", &self.default_open_id)
            .field("base_url", &self.transport.base_url.as_str())
            .field(
                "redirect_uri",
                &self.redirect_uri.as_ref().map(url::Url::as_str),
            )
            .field("upload", &self.upload)
            .field("limits", &self.limits)
            .field("extra_scopes", &self.extra_scopes)
            .field("auto_renew_before", &self.auto_renew_before)
            .finish_non_exhaustive()
    }
}

/// Default automatic-renewal window: 16 days.
pub const DEFAULT_AUTO_RENEW_BEFORE: Duration = Duration::from_secs(16 * 24 * 3600);

/// Checks an OAuth redirect URI: https (http only for 127.0.0.1 or localhost), a host, no
/// query, no fragment, no user info. Returns the rule broken.
pub(crate) fn check_redirect_uri(s: &str) -> std::result::Result<url::Url, String> {
    let u = url::Url::parse(s.trim()).map_err(|e| format!("not a valid URL ({e})"))?;
    let host = u.host_str().unwrap_or_default();
    match u.scheme() {
        "https" => {}
        "http" if host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost") => {}
        "http" => {
            return Err(format!(
                "must be https (http is allowed only for 127.0.0.1 or localhost), got host {host:?}"
            ))
        }
        other => return Err(format!("must be https, got scheme {other:?}")),
    }
    if host.is_empty() {
        return Err("must name a host".to_owned());
    }
    if u.query().is_some() {
        return Err("must not carry a query (Douyin appends code and state itself)".to_owned());
    }
    if u.fragment().is_some() {
        return Err("must not carry a fragment".to_owned());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry user info".to_owned());
    }
    Ok(u)
}

impl Config {
    /// A builder with defaults (production host, default limits and upload settings).
    ///
    /// ```
    /// use conn_douyin::Config;
    /// let cfg = Config::builder()
    ///     .client_key("awx123")
    ///     .client_secret("s3cr3t")
    ///     .redirect_uri("https://example.com/douyin/callback")
    ///     .build()?;
    /// assert_eq!(cfg.transport.base_url.as_str(), "https://open.douyin.com/");
    /// assert!(!format!("{cfg:?}").contains("s3cr3t"));
    /// # Ok::<(), conn_core::Error>(())
    /// ```
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Checks the settings that a builder or `from_env` would have checked.
    pub fn validate(&self) -> Result<()> {
        if let Some(u) = &self.redirect_uri {
            check_redirect_uri(u.as_str())
                .map_err(|rule| Error::validation("redirect_uri", rule))?;
        }
        if self
            .client_key
            .as_deref()
            .is_some_and(|k| k.trim().is_empty())
        {
            return Err(Error::validation("client_key", "must not be empty"));
        }
        self.upload.validate()?;
        self.limits.validate()?;
        Ok(())
    }

    /// The client key, or a config error naming the variable to set.
    pub(crate) fn require_client_key(&self) -> Result<&str> {
        self.client_key.as_deref().ok_or_else(|| {
            Error::config_var(
                "DOUYIN_CLIENT_KEY",
                "not set; this operation needs the app's client key (or DOUYIN_APP_ID)",
            )
        })
    }

    /// The client secret, or a config error naming the variable to set.
    pub(crate) fn require_client_secret(&self) -> Result<&ClientSecret> {
        self.client_secret.as_ref().ok_or_else(|| {
            Error::config_var(
                "DOUYIN_CLIENT_SECRET",
                "not set; this operation needs the app's client secret (or DOUYIN_APP_SECRET)",
            )
        })
    }

    /// True when `scope` is a known scope or one of [`Config::extra_scopes`].
    pub fn is_known_scope(&self, scope: &str) -> bool {
        KNOWN_SCOPES.contains(&scope) || self.extra_scopes.iter().any(|s| s == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::SANDBOX_BASE_URL;
    use conn_core::env::{Env, MapEnv};

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_source(pairs.iter().copied().collect::<MapEnv>())
    }

    #[test]
    fn aliases_and_defaults() {
        let c = Config::from_env_with(&env(&[
            ("DOUYIN_APP_ID", "k1"),
            ("DOUYIN_APP_SECRET", "s1"),
        ]))
        .unwrap();
        assert_eq!(c.client_key.as_deref(), Some("k1"));
        assert_eq!(c.client_secret.as_ref().unwrap().expose_secret(), "s1");
        assert_eq!(c.transport.base_url.as_str(), "https://open.douyin.com/");
        // Same value under both names is fine.
        let c = Config::from_env_with(&env(&[
            ("DOUYIN_CLIENT_KEY", "k1"),
            ("DOUYIN_APP_ID", "k1"),
            ("DOUYIN_CLIENT_SECRET", "s"),
            ("DOUYIN_BASE_URL", SANDBOX_BASE_URL),
        ]))
        .unwrap();
        assert_eq!(
            c.transport.base_url.as_str(),
            "https://open-sandbox.douyin.com/"
        );
    }

    #[test]
    fn contradictions_name_both_variables_and_never_the_secret() {
        let e = Config::from_env_with(&env(&[
            ("DOUYIN_CLIENT_KEY", "k1"),
            ("DOUYIN_CLIENT_SECRET", "secret-one"),
            ("DOUYIN_APP_SECRET", "secret-two"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("DOUYIN_CLIENT_SECRET") && e.contains("DOUYIN_APP_SECRET"),
            "{e}"
        );
        assert!(
            !e.contains("secret-one") && !e.contains("secret-two"),
            "{e}"
        );
    }

    #[test]
    fn missing_settings_are_all_reported() {
        let errs =
            Config::from_env_report(&env(&[("DOUYIN_REDIRECT_URI", "http://example.com/cb")]))
                .unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(errs.len(), 3, "{text:?}");
        assert!(text[0].contains("DOUYIN_CLIENT_KEY"));
        assert!(text[1].contains("DOUYIN_CLIENT_SECRET"));
        assert!(text[2].contains("DOUYIN_REDIRECT_URI"));
        // A fixed token alone is enough.
        let c = Config::from_env_with(&env(&[
            ("DOUYIN_ACCESS_TOKEN", "act.x"),
            ("DOUYIN_OPEN_ID", "o1"),
        ]))
        .unwrap();
        assert!(c.access_token.is_some());
        assert_eq!(c.default_open_id.as_deref(), Some("o1"));
        let e = Config::from_env_with(&env(&[
            ("DOUYIN_ACCESS_TOKEN", "a"),
            ("DOUYIN_BASE_URL", "ftp://x"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("DOUYIN_BASE_URL"), "{e}");
    }

    #[test]
    fn redirect_rules() {
        assert!(check_redirect_uri("https://example.com/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8765/cb").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("http://example.com/cb")
            .unwrap_err()
            .contains("https"));
        assert!(check_redirect_uri("https://example.com/cb?x=1")
            .unwrap_err()
            .contains("query"));
        assert!(check_redirect_uri("https://example.com/cb#f")
            .unwrap_err()
            .contains("fragment"));
        assert!(check_redirect_uri("ftp://example.com/").is_err());
        assert!(check_redirect_uri("nope").is_err());
    }

    #[test]
    fn transport_defaults_and_override() {
        // Without transport settings: conn-core's defaults, as the removed setters had.
        let c = Config::builder().client_key("k").build().unwrap();
        assert_eq!(c.transport.attempt_timeout, Duration::from_secs(30));
        assert_eq!(c.transport.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.transport.operation_deadline, None);
        // Given ones are kept, except the base URL, which is the builder's.
        let t = TransportConfig::new("http://127.0.0.1:1")
            .unwrap()
            .with_attempt_timeout(Duration::from_secs(3))
            .with_connect_timeout(Duration::from_secs(2))
            .with_operation_deadline(Some(Duration::from_secs(9)));
        let c = Config::builder()
            .client_key("k")
            .sandbox()
            .transport(t)
            .build()
            .unwrap();
        assert_eq!(c.transport.attempt_timeout, Duration::from_secs(3));
        assert_eq!(c.transport.connect_timeout, Duration::from_secs(2));
        assert_eq!(c.transport.operation_deadline, Some(Duration::from_secs(9)));
        assert_eq!(
            c.transport.base_url.as_str(),
            "https://open-sandbox.douyin.com/"
        );
        let e = Config::builder()
            .base_url("ftp://x")
            .transport(TransportConfig::new("http://127.0.0.1:1").unwrap())
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("base_url"), "{e}");
    }

    #[test]
    fn builder_checks_upload_settings() {
        let e = Config::builder()
            .client_key("k")
            .part_size(MIB)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("upload.part_size"), "{e}");
        let e = Config::builder()
            .single_upload_max(200 * MIB)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("single_upload_max"), "{e}");
        let e = Config::builder()
            .redirect_uri("http://evil.example/cb")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("redirect_uri"), "{e}");
    }
}
