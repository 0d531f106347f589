//! [`CredentialStore`]: the handle, its configuration, reads, writes and key rotation.
//!
//! ## Files in the store directory
//!
//! | file | mode | holds |
//! |---|---|---|
//! | `store.v1` | 0600 | header + encrypted records ([`crate::format`]) |
//! | `key` | 0600 | the generated master key, base64 (absent when the key comes from the environment) |
//! | `key.next` | 0600 | only during [`CredentialStore::rotate_key`]: the new key, until the store is rewritten |
//! | `lock` | 0600 | `flock`ed by every writer, so writes from all processes are serialised |
//! | `locks/<platform>-<hash>.lock` | 0600 | one refresh lock per token account ([`conn_core::token::TokenStore::lock`]) |
//!
//! ## Consistency
//!
//! Every write takes the `lock` file, re-reads the store if another process changed it, applies
//! its change to that state and replaces the file atomically ([`crate::fsutil`]). Writers from
//! any number of processes therefore never lose each other's changes, and readers (who take no
//! lock) see the old or the new file, never a torn one.
//!
//! Reads are served from a decrypted in-memory cache. Before a read the handle checks whether the
//! file changed (a `stat`: device, inode, size, mtime, ctime) and reloads it if so; how often is
//! [`ReloadCheck`] (default: at most every 100 ms, so a cached [`CredentialStore::get`] costs well
//! under a microsecond; [`ReloadCheck::EveryRead`] checks on every read, about 1–2 µs more).
//! Writes and token loads always compare the whole file (SHA-256) with what was last read, so a
//! token refreshed by another process is seen as soon as its refresh lock is released.
//!
//! ## Damage is never overwritten
//!
//! When the file does not decrypt or authenticate, the handle keeps returning the error, and
//! writes are refused, until the file is fixed (restored from backup, or moved aside to start
//! over). A new handle on a damaged store fails to open with the same error.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use conn_core::credentials::{env_var_name, Credential, CredentialOrigin};
use conn_core::env::Env;
use conn_core::secret::Secret;
use conn_core::token::{StoredTokenSet, TokenKey, TokenSet};
use zeroize::Zeroizing;

use crate::crypto::{Cipher, EncryptionKey};
use crate::error::{CredsError, CredsResult};
use crate::format::{self, Entry, Kind, Records, Version};
use crate::fsutil::{self, FileStamp};
use crate::lock::FileLock;
use crate::names;
use crate::validate::{CredentialStatus, ValidationReport};
use crate::ENCRYPTION_KEY_VAR;

/// Default store directory, relative to the working directory (the original system's).
pub const DEFAULT_DIR: &str = ".credentials";
/// The store file.
pub const STORE_FILE: &str = "store.v1";
/// The generated key file.
pub const KEY_FILE: &str = "key";
/// The new key during a rotation.
pub const KEY_NEXT_FILE: &str = "key.next";
/// The writers' lock file.
pub const LOCK_FILE: &str = "lock";
/// Directory of per-account refresh lock files.
pub const LOCKS_DIR: &str = "locks";

mod cache;
mod config;
mod keyfile;
#[cfg(test)]
mod tests;

use cache::{check_token_key, refresh_lock_name};
use config::KeySetting;
use keyfile::{key_file_text, load_or_create_key_file};

pub use config::{KeyOrigin, ReloadCheck, StoreConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loaded {
    version: Version,
    digest: [u8; 32],
    stamp: FileStamp,
}

struct State {
    cipher: Arc<Cipher>,
    key_origin: KeyOrigin,
    records: Records,
    /// What was last read; `None` while the file does not exist.
    loaded: Option<Loaded>,
    /// The last load failed: every access retries it (and fails) until the file is fixed.
    broken: bool,
}

struct Inner {
    dir: PathBuf,
    store_path: PathBuf,
    env: Env,
    reload: ReloadCheck,
    epoch: Instant,
    /// Nanoseconds since `epoch` of the last freshness check.
    last_check: AtomicU64,
    state: RwLock<State>,
}

/// The encrypted credential and token store. Cheap to clone; clones share the cache.
///
/// ```
/// use conn_creds::{CredentialStore, StoreConfig, EncryptionKey};
/// use conn_core::credentials::CredentialOrigin;
/// use conn_core::env::{Env, MapEnv};
///
/// let dir = tempfile::tempdir().unwrap();
/// let env = Env::from_source(MapEnv::new().set("DOUYIN_APP_SECRET", "from-env"));
/// let store = CredentialStore::open(StoreConfig::new(dir.path()).with_env(env)).unwrap();
///
/// store.set("douyin", "app_id", "aw123").unwrap();
/// store.set("douyin", "app_secret", "stored").unwrap();
/// let id = store.get("douyin", "app_id").unwrap().unwrap();
/// assert_eq!((id.value.expose_secret(), id.origin), ("aw123", CredentialOrigin::Store));
/// // The environment wins over the store.
/// assert_eq!(store.get("douyin", "app_secret").unwrap().unwrap().value.expose_secret(), "from-env");
///
/// let report = store.validate("douyin", &["app_id", "app_secret", "access_token"]).unwrap();
/// assert_eq!(report.missing(), vec!["access_token"]);
/// assert_eq!(store.list("douyin").unwrap(), vec!["app_id", "app_secret"]);
/// ```
#[derive(Clone)]
pub struct CredentialStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.read_state();
        let names = |t: &format::Table| -> Vec<String> {
            t.iter()
                .flat_map(|(p, names)| names.keys().map(move |n| format!("{p}/{n}")))
                .collect()
        };
        f.debug_struct("CredentialStore")
            .field("dir", &self.inner.dir)
            .field("key", &st.key_origin)
            .field("credentials", &names(&st.records.creds))
            .field("tokens", &names(&st.records.tokens))
            .finish_non_exhaustive()
    }
}

