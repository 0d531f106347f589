//! Reading configuration from environment variables, with typed errors that name the variable.
//!
//! Every `from_env()` in the workspace goes through [`Env`], so tests can hand it a map instead
//! of mutating the process environment, and every variable it reads is declared in an
//! [`EnvVarDoc`] list from which `env.example` is generated.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where variables come from.
pub trait EnvSource: Send + Sync + fmt::Debug {
    /// The raw value of a variable, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed map of variables, for tests and for layering.
#[derive(Clone, Default)]
pub struct MapEnv(HashMap<String, String>);

impl fmt::Debug for MapEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: list names only.
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("MapEnv").field(&names).finish()
    }
}

impl MapEnv {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a variable.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for MapEnv {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl EnvSource for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Typed access to environment variables.
///
/// An empty value counts as unset (`FOO=` in a `.env` file means "not configured").
///
/// ```
/// use conn_core::env::{Env, MapEnv};
/// let env = Env::from_source(MapEnv::new().set("API_MAX_RETRIES", "five"));
/// let err = env.parse::<u32>("API_MAX_RETRIES", "a whole number").unwrap_err();
/// assert!(err.to_string().contains("API_MAX_RETRIES"));
/// ```
#[derive(Debug, Clone)]
pub struct Env {
    source: Arc<dyn EnvSource>,
}

impl Default for Env {
    fn default() -> Self {
        Self::process()
    }
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            source: Arc::new(ProcessEnv),
        }
    }

    /// Any source.
    pub fn from_source(source: impl EnvSource + 'static) -> Self {
        Self {
            source: Arc::new(source),
        }
    }

    /// A variable's value; empty counts as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.source
            .var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// True when the variable is set and non-empty.
    pub fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The first of several names that is set, with the name (for aliases such as
    /// `DOUYIN_CLIENT_KEY` / `DOUYIN_APP_ID`).
    pub fn first_of<'a>(&self, names: &[&'a str]) -> Option<(&'a str, String)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }

    /// A secret variable. Not trimmed beyond surrounding whitespace; never echoed in errors.
    pub fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret::new)
    }

    /// A required variable; missing → a config error naming it and saying what it is for.
    pub fn require(&self, name: &str, what: &str) -> Result<String> {
        self.get(name)
            .ok_or_else(|| Error::config_var(name, format!("not set; set it to {what}")))
    }

    /// A parsed variable; a bad value → a config error naming the variable and the expected form.
    /// The bad value is quoted, so do not use this for secrets.
    pub fn parse<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<T>()
                .map(Some)
                .map_err(|_| Error::config_var(name, format!("expected {expected}, got {v:?}"))),
        }
    }

    /// A duration in seconds (fractions allowed: `1.5`), non-negative and finite.
    pub fn seconds(&self, name: &str) -> Result<Option<Duration>> {
        match self.parse::<f64>(name, "a number of seconds such as 1.5")? {
            None => Ok(None),
            Some(s) if s.is_finite() && (0.0..1e9).contains(&s) => {
                Ok(Some(Duration::from_secs_f64(s)))
            }
            Some(s) => Err(Error::config_var(
                name,
                format!("expected a non-negative number of seconds, got {s}"),
            )),
        }
    }

    /// A boolean (`1/0/true/false/yes/no/on/off`).
    pub fn flag(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(Some(true)),
                "0" | "false" | "no" | "off" => Ok(Some(false)),
                _ => Err(Error::config_var(
                    name,
                    format!("expected true or false, got {v:?}"),
                )),
            },
        }
    }
}

/// One documented environment variable, for generating `env.example`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVarDoc {
    /// The variable.
    pub name: &'static str,
    /// Its default, as written in env.example (empty for none).
    pub default: &'static str,
    /// One line saying what it does.
    pub description: &'static str,
    /// Whether it holds a secret (env.example never shows a value for those).
    pub secret: bool,
}

impl EnvVarDoc {
    /// A plain variable.
    pub const fn new(name: &'static str, default: &'static str, description: &'static str) -> Self {
        Self {
            name,
            default,
            description,
            secret: false,
        }
    }

    /// A secret variable.
    pub const fn secret(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            default: "",
            description,
            secret: true,
        }
    }
}

/// The variables conn-core itself reads (retry and transport defaults).
pub const ENV_VARS: &[EnvVarDoc] = &[
    EnvVarDoc::new(
        "API_MAX_RETRIES",
        "3",
        "Retries after the first attempt (0 disables retrying).",
    ),
    EnvVarDoc::new(
        "API_RETRY_DELAY",
        "1.0",
        "Base retry delay in seconds (first delay; grows per API_RETRY_STRATEGY).",
    ),
    EnvVarDoc::new(
        "API_RETRY_STRATEGY",
        "exponential",
        "Retry delay growth: fixed | exponential | linear (full jitter, capped).",
    ),
    EnvVarDoc::new(
        "API_TIMEOUT",
        "30.0",
        "Per-attempt timeout in seconds (connect + request + response body).",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_counts_as_unset_and_aliases_resolve() {
        let env = Env::from_source(MapEnv::new().set("A", "  ").set("B", "x"));
        assert_eq!(env.get("A"), None);
        assert_eq!(env.first_of(&["A", "B"]), Some(("B", "x".to_owned())));
        assert!(env.require("A", "the app id").is_err());
    }

    #[test]
    fn seconds_and_flags() {
        let env = Env::from_source(
            MapEnv::new()
                .set("T", "1.5")
                .set("N", "-1")
                .set("F", "yes")
                .set("G", "maybe"),
        );
        assert_eq!(env.seconds("T").unwrap(), Some(Duration::from_millis(1500)));
        let e = env.seconds("N").unwrap_err();
        assert!(e.to_string().contains("in N"), "{e}");
        assert_eq!(env.flag("F").unwrap(), Some(true));
        assert!(env.flag("G").is_err());
    }

    #[test]
    fn debug_of_map_env_lists_names_only() {
        let env = MapEnv::new().set("DOUYIN_CLIENT_SECRET", "s3cr3t-value");
        let d = format!("{env:?}");
        assert!(d.contains("DOUYIN_CLIENT_SECRET"));
        assert!(!d.contains("s3cr3t-value"));
    }
}
