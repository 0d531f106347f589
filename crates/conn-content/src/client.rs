//! The client: `publish` and `stats` through a profile.

use std::fmt;
use std::sync::Arc;

use conn_core::clock::{self, SharedClock};
use conn_core::error::{excerpt, ApiErrorKind, DecodeError};
use conn_core::reexports::reqwest;
use conn_core::retry::Idempotency;
use conn_core::token::TokenManager;
use conn_core::transport::{Request, Response, Transport};
use conn_core::{Error, Result};
use http::HeaderName;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::model::{Content, ContentStats, Published};
use crate::profile::{
    value_text, HttpMethod, Pointer, Profile, DEFAULT_PUBLISH_API_METHOD, DEFAULT_STATS_API_METHOD,
};

/// Characters left as they are in a path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A content-platform client for one profile. Cheap to clone (one shared HTTP client).
///
/// ```no_run
/// use conn_content::{Content, Client};
/// # async fn demo() -> conn_core::Result<()> {
/// // XIAOHONGSHU_BASE_URL and XIAOHONGSHU_ACCESS_TOKEN must be set.
/// let client = Client::from_env("xiaohongshu")?;
/// let note = Content::new("周末去哪儿", "杭州三日游攻略")
///     .with_images(["https://img.example.com/1.jpg"])
///     .with_tags(["旅行"]);
/// let published = client.publish(&note).await?;
/// let stats = client.stats(&published.id).await?;
/// println!("{} views", stats.views.unwrap_or(0));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    profile: Profile,
    transport: Transport,
    auth: Authenticator,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("profile", &self.inner.profile.name)
            .field("transport", &self.inner.transport)
            .field("auth", &self.inner.auth)
            .finish()
    }
}

