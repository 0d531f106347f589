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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use conn_core::credentials::{env_var_name, Credential, CredentialOrigin};
use conn_core::env::Env;
use conn_core::secret::Secret;
use conn_core::token::{StoredTokenSet, TokenKey, TokenSet};
use ring::digest;
use zeroize::Zeroizing;

use crate::crypto::{Cipher, EncryptionKey};
use crate::error::{CredsError, CredsResult};
use crate::format::{self, Entry, Kind, Records, Version};
use crate::fsutil::{self, FileStamp};
use crate::lock::FileLock;
use crate::names;
use crate::validate::{CredentialStatus, ValidationReport};
use crate::{DIR_VAR, ENCRYPTION_KEY_VAR};

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
enum KeySetting {
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
    dir: PathBuf,
    key: KeySetting,
    env: Env,
    reload: ReloadCheck,
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
    /// Given by the caller ([`StoreConfig::with_key`] or [`CredentialStore::rotate_key`]).
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

    // ----- internals ---------------------------------------------------------------------

    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.inner.state.write().unwrap_or_else(|p| p.into_inner())
    }

    fn store_lock(&self) -> CredsResult<FileLock> {
        FileLock::acquire(&self.inner.dir.join(LOCK_FILE))
    }

    fn now_nanos(&self) -> u64 {
        u64::try_from(self.inner.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn mark_checked(&self) {
        self.inner
            .last_check
            .store(self.now_nanos(), Ordering::Relaxed);
    }

    fn check_due(&self) -> bool {
        match self.inner.reload {
            ReloadCheck::EveryRead => true,
            ReloadCheck::Interval(d) => {
                let last = self.inner.last_check.load(Ordering::Relaxed);
                let due = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
                self.now_nanos().saturating_sub(last) >= due
            }
        }
    }

    /// Runs `f` on the records, reloading first when the file changed (per [`ReloadCheck`]).
    fn read<T>(&self, f: impl FnOnce(&Records) -> T) -> CredsResult<T> {
        if self.check_due() {
            let stamp = fsutil::stamp(&self.inner.store_path)?;
            let current = {
                let st = self.read_state();
                !st.broken && st.loaded.map(|l| l.stamp) == stamp
            };
            if !current {
                let mut st = self.write_state();
                self.sync(&mut st)?;
            }
            self.mark_checked();
        }
        let st = self.read_state();
        if st.broken {
            drop(st);
            let mut st = self.write_state();
            self.sync(&mut st)?;
            return Ok(f(&st.records));
        }
        Ok(f(&st.records))
    }

    /// Brings the cache in line with the file: re-reads it and decrypts it when its content
    /// differs from what was last loaded. A failure marks the state broken.
    fn sync(&self, st: &mut State) -> CredsResult<()> {
        let path = &self.inner.store_path;
        let result = (|| -> CredsResult<()> {
            let Some((bytes, stamp)) = fsutil::read(path)? else {
                if st.loaded.is_some() {
                    tracing::warn!(file = %path.display(), "credential store file was removed by someone else; now empty");
                }
                st.records = Records::default();
                st.loaded = None;
                return Ok(());
            };
            let digest = sha256(&bytes);
            if let Some(l) = st.loaded.as_mut() {
                if !st.broken && l.digest == digest {
                    l.stamp = stamp;
                    return Ok(());
                }
            }
            let decoded = match format::decode(path, &bytes, &st.cipher) {
                Err(CredsError::WrongKey { file, .. }) => {
                    // Another process may have rotated the key file: follow it once.
                    match Self::rotated_file_key(st) {
                        Some(cipher) => {
                            let d = format::decode(path, &bytes, &cipher);
                            if d.is_ok() {
                                st.cipher = cipher;
                            }
                            d
                        }
                        None => Err(CredsError::WrongKey {
                            file,
                            key_origin: String::new(),
                        }),
                    }
                }
                other => other,
            };
            let (header, records) = decoded.map_err(|e| match e {
                CredsError::WrongKey { file, .. } => CredsError::WrongKey {
                    file,
                    key_origin: st.key_origin.to_string(),
                },
                other => other,
            })?;
            st.records = records;
            st.loaded = Some(Loaded {
                version: header.version,
                digest,
                stamp,
            });
            Ok(())
        })();
        st.broken = result.is_err();
        result
    }

    /// When the key came from the key file and the file now holds another key, its cipher.
    fn rotated_file_key(st: &State) -> Option<Arc<Cipher>> {
        let KeyOrigin::File(path) = &st.key_origin else {
            return None;
        };
        let cipher = Cipher::new(&load_key_file(path).ok()?).ok()?;
        (cipher.key_id() != st.cipher.key_id()).then(|| Arc::new(cipher))
    }

    /// Applies `f` to the current records under the writers' lock and, when it reports a
    /// change, writes the result atomically.
    fn mutate(
        &self,
        f: impl FnOnce(&mut Records, &Cipher) -> CredsResult<bool>,
    ) -> CredsResult<bool> {
        let _lock = self.store_lock()?;
        let (mut next, cipher, generation) = {
            let mut st = self.write_state();
            self.sync(&mut st)?;
            (
                st.records.clone(),
                Arc::clone(&st.cipher),
                st.loaded.map_or(0, |l| l.version.generation),
            )
        };
        if !f(&mut next, &cipher)? {
            return Ok(false);
        }
        self.commit(next, &cipher, generation + 1)?;
        Ok(true)
    }

    /// Encodes and writes `records` (caller holds the writers' lock) and installs them.
    fn commit(&self, records: Records, cipher: &Arc<Cipher>, generation: u64) -> CredsResult<()> {
        let (bytes, version) = format::encode(&records, generation, cipher)?;
        for stale in fsutil::remove_stale_temps(&self.inner.dir) {
            tracing::info!(file = %stale.display(), "removed a temporary file left by an interrupted write");
        }
        let stamp = fsutil::write_atomic(&self.inner.dir, STORE_FILE, &bytes)?;
        let mut st = self.write_state();
        st.records = records;
        st.cipher = Arc::clone(cipher);
        st.loaded = Some(Loaded {
            version,
            digest: sha256(&bytes),
            stamp,
        });
        st.broken = false;
        drop(st);
        self.mark_checked();
        Ok(())
    }

    /// Completes (or discards) a key rotation that was interrupted, under the writers' lock:
    /// if `key.next` opens the store, it becomes `key`; if `key` opens it, `key.next` is stale.
    fn finish_interrupted_rotation(&self) -> CredsResult<()> {
        let dir = &self.inner.dir;
        let _lock = self.store_lock()?;
        let next_path = dir.join(KEY_NEXT_FILE);
        let key_path = dir.join(KEY_FILE);
        // Another process may have finished the rotation while we waited for the lock.
        let current = load_key_file(&key_path)?;
        let mut st = self.write_state();
        st.cipher = Arc::new(Cipher::new(&current)?);
        if self.sync(&mut st).is_ok() {
            if next_path.exists() {
                std::fs::remove_file(&next_path)
                    .map_err(|e| CredsError::io("remove", &next_path, e))?;
                tracing::info!(file = %next_path.display(), "removed the new key of a rotation that did not reach the store");
            }
            return Ok(());
        }
        if next_path.exists() {
            let next = load_key_file(&next_path)?;
            let keep = Arc::clone(&st.cipher);
            st.cipher = Arc::new(Cipher::new(&next)?);
            if self.sync(&mut st).is_ok() {
                fsutil::rename_durable(dir, &next_path, &key_path)?;
                tracing::info!(dir = %dir.display(), "completed an interrupted key rotation");
                return Ok(());
            }
            st.cipher = keep;
        }
        // Neither key opens it: report the original failure.
        self.sync(&mut st)
    }
}

fn check_token_key(key: &TokenKey) -> CredsResult<()> {
    names::check_platform(&key.platform)?;
    names::check_account(&key.account)
}

/// `<platform>-<first 16 bytes of SHA-256(platform NUL account), hex>.lock`: accounts may hold
/// any characters, file names may not.
fn refresh_lock_name(key: &TokenKey) -> String {
    let mut input = Vec::with_capacity(key.platform.len() + key.account.len() + 1);
    input.extend_from_slice(key.platform.as_bytes());
    input.push(0);
    input.extend_from_slice(key.account.as_bytes());
    let d = digest::digest(&digest::SHA256, &input);
    let hex: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{}-{hex}.lock", key.platform)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

fn key_file_text(key: &EncryptionKey) -> Zeroizing<String> {
    let mut s = key.to_base64();
    s.push('\n');
    s
}

fn load_key_file(path: &Path) -> CredsResult<EncryptionKey> {
    fsutil::check_private_file(path)?;
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|e| CredsError::io("read", path, e))?);
    EncryptionKey::parse(&text, &format!("key file {}", path.display()))
}

