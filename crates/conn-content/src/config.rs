//! Configuration: the builder and the environment (the rules are on [`Config`]).

use std::collections::BTreeMap;
use std::fmt;

use conn_core::clock;
use conn_core::credentials::env_var_name;
use conn_core::env::Env;
use conn_core::secret::{AccessToken, ApiKey, ClientSecret};
use conn_core::transport::TransportConfig;
use conn_core::{Error, Result};
use serde_json::Value;

use crate::auth::{Authenticator, Credentials};
use crate::profile::{AuthScheme, Builtin, HttpMethod, Profile, DEFAULT_API_KEY_HEADER};

/// The variable listing custom profile names.
pub const PROFILES_VAR: &str = "CONTENT_PROFILES";
/// The variable naming a JSON profile file.
pub const PROFILES_FILE_VAR: &str = "CONTENT_PROFILES_FILE";

/// A profile with its credentials and transport settings: everything a
/// [`Client`](crate::Client) needs. `Debug` shows no secret.
///
/// ```
/// use conn_content::{Config, Credentials, Profile};
/// let cfg = Config::builder()
///     .profile(Profile::zhihu().with_base_url("https://gateway.example.com/zhihu"))
///     .credentials(Credentials::bearer("my-token"))
///     .build().unwrap();
/// assert!(!format!("{cfg:?}").contains("my-token"));
/// // A built-in has no base URL: the error names the variable to set.
/// let err = Config::builder().profile(Profile::zhihu()).credentials(Credentials::bearer("t")).build().unwrap_err();
/// assert!(err.to_string().contains("ZHIHU_BASE_URL"));
/// ```
///
/// Configuration: a [`Profile`], its [`Credentials`] and transport settings, from code or from
/// environment variables.
///
/// ## Variables of a profile
///
/// `<P>` is the profile name upper-cased with `-` as `_` (`xiaohongshu` → `XIAOHONGSHU`,
/// `my-blog` → `MY_BLOG`).
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `<P>_BASE_URL` | **none** | the endpoint's base URL; required |
/// | `<P>_AUTH` | inferred, see below | `bearer`, `api_key`, `xhs_sign` or `none` |
/// | `<P>_ACCESS_TOKEN` | | bearer token; also `accessToken` for `xhs_sign` |
/// | `<P>_API_KEY` | | API key |
/// | `<P>_API_KEY_HEADER` | `X-API-Key` | header carrying the API key |
/// | `<P>_APP_ID`, `<P>_APP_SECRET` | | Xiaohongshu open-platform `appId` / `appSecret` for `xhs_sign` |
/// | `<P>_PUBLISH_PATH` | the profile's | publish path |
/// | `<P>_STATS_PATH` | the profile's | stats path (`{id}` is replaced by the id) |
/// | `<P>_STATS_METHOD` | the profile's | `GET` or `POST` |
/// | `<P>_IDEMPOTENCY_HEADER` | none | header for a per-publish idempotency key, if the endpoint honours one |
///
/// Without `<P>_AUTH` the scheme is inferred: `<P>_APP_ID` and `<P>_APP_SECRET` set →
/// `xhs_sign`; else the profile's own scheme when its credential is set; else `api_key` when
/// `<P>_API_KEY` is set; else `bearer` when `<P>_ACCESS_TOKEN` is set; else the profile's
/// scheme, and the missing credential is reported by name. `API_TIMEOUT`, `API_MAX_RETRIES`,
/// `API_RETRY_DELAY` and `API_RETRY_STRATEGY` apply as everywhere.
///
/// ## Custom profiles
///
/// - `CONTENT_PROFILES=name1,name2` declares profiles of the generic shape
///   ([`Profile::custom`]), configured by the variables above.
/// - `CONTENT_PROFILES_FILE=/path/profiles.json` defines profiles in full. Each entry is a JSON
///   merge patch over the built-in of the same name, or over the generic profile, so it only
///   says what differs. Secrets never go in the file: they come from the variables.
///
/// ```json
/// {"profiles": [
///   {"name": "myblog",
///    "base_url": "https://blog.example.com/api",
///    "auth": {"type": "api_key", "header": "X-Blog-Key"},
///    "publish": {"method": "POST", "path": "/posts"},
///    "stats": {"method": "GET", "path": "/posts/{id}/stats"},
///    "mapping": {"title": "/post/title", "body": "/post/html",
///                "images": {"pointer": "/post/images", "shape": {"objects": "url"}},
///                "tags": {"pointer": "/post/tags", "shape": {"joined": ","}},
///                "fixed": {"/post/status": "published"}},
///    "response": {"id": "/data/post/id", "stats": {"views": "/data/reads"}},
///    "envelope": {"code": "/code", "success": 0, "message": "/message", "auth_codes": [401]},
///    "limits": {"title_max_chars": 80, "max_images": 4},
///    "idempotency_header": "Idempotency-Key"},
///   {"name": "zhihu", "limits": {"max_tags": 5}}
/// ]}
/// ```
///
/// The variables still override a file's base URL, paths and auth.
#[derive(Clone)]
pub struct Config {
    profile: Profile,
    credentials: Credentials,
    transport: TransportConfig,
    /// The bearer token comes from a token manager given to [`crate::ClientBuilder`].
    managed_token: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("profile", &self.profile)
            .field("credentials", &self.credentials)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// True for a configuration whose bearer token comes from a token manager
    /// ([`ConfigBuilder::managed_token`]).
    pub fn has_managed_token(&self) -> bool {
        self.managed_token
    }