impl CredentialStore {
    /// Opens (creating the directory, and the key file when no key is configured) the store
    /// described by `config`, and loads it.
    ///
    /// Fails with [`CredsError::WrongKey`] when the key does not open an existing store, with
    /// [`CredsError::Integrity`] when the store is damaged, with [`CredsError::KeyFormat`] when
    /// `API_CREDENTIAL_ENCRYPTION_KEY` is malformed, and with [`CredsError::NotWritable`] when
    /// the directory or key file must be created and cannot be.
    pub fn open(config: StoreConfig) -> CredsResult<Self> {
        if !cfg!(unix) {
            return Err(CredsError::Unsupported(
                "the store relies on Unix file modes and flock(2)",
            ));
        }
        let StoreConfig {
            dir,
            key,
            env,
            reload,
        } = config;
        fsutil::ensure_private_dir(&dir)?;
        let store_path = dir.join(STORE_FILE);
        let (key, key_origin) = match key {
            KeySetting::Explicit(k) => (k, KeyOrigin::Explicit),
            KeySetting::Auto => match env.get(ENCRYPTION_KEY_VAR) {
                Some(text) => (
                    EncryptionKey::parse(&text, ENCRYPTION_KEY_VAR)?,
                    KeyOrigin::Environment,
                ),
                None => (
                    load_or_create_key_file(&dir)?,
                    KeyOrigin::File(dir.join(KEY_FILE)),
                ),
            },
        };
        let store = Self {
            inner: Arc::new(Inner {
                dir,
                store_path,
                env,
                reload,
                epoch: Instant::now(),
                last_check: AtomicU64::new(0),
                state: RwLock::new(State {
                    cipher: Arc::new(Cipher::new(&key)?),
                    key_origin,
                    records: Records::default(),
                    loaded: None,
                    broken: false,
                }),
            }),
        };
        let first = {
            let mut st = store.write_state();
            store.sync(&mut st)
        };
        match first {
            // A rotation that crashed after rewriting the store leaves the new key in key.next.
            Err(CredsError::WrongKey { .. })
                if matches!(store.read_state().key_origin, KeyOrigin::File(_))
                    && store.inner.dir.join(KEY_NEXT_FILE).exists() =>
            {
                store.finish_interrupted_rotation()?;
            }
            Err(e) => return Err(e),
            Ok(()) => {
                let from_file = matches!(store.read_state().key_origin, KeyOrigin::File(_));
                if from_file && store.inner.dir.join(KEY_NEXT_FILE).exists() {
                    store.finish_interrupted_rotation()?;
                }
            }
        }
        store.mark_checked();
        Ok(store)
    }

