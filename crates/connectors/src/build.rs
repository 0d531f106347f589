//! Building every compiled-in platform from the environment (and the encrypted store), with
//! every problem reported at once.
//!
//! For each platform compiled in (and selected with [`ConnectorsBuilder::only`]):
//!
//! - **not configured**: none of the platform's own variables is set (for a built-in content
//!   profile: none of its `<P>_*` variables, and no base URL from a profile file). It is
//!   skipped and listed in [`Connectors::skipped`] with the variables that would enable it;
//!   asking for it later is a configuration error that names them.
//! - **configured**: it is built; when a setting is missing or invalid, every problem of every
//!   platform is collected and the build fails with one [`ConfigReport`] naming each platform,
//!   each variable to set or fix, and why.
//!
//! Values come from the environment first, then from the store ([`crate::layer`]). Tokens
//! persist in the token store given to [`ConnectorsBuilder::token_store`], else in the
//! credential store when one is given (feature `creds`), else in memory.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use conn_core::env::Env;
use conn_core::error::ConfigError;
use conn_core::token::{MemoryTokenStore, TokenStore};
use conn_core::Error;

use crate::registry::Connectors;

/// A platform left out because none of its variables is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The platform (`douyin`, `ths`, `erp`, or a content profile name).
    pub platform: String,
    /// The variables to set to enable it.
    pub variables: Vec<String>,
    /// What else would do (an alternative credential, a caveat).
    pub hint: String,
}

impl Skipped {
    /// The configuration error for using the platform anyway: it names the first variable and
    /// lists them all.
    pub fn to_error(&self) -> Error {
        let first = self.variables.first().cloned().unwrap_or_default();
        Error::Config(ConfigError::var(first, self.message()))
    }