    fn build(
        profile: Profile,
        credentials: Credentials,
        env: Option<&Env>,
        managed_token: bool,
    ) -> Result<Self> {
        profile.validate()?;
        let var = profile.env_var("BASE_URL");
        let Some(base) = profile.base_url.as_deref() else {
            return Err(no_base_url(&profile));
        };
        let transport = match env {
            Some(env) => TransportConfig::from_env(env, base, Some(&var))?,
            None => TransportConfig::new(base)?,
        };
        if managed_token {
            if profile.auth != AuthScheme::Bearer {
                return Err(Error::config_var(
                    profile.env_var("AUTH"),
                    format!(
                        "profile `{}` uses {} auth; a managed (OAuth) token needs bearer",
                        profile.name,
                        profile.auth.name()
                    ),
                ));
            }
        } else {
            // Checks the credentials; the client builds its own with its clock.
            Authenticator::new(&profile, &credentials, clock::system())?;
        }
        Ok(Self {
            profile,
            credentials,
            transport,
            managed_token,
        })
    }

    /// The named profile from the process environment (see [`Config`]).
    pub fn from_env(name: &str) -> Result<Self> {
        Self::from_env_with(&Env::process(), name)
    }

    /// The named profile from `env`. Every problem found is in the one error
    /// ([`conn_core::error::ConfigError::also`] holds all but the first);
    /// [`Config::from_env_report`] returns them as a list.
    ///
    /// ```
    /// use conn_core::env::{Env, MapEnv};
    /// use conn_content::Config;
    /// let env = Env::from_source(MapEnv::new().set("XIAOHONGSHU_AUTH", "xhs_sign"));
    /// let err = Config::from_env_with(&env, "xiaohongshu").unwrap_err().to_string();
    /// assert!(err.contains("XIAOHONGSHU_BASE_URL") && err.contains("XIAOHONGSHU_APP_SECRET"), "{err}");
    /// ```
    pub fn from_env_with(env: &Env, name: &str) -> Result<Self> {
        Self::from_env_report(env, name).map_err(Error::config_all)
    }