    /// Opens the store configured by the process environment (`API_CREDENTIALS_DIR`,
    /// `API_CREDENTIAL_ENCRYPTION_KEY`).
    pub fn open_from_env() -> CredsResult<Self> {
        Self::open(StoreConfig::from_env_with(&Env::process()))
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Where the key in use came from.
    pub fn key_origin(&self) -> KeyOrigin {
        self.read_state().key_origin.clone()
    }

    // ----- credentials -------------------------------------------------------------------

    /// Stores a credential, replacing any previous value. Durable when it returns (fsync'd).
    /// An environment variable for the same credential still takes priority on reads.
    pub fn set(&self, platform: &str, name: &str, secret: impl Into<Secret>) -> CredsResult<()> {
        names::check_platform(platform)?;
        names::check_name(name)?;
        let secret = secret.into();
        names::check_value("value", secret.len())?;
        self.mutate(|records, cipher| {
            let entry = Entry::seal(cipher, Kind::Credential, platform, name, secret)?;
            records.insert(Kind::Credential, platform, name, entry);
            Ok(true)
        })?;
        tracing::debug!(platform, name, "credential stored");
        Ok(())
    }

    /// Stores several credentials in one atomic write (all or none), e.g. an import. Returns
    /// how many were written.
    pub fn set_many<'a, S: Into<Secret>>(
        &self,
        items: impl IntoIterator<Item = (&'a str, &'a str, S)>,
    ) -> CredsResult<usize> {
        let mut checked = Vec::new();
        for (platform, name, secret) in items {
            names::check_platform(platform)?;
            names::check_name(name)?;
            let secret = secret.into();
            names::check_value("value", secret.len())?;
            checked.push((platform, name, secret));
        }
        let count = checked.len();
        if count == 0 {
            return Ok(0);
        }
        self.mutate(|records, cipher| {
            for (platform, name, secret) in checked {
                let entry = Entry::seal(cipher, Kind::Credential, platform, name, secret)?;
                records.insert(Kind::Credential, platform, name, entry);
            }
            Ok(true)
        })?;
        tracing::debug!(count, "credentials stored");
        Ok(count)
    }

    /// A credential: the environment variable [`env_var_name`]`(platform, name)` if set, else the
    /// stored value, else `None`. The origin says which.
    pub fn get(&self, platform: &str, name: &str) -> CredsResult<Option<Credential>> {
        names::check_platform(platform)?;
        names::check_name(name)?;
        let var = env_var_name(platform, name);
        if let Some(value) = self.inner.env.secret(&var) {
            return Ok(Some(Credential {
                value,
                origin: CredentialOrigin::Environment(var),
            }));
        }
        Ok(self.get_stored(platform, name)?.map(|value| Credential {
            value,
            origin: CredentialOrigin::Store,
        }))
    }

    /// The stored value only, ignoring the environment.
    pub fn get_stored(&self, platform: &str, name: &str) -> CredsResult<Option<Secret>> {
        names::check_platform(platform)?;
        names::check_name(name)?;
        self.read(|r| {
            r.get(Kind::Credential, platform, name)
                .map(|e| Secret::clone(&e.value))
        })
    }

