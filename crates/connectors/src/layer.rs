//! Environment first, then the encrypted store: the variables every platform reads, looked up
//! in the process (or given) environment and, when unset there, in a
//! [`CredentialStore`](conn_creds::CredentialStore).
//!
//! ## Naming rule
//!
//! A variable `PLATFORM_NAME` is the stored credential `(platform, name)`, as
//! [`conn_core::credentials::env_var_name`] builds it (and
//! [`conn_core::credentials::credential_for_var`] reads it back): `DOUYIN_CLIENT_SECRET` is the record
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
//!
//! The layering itself is conn-core's [`CredentialEnv`](conn_core::credentials::CredentialEnv)
//! (the environment, then a [`CredentialSource`](conn_core::credentials::CredentialSource));
//! this module gives it the store as that source ([`StoredCredentials`]).

/// The platforms whose variables may come from the store (custom content profiles are added
/// at run time).
pub const KNOWN_PLATFORMS: &[&str] = &["douyin", "ths", "erp", "xiaohongshu", "zhihu", "toutiao"];

#[cfg(feature = "creds")]
#[cfg_attr(docsrs, doc(cfg(feature = "creds")))]
pub use stored::StoredCredentials;

#[cfg(feature = "creds")]
mod stored {
    use conn_core::credentials::{Credential, CredentialOrigin, CredentialSource};
    use conn_creds::CredentialStore;

    /// The values kept in a [`CredentialStore`], as a
    /// [`CredentialSource`] that never reads the environment.
    ///
    /// The store's own `CredentialSource` answers environment first from the environment the
    /// store was opened with; under [`CredentialEnv`](conn_core::credentials::CredentialEnv)
    /// the environment is the builder's, which may be another one (a test's map, a CLI's
    /// overrides), so this reads the stored values only. Names the store cannot hold (a profile
    /// `my-blog`) are simply not stored.
    #[derive(Debug, Clone)]
    pub struct StoredCredentials(pub CredentialStore);

    impl CredentialSource for StoredCredentials {
        fn get(&self, platform: &str, name: &str) -> conn_core::Result<Option<Credential>> {
            if conn_creds::names::check_platform(platform).is_err()
                || conn_creds::names::check_name(name).is_err()
            {
                return Ok(None);
            }
            let value = self.0.get_stored(platform, name)?;
            Ok(value.map(|value| Credential {
                value,
                origin: CredentialOrigin::Store,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conn_core::credentials::credential_for_var as store_key_for_var;

    #[test]
    fn every_known_platform_round_trips() {
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