    /// The named profile from `env`, reporting **every** problem at once (the shape of
    /// conn-douyin's `from_env_report`): a profile that cannot be read, the missing base URL,
    /// invalid transport settings and each credential its auth scheme lacks.
    ///
    /// ```
    /// use conn_core::env::{Env, MapEnv};
    /// use conn_content::Config;
    /// let env = Env::from_source(MapEnv::new().set("XIAOHONGSHU_AUTH", "xhs_sign"));
    /// let errors = Config::from_env_report(&env, "xiaohongshu").unwrap_err();
    /// let text = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n");
    /// for var in ["XIAOHONGSHU_BASE_URL", "XIAOHONGSHU_APP_ID", "XIAOHONGSHU_APP_SECRET", "XIAOHONGSHU_ACCESS_TOKEN"] {
    ///     assert!(text.contains(var), "{var}: {text}");
    /// }
    /// ```
    pub fn from_env_report(env: &Env, name: &str) -> std::result::Result<Self, Vec<Error>> {
        let profile = profile_from_env(env, name).map_err(|e| vec![e])?;
        let credentials = credentials_from_env(env, &profile);
        let mut errors = Vec::new();
        if let Err(e) = profile.validate() {
            errors.push(e);
        }
        let base_var = profile.env_var("BASE_URL");
        if profile.base_url.is_none() {
            errors.push(no_base_url(&profile));
        }
        if let Some(base) = profile.base_url.as_deref() {
            if let Err(e) = TransportConfig::from_env(env, base, Some(&base_var)) {
                errors.push(e);
            }
        }
        errors.extend(missing_credentials(&profile, &credentials));
        if !errors.is_empty() {
            return Err(errors);
        }
        Self::build(profile, credentials, Some(env), false).map_err(|e| vec![e])
    }

    /// A builder: the profile is required, the rest optional.
    ///
    /// ```
    /// use conn_content::{Config, Credentials, Profile};
    /// let cfg = Config::builder()
    ///     .profile(Profile::zhihu().with_base_url("https://gw.example.com/zhihu"))
    ///     .credentials(Credentials::bearer("t"))
    ///     .build()?;
    /// assert_eq!(cfg.profile().name, "zhihu");
    /// let err = Config::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("profile"));
    /// # Ok::<(), conn_core::Error>(())
    /// ```
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Every profile that has a base URL (from its variable or the profile file): the built-ins,
    /// the file's and `CONTENT_PROFILES`'. Profiles without one are not configured and skipped.
    pub fn configured_from_env(env: &Env) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        for name in profile_names(env)? {
            let profile = profile_from_env(env, &name)?;
            if profile.base_url.is_some() {
                out.push(Self::from_env_with(env, &name)?);
            }
        }
        Ok(out)
    }

    /// Replaces the transport settings (timeouts, retry policy, body cap); the base URL stays
    /// the profile's. To change one setting, start from the current ones:
    ///
    /// ```
    /// use std::time::Duration;
    /// use conn_content::{Config, Credentials, Profile};
    /// let cfg = Config::builder()
    ///     .profile(Profile::zhihu().with_base_url("https://gw.example.com/zhihu"))
    ///     .credentials(Credentials::bearer("t"))
    ///     .build()?;
    /// let t = cfg.transport().clone().with_attempt_timeout(Duration::from_secs(5));
    /// let cfg = cfg.with_transport(t);
    /// assert_eq!(cfg.transport().attempt_timeout, Duration::from_secs(5));
    /// assert_eq!(cfg.transport().base_url.as_str(), "https://gw.example.com/zhihu");
    /// # Ok::<(), conn_core::Error>(())
    /// ```
    pub fn with_transport(mut self, transport: TransportConfig) -> Self {
        let base = self.transport.base_url.clone();
        self.transport = TransportConfig {
            base_url: base,
            ..transport
        };
        self
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The transport settings.
    pub fn transport(&self) -> &TransportConfig {
        &self.transport
    }
}

fn no_base_url(profile: &Profile) -> Error {
    let var = profile.env_var("BASE_URL");
    Error::config_var(
        var.clone(),
        format!(
            "profile `{}` has no base URL. None of Xiaohongshu, Zhihu and Toutiao \
             documents a server-side publishing API, so there is no default: set {var} \
             to an endpoint you have access to",
            profile.name
        ),
    )
}

