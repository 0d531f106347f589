//! Environment first, then the encrypted store: the variables every platform reads, looked up
//! in the process (or given) environment and, when unset there, in a
//! [`CredentialStore`](conn_creds::CredentialStore).
//!
//! ## Naming rule
//!
//! A variable `PLATFORM_NAME` is the stored credential `(platform, name)`, as
//! [`conn_core::credentials::env_var_name`] builds it: `DOUYIN_CLIENT_SECRET` is the record
//! `("douyin", "client_secret")`, `THS_REFRESH_TOKEN` is `("ths", "refresh_token")`,
//! `XIAOHONGSHU_APP_SECRET` is `("xiaohongshu", "app_secret")`. Only variables that start with a
//! known platform prefix followed by `_` are looked up in the store ([`KNOWN_PLATFORMS`], plus
//! the names of custom content profiles); the variable is split at that first `_`, the platform
//! is the prefix in lower case and the name is the rest in lower case. So
//! `connectors creds set douyin client_secret` and `DOUYIN_CLIENT_SECRET=…` configure the same
//! thing, and the variable wins when both are set (an empty variable counts as unset).
//!
//! Store platforms are lower-case letters and digits (conn-creds' rule), so a custom content
//! profile whose name holds `-` or `_` (`my-blog` → `MY_BLOG_*`) can only be configured through
//! variables. `API_*` variables (retry, timeouts, the store's own key) are never looked up in
//! the store.

/// The platforms whose variables may come from the store (custom content profiles are added
/// at run time).
pub const KNOWN_PLATFORMS: &[&str] = &["douyin", "ths", "erp", "xiaohongshu", "zhihu", "toutiao"];

/// The stored credential `(platform, name)` a variable stands for, given the platform
/// prefixes to recognise (lower case, as stored). The longest matching prefix wins.
///
/// ```
/// use connectors::layer::{store_key_for_var, KNOWN_PLATFORMS};
/// assert_eq!(
///     store_key_for_var("DOUYIN_CLIENT_SECRET", KNOWN_PLATFORMS),
///     Some(("douyin".to_owned(), "client_secret".to_owned()))
/// );
/// assert_eq!(store_key_for_var("API_TIMEOUT", KNOWN_PLATFORMS), None);
/// assert_eq!(store_key_for_var("DOUYIN_", KNOWN_PLATFORMS), None);
/// // It is the inverse of conn_core's naming rule.
/// let var = conn_core::credentials::env_var_name("ths", "refresh_token");
/// assert_eq!(store_key_for_var(&var, &["ths"]), Some(("ths".into(), "refresh_token".into())));
/// ```
pub fn store_key_for_var<S: AsRef<str>>(var: &str, platforms: &[S]) -> Option<(String, String)> {
    platforms
        .iter()
        .map(AsRef::as_ref)
        .filter_map(|p| {
            let prefix = conn_core::credentials::env_var_name(p, "");
            // `env_var_name(p, "")` is `P_`: the prefix with its separator.
            let rest = var.strip_prefix(prefix.as_str())?;
            (!rest.is_empty()).then(|| (p.to_ascii_lowercase(), rest.to_ascii_lowercase()))
        })
        .max_by_key(|(p, _)| p.len())
}

#[cfg(feature = "creds")]
pub use store_env::StoreEnv;

#[cfg(feature = "creds")]
mod store_env {
    use std::fmt;
    use std::sync::{Arc, Mutex};

    use conn_core::env::{Env, EnvSource};
    use conn_creds::CredentialStore;

    use super::store_key_for_var;

    /// An [`EnvSource`] that answers from a base environment first and from a credential store
    /// second, by the [naming rule](super). Reading the store cannot fail through
    /// [`EnvSource::var`]; failures (a store changed on disk and now damaged, say) are kept and
    /// reported by [`StoreEnv::failures`]. `Debug` shows names, never values.
    #[derive(Clone)]
    pub struct StoreEnv {
        base: Env,
        store: CredentialStore,
        platforms: Vec<String>,
        failures: Arc<Mutex<Vec<(String, String)>>>,
    }

    impl fmt::Debug for StoreEnv {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("StoreEnv")
                .field("base", &self.base)
                .field("store", &self.store.dir())
                .field("platforms", &self.platforms)
                .finish_non_exhaustive()
        }
    }

    impl StoreEnv {
        /// Layers `store` under `base` for variables of `platforms`.
        pub fn new<I, S>(base: Env, store: CredentialStore, platforms: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            Self {
                base,
                store,
                platforms: platforms.into_iter().map(Into::into).collect(),
                failures: Arc::default(),
            }
        }

        /// Store reads that failed, as `(variable, what went wrong)` (never a value).
        pub fn failures(&self) -> Vec<(String, String)> {
            self.failures
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        }

        fn stored(&self, name: &str) -> Option<String> {
            let (platform, cred) = store_key_for_var(name, &self.platforms)?;
            // Names the store cannot hold (a profile `my-blog`) are simply not stored.
            if conn_creds::names::check_platform(&platform).is_err()
                || conn_creds::names::check_name(&cred).is_err()
            {
                return None;
            }
            match self.store.get_stored(&platform, &cred) {
                Ok(v) => v.map(|s| s.expose_secret().to_owned()),
                Err(e) => {
                    tracing::warn!(variable = name, error = %e, "credential store read failed");
                    self.failures
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((name.to_owned(), e.to_string()));
                    None
                }
            }
        }
    }

    impl EnvSource for StoreEnv {
        fn var(&self, name: &str) -> Option<String> {
            // `Env::get` treats an empty value as unset: the store answers then.
            self.base.get(name).or_else(|| self.stored(name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_round_trips() {
        let platforms = ["my", "mysite"];
        assert_eq!(
            store_key_for_var("MYSITE_API_KEY", &platforms),
            Some(("mysite".into(), "api_key".into()))
        );
        assert_eq!(
            store_key_for_var("MY_API_KEY", &platforms),
            Some(("my".into(), "api_key".into()))
        );
        for p in KNOWN_PLATFORMS {
            for n in ["client_secret", "refresh_token", "app_id"] {
                let var = conn_core::credentials::env_var_name(p, n);
                assert_eq!(
                    store_key_for_var(&var, KNOWN_PLATFORMS),
                    Some(((*p).to_owned(), n.to_owned())),
                    "{var}"
                );
            }
        }
        assert_eq!(store_key_for_var("DOUYINX_A", KNOWN_PLATFORMS), None);
        assert_eq!(
            store_key_for_var("API_CREDENTIAL_ENCRYPTION_KEY", KNOWN_PLATFORMS),
            None
        );
    }
}