impl Client {
    /// A client for the configuration. A configuration with a managed token ([`ConfigBuilder::managed_token`](crate::ConfigBuilder::managed_token)) needs
    /// its token manager: use [`Client::builder`].
    pub fn new(config: Config) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder, for the optional pieces (a token manager, a clock, an HTTP client).
    ///
    /// ```
    /// use conn_content::{Client, Config, Profile};
    /// use conn_content::toutiao::ToutiaoOAuth;
    /// use conn_core::token::MemoryTokenStore;
    /// use std::sync::Arc;
    /// let oauth = ToutiaoOAuth::builder("tt-key", "tt-secret").build()?;
    /// let tokens = oauth.token_manager(Arc::new(MemoryTokenStore::new()), "my-account");
    /// let cfg = Config::builder().profile(Profile::toutiao().with_base_url("https://gw.example.com")).managed_token().build()?;
    /// let client = Client::builder(cfg).token_manager(tokens).build()?;
    /// # let _ = client; Ok::<(), conn_core::Error>(())
    /// ```
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            tokens: None,
            clock: None,
            http: None,
        }
    }

    fn from_parts(b: ClientBuilder) -> Result<Self> {
        let ClientBuilder {
            config,
            tokens,
            clock,
            http,
        } = b;
        let profile = config.profile().clone();
        let auth = match (tokens, config.has_managed_token()) {
            (Some(m), true) => Authenticator::Managed(m),
            (None, false) => Authenticator::new(
                &profile,
                config.credentials(),
                clock.unwrap_or_else(clock::system),
            )?,
            (None, true) => {
                return Err(Error::config(format!(
                    "profile `{}` takes its token from a token manager: use \
                     Client::builder(config).token_manager(manager)",
                    profile.name
                )))
            }
            (Some(_), false) => {
                return Err(Error::config(format!(
                    "profile `{}` has fixed credentials; build the configuration with \
                     ConfigBuilder::managed_token to use a token manager",
                    profile.name
                )))
            }
        };
        let envelope = profile.envelope.clone().decoder();
        let transport = Transport::with_optional_client(
            profile.name.clone(),
            config.transport().clone(),
            envelope,
            http,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                profile,
                transport,
                auth,
            }),
        })
    }

    /// Authenticates and sends a request. With a token manager the call runs through
    /// [`TokenManager::with_token`]: a rejected token is refreshed once and the request
    /// replayed once (the platform refused it, so a publish is not duplicated); a dead refresh
    /// token comes back as [`Error::ReauthRequired`].
    pub(crate) async fn send(
        &self,
        req: Request,
        body: Option<Value>,
        api_method: &str,
    ) -> Result<Response> {
        let Authenticator::Managed(m) = &self.inner.auth else {
            let req = self.inner.auth.authorize(req, body, api_method)?;
            return self.inner.transport.execute(&req).await;
        };
        m.with_token(|token| {
            let (req, body) = (req.clone(), body.clone());
            async move {
                let req = Authenticator::Bearer(token).authorize(req, body, api_method)?;
                self.inner
                    .transport
                    .execute(&req)
                    .await
                    .map_err(token_rejected)
            }
        })
        .await
    }

    /// A client for the named profile from the process environment
    /// (see [`Config`](crate::Config)).
    pub fn from_env(profile: &str) -> Result<Self> {
        Self::new(Config::from_env(profile)?)
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    /// The transport (counters, settings).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn authenticator(&self) -> &Authenticator {
        &self.inner.auth
    }

    /// Publishes `content` after checking the profile's limits.
    ///
    /// Publishing is not idempotent. Without an idempotency header in the profile, a publish
    /// that may have reached the server and failed (timeout after sending, 5xx, connection
    /// dropped) is not replayed and comes back as [`Error::OutcomeUnknown`] whose context
    /// holds `profile` and `title`: check the platform before publishing again. With an
    /// idempotency header, a key generated once for this call is sent on every attempt, so
    /// those failures are retried; if the retries run out the error is `OutcomeUnknown` with
    /// the `idempotency_key` too, and [`Client::publish_with_key`] resumes safely.
    pub async fn publish(&self, content: &Content) -> Result<Published> {
        let idem = match self.idempotency_header()? {
            Some(h) => Idempotency::new_key(h),
            None => Idempotency::NonIdempotent,
        };
        self.publish_inner(content, idem).await
    }

    /// Publishes with a caller-chosen idempotency key (to resume a publish whose outcome is
    /// unknown). Fails when the profile has no idempotency header.
    pub async fn publish_with_key(
        &self,
        content: &Content,
        key: impl Into<String>,
    ) -> Result<Published> {
        let Some(header) = self.idempotency_header()? else {
            return Err(Error::config_var(
                self.inner.profile.env_var("IDEMPOTENCY_HEADER"),
                format!(
                    "profile `{}` has no idempotency header, so a key cannot be sent",
                    self.inner.profile.name
                ),
            ));
        };
        let key = key.into();
        if key.is_empty() || http::HeaderValue::from_str(&key).is_err() {
            return Err(Error::validation(
                "idempotency_key",
                "must be a non-empty header value",
            ));
        }
        self.publish_inner(content, Idempotency::Key { header, key })
            .await
    }

    fn idempotency_header(&self) -> Result<Option<HeaderName>> {
        let p = &self.inner.profile;
        p.idempotency_header
            .as_deref()
            .map(|h| {
                HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
                    Error::config_var(
                        p.env_var("IDEMPOTENCY_HEADER"),
                        format!("{h:?} is not a valid header name"),
                    )
                })
            })
            .transpose()
    }

    #[tracing::instrument(
        name = "content.publish",
        skip_all,
        fields(profile = %self.inner.profile.name, title_chars = content.title.chars().count())
    )]
    async fn publish_inner(&self, content: &Content, idem: Idempotency) -> Result<Published> {
        let p = &self.inner.profile;
        p.limits.check(content)?;
        let body = p.mapping.build(&p.name, content)?;
        let key = match &idem {
            Idempotency::Key { key, .. } => Some(key.clone()),
            _ => None,
        };
        // A failure after the request may have been received comes back from the transport as
        // OutcomeUnknown with this context (and the key to resume with, when there is one).
        let req = Request::new("publish", p.publish.method.as_http(), &p.publish.path, idem)
            .outcome_context("profile", p.name.clone())
            .outcome_context("title", content.title.clone());
        let api_method = p
            .publish
            .api_method
            .as_deref()
            .unwrap_or(DEFAULT_PUBLISH_API_METHOD);
        let resp = self.send(req, Some(body), api_method).await?;
        let raw: Value = resp.json()?;
        let id = match p.response.id.get(&raw) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(v @ Value::Number(_)) => value_text(v),
            other => {
                return Err(decode_error(
                    p,
                    "publish",
                    &p.response.id,
                    &resp,
                    format!(
                        "no content id at `{}` (found {}); the content may have been published",
                        p.response.id,
                        other.map_or("nothing".to_owned(), |v| v.to_string())
                    ),
                ))
            }
        };
        tracing::info!(content_id = %id, "published");
        Ok(Published {
            id,
            profile: p.name.clone(),
            idempotency_key: key,
            raw,
        })
    }

    /// The counters of a published item. Idempotent: retried per the retry policy.
    #[tracing::instrument(name = "content.stats", skip_all, fields(profile = %self.inner.profile.name, content_id = %content_id))]
    pub async fn stats(&self, content_id: &str) -> Result<ContentStats> {
        let p = &self.inner.profile;
        if content_id.trim().is_empty() {
            return Err(Error::validation(
                "content_id",
                "required (got an empty value)",
            ));
        }
        let ep = &p.stats;
        let mut body = None;
        let path = if ep.path.contains("{id}") {
            ep.path.replace(
                "{id}",
                &utf8_percent_encode(content_id, SEGMENT).to_string(),
            )
        } else {
            ep.path.clone()
        };
        let mut req = Request::new("stats", ep.method.as_http(), path, Idempotency::Idempotent);
        if !ep.path.contains("{id}") {
            match ep.method {
                HttpMethod::Get => req = req.query(ep.id_field.clone(), content_id),
                HttpMethod::Post | HttpMethod::Put => {
                    let mut b = Value::Object(Default::default());
                    Pointer::new(&ep.id_field)
                        .set(&mut b, Value::String(content_id.to_owned()))
                        .map_err(|e| {
                            Error::config(format!("profile `{}`: stats id_field: {e}", p.name))
                        })?;
                    body = Some(b);
                }
            }
        } else if ep.method != HttpMethod::Get {
            body = Some(Value::Object(Default::default()));
        }
        let api_method = ep.api_method.as_deref().unwrap_or(DEFAULT_STATS_API_METHOD);
        let resp = self.send(req, body, api_method).await?;
        let raw: Value = resp.json()?;
        let mut stats = ContentStats {
            content_id: content_id.to_owned(),
            ..ContentStats::default()
        };
        for (name, ptr) in p.response.stats.fields() {
            let Some(ptr) = ptr else { continue };
            // Counts arrive as numbers, integral floats or numeric strings; the rule is
            // conn-core's, as everywhere else.
            let value = match ptr.get(&raw) {
                None | Some(Value::Null) => None,
                Some(found) => match conn_core::lenient::opt_u64(found) {
                    Ok(Some(n)) => Some(n),
                    _ => {
                        return Err(decode_error(
                            p,
                            "stats",
                            ptr,
                            &resp,
                            format!("`{name}` at `{ptr}` is not a non-negative whole number"),
                        ))
                    }
                },
            };
            let slot = match name {
                "views" => &mut stats.views,
                "likes" => &mut stats.likes,
                "comments" => &mut stats.comments,
                "shares" => &mut stats.shares,
                _ => &mut stats.favorites,
            };
            *slot = value;
        }
        stats.raw = raw;
        Ok(stats)
    }
}

