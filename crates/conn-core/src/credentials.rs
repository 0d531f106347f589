//! Where credentials come from: environment variables first, then a store.
//!
//! Naming rule: the variable for credential `name` of `platform` is
//! `PLATFORM_NAME`, upper-cased with every non-alphanumeric character turned into `_`
//! (`("douyin", "app_secret")` → `DOUYIN_APP_SECRET`); [`credential_for_var`] is its inverse.
//!
//! Platform configurations read variables by name through an [`Env`]. [`CredentialEnv`] is
//! the one way a store gets under them: an [`EnvSource`] that answers each credential variable
//! from a [`ChainedCredentials`] of the environment ([`EnvCredentials`]) and then the store
//! (any [`CredentialSource`]), and every other variable from the environment alone.

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::env::{Env, EnvSource};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where a credential value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialOrigin {
    /// An environment variable (named).
    Environment(String),
    /// The encrypted store.
    Store,
    /// Another source (named).
    Other(String),
}

impl fmt::Display for CredentialOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialOrigin::Environment(v) => write!(f, "environment ({v})"),
            CredentialOrigin::Store => f.write_str("store"),
            CredentialOrigin::Other(s) => f.write_str(s),
        }
    }
}

/// A credential value and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The value.
    pub value: Secret,
    /// Where it came from.
    pub origin: CredentialOrigin,
}

/// A source of credentials by (platform, name).
pub trait CredentialSource: Send + Sync + fmt::Debug {
    /// The credential, if this source has it.
    fn get(&self, platform: &str, name: &str) -> Result<Option<Credential>>;
}

