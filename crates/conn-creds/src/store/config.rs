//! How a [`super::CredentialStore`] is opened: directory, key, environment and reload policy.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conn_core::env::Env;

use crate::crypto::EncryptionKey;
use crate::{DIR_VAR, ENCRYPTION_KEY_VAR};

use super::DEFAULT_DIR;

/// When a handle checks whether another process changed the store before serving a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadCheck {
    /// `stat` the store file before every read.
    EveryRead,
    /// `stat` it at most once per interval (reads in between are served from the cache).
    Interval(Duration),
}

impl Default for ReloadCheck {
    fn default() -> Self {
        ReloadCheck::Interval(Duration::from_millis(100))
    }
}

#[derive(Clone)]
pub(super) enum KeySetting {
    /// `API_CREDENTIAL_ENCRYPTION_KEY` if set, else the key file (generated when missing).
    Auto,
    /// A key given by the caller.
    Explicit(EncryptionKey),
}

/// Where to keep the store and how to key it.
///
/// ```
/// use conn_creds::StoreConfig;
/// use conn_core::env::{Env, MapEnv};
///
/// let env = Env::from_source(MapEnv::new().set("API_CREDENTIALS_DIR", "/var/lib/app/creds"));
/// assert_eq!(StoreConfig::from_env_with(&env).dir(), std::path::Path::new("/var/lib/app/creds"));
/// assert_eq!(StoreConfig::from_env_with(&Env::from_source(MapEnv::new())).dir(), std::path::Path::new(".credentials"));
/// ```
#[derive(Clone)]
pub struct StoreConfig {
    pub(super) dir: PathBuf,
    pub(super) key: KeySetting,
    pub(super) env: Env,
    pub(super) reload: ReloadCheck,
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("dir", &self.dir)
            .field(
                "key",
                &match self.key {
                    KeySetting::Auto => "auto",
                    KeySetting::Explicit(_) => "explicit [redacted]",
                },
            )
            .field("reload", &self.reload)
            .finish_non_exhaustive()
    }
}

impl StoreConfig {
    /// A store in `dir`, reading variables (the key, credential overrides) from the process
    /// environment. `API_CREDENTIALS_DIR` is not consulted: the caller chose the directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            key: KeySetting::Auto,
            env: Env::process(),
            reload: ReloadCheck::default(),
        }
    }

    /// Settings from the process environment (see [`StoreConfig::from_env_with`]).
    pub fn from_env() -> Self {
        Self::from_env_with(&Env::process())
    }

    /// The directory from `API_CREDENTIALS_DIR` (default `.credentials`), variables from `env`.
    pub fn from_env_with(env: &Env) -> Self {
        let dir = env.get(DIR_VAR).unwrap_or_else(|| DEFAULT_DIR.to_owned());
        Self::new(dir).with_env(env.clone())
    }

    /// Sets the directory.
    pub fn with_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Reads variables (`API_CREDENTIAL_ENCRYPTION_KEY`, `DOUYIN_APP_SECRET`, …) from `env`.
    pub fn with_env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// Uses this key instead of the variable or the key file.
    pub fn with_key(mut self, key: EncryptionKey) -> Self {
        self.key = KeySetting::Explicit(key);
        self
    }

    /// Sets how often reads check for changes by other processes.
    pub fn with_reload_check(mut self, check: ReloadCheck) -> Self {
        self.reload = check;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Where the handle's key came from (for messages; never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `API_CREDENTIAL_ENCRYPTION_KEY`.
    Environment,
    /// The key file (generated on first use).
    File(PathBuf),
    /// Given by the caller ([`StoreConfig::with_key`] or [`CredentialStore::rotate_key`](super::CredentialStore::rotate_key)).
    Explicit,
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Environment => f.write_str(ENCRYPTION_KEY_VAR),
            KeyOrigin::File(p) => write!(f, "key file {}", p.display()),
            KeyOrigin::Explicit => f.write_str("the caller"),
        }
    }
}