    fn message(&self) -> String {
        let mut m = format!(
            "{} is not configured; set {}",
            self.platform,
            self.variables.join(" and ")
        );
        if !self.hint.is_empty() {
            m.push_str(" (");
            m.push_str(&self.hint);
            m.push(')');
        }
        m
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Everything wrong with one platform's configuration.
#[derive(Debug)]
pub struct PlatformProblem {
    /// The platform.
    pub platform: String,
    /// Its errors (configuration errors name their variable).
    pub errors: Vec<Error>,
}

impl PlatformProblem {
    /// The variables named by this platform's errors.
    pub fn variables(&self) -> Vec<&str> {
        self.errors
            .iter()
            .filter_map(|e| match e {
                Error::Config(c) => c.var.as_deref(),
                _ => None,
            })
            .collect()
    }
}

/// Every configuration problem of every platform, found in one pass.
///
/// `Display` lists each platform, each variable to set or fix and why; it converts into
/// [`conn_core::Error::Config`] (exit code 3 in the CLI).
#[derive(Debug, Default)]
pub struct ConfigReport {
    problems: Vec<PlatformProblem>,
    skipped: Vec<Skipped>,
}

impl ConfigReport {
    /// The platforms with problems, in build order.
    pub fn problems(&self) -> &[PlatformProblem] {
        &self.problems
    }

    /// The problem of one platform.
    pub fn problem(&self, platform: &str) -> Option<&PlatformProblem> {
        self.problems.iter().find(|p| p.platform == platform)
    }

    /// Platforms that were not configured at all (not errors).
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Every variable named by a problem, in order.
    pub fn variables(&self) -> Vec<&str> {
        self.problems.iter().flat_map(|p| p.variables()).collect()
    }

    /// True when no platform has a problem.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    #[allow(dead_code)] // unused when no platform feature is enabled
    fn add(&mut self, platform: &str, errors: Vec<Error>) {
        if errors.is_empty() {
            return;
        }
        match self.problems.iter_mut().find(|p| p.platform == platform) {
            Some(p) => p.errors.extend(errors),
            None => self.problems.push(PlatformProblem {
                platform: platform.to_owned(),
                errors,
            }),
        }
    }
}

fn error_line(e: &Error) -> String {
    match e {
        Error::Config(c) => match &c.var {
            Some(v) => format!("{v}: {}", c.message),
            None => c.message.clone(),
        },
        other => other.to_string(),
    }
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{n} platform{} configured incompletely; fix every line below",
            if n == 1 { " is" } else { "s are" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {}:", p.platform)?;
            for e in &p.errors {
                write!(f, "\n    - {}", error_line(e))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigReport {}

impl From<ConfigReport> for Error {
    /// One configuration error whose message is the whole report; `var` is set when the
    /// report names exactly one variable.
    fn from(report: ConfigReport) -> Self {
        let vars: BTreeSet<&str> = report.variables().into_iter().collect();
        let var = (vars.len() == 1)
            .then(|| vars.iter().next().map(|v| (*v).to_owned()))
            .flatten();
        Error::Config(ConfigError {
            var,
            message: report.to_string(),
        })
    }
}

#[cfg(feature = "douyin")]
type DouyinTune = Box<dyn FnOnce(&mut conn_douyin::Config) + Send>;

/// Builds [`Connectors`] from an [`Env`], an optional credential store and a token store.
///
/// ```
/// use connectors::core::env::{Env, MapEnv};
/// use connectors::Connectors;
///
/// // Two platforms broken at once: both are reported in one error.
/// let env = Env::from_source(
///     MapEnv::new()
///         .set("DOUYIN_CLIENT_KEY", "awx1")          // secret missing
///         .set("THS_BASE_URL", "https://api.10jqka.com.cn"),  // refresh token missing
/// );
/// let report = Connectors::builder().env(env).build().unwrap_err();
/// # #[cfg(all(feature = "douyin", feature = "ths"))] {
/// let text = report.to_string();
/// assert!(text.contains("DOUYIN_CLIENT_SECRET") && text.contains("THS_REFRESH_TOKEN"), "{text}");
/// # }
/// ```
pub struct ConnectorsBuilder {
    env: Env,
    token_store: Option<Arc<dyn TokenStore>>,
    #[cfg(feature = "creds")]
    store: Option<conn_creds::CredentialStore>,
    only: Option<BTreeSet<String>>,
    #[cfg(feature = "douyin")]
    douyin_tune: Vec<DouyinTune>,
}

impl fmt::Debug for ConnectorsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ConnectorsBuilder");
        d.field("env", &self.env)
            .field("token_store", &self.token_store)
            .field("only", &self.only);
        #[cfg(feature = "creds")]
        d.field("store", &self.store.as_ref().map(|s| s.dir().to_owned()));
        d.finish_non_exhaustive()
    }
}

impl Default for ConnectorsBuilder {
    fn default() -> Self {
        Self {
            env: Env::process(),
            token_store: None,
            #[cfg(feature = "creds")]
            store: None,
            only: None,
            #[cfg(feature = "douyin")]
            douyin_tune: Vec::new(),
        }
    }
}

impl Connectors {
    /// A builder over the process environment.
    pub fn builder() -> ConnectorsBuilder {
        ConnectorsBuilder::default()
    }

    /// Every compiled-in platform from the process environment (see the [module docs](self)).
    /// Tokens are kept in memory; use the builder to persist them.
    pub fn from_env() -> Result<Self, ConfigReport> {
        Self::builder().build()
    }

    /// Every compiled-in platform from `env`.
    pub fn from_env_with(env: &Env) -> Result<Self, ConfigReport> {
        Self::builder().env(env.clone()).build()
    }
}

impl ConnectorsBuilder {
    /// Where variables come from (default: the process environment).
    pub fn env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// Where tokens persist (default: the credential store if given, else memory).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.token_store = Some(store);
        self
    }

    /// Layers `store` under the environment (see [`crate::layer`]) and persists tokens in it
    /// (unless [`ConnectorsBuilder::token_store`] says otherwise).
    #[cfg(feature = "creds")]
    pub fn credential_store(mut self, store: conn_creds::CredentialStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Builds only these platforms: `douyin`, `ths`, `erp`, `content` (every content profile)
    /// or a content profile's name. Others are neither built nor checked.
    pub fn only<I, S>(mut self, platforms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only = Some(platforms.into_iter().map(Into::into).collect());
        self
    }

    /// Adjusts the Douyin configuration read from the environment before the client is built
    /// (upload part size, limits, a shorter timeout…).
    #[cfg(feature = "douyin")]
    pub fn tune_douyin(
        mut self,
        f: impl FnOnce(&mut conn_douyin::Config) + Send + 'static,
    ) -> Self {
        self.douyin_tune.push(Box::new(f));
        self
    }

    fn wants(&self, platform: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(platform))
    }

    /// Builds every wanted platform that is configured; fails with every problem at once.
    #[allow(unused_mut)] // `mut` serves the douyin feature only
    pub fn build(mut self) -> Result<Connectors, ConfigReport> {
        #[cfg(feature = "douyin")]
        let douyin_tune = std::mem::take(&mut self.douyin_tune);
        let token_store: Arc<dyn TokenStore> = match &self.token_store {
            Some(t) => t.clone(),
            None => self.default_token_store(),
        };
        #[cfg(feature = "redis")]
        let shared = crate::shared::from_env(&self.env);
        #[cfg(feature = "redis")]
        let token_store = match (&self.token_store, &shared) {
            (None, Ok(Some(s))) => s.tokens.clone(),
            _ => token_store,
        };
        let wants = |p: &str| self.wants(p);
        let mut report = ConfigReport::default();
        let mut out = Connectors::new();
        #[cfg(feature = "redis")]
        match shared {
            Ok(s) => out.redis = s.map(|s| s.redis),
            Err(e) => report.add("redis", vec![e]),
        }
        let base = self.env.clone();
        #[cfg(feature = "content")]
        let profiles = match conn_content::config::profile_names(&base) {
            Ok(p) => p,
            Err(e) => {
                report.add("content", vec![e]);
                Vec::new()
            }
        };
        #[cfg(not(feature = "content"))]
        let profiles: Vec<String> = Vec::new();

        #[cfg(feature = "creds")]
        let (env, layer) = match &self.store {
            Some(store) => {
                let mut platforms: Vec<String> = crate::layer::KNOWN_PLATFORMS
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect();
                platforms.extend(profiles.iter().cloned());
                let layer = crate::layer::StoreEnv::new(base.clone(), store.clone(), platforms);
                (Env::from_source(layer.clone()), Some(layer))
            }
            None => (base.clone(), None),
        };
        #[cfg(not(feature = "creds"))]
        let env = base.clone();

        #[cfg(feature = "douyin")]
        if wants(conn_douyin::PLATFORM) {
            platforms::douyin(&env, &token_store, douyin_tune, &mut out, &mut report);
        }
        #[cfg(feature = "ths")]
        if wants(conn_ths::PLATFORM) {
            platforms::ths(&env, &token_store, &mut out, &mut report);
        }
        #[cfg(feature = "erp")]
        if wants(conn_erp::PLATFORM) {
            platforms::erp(&env, &mut out, &mut report);
        }
        #[cfg(feature = "content")]
        for name in &profiles {
            if wants("content") || wants(name) {
                platforms::content(&env, name, &mut out, &mut report);
            }
        }
        let _ = (&env, &profiles, &token_store, &wants);

        #[cfg(feature = "creds")]
        if let Some(layer) = layer {
            let failures: Vec<Error> = layer
                .failures()
                .into_iter()
                .map(|(var, why)| {
                    Error::config_var(
                        var,
                        format!("could not be read from the credential store: {why}"),
                    )
                })
                .collect();
            report.add("credential store", failures);
        }

        if report.is_empty() {
            Ok(out)
        } else {
            report.skipped = std::mem::take(&mut out.skipped);
            Err(report)
        }
    }

    fn default_token_store(&self) -> Arc<dyn TokenStore> {
        #[cfg(feature = "creds")]
        if let Some(store) = &self.store {
            return Arc::new(store.clone());
        }
        Arc::new(MemoryTokenStore::new())
    }
}

/// True when any of `names` is set in `env`.
#[allow(dead_code)]
fn any_set<'a>(env: &Env, names: impl IntoIterator<Item = &'a str>) -> bool {
    names.into_iter().any(|n| env.is_set(n))
}

mod platforms {
    #![allow(unused_imports)]
    use std::sync::Arc;

