//! The answer to "does this platform have what it needs, and from where?".

use std::fmt;

use conn_core::credentials::CredentialOrigin;

/// One required credential and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialStatus {
    /// Credential name (`app_secret`).
    pub name: String,
    /// The variable that would override it (`DOUYIN_APP_SECRET`).
    pub env_var: String,
    /// Where it was found; `None` when missing.
    pub origin: Option<CredentialOrigin>,
}

/// The result of [`crate::CredentialStore::validate`]: names only, never values.
///
/// ```
/// # use conn_creds::{CredentialStore, StoreConfig};
/// # use conn_core::env::{Env, MapEnv};
/// # let dir = tempfile::tempdir().unwrap();
/// # let env = Env::from_source(MapEnv::new().set("THS_REFRESH_TOKEN", "rt"));
/// # let store = CredentialStore::open(StoreConfig::new(dir.path()).with_env(env)).unwrap();
/// store.set("ths", "app_key", "k").unwrap();
/// let report = store.validate("ths", &["app_key", "refresh_token", "app_secret"]).unwrap();
/// assert!(!report.is_complete());
/// assert_eq!(report.from_store(), vec!["app_key"]);
/// assert_eq!(report.from_environment(), vec!["refresh_token"]);
/// assert_eq!(report.missing(), vec!["app_secret"]);
/// let err = report.into_result().unwrap_err();
/// assert!(err.to_string().contains("THS_APP_SECRET"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationReport {
    platform: String,
    entries: Vec<CredentialStatus>,
}

impl ValidationReport {
    pub(crate) fn new(platform: &str, entries: Vec<CredentialStatus>) -> Self {
        Self {
            platform: platform.to_owned(),
            entries,
        }
    }

    /// The platform.
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// Every required credential, in the order asked.
    pub fn entries(&self) -> &[CredentialStatus] {
        &self.entries
    }

    /// True when nothing is missing.
    pub fn is_complete(&self) -> bool {
        self.entries.iter().all(|e| e.origin.is_some())
    }

    fn names_where(&self, f: impl Fn(&Option<CredentialOrigin>) -> bool) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| f(&e.origin))
            .map(|e| e.name.as_str())
            .collect()
    }

    /// Names found nowhere.
    pub fn missing(&self) -> Vec<&str> {
        self.names_where(Option::is_none)
    }

    /// Names supplied by environment variables.
    pub fn from_environment(&self) -> Vec<&str> {
        self.names_where(|o| matches!(o, Some(CredentialOrigin::Environment(_))))
    }

    /// Names supplied by the store.
    pub fn from_store(&self) -> Vec<&str> {
        self.names_where(|o| matches!(o, Some(CredentialOrigin::Store)))
    }

    /// `Ok` when complete; else a config error naming the first missing credential's variable
    /// and listing every missing one.
    pub fn into_result(self) -> conn_core::Result<Self> {
        let Some(first) = self.entries.iter().find(|e| e.origin.is_none()) else {
            return Ok(self);
        };
        let missing: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.origin.is_none())
            .map(|e| {
                format!(
                    "{} (set {} or `connectors creds set {} {}`)",
                    e.name, e.env_var, self.platform, e.name
                )
            })
            .collect();
        Err(conn_core::Error::config_var(
            first.env_var.clone(),
            format!(
                "{} credentials missing: {}",
                self.platform,
                missing.join(", ")
            ),
        ))
    }
}

impl fmt::Display for ValidationReport {
    /// One line per credential: `app_secret: environment (DOUYIN_APP_SECRET)`,
    /// `app_id: store`, `access_token: MISSING (set DOUYIN_ACCESS_TOKEN)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}:", self.platform)?;
        for e in &self.entries {
            match &e.origin {
                Some(o) => writeln!(f, "  {}: {o}", e.name)?,
                None => writeln!(f, "  {}: MISSING (set {})", e.name, e.env_var)?,
            }
        }
        Ok(())
    }
}