    /// Every stored credential of `platform`, each resolved environment-first (a variable
    /// overrides the stored value and the origin says so). Credentials that exist only as
    /// environment variables are not listed: the environment cannot be enumerated per platform;
    /// ask for them by name with [`CredentialStore::get`] or [`CredentialStore::validate`].
    pub fn get_all(&self, platform: &str) -> CredsResult<Vec<(String, Credential)>> {
        let names = self.list(platform)?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if let Some(c) = self.get(platform, &name)? {
                out.push((name, c));
            }
        }
        Ok(out)
    }

    /// Removes a stored credential; `true` when there was one. (A variable is not affected.)
    pub fn delete(&self, platform: &str, name: &str) -> CredsResult<bool> {
        names::check_platform(platform)?;
        names::check_name(name)?;
        self.mutate(|records, _| Ok(records.remove(Kind::Credential, platform, name)))
    }

    /// Names of the stored credentials of `platform`, sorted. Never values.
    pub fn list(&self, platform: &str) -> CredsResult<Vec<String>> {
        names::check_platform(platform)?;
        self.read(|r| {
            r.creds
                .get(platform)
                .map(|n| n.keys().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Platforms that have any stored credential or token, sorted.
    pub fn list_platforms(&self) -> CredsResult<Vec<String>> {
        self.read(|r| {
            let mut p: Vec<String> = r.creds.keys().chain(r.tokens.keys()).cloned().collect();
            p.sort();
            p.dedup();
            p
        })
    }

    /// Which of `required` are available for `platform`, and from where.
    pub fn validate(&self, platform: &str, required: &[&str]) -> CredsResult<ValidationReport> {
        names::check_platform(platform)?;
        let mut entries = Vec::with_capacity(required.len());
        for name in required {
            let origin = self.get(platform, name)?.map(|c| c.origin);
            entries.push(CredentialStatus {
                name: (*name).to_owned(),
                env_var: env_var_name(platform, name),
                origin,
            });
        }
        Ok(ValidationReport::new(platform, entries))
    }

    // ----- tokens ------------------------------------------------------------------------

    /// The stored token set of an account. Always compares the file with the cache first, so a
    /// token another process saved is seen at once.
    pub fn load_token(&self, key: &TokenKey) -> CredsResult<Option<TokenSet>> {
        check_token_key(key)?;
        let json = {
            let mut st = self.write_state();
            self.sync(&mut st)?;
            self.mark_checked();
            st.records
                .get(Kind::Token, &key.platform, &key.account)
                .map(|e| Zeroizing::new(e.value.expose_secret().to_owned()))
        };
        let Some(json) = json else { return Ok(None) };
        let stored: StoredTokenSet =
            serde_json::from_str(&json).map_err(|e| CredsError::TokenDecode {
                file: self.inner.store_path.clone(),
                platform: key.platform.clone(),
                account: key.account.clone(),
                detail: format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            })?;
        Ok(Some(TokenSet::from_stored(stored)))
    }

    /// Stores an account's token set (serialised with [`TokenSet::to_stored`], encrypted like
    /// any credential), replacing the previous one.
    pub fn save_token(&self, key: &TokenKey, tokens: &TokenSet) -> CredsResult<()> {
        check_token_key(key)?;
        let stored = tokens.to_stored();
        let json = Zeroizing::new(serde_json::to_string(&stored).map_err(|e| {
            CredsError::Task(format!("token set does not serialise: {:?}", e.classify()))
        })?);
        names::check_value("tokens", json.len())?;
        let secret = Secret::new(json.as_str());
        self.mutate(|records, cipher| {
            let entry = Entry::seal(cipher, Kind::Token, &key.platform, &key.account, secret)?;
            records.insert(Kind::Token, &key.platform, &key.account, entry);
            Ok(true)
        })?;
        tracing::debug!(account = %key, "token set stored");
        Ok(())
    }

    /// Removes an account's token set; `true` when there was one.
    pub fn delete_token(&self, key: &TokenKey) -> CredsResult<bool> {
        check_token_key(key)?;
        self.mutate(|records, _| Ok(records.remove(Kind::Token, &key.platform, &key.account)))
    }

    /// Accounts with stored tokens, sorted.
    pub fn token_keys(&self) -> CredsResult<Vec<TokenKey>> {
        self.read(|r| {
            r.tokens
                .iter()
                .flat_map(|(p, accounts)| accounts.keys().map(move |a| TokenKey::new(p, a)))
                .collect()
        })
    }

    /// Blocks until this process holds the refresh lock of `key` (see
    /// [`conn_core::token::TokenStore::lock`]; the async impl runs this on a blocking thread).
    pub fn lock_token(&self, key: &TokenKey) -> CredsResult<FileLock> {
        check_token_key(key)?;
        let dir = self.inner.dir.join(LOCKS_DIR);
        fsutil::ensure_private_dir(&dir)?;
        FileLock::acquire(&dir.join(refresh_lock_name(key)))
    }

    // ----- key ---------------------------------------------------------------------------

    /// Re-encrypts every record under `new_key`, atomically: readers and a crash see the store
    /// wholly under the old key or wholly under the new one. Afterwards the old key is refused.
    ///
    /// When the key came from the key file, the file is replaced too (the new key is written to
    /// `key.next` first and renamed over `key` after the store; an interrupted rotation is
    /// completed by the next open). When it came from `API_CREDENTIAL_ENCRYPTION_KEY`, set the
    /// variable to `new_key.to_base64()` before the next start.
    pub fn rotate_key(&self, new_key: &EncryptionKey) -> CredsResult<()> {
        let _lock = self.store_lock()?;
        let (records, generation, origin) = {
            let mut st = self.write_state();
            self.sync(&mut st)?;
            (
                st.records.clone(),
                st.loaded.map_or(0, |l| l.version.generation),
                st.key_origin.clone(),
            )
        };
        let cipher = Arc::new(Cipher::new(new_key)?);
        let mut next = Records::default();
        for (kind, table) in [
            (Kind::Credential, &records.creds),
            (Kind::Token, &records.tokens),
        ] {
            for (platform, names) in table {
                for (name, e) in names {
                    let entry =
                        Entry::seal(&cipher, kind, platform, name, Secret::clone(&e.value))?;
                    next.insert(kind, platform, name, entry);
                }
            }
        }
        let dir = &self.inner.dir;
        let from_file = matches!(origin, KeyOrigin::File(_));
        if from_file {
            fsutil::write_atomic(dir, KEY_NEXT_FILE, key_file_text(new_key).as_bytes())?;
        }
        self.commit(next, &cipher, generation + 1)?;
        if from_file {
            fsutil::rename_durable(dir, &dir.join(KEY_NEXT_FILE), &dir.join(KEY_FILE))?;
        } else {
            self.write_state().key_origin = KeyOrigin::Explicit;
        }
        tracing::info!(dir = %dir.display(), "credential store key rotated");
        Ok(())
    }
}