/// The key file's key; when there is neither key file nor store, a new key from the CSPRNG
/// (created under the writers' lock so concurrent first opens agree on one key).
fn load_or_create_key_file(dir: &Path) -> CredsResult<EncryptionKey> {
    let key_path = dir.join(KEY_FILE);
    if key_path.exists() {
        return load_key_file(&key_path);
    }
    let _lock = FileLock::acquire(&dir.join(LOCK_FILE))?;
    if key_path.exists() {
        return load_key_file(&key_path);
    }
    let store = dir.join(STORE_FILE);
    if store.exists() {
        // A new key could never open the existing store: say what is missing instead.
        return Err(CredsError::KeyMissing {
            store,
            key_file: key_path,
        });
    }
    let key = EncryptionKey::generate()?;
    fsutil::write_atomic(dir, KEY_FILE, key_file_text(&key).as_bytes())?;
    tracing::info!(file = %key_path.display(), "generated a new credential encryption key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_are_file_safe_and_distinct() {
        let a = refresh_lock_name(&TokenKey::new("douyin", "_000a/b+c="));
        let b = refresh_lock_name(&TokenKey::new("douyin", "_000a/b+c"));
        assert!(a.starts_with("douyin-") && a.ends_with(".lock"), "{a}");
        assert!(!a.contains('/'));
        assert_ne!(a, b);
    }

    #[test]
    fn reload_check_default_is_an_interval() {
        assert_eq!(
            ReloadCheck::default(),
            ReloadCheck::Interval(Duration::from_millis(100))
        );
    }
}
