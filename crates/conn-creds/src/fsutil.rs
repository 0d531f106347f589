//! File-system helpers: private directories and files, atomic replacement, change detection.
//!
//! An atomic replacement writes a temporary file in the same directory (created `0600` with
//! `O_EXCL`), `fsync`s it, renames it over the target and `fsync`s the directory, so a reader
//! opening the target sees the old or the new content, never a mix, and a crash at any point
//! leaves one of the two on disk (plus, at worst, a stale temporary file that the next writer
//! removes under the store lock).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{CredsError, CredsResult};

/// Mode of the store directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file in it.
pub const FILE_MODE: u32 = 0o600;

/// Prefix of temporary files (`.<target>.tmp.<pid>.<random>`).
const TMP_MARKER: &str = ".tmp.";

/// What `stat` says about a file: if any of it changed, the file was replaced or rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

#[cfg(unix)]
fn stamp_of(m: &fs::Metadata) -> FileStamp {
    use std::os::unix::fs::MetadataExt;
    FileStamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    }
}

#[cfg(not(unix))]
fn stamp_of(m: &fs::Metadata) -> FileStamp {
    let since = |t: io::Result<std::time::SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| (d.as_secs() as i64, i64::from(d.subsec_nanos())))
            .unwrap_or((0, 0))
    };
    FileStamp {
        dev: 0,
        ino: 0,
        size: m.len(),
        mtime: since(m.modified()),
        ctime: since(m.created()),
    }
}

/// The stamp of `path`, `None` when it does not exist.
pub(crate) fn stamp(path: &Path) -> CredsResult<Option<FileStamp>> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some(stamp_of(&m))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CredsError::io("stat", path, e)),
    }
}

/// Reads a whole file and the stamp of the very file read (`fstat` on the open descriptor, so
/// the two agree even if the path is replaced meanwhile). `None` when it does not exist.
pub(crate) fn read(path: &Path) -> CredsResult<Option<(Vec<u8>, FileStamp)>> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CredsError::io("open", path, e)),
    };
    let meta = f.metadata().map_err(|e| CredsError::io("stat", path, e))?;
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.read_to_end(&mut buf)
        .map_err(|e| CredsError::io("read", path, e))?;
    Ok(Some((buf, stamp_of(&meta))))
}

/// Creates `dir` (and parents) with mode 0700 if missing; warns about an existing directory that
/// others can read; refuses a path that is not a directory.
pub(crate) fn ensure_private_dir(dir: &Path) -> CredsResult<()> {
    match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(CredsError::NotADirectory {
            path: dir.to_owned(),
        }),
        Ok(m) => {
            // An existing directory is the user's choice (it may be shared); its files are
            // 0600 regardless, so warn rather than change modes we did not set.
            if mode_of(&m) & 0o077 != 0 {
                tracing::warn!(dir = %dir.display(), mode = format!("{:o}", mode_of(&m)), "credential directory is open to other users; `chmod 700` it");
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_dir(dir)?;
            set_mode(dir, DIR_MODE)
        }
        Err(e) => Err(CredsError::io("stat", dir, e)),
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> CredsResult<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| CredsError::io("create directory", dir, e))
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> CredsResult<()> {
    fs::create_dir_all(dir).map_err(|e| CredsError::io("create directory", dir, e))
}

#[cfg(unix)]
pub(crate) fn mode_of(m: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
pub(crate) fn mode_of(_: &fs::Metadata) -> u32 {
    0
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> CredsResult<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| CredsError::io("set permissions of", path, e))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> CredsResult<()> {
    Err(CredsError::Unsupported(
        "file modes 0700/0600 need a Unix file system",
    ))
}

/// Opens (creating if needed, mode 0600) a file for locking or appending.
pub(crate) fn open_private(path: &Path) -> CredsResult<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(FILE_MODE);
    }
    o.open(path).map_err(|e| CredsError::io("create", path, e))
}

/// Refuses a secret-bearing file that group or others can access.
pub(crate) fn check_private_file(path: &Path) -> CredsResult<()> {
    let m = fs::metadata(path).map_err(|e| CredsError::io("stat", path, e))?;
    let mode = mode_of(&m);
    if mode & 0o077 != 0 {
        return Err(CredsError::InsecurePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Atomically replaces `dir/name` with `bytes` (temp file, fsync, rename, fsync dir); returns
/// the new file's stamp. The caller holds the store lock.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> CredsResult<FileStamp> {
    let target = dir.join(name);
    let tmp = dir.join(format!(
        ".{name}{TMP_MARKER}{}.{:016x}",
        std::process::id(),
        rand_suffix()
    ));
    let result = write_tmp(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, &target).map_err(|e| CredsError::io("rename", &target, e)));
    if let Err(e) = result {
        // Best effort: the temp file holds only ciphertext, but leave nothing behind.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)?;
    let m = fs::metadata(&target).map_err(|e| CredsError::io("stat", &target, e))?;
    Ok(stamp_of(&m))
}

fn write_tmp(tmp: &Path, bytes: &[u8]) -> CredsResult<()> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(FILE_MODE);
    }
    let mut f = o.open(tmp).map_err(|e| CredsError::io("create", tmp, e))?;
    f.write_all(bytes)
        .map_err(|e| CredsError::io("write", tmp, e))?;
    f.sync_all().map_err(|e| CredsError::io("sync", tmp, e))
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> CredsResult<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| CredsError::io("sync", dir, e))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Renames within the store directory and makes it durable.
pub(crate) fn rename_durable(dir: &Path, from: &Path, to: &Path) -> CredsResult<()> {
    fs::rename(from, to).map_err(|e| CredsError::io("rename", to, e))?;
    sync_dir(dir)
}

/// Removes temporary files left by writers that crashed. Call only under the store lock (a live
/// writer always holds it while its temporary file exists).
pub(crate) fn remove_stale_temps(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(TMP_MARKER) {
            let path = entry.path();
            if fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}

fn rand_suffix() -> u64 {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 8];
    // A collision only makes `create_new` fail with a clear error; no need to propagate here.
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    u64::from_le_bytes(b)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn private_dir_and_atomic_write() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b/.credentials");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode_of(&fs::metadata(&dir).unwrap()), 0o700);
        let s1 = write_atomic(&dir, "f", b"one").unwrap();
        assert_eq!(mode_of(&fs::metadata(dir.join("f")).unwrap()), 0o600);
        let s2 = write_atomic(&dir, "f", b"two!").unwrap();
        assert_ne!(s1, s2);
        let (bytes, s3) = read(&dir.join("f")).unwrap().unwrap();
        assert_eq!(bytes, b"two!");
        assert_eq!(s3, s2);
        assert_eq!(stamp(&dir.join("f")).unwrap(), Some(s2));
        assert_eq!(stamp(&dir.join("missing")).unwrap(), None);

        fs::write(dir.join(".f.tmp.1.2"), b"x").unwrap();
        assert_eq!(remove_stale_temps(&dir).len(), 1);

        let file = t.path().join("plain");
        fs::write(&file, b"x").unwrap();
        assert!(matches!(
            ensure_private_dir(&file),
            Err(CredsError::NotADirectory { .. })
        ));
    }
}
