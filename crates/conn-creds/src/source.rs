//! conn-core's [`CredentialSource`] and [`TokenStore`] over a [`CredentialStore`].
//!
//! Token operations do file I/O (and `save` an `fsync`), and the refresh lock may wait for
//! another process, so each runs on tokio's blocking pool (`spawn_blocking`), never on a runtime
//! worker.

use std::fmt;

use async_trait::async_trait;
use conn_core::credentials::{Credential, CredentialSource};
use conn_core::token::{TokenKey, TokenLock, TokenSet, TokenStore};

use crate::error::{CredsError, CredsResult};
use crate::lock::FileLock;
use crate::store::CredentialStore;

impl CredentialSource for CredentialStore {
    /// Environment first, then the store (see [`CredentialStore::get`]).
    fn get(&self, platform: &str, name: &str) -> conn_core::Result<Option<Credential>> {
        CredentialStore::get(self, platform, name).map_err(Into::into)
    }
}

/// A held per-account refresh lock (an `flock` on `locks/<platform>-<hash>.lock`).
pub struct RefreshLock {
    key: TokenKey,
    _lock: FileLock,
}

impl fmt::Debug for RefreshLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshLock")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl TokenLock for RefreshLock {}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CredsResult<T> + Send + 'static,
) -> conn_core::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CredsError::Task(e.to_string()))?
        .map_err(Into::into)
}

#[async_trait]
impl TokenStore for CredentialStore {
    async fn load(&self, key: &TokenKey) -> conn_core::Result<Option<TokenSet>> {
        let (store, key) = (self.clone(), key.clone());
        blocking(move || store.load_token(&key)).await
    }

    async fn save(&self, key: &TokenKey, tokens: &TokenSet) -> conn_core::Result<()> {
        let (store, key, tokens) = (self.clone(), key.clone(), tokens.clone());
        blocking(move || store.save_token(&key, &tokens)).await
    }

    async fn delete(&self, key: &TokenKey) -> conn_core::Result<()> {
        let (store, key) = (self.clone(), key.clone());
        blocking(move || store.delete_token(&key).map(|_| ())).await
    }

    /// Blocks (on a blocking thread) until the account's refresh lock is held: processes and
    /// handles sharing the store directory refresh one at a time and, having waited, adopt the
    /// token the previous holder stored.
    async fn lock(&self, key: &TokenKey) -> conn_core::Result<Option<Box<dyn TokenLock>>> {
        let (store, key) = (self.clone(), key.clone());
        let lock = blocking(move || {
            store
                .lock_token(&key)
                .map(|l| RefreshLock { key, _lock: l })
        })
        .await?;
        Ok(Some(Box::new(lock)))
    }
}
