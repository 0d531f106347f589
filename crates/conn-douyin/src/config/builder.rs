//! [`ConfigBuilder`]: required values as builder methods, checked once by `build`.

use std::fmt;
use std::time::Duration;

use conn_core::error::{Error, Result};
use conn_core::secret::{AccessToken, ClientSecret};
use conn_core::transport::{parse_base_url, TransportConfig};

use super::{check_redirect_uri, Config, UploadSettings, DEFAULT_AUTO_RENEW_BEFORE};
use crate::endpoint::{DEFAULT_BASE_URL, SANDBOX_BASE_URL};
use crate::models::Limits;

/// Builds a [`Config`]; see [`Config::builder`].
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    cfg: PartialConfig,
}

/// The builder's state: like [`Config`] but with unparsed URLs.
#[derive(Clone)]
struct PartialConfig {
    client_key: Option<String>,
    client_secret: Option<ClientSecret>,
    previous_client_secret: Option<ClientSecret>,
    access_token: Option<AccessToken>,
    default_open_id: Option<String>,
    base_url: String,
    redirect_uri: Option<String>,
    transport: Option<TransportConfig>,
    upload: UploadSettings,
    limits: Limits,
    extra_scopes: Vec<String>,
    auto_renew_before: Option<Duration>,
    webhook_max_body_bytes: usize,
}

impl fmt::Debug for PartialConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartialConfig")
            .field("client_key", &self.client_key)
            .field("base_url", &self.base_url)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        Self {
            cfg: PartialConfig {
                client_key: None,
                client_secret: None,
                previous_client_secret: None,
                access_token: None,
                default_open_id: None,
                base_url: DEFAULT_BASE_URL.to_owned(),
                redirect_uri: None,
                transport: None,
                upload: UploadSettings::default(),
                limits: Limits::default(),
                extra_scopes: Vec::new(),
                auto_renew_before: Some(DEFAULT_AUTO_RENEW_BEFORE),
                webhook_max_body_bytes: conn_core::webhook::DEFAULT_MAX_BODY_BYTES,
            },
        }
    }
}

impl ConfigBuilder {
    /// The app's client key.
    pub fn client_key(mut self, key: impl Into<String>) -> Self {
        self.cfg.client_key = Some(key.into());
        self
    }

    /// The app's client secret.
    pub fn client_secret(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.cfg.client_secret = Some(secret.into());
        self
    }

    /// The previous client secret, still accepted on webhooks during a rotation.
    pub fn previous_client_secret(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.cfg.previous_client_secret = Some(secret.into());
        self
    }

    /// A fixed access token (never refreshed).
    pub fn access_token(mut self, token: impl Into<AccessToken>) -> Self {
        self.cfg.access_token = Some(token.into());
        self
    }

    /// The account used when a call names none.
    pub fn default_open_id(mut self, open_id: impl Into<String>) -> Self {
        self.cfg.default_open_id = Some(open_id.into());
        self
    }

    /// The base URL (default [`DEFAULT_BASE_URL`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.cfg.base_url = url.into();
        self
    }

    /// Uses the sandbox host [`SANDBOX_BASE_URL`].
    pub fn sandbox(self) -> Self {
        self.base_url(SANDBOX_BASE_URL)
    }

    /// The OAuth redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.cfg.redirect_uri = Some(uri.into());
        self
    }

    /// The transport settings: timeouts, retry policy, body cap, user agent (default:
    /// [`TransportConfig::new`], so 30 s per attempt, 10 s to connect, conn-core's retry
    /// policy and no whole-operation deadline). Its base URL is replaced by
    /// [`ConfigBuilder::base_url`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use conn_core::transport::{parse_base_url, TransportConfig};
    /// use conn_douyin::Config;
    /// let cfg = Config::builder()
    ///     .client_key("awx123")
    ///     .sandbox()
    ///     .transport(
    ///         TransportConfig::new("https://open.douyin.com")?
    ///             .with_attempt_timeout(Duration::from_secs(5))
    ///             .with_operation_deadline(Some(Duration::from_secs(60))),
    ///     )
    ///     .build()?;
    /// assert_eq!(cfg.transport.attempt_timeout, Duration::from_secs(5));
    /// assert_eq!(cfg.transport.base_url.as_str(), "https://open-sandbox.douyin.com/");
    /// # Ok::<(), conn_core::Error>(())
    /// ```
    pub fn transport(mut self, transport: TransportConfig) -> Self {
        self.cfg.transport = Some(transport);
        self
    }

    /// Upload settings.
    pub fn upload(mut self, upload: UploadSettings) -> Self {
        self.cfg.upload = upload;
        self
    }

    /// The chunked-upload part size.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.cfg.upload.part_size = bytes;
        self
    }

    /// The largest file sent in one request.
    pub fn single_upload_max(mut self, bytes: u64) -> Self {
        self.cfg.upload.single_upload_max = bytes;
        self
    }

    /// The per-attempt timeout of upload requests.
    pub fn upload_timeout(mut self, d: Duration) -> Self {
        self.cfg.upload.timeout = d;
        self
    }

    /// Validation limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.cfg.limits = limits;
        self
    }

    /// Accepts another scope name in authorization URLs.
    pub fn extra_scope(mut self, scope: impl Into<String>) -> Self {
        self.cfg.extra_scopes.push(scope.into());
        self
    }

    /// The automatic refresh-token renewal window (`None` disables it).
    pub fn auto_renew_before(mut self, window: Option<Duration>) -> Self {
        self.cfg.auto_renew_before = window;
        self
    }

    /// Largest webhook body accepted.
    pub fn webhook_max_body_bytes(mut self, n: usize) -> Self {
        self.cfg.webhook_max_body_bytes = n;
        self
    }

    /// Checks and builds the configuration.
    pub fn build(self) -> Result<Config> {
        let p = self.cfg;
        let transport = match p.transport {
            Some(mut t) => {
                t.base_url = parse_base_url(&p.base_url, None)?;
                t
            }
            None => TransportConfig::new(&p.base_url)?,
        };
        let redirect_uri = match p.redirect_uri {
            None => None,
            Some(s) => Some(
                check_redirect_uri(&s).map_err(|rule| Error::validation("redirect_uri", rule))?,
            ),
        };
        let cfg = Config {
            client_key: p.client_key,
            client_secret: p.client_secret,
            previous_client_secret: p.previous_client_secret,
            access_token: p.access_token,
            default_open_id: p.default_open_id,
            redirect_uri,
            transport,
            upload: p.upload,
            limits: p.limits,
            extra_scopes: p.extra_scopes,
            auto_renew_before: p.auto_renew_before,
            webhook_max_body_bytes: p.webhook_max_body_bytes,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}