    use conn_core::env::Env;
    use conn_core::token::TokenStore;

    #[cfg(feature = "douyin")]
    use super::DouyinTune;
    use super::{any_set, ConfigReport, Skipped};
    use crate::registry::Connectors;

    #[cfg(feature = "douyin")]
    pub(super) fn douyin(
        env: &Env,
        tokens: &Arc<dyn TokenStore>,
        tune: Vec<DouyinTune>,
        out: &mut Connectors,
        report: &mut ConfigReport,
    ) {
        use conn_douyin::{Client, Config, ENV_VARS, PLATFORM};
        if !any_set(env, ENV_VARS.iter().map(|d| d.name)) {
            out.skipped.push(Skipped {
                platform: PLATFORM.to_owned(),
                variables: vec!["DOUYIN_CLIENT_KEY".into(), "DOUYIN_CLIENT_SECRET".into()],
                hint: "or DOUYIN_ACCESS_TOKEN for a fixed token; `connectors creds set douyin client_secret` stores the secret encrypted".into(),
            });
            return;
        }
        let mut cfg = match Config::from_env_report(env) {
            Ok(c) => c,
            Err(errors) => return report.add(PLATFORM, errors),
        };
        for f in tune {
            f(&mut cfg);
        }
        match Client::builder(cfg).token_store(tokens.clone()).build() {
            Ok(client) => {
                out.register(Box::new(client.clone()));
                out.douyin = Some(client);
            }
            Err(e) => report.add(PLATFORM, vec![e]),
        }
    }