/// Every credential the profile's scheme needs and `creds` lacks, each naming its variable.
fn missing_credentials(profile: &Profile, creds: &Credentials) -> Vec<Error> {
    let needs: &[(&str, bool)] = match &profile.auth {
        AuthScheme::None => &[],
        AuthScheme::Bearer => &[("ACCESS_TOKEN", creds.access_token.is_some())],
        AuthScheme::ApiKey { .. } => &[("API_KEY", creds.api_key.is_some())],
        AuthScheme::XhsSign { .. } => &[
            ("APP_ID", creds.app_id.is_some()),
            ("APP_SECRET", creds.app_secret.is_some()),
            ("ACCESS_TOKEN", creds.access_token.is_some()),
        ],
    };
    needs
        .iter()
        .filter(|(_, present)| !present)
        .map(|(suffix, _)| {
            let var = profile.env_var(suffix);
            Error::config_var(
                var.clone(),
                format!(
                    "profile `{}` uses {} auth and needs it; set {var}",
                    profile.name,
                    profile.auth.name()
                ),
            )
        })
        .collect()
}

/// Builds a [`Config`]: [`Config::builder`].
#[derive(Debug, Default)]
pub struct ConfigBuilder {
    profile: Option<Profile>,
    credentials: Credentials,
    managed_token: bool,
    transport: Option<TransportConfig>,
}

impl ConfigBuilder {
    /// The profile (required).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// The credentials its auth scheme needs.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The bearer token comes from a [`conn_core::token::TokenManager`] (OAuth, such as
    /// [`crate::toutiao::ToutiaoOAuth::token_manager`]) instead of a fixed `<P>_ACCESS_TOKEN`:
    /// the client is then built with [`crate::Client::builder`]`(config).token_manager(manager)`.
    /// The profile must use bearer auth.
    ///
    /// ```
    /// use conn_content::{Config, Profile};
    /// let cfg = Config::builder()
    ///     .profile(Profile::toutiao().with_base_url("https://gw.example.com"))
    ///     .managed_token()
    ///     .build()?;
    /// assert!(cfg.has_managed_token());
    /// assert!(conn_content::Client::new(cfg).is_err(), "needs the token manager");
    /// # Ok::<(), conn_core::Error>(())
    /// ```
    pub fn managed_token(mut self) -> Self {
        self.managed_token = true;
        self
    }

    /// Transport settings (the base URL stays the profile's).
    pub fn transport(mut self, transport: TransportConfig) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The configuration. Fails when the profile is invalid, has no base URL (naming
    /// `<P>_BASE_URL`) or lacks a credential its scheme needs (naming it).
    pub fn build(self) -> Result<Config> {
        let profile = self
            .profile
            .ok_or_else(|| Error::validation("profile", "is required"))?;
        let mut cfg = Config::build(profile, self.credentials, None, self.managed_token)?;
        if let Some(t) = self.transport {
            cfg = cfg.with_transport(t);
        }
        Ok(cfg)
    }
}

/// The profile definitions of `CONTENT_PROFILES_FILE`, by name (each a merge patch).
fn file_profiles(env: &Env) -> Result<BTreeMap<String, Value>> {
    let Some(path) = env.get(PROFILES_FILE_VAR) else {
        return Ok(BTreeMap::new());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::config_var(PROFILES_FILE_VAR, format!("cannot read {path:?}: {e}")))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        Error::config_var(
            PROFILES_FILE_VAR,
            format!("{path:?} is not valid JSON: {e}"),
        )
    })?;
    let entries = match doc {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("profiles") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(Error::config_var(
                    PROFILES_FILE_VAR,
                    format!("{path:?}: expected {{\"profiles\": [...]}} or an array of profiles"),
                ))
            }
        },
        _ => {
            return Err(Error::config_var(
                PROFILES_FILE_VAR,
                format!("{path:?}: expected {{\"profiles\": [...]}} or an array of profiles"),
            ))
        }
    };
    let mut out = BTreeMap::new();
    for (i, e) in entries.into_iter().enumerate() {
        let Some(name) = e.get("name").and_then(Value::as_str).map(str::to_owned) else {
            return Err(Error::config_var(
                PROFILES_FILE_VAR,
                format!("{path:?}: profile {i} has no \"name\""),
            ));
        };
        if out.insert(name.clone(), e).is_some() {
            return Err(Error::config_var(
                PROFILES_FILE_VAR,
                format!("{path:?}: profile `{name}` is defined twice"),
            ));
        }
    }
    Ok(out)
}