/// The environment variable name for a credential.
///
/// ```
/// assert_eq!(conn_core::credentials::env_var_name("douyin", "app_secret"), "DOUYIN_APP_SECRET");
/// assert_eq!(conn_core::credentials::env_var_name("ths", "refresh-token"), "THS_REFRESH_TOKEN");
/// ```
pub fn env_var_name(platform: &str, name: &str) -> String {
    format!("{platform}_{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The credential `(platform, name)` a variable stands for, given the platforms to recognise
/// (lower case): the inverse of [`env_var_name`]. The longest matching platform prefix wins;
/// variables of no listed platform (`API_TIMEOUT`) stand for none.
///
/// ```
/// use conn_core::credentials::{credential_for_var, env_var_name};
/// let platforms = ["douyin", "ths"];
/// assert_eq!(
///     credential_for_var("DOUYIN_CLIENT_SECRET", &platforms),
///     Some(("douyin".to_owned(), "client_secret".to_owned()))
/// );
/// assert_eq!(credential_for_var("API_TIMEOUT", &platforms), None);
/// assert_eq!(credential_for_var("DOUYIN_", &platforms), None);
/// let var = env_var_name("ths", "refresh_token");
/// assert_eq!(credential_for_var(&var, &["ths"]), Some(("ths".into(), "refresh_token".into())));
/// ```
pub fn credential_for_var<S: AsRef<str>>(var: &str, platforms: &[S]) -> Option<(String, String)> {
    platforms
        .iter()
        .map(AsRef::as_ref)
        .filter_map(|p| {
            // `env_var_name(p, "")` is `P_`: the prefix with its separator.
            let prefix = env_var_name(p, "");
            let rest = var.strip_prefix(prefix.as_str())?;
            (!rest.is_empty()).then(|| (p.to_ascii_lowercase(), rest.to_ascii_lowercase()))
        })
        .max_by_key(|(p, _)| p.len())
}

/// Credentials from environment variables.
#[derive(Debug, Clone, Default)]
pub struct EnvCredentials {
    env: Env,
}

impl EnvCredentials {
    /// Over the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Over any [`Env`].
    pub fn with_env(env: Env) -> Self {
        Self { env }
    }
}

impl CredentialSource for EnvCredentials {
    fn get(&self, platform: &str, name: &str) -> Result<Option<Credential>> {
        let var = env_var_name(platform, name);
        Ok(self.env.secret(&var).map(|value| Credential {
            value,
            origin: CredentialOrigin::Environment(var),
        }))
    }
}

/// Sources tried in order; the first that has a value wins.
#[derive(Debug, Clone, Default)]
pub struct ChainedCredentials {
    sources: Vec<Arc<dyn CredentialSource>>,
}

impl ChainedCredentials {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a source after the existing ones.
    pub fn then(mut self, source: Arc<dyn CredentialSource>) -> Self {
        self.sources.push(source);
        self
    }
}

impl CredentialSource for ChainedCredentials {
    fn get(&self, platform: &str, name: &str) -> Result<Option<Credential>> {
        for s in &self.sources {
            if let Some(c) = s.get(platform, name)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

/// An [`EnvSource`] over an environment and a credential store: a variable that stands for a
/// credential of one of its platforms ([`credential_for_var`]) is answered by the chain
/// environment → store, every other variable by the environment alone. So `DOUYIN_CLIENT_SECRET`
/// set in the environment wins over the stored `("douyin", "client_secret")`, and an empty
/// variable counts as unset.
///
/// Reading cannot fail through [`EnvSource::var`]; a store failure (a store changed on disk
/// and now damaged, say) is logged, kept and reported by [`CredentialEnv::failures`], and the
/// variable reads as unset. `Debug` shows names, never values.
///
/// ```
/// use std::sync::Arc;
/// use conn_core::credentials::{Credential, CredentialEnv, CredentialOrigin, CredentialSource};
/// use conn_core::env::{Env, MapEnv};
/// use conn_core::secret::Secret;
///
/// #[derive(Debug)]
/// struct Stored;
/// impl CredentialSource for Stored {
///     fn get(&self, _: &str, name: &str) -> conn_core::Result<Option<Credential>> {
///         Ok((name == "client_secret").then(|| Credential {
///             value: Secret::new("stored-secret"),
///             origin: CredentialOrigin::Store,
///         }))
///     }
/// }
/// let base = Env::from_source(MapEnv::new().set("DOUYIN_CLIENT_KEY", "awx1"));
/// let env = Env::from_source(CredentialEnv::new(base, Arc::new(Stored), ["douyin"]));
/// assert_eq!(env.get("DOUYIN_CLIENT_SECRET").as_deref(), Some("stored-secret"));
/// assert_eq!(env.get("DOUYIN_CLIENT_KEY").as_deref(), Some("awx1"));
/// assert_eq!(env.get("API_TIMEOUT"), None);
/// ```
#[derive(Clone)]
pub struct CredentialEnv {
    base: Env,
    chain: ChainedCredentials,
    platforms: Vec<String>,
    failures: Arc<Mutex<Vec<(String, String)>>>,
}

impl fmt::Debug for CredentialEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialEnv")
            .field("base", &self.base)
            .field("chain", &self.chain)
            .field("platforms", &self.platforms)
            .finish_non_exhaustive()
    }
}

impl CredentialEnv {
    /// `base` first, then `store`, for the variables of `platforms` (lower case).
    pub fn new<I, S>(base: Env, store: Arc<dyn CredentialSource>, platforms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let chain = ChainedCredentials::new()
            .then(Arc::new(EnvCredentials::with_env(base.clone())))
            .then(store);
        Self {
            base,
            chain,
            platforms: platforms.into_iter().map(Into::into).collect(),
            failures: Arc::default(),
        }
    }

    /// Store reads that failed, as `(variable, what went wrong)` (never a value).
    pub fn failures(&self) -> Vec<(String, String)> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl EnvSource for CredentialEnv {
    fn var(&self, name: &str) -> Option<String> {
        let Some((platform, credential)) = credential_for_var(name, &self.platforms) else {
            return self.base.get(name);
        };
        match self.chain.get(&platform, &credential) {
            Ok(found) => found.map(|c| c.value.expose_secret().to_owned()),
            Err(e) => {
                tracing::warn!(variable = name, error = %e, "credential store read failed");
                self.failures
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((name.to_owned(), e.to_string()));
                // The environment's own value still counts when the store fails.
                self.base.get(name)
            }
        }
    }
}

/// A required credential; missing → a config error naming the variable to set.
pub fn require(source: &dyn CredentialSource, platform: &str, name: &str) -> Result<Secret> {
    match source.get(platform, name)? {
        Some(c) => Ok(c.value),
        None => {
            let var = env_var_name(platform, name);
            Err(Error::config_var(
                var.clone(),
                format!("{platform} credential `{name}` is missing; set {var} or store it with `connectors creds set {platform} {name}`"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MapEnv;

    #[test]
    fn env_first_then_next_source() {
        #[derive(Debug)]
        struct Fixed;
        impl CredentialSource for Fixed {
            fn get(&self, _: &str, name: &str) -> Result<Option<Credential>> {
                Ok((name == "app_id").then(|| Credential {
                    value: Secret::new("stored"),
                    origin: CredentialOrigin::Store,
                }))
            }
        }
        let env = Env::from_source(MapEnv::new().set("DOUYIN_APP_SECRET", "from-env"));
        let chain = ChainedCredentials::new()
            .then(Arc::new(EnvCredentials::with_env(env)))
            .then(Arc::new(Fixed));
        let s = chain.get("douyin", "app_secret").unwrap().unwrap();
        assert_eq!(s.value.expose_secret(), "from-env");
        assert_eq!(
            s.origin,
            CredentialOrigin::Environment("DOUYIN_APP_SECRET".into())
        );
        assert_eq!(
            chain.get("douyin", "app_id").unwrap().unwrap().origin,
            CredentialOrigin::Store
        );
        let err = require(&chain, "douyin", "access_token").unwrap_err();
        assert!(err.to_string().contains("DOUYIN_ACCESS_TOKEN"), "{err}");
    }

    #[derive(Debug)]
    struct Failing;
    impl CredentialSource for Failing {
        fn get(&self, _: &str, _: &str) -> Result<Option<Credential>> {
            Err(Error::store_msg("store damaged"))
        }
    }

    #[test]
    fn a_failing_store_is_reported_by_variable_and_the_environment_still_answers() {
        let base = Env::from_source(
            MapEnv::new()
                .set("THS_REFRESH_TOKEN", "from-env")
                .set("API_TIMEOUT", "5"),
        );
        let layered = CredentialEnv::new(base, Arc::new(Failing), ["ths", "douyin"]);
        let env = Env::from_source(layered.clone());
        // The environment is asked first: the store is never reached for a set variable.
        assert_eq!(env.get("THS_REFRESH_TOKEN").as_deref(), Some("from-env"));
        // A variable of no platform never reaches the store.
        assert_eq!(env.get("API_TIMEOUT").as_deref(), Some("5"));
        assert!(layered.failures().is_empty());
        // An unset credential reaches it, fails, and is reported by name.
        assert_eq!(env.get("DOUYIN_CLIENT_SECRET"), None);
        let failures = layered.failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].0, "DOUYIN_CLIENT_SECRET");
        assert!(failures[0].1.contains("store damaged"), "{failures:?}");
    }

    #[test]
    fn the_longest_platform_prefix_wins_and_names_round_trip() {
        let platforms = ["my", "mysite"];
        assert_eq!(
            credential_for_var("MYSITE_API_KEY", &platforms),
            Some(("mysite".into(), "api_key".into()))
        );
        assert_eq!(
            credential_for_var("MY_API_KEY", &platforms),
            Some(("my".into(), "api_key".into()))
        );
        assert_eq!(credential_for_var("MYSITEX_A", &platforms), None);
        for p in ["douyin", "ths", "my-blog"] {
            let var = env_var_name(p, "client_secret");
            assert_eq!(
                credential_for_var(&var, &[p]),
                Some((p.to_owned(), "client_secret".to_owned())),
                "{var}"
            );
        }
    }
}