    #[cfg(feature = "ths")]
    pub(super) fn ths(
        env: &Env,
        tokens: &Arc<dyn TokenStore>,
        out: &mut Connectors,
        report: &mut ConfigReport,
    ) {
        use conn_ths::{Client, Config, ENV_VARS, PLATFORM};
        if !any_set(env, ENV_VARS.iter().map(|d| d.name)) {
            out.skipped.push(Skipped {
                platform: PLATFORM.to_owned(),
                variables: vec!["THS_REFRESH_TOKEN".into()],
                hint: "the refresh_token of your iFinD account, from the iFinD client".into(),
            });
            return;
        }
        // Every missing or invalid THS_* setting is reported at once.
        let cfg = match Config::from_env_report(env) {
            Ok(c) => c,
            Err(errors) => return report.add(PLATFORM, errors),
        };
        let limit = cfg.rate_limit();
        let builder = Client::builder(cfg).token_store(tokens.clone());
        let built = shared_ths_limiter(builder, out, limit).and_then(|b| b.build());
        match built {
            Ok(client) => {
                out.register(Box::new(client.clone()));
                out.ths = Some(client);
            }
            Err(e) => report.add(PLATFORM, vec![e]),
        }
    }

    /// With Redis configured, the iFinD account's 600/min budget is shared by every process and
    /// host (a real -4400 slows all of them); without it, the client's own limiter counts.
    #[cfg(all(feature = "ths", feature = "redis"))]
    fn shared_ths_limiter(
        builder: conn_ths::ClientBuilder,
        out: &Connectors,
        limit: conn_ths::RateLimit,
    ) -> Result<conn_ths::ClientBuilder, conn_core::Error> {
        let Some(redis) = &out.redis else {
            return Ok(builder);
        };
        let shared = conn_redis::SharedLimit::new(limit.requests(), limit.window())?
            .with_burst(limit.burst());
        let limiter = conn_redis::RedisLimiter::new(redis.clone(), conn_ths::PLATFORM, shared);
        Ok(builder.limiter(Arc::new(limiter)))
    }

    /// Without the `redis` feature there is no shared state: the client's own limiter counts.
    #[cfg(all(feature = "ths", not(feature = "redis")))]
    fn shared_ths_limiter(
        builder: conn_ths::ClientBuilder,
        _out: &Connectors,
        _limit: conn_ths::RateLimit,
    ) -> Result<conn_ths::ClientBuilder, conn_core::Error> {
        Ok(builder)
    }

    #[cfg(feature = "erp")]
    pub(super) fn erp(env: &Env, out: &mut Connectors, report: &mut ConfigReport) {
        use conn_erp::{Client, ENV_VARS, PLATFORM};
        if !any_set(env, ENV_VARS.iter().map(|d| d.name)) {
            out.skipped.push(Skipped {
                platform: PLATFORM.to_owned(),
                variables: vec!["ERP_API_URL".into()],
                hint: "with ERP_API_KEY, or ERP_USERNAME and ERP_PASSWORD, or ERP_AUTH_MODE and its credentials".into(),
            });
            return;
        }
        match Client::from_env_with(env) {
            Ok(client) => {
                out.register(Box::new(client.clone()));
                out.erp = Some(client);
            }
            Err(e) => report.add(PLATFORM, vec![e]),
        }
    }

    /// The `<P>_*` suffixes a content profile reads, from the crate's own list.
    #[cfg(feature = "content")]
    fn content_suffixes() -> impl Iterator<Item = &'static str> {
        conn_content::ENV_VARS
            .iter()
            .filter_map(|d| d.name.strip_prefix("XIAOHONGSHU_"))
    }

    #[cfg(feature = "content")]
    pub(super) fn content(env: &Env, name: &str, out: &mut Connectors, report: &mut ConfigReport) {
        use conn_content::config::profile_from_env;
        use conn_content::{AuthScheme, ContentClient, ContentConfig, Profile};
        let profile = match profile_from_env(env, name) {
            Ok(p) => p,
            Err(e) => return report.add(name, vec![e]),
        };
        let own_set = any_set(
            env,
            content_suffixes()
                .map(|s| profile.env_var(s))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        let declared_custom = Profile::builtin(name).is_none();
        if !own_set && profile.base_url.is_none() && !declared_custom {
            let mut variables = vec![profile.env_var("BASE_URL")];
            match &profile.auth {
                AuthScheme::Bearer => variables.push(profile.env_var("ACCESS_TOKEN")),
                AuthScheme::ApiKey { .. } => variables.push(profile.env_var("API_KEY")),
                AuthScheme::XhsSign { .. } => {
                    for s in ["APP_ID", "APP_SECRET", "ACCESS_TOKEN"] {
                        variables.push(profile.env_var(s));
                    }
                }
                _ => {}
            }
            out.skipped.push(Skipped {
                platform: name.to_owned(),
                variables,
                hint: "no default endpoint: the platform documents no publishing API, point it at one you have access to".into(),
            });
            return;
        }
        match ContentConfig::from_env_with(env, name).and_then(ContentClient::new) {
            Ok(client) => {
                out.register(Box::new(client.clone()));
                out.content.insert(name.to_owned(), client);
            }
            Err(e) => report.add(name, vec![e]),
        }
    }
}