fn listed_profiles(env: &Env) -> Vec<String> {
    env.get(PROFILES_VAR)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The names of every known profile: built-ins, then the profile file's, then
/// `CONTENT_PROFILES`' (each once).
pub fn profile_names(env: &Env) -> Result<Vec<String>> {
    let mut names: Vec<String> = Builtin::ALL.iter().map(|b| b.name().to_owned()).collect();
    for n in file_profiles(env)?.into_keys().chain(listed_profiles(env)) {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    Ok(names)
}

/// The named profile with the profile file and the `<P>_*` variables applied (no secrets).
pub fn profile_from_env(env: &Env, name: &str) -> Result<Profile> {
    let file = file_profiles(env)?;
    let mut profile = match (Profile::builtin(name), file.get(name)) {
        (base, Some(patch)) => base
            .unwrap_or_else(|| Profile::custom(name))
            .patched(patch)?,
        (Some(b), None) => b,
        (None, None) if listed_profiles(env).iter().any(|n| n == name) => Profile::custom(name),
        (None, None) => {
            return Err(Error::config_var(
                PROFILES_VAR,
                format!(
                    "unknown content profile `{name}`: the built-ins are xiaohongshu, zhihu and \
                     toutiao; add `{name}` to {PROFILES_VAR} or define it in {PROFILES_FILE_VAR}"
                ),
            ))
        }
    };
    let name = profile.name.clone();
    let var = |s: &str| env_var_name(&name, s);
    if let Some(u) = env.get(&var("BASE_URL")) {
        profile.base_url = Some(u);
    }
    if let Some(p) = env.get(&var("PUBLISH_PATH")) {
        profile.publish.path = p;
    }
    if let Some(p) = env.get(&var("STATS_PATH")) {
        profile.stats.path = p;
    }
    if let Some(m) = env.get(&var("STATS_METHOD")) {
        profile.stats.method = match HttpMethod::parse(&m) {
            Some(HttpMethod::Put) | None => {
                return Err(Error::config_var(
                    var("STATS_METHOD"),
                    format!("expected GET or POST, got {m:?}"),
                ))
            }
            Some(x) => x,
        };
    }
    if let Some(h) = env.get(&var("IDEMPOTENCY_HEADER")) {
        profile.idempotency_header = Some(h);
    }
    let key_header = env
        .get(&var("API_KEY_HEADER"))
        .or_else(|| profile.api_key_header().map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_API_KEY_HEADER.to_owned());
    let xhs_version = match &profile.auth {
        AuthScheme::XhsSign { version } => version.clone(),
        _ => crate::profile::XHS_SIGN_VERSION.to_owned(),
    };
    let has = |s: &str| env.is_set(&var(s));
    profile.auth = if let Some(a) = env.get(&var("AUTH")) {
        match a.to_ascii_lowercase().as_str() {
            "none" => AuthScheme::None,
            "bearer" => AuthScheme::Bearer,
            "api_key" | "api-key" | "apikey" => AuthScheme::ApiKey { header: key_header },
            "xhs_sign" | "xhs-sign" => AuthScheme::XhsSign {
                version: xhs_version,
            },
            _ => {
                return Err(Error::config_var(
                    var("AUTH"),
                    format!("expected bearer, api_key, xhs_sign or none, got {a:?}"),
                ))
            }
        }
    } else if has("APP_ID") && has("APP_SECRET") {
        AuthScheme::XhsSign {
            version: xhs_version,
        }
    } else {
        let own_is_set = match &profile.auth {
            AuthScheme::None => true,
            AuthScheme::Bearer => has("ACCESS_TOKEN"),
            AuthScheme::ApiKey { .. } => has("API_KEY"),
            AuthScheme::XhsSign { .. } => false,
        };
        if own_is_set {
            profile.auth.clone()
        } else if has("API_KEY") {
            AuthScheme::ApiKey { header: key_header }
        } else if has("ACCESS_TOKEN") {
            AuthScheme::Bearer
        } else {
            profile.auth.clone()
        }
    };
    if let AuthScheme::ApiKey { header } = &mut profile.auth {
        if let Some(h) = env.get(&var("API_KEY_HEADER")) {
            *header = h;
        }
    }
    Ok(profile)
}

/// The profile's credentials from `<P>_ACCESS_TOKEN`, `<P>_API_KEY`, `<P>_APP_ID` and
/// `<P>_APP_SECRET`.
pub fn credentials_from_env(env: &Env, profile: &Profile) -> Credentials {
    Credentials {
        access_token: env
            .secret(&profile.env_var("ACCESS_TOKEN"))
            .map(AccessToken::from),
        api_key: env.secret(&profile.env_var("API_KEY")).map(ApiKey::from),
        app_id: env.get(&profile.env_var("APP_ID")),
        app_secret: env
            .secret(&profile.env_var("APP_SECRET"))
            .map(ClientSecret::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::env::MapEnv;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_source(pairs.iter().copied().collect::<MapEnv>())
    }

    #[test]
    fn auth_is_inferred_from_the_credentials_set() {
        let p = profile_from_env(
            &env(&[("XIAOHONGSHU_APP_ID", "a"), ("XIAOHONGSHU_APP_SECRET", "s")]),
            "xiaohongshu",
        )
        .unwrap();
        assert_eq!(p.auth, AuthScheme::xhs_sign());
        let p = profile_from_env(
            &env(&[("ZHIHU_API_KEY", "k"), ("ZHIHU_API_KEY_HEADER", "X-Zh")]),
            "zhihu",
        )
        .unwrap();
        assert_eq!(
            p.auth,
            AuthScheme::ApiKey {
                header: "X-Zh".into()
            }
        );
        let p = profile_from_env(
            &env(&[("TOUTIAO_ACCESS_TOKEN", "t"), ("TOUTIAO_API_KEY", "k")]),
            "toutiao",
        )
        .unwrap();
        assert_eq!(p.auth, AuthScheme::Bearer);
        let p = profile_from_env(
            &env(&[("TOUTIAO_ACCESS_TOKEN", "t"), ("TOUTIAO_AUTH", "none")]),
            "toutiao",
        )
        .unwrap();
        assert_eq!(p.auth, AuthScheme::None);
        let e = profile_from_env(&env(&[("TOUTIAO_AUTH", "oauth")]), "toutiao").unwrap_err();
        assert!(e.to_string().contains("TOUTIAO_AUTH"), "{e}");
    }

    #[test]
    fn unknown_profiles_and_bad_methods_name_the_variable() {
        let e = profile_from_env(&env(&[]), "weibo").unwrap_err();
        assert!(e.to_string().contains("CONTENT_PROFILES"), "{e}");
        let e = profile_from_env(&env(&[("ZHIHU_STATS_METHOD", "PATCH")]), "zhihu").unwrap_err();
        assert!(e.to_string().contains("ZHIHU_STATS_METHOD"), "{e}");
    }

    #[test]
    fn missing_credential_is_named() {
        let e = Config::from_env_with(&env(&[("ZHIHU_BASE_URL", "http://127.0.0.1:1")]), "zhihu")
            .unwrap_err();
        assert!(e.to_string().contains("ZHIHU_ACCESS_TOKEN"), "{e}");
    }
}