/// Builds a [`Client`] with its optional pieces: a token manager, a clock, an HTTP client.
///
/// There is no `token_store`: the client holds a whole [`TokenManager`], which needs the
/// platform's refresher and the account besides a store, so the store goes where the manager
/// is made (for Toutiao, [`ToutiaoOAuth::token_manager`](crate::toutiao::ToutiaoOAuth::token_manager)).
///
/// ```
/// use std::sync::Arc;
/// use conn_content::{AuthScheme, Client, Config, Credentials, Profile};
/// use conn_core::clock::ManualClock;
/// let profile = Profile::xiaohongshu()
///     .with_base_url("https://gw.example.com")
///     .with_auth(AuthScheme::xhs_sign());
/// let cfg = Config::builder()
///     .profile(profile)
///     .credentials(Credentials::xhs("app", "secret", "token"))
///     .build()?;
/// let client = Client::builder(cfg)
///     .clock(Arc::new(ManualClock::at_unix(1_700_000_000)))
///     .http_client(conn_core::reexports::reqwest::Client::new())
///     .build()?;
/// # let _ = client;
/// # Ok::<(), conn_core::Error>(())
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    config: Config,
    tokens: Option<TokenManager>,
    clock: Option<SharedClock>,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// The token manager bearer tokens come from (a [`ConfigBuilder::managed_token`](crate::ConfigBuilder::managed_token)
    /// configuration needs one).
    pub fn token_manager(mut self, tokens: TokenManager) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// The clock signing timestamps come from (the `xhs_sign` scheme; default: the system
    /// clock). A token manager keeps its own clock: set it where the manager is made (for
    /// Toutiao, [`ToutiaoOAuthBuilder::clock`](crate::toutiao::ToutiaoOAuthBuilder::clock)).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Shares an existing reqwest client (its connection pool, proxies and TLS settings); by
    /// default one is built from the transport settings.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client> {
        Client::from_parts(self)
    }
}

/// With a managed token the token is the only credential sent, so "credentials rejected"
/// (the profile's auth codes, or a bare HTTP 401, which the envelope reads as
/// `InvalidCredentials`) means that token was rejected: it becomes `TokenExpired`, which
/// [`TokenManager::with_token`] answers with one refresh and one replay.
fn token_rejected(e: Error) -> Error {
    match e {
        Error::Api(mut a) if a.kind == ApiErrorKind::InvalidCredentials => {
            a.kind = ApiErrorKind::TokenExpired;
            Error::Api(a)
        }
        other => other,
    }
}

fn decode_error(
    p: &Profile,
    operation: &'static str,
    at: &Pointer,
    resp: &Response,
    msg: String,
) -> Error {
    Error::from(DecodeError {
        platform: p.name.clone().into(),
        operation: operation.into(),
        path: at.to_string(),
        excerpt: excerpt(&resp.body),
        source: <serde_json::Error as serde::de::Error>::custom(msg),
    })
}
