//! # conn-creds
//!
//! One place for every platform's credentials and tokens, encrypted at rest, environment
//! variables first. It replaces the original system's `APICredentialManager`:
//!
//! | original | here |
//! |---|---|
//! | `set_credential(platform, type, value)` | [`CredentialStore::set`] |
//! | `get_credential(platform, type)` | [`CredentialStore::get`] (value and [origin](conn_core::credentials::CredentialOrigin)) |
//! | `get_all_credentials(platform)` | [`CredentialStore::get_all`] |
//! | `delete_credential(platform, type)` | [`CredentialStore::delete`] |
//! | `validate_credential(platform, …)` | [`CredentialStore::validate`] → [`ValidationReport`] |
//! | `list_platforms()` | [`CredentialStore::list_platforms`] (and [`CredentialStore::list`] for names) |
//! | Fernet + `.credentials/` + key file | AES-256-GCM ([`ring`]) + `.credentials/store.v1` + `key`, see below |
//!
//! [`CredentialStore`] also implements conn-core's
//! [`CredentialSource`](conn_core::credentials::CredentialSource) (so connectors read their app
//! secrets through it) and [`TokenStore`](conn_core::token::TokenStore) (so a
//! [`TokenManager`](conn_core::token::TokenManager) persists tokens in it, one record per
//! [`TokenKey`](conn_core::token::TokenKey): several accounts per platform, e.g. one per Douyin
//! `open_id`), including a cross-process refresh lock.
//!
//! ## Naming rule and priority
//!
//! Credential `(platform, name)` is overridden by the environment variable
//! `PLATFORM_NAME` ([`conn_core::credentials::env_var_name`]): `("douyin", "app_secret")` →
//! `DOUYIN_APP_SECRET`, `("ths", "refresh_token")` → `THS_REFRESH_TOKEN`. A variable beats the
//! stored value, which beats nothing; [`CredentialStore::get`] says which one answered. Platforms
//! are lower-case letters and digits (no `_`), names lower-case letters, digits and `_`, so every
//! credential has exactly one variable ([`names`] has the full rule). Variables are read through
//! an injectable [`conn_core::env::Env`] ([`StoreConfig::with_env`]).
//!
//! ## Storage
//!
//! The directory is `.credentials/` by default, `API_CREDENTIALS_DIR` when set
//! ([`StoreConfig::from_env`]), or whatever [`StoreConfig::new`] is given. It is created with mode
//! 0700; every file in it is created 0600. The store is one file, `store.v1` ([`format`](mod@format)): a
//! versioned header (magic, format version, algorithm id, generation, record count, key id,
//! header tag) followed by length-prefixed records, each AES-256-GCM-sealed under a fresh random
//! nonce with its kind and (platform, name) as associated data, so a record moved to another
//! name fails to decrypt. One file makes every write, and key rotation, a single atomic rename.
//!
//! The key is `API_CREDENTIAL_ENCRYPTION_KEY` (32 bytes, base64; anything else is a config error
//! naming the variable and the expected form), or when that is empty a key generated from the
//! system CSPRNG into `key` (0600) and reused. [`CredentialStore::rotate_key`] re-encrypts
//! everything atomically; the old key is then refused with [`CredsError::WrongKey`].
//!
//! Writes take an advisory lock (`flock` on `lock`), re-read the store if another process
//! changed it, and replace the file atomically (temporary file, fsync, rename, fsync of the
//! directory): concurrent writers in any number of processes lose nothing, readers see the old
//! or the new state, and a crash leaves one of the two. See [`store`] for how a handle notices
//! other processes' writes.
//!
//! ## Failures
//!
//! [`CredsError`] names the file and, for damage, the record: a wrong key is
//! [`CredsError::WrongKey`] (never garbage plaintext); a flipped byte or swapped record is
//! [`CredsError::Integrity`]; a damaged store is never overwritten (writes are refused until it
//! is fixed); a read-only directory is [`CredsError::NotWritable`]. It converts into
//! [`conn_core::Error`] (store errors keep it as their source; key-format problems become config
//! errors naming `API_CREDENTIAL_ENCRYPTION_KEY`).
//!
//! Decrypted values live in zeroizing buffers ([`conn_core::secret::Secret`]), are never logged,
//! and `Debug` of the store lists names only.
//!
//! Unix only (file modes and `flock`); elsewhere [`CredentialStore::open`] returns
//! [`CredsError::Unsupported`].
//!
//! ```
//! use std::sync::Arc;
//! use conn_creds::{CredentialStore, StoreConfig};
//! use conn_core::token::{TokenKey, TokenSet, TokenStore};
//! use conn_core::secret::AccessToken;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let store = CredentialStore::open(StoreConfig::new(dir.path().join(".credentials"))).unwrap();
//! let key = TokenKey::new("douyin", "_000open_id");
//! store.save(&key, &TokenSet::new(AccessToken::new("act.1"))).await.unwrap();
//! let back = store.load(&key).await.unwrap().unwrap();
//! assert_eq!(back.access_token.expose_secret(), "act.1");
//! # });
//! ```

pub mod crypto;
pub mod error;
pub mod format;
pub mod fsutil;
pub mod journal;
pub mod journal_file;
pub mod lock;
pub mod names;
pub mod source;
pub mod store;
pub mod validate;

pub use crypto::EncryptionKey;
pub use error::{CredsError, CredsResult, RecordRef};
pub use journal::FileJournal;
pub use source::RefreshLock;
pub use store::{CredentialStore, KeyOrigin, ReloadCheck, StoreConfig};
pub use validate::{CredentialStatus, ValidationReport};

use conn_core::env::EnvVarDoc;

/// The variable holding the encryption key.
pub const ENCRYPTION_KEY_VAR: &str = "API_CREDENTIAL_ENCRYPTION_KEY";
/// The variable naming the store directory.
pub const DIR_VAR: &str = "API_CREDENTIALS_DIR";

/// The variables this crate reads (besides the per-credential `PLATFORM_NAME` overrides, which
/// each platform crate documents for its own credentials).
pub const ENV_VARS: &[EnvVarDoc] = &[
    EnvVarDoc::secret(
        ENCRYPTION_KEY_VAR,
        "Credential store key: 32 random bytes, base64 (`openssl rand -base64 32`); empty = generate one into <dir>/key.",
    ),
    EnvVarDoc::new(
        DIR_VAR,
        ".credentials",
        "Directory of the encrypted credential/token store (created 0700, files 0600).",
    ),
    EnvVarDoc::new(
        journal::JOURNAL_DIR_VAR,
        "",
        "Directory of the exactly-once operation journal; empty = <API_CREDENTIALS_DIR>/journal.",
    ),
];
