//! Advisory file locks (std's `File::lock`, which is `flock(2)` on Unix), held until dropped.
//!
//! `flock` locks belong to an open file description, so two handles in one process (each
//! opening the lock file) exclude each other just as two processes do, and the kernel releases
//! a lock when its holder dies, even by `SIGKILL`: a crashed writer never wedges the store.
//! Lock files are never deleted, since removing a lock file while someone waits on it would let
//! two holders in.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{CredsError, CredsResult};
use crate::fsutil;

/// An exclusive lock on a file; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Blocks until the exclusive lock on `path` (created 0600 if missing) is held.
    pub fn acquire(path: &Path) -> CredsResult<Self> {
        let file = fsutil::open_private(path)?;
        lock_blocking(&file).map_err(|e| CredsError::io("lock", path, e))?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// Takes the lock if it is free; `None` when someone else holds it.
    pub fn try_acquire(path: &Path) -> CredsResult<Option<Self>> {
        let file = fsutil::open_private(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self {
                file,
                path: path.to_owned(),
            })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(CredsError::io("lock", path, e)),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock anyway; unlocking first makes the release
        // independent of any descriptor duplicated elsewhere.
        let _ = self.file.unlock();
    }
}

/// Blocks until the exclusive lock is held, retrying when a signal interrupts the wait.
fn lock_blocking(file: &File) -> std::io::Result<()> {
    loop {
        match file.lock() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn excludes_other_descriptors_in_the_same_process() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        let held = FileLock::acquire(&p).unwrap();
        assert_eq!(held.path(), p);
        assert!(FileLock::try_acquire(&p).unwrap().is_none());
        drop(held);
        assert!(FileLock::try_acquire(&p).unwrap().is_some());
    }
}
