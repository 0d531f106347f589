//! The generated master key file (`<dir>/key`): reading it, and creating it on first open.

use std::path::Path;

use zeroize::Zeroizing;

use crate::crypto::EncryptionKey;
use crate::error::{CredsError, CredsResult};
use crate::fsutil;
use crate::lock::FileLock;

use super::{KEY_FILE, LOCK_FILE, STORE_FILE};

pub(super) fn key_file_text(key: &EncryptionKey) -> Zeroizing<String> {
    let mut s = key.to_base64();
    s.push('\n');
    s
}

pub(super) fn load_key_file(path: &Path) -> CredsResult<EncryptionKey> {
    fsutil::check_private_file(path)?;
    let text =
        Zeroizing::new(std::fs::read_to_string(path).map_err(|e| CredsError::io("read", path, e))?);
    EncryptionKey::parse(&text, &format!("key file {}", path.display()))
}

/// The key file's key; when there is neither key file nor store, a new key from the CSPRNG
/// (created under the writers' lock so concurrent first opens agree on one key).
pub(super) fn load_or_create_key_file(dir: &Path) -> CredsResult<EncryptionKey> {
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
