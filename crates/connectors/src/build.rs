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

use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use conn_core::env::Env;
use conn_core::token::{MemoryTokenStore, TokenStore};
#[cfg(feature = "creds")]
use conn_core::Error;

use crate::platform::{descriptors, Tune};
use crate::registry::Connectors;
use crate::report::ConfigReport;

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
    tunes: Vec<Tune>,
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
            tunes: Vec::new(),
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
    #[cfg_attr(docsrs, doc(cfg(feature = "creds")))]
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

    /// Adjusts the configuration of `platform` (a [descriptor](crate::Descriptor)'s name)
    /// read from the environment before its client is built; `C` is that platform's `Config`
    /// (`conn_ths::Config` for `ths`, `conn_content::Config` for `content`, whose every
    /// profile it adjusts). An adjustment for another type is not applied.
    ///
    /// ```
    /// use connectors::core::env::{Env, MapEnv};
    /// use connectors::Connectors;
    ///
    /// # #[cfg(feature = "douyin")] {
    /// let env = Env::from_source(
    ///     MapEnv::new()
    ///         .set("DOUYIN_CLIENT_KEY", "awx1")
    ///         .set("DOUYIN_CLIENT_SECRET", "s"),
    /// );
    /// let reg = Connectors::builder()
    ///     .env(env)
    ///     .tune("douyin", |c: &mut connectors::douyin::Config| c.webhook_max_body_bytes = 4096)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(reg.douyin().unwrap().config().webhook_max_body_bytes, 4096);
    /// # }
    /// ```
    pub fn tune<C: Any>(
        mut self,
        platform: &'static str,
        f: impl FnMut(&mut C) + Send + 'static,
    ) -> Self {
        self.tunes.push(Tune::new(platform, f));
        self
    }

    /// Adjusts the Douyin configuration read from the environment before the client is built
    /// (upload part size, limits, a shorter timeout…): [`ConnectorsBuilder::tune`] for Douyin.
    #[cfg(feature = "douyin")]
    #[cfg_attr(docsrs, doc(cfg(feature = "douyin")))]
    pub fn tune_douyin(self, f: impl FnOnce(&mut conn_douyin::Config) + Send + 'static) -> Self {
        let mut once = Some(f);
        self.tune(conn_douyin::PLATFORM, move |c: &mut conn_douyin::Config| {
            if let Some(f) = once.take() {
                f(c);
            }
        })
    }

    fn wants(&self, platform: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(platform))
    }

    /// Builds every wanted platform that is configured; fails with every problem at once.
    pub fn build(mut self) -> Result<Connectors, ConfigReport> {
        let token_store: Arc<dyn TokenStore> = match &self.token_store {
            Some(t) => t.clone(),
            None => self.default_token_store(),
        };
        let mut report = ConfigReport::default();
        let mut out = Connectors::new();
        #[cfg(feature = "redis")]
        let token_store = match crate::shared::from_env(&self.env) {
            Ok(shared) => {
                let tokens = match (&self.token_store, &shared) {
                    (None, Some(s)) => s.tokens.clone(),
                    _ => token_store,
                };
                out.redis = shared.map(|s| s.redis);
                tokens
            }
            Err(e) => {
                report.add("redis", vec![e]);
                token_store
            }
        };

        // The instances of every platform, read from the environment itself: a custom content
        // profile's variables may come from the store, so its name must be known first.
        let base = self.env.clone();
        let mut plan = Vec::new();
        for d in descriptors() {
            match d.instances(&base) {
                Ok(names) => plan.extend(names.into_iter().map(|n| (*d, n))),
                Err(e) => report.add(d.name, vec![e]),
            }
        }
        #[cfg(feature = "creds")]
        let (env, layer) = self.layered(&base, plan.iter().map(|(_, n)| n.as_str()));
        #[cfg(not(feature = "creds"))]
        let env = base;

        let mut tunes = std::mem::take(&mut self.tunes);
        for (d, name) in plan {
            if !(self.wants(d.name) || self.wants(&name)) {
                continue;
            }
            match d.skipped(&env, &name) {
                Ok(Some(skipped)) => {
                    out.skipped.push(skipped);
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    report.add(&name, vec![e]);
                    continue;
                }
            }
            let mut tune = |config: &mut dyn Any| {
                for t in tunes.iter_mut().filter(|t| t.platform == d.name) {
                    t.apply(config);
                }
            };
            match d.build(&env, &name, &token_store, &out, &mut tune) {
                Ok((connector, typed)) => out.register_typed(&name, connector, typed),
                Err(errors) => report.add(&name, errors),
            }
        }

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

    /// The environment over the credential store, when one is given, for the known platforms
    /// and these instances.
    #[cfg(feature = "creds")]
    fn layered<'a>(
        &self,
        base: &Env,
        instances: impl Iterator<Item = &'a str>,
    ) -> (Env, Option<conn_core::credentials::CredentialEnv>) {
        let Some(store) = &self.store else {
            return (base.clone(), None);
        };
        let mut platforms: Vec<String> = crate::layer::KNOWN_PLATFORMS
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
        platforms.extend(instances.map(str::to_owned));
        let stored = Arc::new(crate::layer::StoredCredentials(store.clone()));
        let layer = conn_core::credentials::CredentialEnv::new(base.clone(), stored, platforms);
        (Env::from_source(layer.clone()), Some(layer))
    }

    fn default_token_store(&self) -> Arc<dyn TokenStore> {
        #[cfg(feature = "creds")]
        if let Some(store) = &self.store {
            return Arc::new(store.clone());
        }
        Arc::new(MemoryTokenStore::new())
    }
}
