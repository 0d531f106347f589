//! Advisory file locks (`flock(2)`), held until dropped.
//!
//! `flock` locks belong to an open file description, so two handles in one process (each
//! opening the lock file) exclude each other just as two processes do, and the kernel releases
//! a lock when its holder dies, even by `SIGKILL`: a crashed writer never wedges the store.
//! Lock files are never deleted, since removing a lock file while someone waits on it would let
//! two holders in.
//!
//! Locking is the one place this crate needs `unsafe` (the `libc::flock` call); the workspace
//! denies `unsafe_code`, so it is allowed for these two functions only.

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
        imp::lock(&file, true).map_err(|e| CredsError::io("lock", path, e))?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// Takes the lock if it is free; `None` when someone else holds it.
    pub fn try_acquire(path: &Path) -> CredsResult<Option<Self>> {
        let file = fsutil::open_private(path)?;
        match imp::lock(&file, false) {
            Ok(()) => Ok(Some(Self {
                file,
                path: path.to_owned(),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(CredsError::io("lock", path, e)),
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
        let _ = imp::unlock(&self.file);
    }
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::os::unix::io::AsRawFd;

    #[allow(unsafe_code)]
    pub(super) fn lock(file: &File, block: bool) -> io::Result<()> {
        let op = if block {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        loop {
            // SAFETY: `file` is an open descriptor owned by the caller for the whole call;
            // flock reads no memory of ours.
            let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
            if rc == 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    #[allow(unsafe_code)]
    pub(super) fn unlock(file: &File) -> io::Result<()> {
        // SAFETY: as above.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::fs::File;
    use std::io;

    pub(super) fn lock(_: &File, _: bool) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "advisory file locks (flock) are only implemented on Unix",
        ))
    }

    pub(super) fn unlock(_: &File) -> io::Result<()> {
        Ok(())
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
