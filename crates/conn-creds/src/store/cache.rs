//! The handle's decrypted cache: when it is reloaded from disk, and how a change is applied to
//! the latest file under the writers' lock and committed atomically.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLockReadGuard, RwLockWriteGuard};

use conn_core::token::TokenKey;
use ring::digest;

use crate::crypto::Cipher;
use crate::error::{CredsError, CredsResult};
use crate::format::{self, Records};
use crate::fsutil;
use crate::lock::FileLock;
use crate::names;

use super::keyfile::load_key_file;
use super::{
    CredentialStore, KeyOrigin, Loaded, ReloadCheck, State, KEY_FILE, KEY_NEXT_FILE, LOCK_FILE,
    STORE_FILE,
};

impl CredentialStore {
    pub(super) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.inner.state.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn store_lock(&self) -> CredsResult<FileLock> {
        FileLock::acquire(&self.inner.dir.join(LOCK_FILE))
    }

    pub(super) fn now_nanos(&self) -> u64 {
        u64::try_from(self.inner.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    pub(super) fn mark_checked(&self) {
        self.inner
            .last_check
            .store(self.now_nanos(), Ordering::Relaxed);
    }

    pub(super) fn check_due(&self) -> bool {
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
    pub(super) fn read<T>(&self, f: impl FnOnce(&Records) -> T) -> CredsResult<T> {
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
    pub(super) fn sync(&self, st: &mut State) -> CredsResult<()> {
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
    pub(super) fn rotated_file_key(st: &State) -> Option<Arc<Cipher>> {
        let KeyOrigin::File(path) = &st.key_origin else {
            return None;
        };
        let cipher = Cipher::new(&load_key_file(path).ok()?).ok()?;
        (cipher.key_id() != st.cipher.key_id()).then(|| Arc::new(cipher))
    }

    /// Applies `f` to the current records under the writers' lock and, when it reports a
    /// change, writes the result atomically.
    pub(super) fn mutate(
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
    pub(super) fn commit(
        &self,
        records: Records,
        cipher: &Arc<Cipher>,
        generation: u64,
    ) -> CredsResult<()> {
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
    pub(super) fn finish_interrupted_rotation(&self) -> CredsResult<()> {
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

pub(super) fn check_token_key(key: &TokenKey) -> CredsResult<()> {
    names::check_platform(&key.platform)?;
    names::check_account(&key.account)
}

/// `<platform>-<first 16 bytes of SHA-256(platform NUL account), hex>.lock`: accounts may hold
/// any characters, file names may not.
pub(super) fn refresh_lock_name(key: &TokenKey) -> String {
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

pub(super) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}
