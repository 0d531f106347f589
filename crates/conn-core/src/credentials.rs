//! Where credentials come from: environment variables first, then a store.
//!
//! Naming rule: the variable for credential `name` of `platform` is
//! `PLATFORM_NAME`, upper-cased with every non-alphanumeric character turned into `_`
//! (`("douyin", "app_secret")` → `DOUYIN_APP_SECRET`).

use std::fmt;
use std::sync::Arc;

use crate::env::Env;
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
}
