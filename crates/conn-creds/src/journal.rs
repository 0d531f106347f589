//! [`FileJournal`]: conn-core's operation [`Journal`] in a directory, durable before anything
//! is sent, atomic, and locked across processes with the store's discipline.
//!
//! Layout (directory 0700, files 0600):
//!
//! | file | what |
//! |---|---|
//! | `journal.v1` | every entry, one JSON document ([`journal_file`](crate::journal_file)), replaced atomically (temp file, fsync, rename, fsync of the directory) |
//! | `lock` | `flock` held while reading, changing and replacing `journal.v1` (short) |
//! | `keys/<sha256(key)[..32]>.lock` | `flock` held by the caller sending a key, from `begin` to `finish`; the kernel releases it when that process dies, even by `SIGKILL` |
//!
//! The default directory is `journal/` inside the credential store's directory
//! (`API_CREDENTIALS_DIR`, default `.credentials`), or `API_JOURNAL_DIR` when set
//! ([`FileJournal::from_env`]). It is a directory of its own so the store's clean-up of
//! crashed writers' temporary files and the journal's never touch each other's files.
//!
//! A damaged file ([`JournalError::Corrupt`]) or another program's ([`JournalError::Foreign`])
//! is never overwritten: every call fails naming the file until it is fixed or moved, and no
//! keyed create is sent meanwhile (without a durable record, sending is not safe).
//!
//! ```
//! use std::sync::Arc;
//! use conn_core::journal::{run_once, Entry, Journal, OperationKey, Reconciled, request_digest};
//! use conn_creds::FileJournal;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let journal: Arc<dyn Journal> = Arc::new(FileJournal::open(dir.path().join("journal"))?);
//! let key = OperationKey::new("campaign-42/video-1")?;
//! let entry = Entry::new(key.clone(), "demo", "create", "acct", request_digest(&serde_json::json!({"t": 1})));
//! let done = run_once(&journal, entry, |_| async { Ok(Reconciled::NotDone) },
//!     |_| async { Ok("item-1".to_owned()) }).await?;
//! assert_eq!(journal.get(&key).await?.unwrap().done_id(), Some("item-1"));
//! # let _ = done;
//! # Ok::<(), conn_core::Error>(())
//! # }).unwrap();
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use conn_core::env::Env;
use conn_core::journal::{
    admit, now_ms, Admission, Begin, Claim, Entry, Journal, JournalError, OperationKey, State,
};
use ring::digest::{digest, SHA256};

use crate::error::CredsError;
use crate::fsutil;
use crate::journal_file::Doc;
use crate::lock::FileLock;

/// The variable naming the journal directory.
pub const JOURNAL_DIR_VAR: &str = "API_JOURNAL_DIR";
/// The journal file's name.
pub const JOURNAL_FILE: &str = "journal.v1";
/// How long `begin` waits for another holder of a key by default (an upload may be long).
pub const DEFAULT_HOLD_WAIT: Duration = Duration::from_secs(600);
/// How often a waiting `begin` looks again.
const POLL: Duration = Duration::from_millis(20);

/// A [`Journal`] in a directory. Cheap to clone; clones and other processes opening the same
/// directory share it safely.
#[derive(Debug, Clone)]
pub struct FileJournal {
    dir: PathBuf,
    hold_wait: Duration,
}

fn backend(e: CredsError) -> JournalError {
    JournalError::backend(e.to_string(), e)
}

impl FileJournal {
    /// Opens (creating it 0700 if missing) the journal in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, JournalError> {
        let dir = dir.into();
        fsutil::ensure_private_dir(&dir).map_err(backend)?;
        fsutil::ensure_private_dir(&dir.join("keys")).map_err(backend)?;
        Ok(Self {
            dir,
            hold_wait: DEFAULT_HOLD_WAIT,
        })
    }

    /// The directory from `API_JOURNAL_DIR`, else `journal/` in the credential store's
    /// directory (`API_CREDENTIALS_DIR`, default `.credentials`).
    pub fn dir_from_env(env: &Env) -> PathBuf {
        match env.get(JOURNAL_DIR_VAR) {
            Some(d) if !d.trim().is_empty() => PathBuf::from(d),
            _ => PathBuf::from(
                env.get(crate::DIR_VAR)
                    .filter(|d| !d.trim().is_empty())
                    .unwrap_or_else(|| crate::store::DEFAULT_DIR.to_owned()),
            )
            .join("journal"),
        }
    }

    /// Opens the journal [`FileJournal::dir_from_env`] names.
    pub fn from_env(env: &Env) -> Result<Self, JournalError> {
        Self::open(Self::dir_from_env(env))
    }

    /// How long `begin` waits for another holder of the key before [`JournalError::Busy`].
    pub fn hold_wait(mut self, wait: Duration) -> Self {
        self.hold_wait = wait;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The journal file.
    pub fn file(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }

    fn key_lock(&self, key: &OperationKey) -> PathBuf {
        // Hashed: a key may hold `/` and `:`; 128 bits keep collisions (which would only make
        // two keys wait for each other) out of reach.
        let h = digest(&SHA256, key.as_str().as_bytes());
        let name: String = h.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.dir.join("keys").join(format!("{name}.lock"))
    }

    fn read(&self) -> Result<Doc, JournalError> {
        let path = self.file();
        match fsutil::read(&path).map_err(backend)? {
            None => Ok(Doc::default()),
            Some((bytes, _)) => Doc::parse(&path.display().to_string(), &bytes),
        }
    }

    /// Reads, changes and durably replaces the file under the journal lock.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Doc) -> Result<(T, bool), JournalError>,
    ) -> Result<T, JournalError> {
        let _lock = FileLock::acquire(&self.dir.join("lock")).map_err(backend)?;
        let mut doc = self.read()?;
        let (out, write) = change(&mut doc)?;
        if write {
            // Only this directory's temporaries, and only under the lock every writer holds.
            fsutil::remove_stale_temps(&self.dir);
            fsutil::write_atomic(&self.dir, JOURNAL_FILE, &doc.to_bytes()).map_err(backend)?;
        }
        Ok(out)
    }

    async fn hold(&self, key: &OperationKey) -> Result<FileLock, JournalError> {
        let path = self.key_lock(key);
        let deadline = tokio::time::Instant::now() + self.hold_wait;
        loop {
            if let Some(l) = FileLock::try_acquire(&path).map_err(backend)? {
                return Ok(l);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(JournalError::Busy {
                    key: key.to_string(),
                    waited: self.hold_wait,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

#[async_trait]
impl Journal for FileJournal {
    async fn begin(&self, entry: Entry) -> Result<Begin, JournalError> {
        let key = entry.key.clone();
        let hold = self.hold(&key).await?;
        let admission = self.update(|doc| {
            let a = admit(doc.get(&key), entry)?;
            let write = match &a {
                Admission::Fresh(e) | Admission::InFlight(e) => {
                    doc.put(e.clone());
                    true
                }
                Admission::Recorded(_) => false,
            };
            Ok((a, write))
        })?;
        Ok(match admission {
            Admission::Recorded(e) => Begin::Recorded(e),
            Admission::Fresh(_) => Begin::Fresh(Claim::new(key, Box::new(hold))),
            Admission::InFlight(e) => Begin::InFlight(e, Claim::new(key, Box::new(hold))),
        })
    }

    async fn note(&self, claim: &Claim, name: &str, value: &str) -> Result<Entry, JournalError> {
        self.update(|doc| {
            let mut e = doc
                .get(claim.key())
                .cloned()
                .ok_or_else(|| JournalError::Missing {
                    key: claim.key().to_string(),
                })?;
            e.detail.insert(name.to_owned(), value.to_owned());
            e.updated_at_ms = now_ms();
            doc.put(e.clone());
            Ok((e, true))
        })
    }

    async fn finish(&self, claim: Claim, state: State) -> Result<Entry, JournalError> {
        let out = self.update(|doc| {
            let mut e = doc
                .get(claim.key())
                .cloned()
                .ok_or_else(|| JournalError::Missing {
                    key: claim.key().to_string(),
                })?;
            e.state = state;
            e.updated_at_ms = now_ms();
            doc.put(e.clone());
            Ok((e, true))
        });
        // Released only after the result is durable, so a waiter never reads the old state.
        drop(claim);
        out
    }

    async fn get(&self, key: &OperationKey) -> Result<Option<Entry>, JournalError> {
        // Under the lock: `journal.v1` is only ever replaced by rename, so a plain read would
        // be safe too; the lock keeps a reader from racing a writer's stale-temp clean-up.
        let _lock = FileLock::acquire(&self.dir.join("lock")).map_err(backend)?;
        Ok(self.read()?.get(key).cloned())
    }

    async fn list(&self) -> Result<Vec<Entry>, JournalError> {
        let _lock = FileLock::acquire(&self.dir.join("lock")).map_err(backend)?;
        let mut all = self.read()?.entries;
        all.sort_by_key(|e| (e.created_at_ms, e.key.clone()));
        Ok(all)
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use conn_core::env::MapEnv;

    fn entry(k: &str, digest: &str) -> Entry {
        Entry::new(OperationKey::new(k).unwrap(), "p", "op", "a", digest.into())
    }

    #[tokio::test]
    async fn survives_reopening_and_keeps_every_state() {
        let t = tempfile::tempdir().unwrap();
        let j = FileJournal::open(t.path().join("j")).unwrap();
        let Begin::Fresh(c) = j.begin(entry("a", "d")).await.unwrap() else {
            panic!()
        };
        j.note(&c, "video_id", "v1").await.unwrap();
        j.finish(c, State::Done { id: "i1".into() }).await.unwrap();
        drop(j.begin(entry("b", "d")).await.unwrap());

        let j2 = FileJournal::open(t.path().join("j")).unwrap();
        let all = j2.list().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].detail("video_id"), Some("v1"));
        assert!(matches!(
            j2.begin(entry("a", "d")).await.unwrap(),
            Begin::Recorded(_)
        ));
        assert!(matches!(
            j2.begin(entry("b", "d")).await.unwrap(),
            Begin::InFlight(..)
        ));
        let err = j2.begin(entry("a", "other")).await.unwrap_err();
        assert!(err.is_conflict(), "{err}");
    }

    #[tokio::test]
    async fn two_handles_in_one_process_exclude_each_other() {
        let t = tempfile::tempdir().unwrap();
        let a = FileJournal::open(t.path()).unwrap();
        let b = FileJournal::open(t.path())
            .unwrap()
            .hold_wait(Duration::from_millis(100));
        let Begin::Fresh(c) = a.begin(entry("k", "d")).await.unwrap() else {
            panic!()
        };
        assert!(matches!(
            b.begin(entry("k", "d")).await.unwrap_err(),
            JournalError::Busy { .. }
        ));
        a.finish(c, State::Done { id: "x".into() }).await.unwrap();
        assert!(matches!(
            b.begin(entry("k", "d")).await.unwrap(),
            Begin::Recorded(_)
        ));
    }

    #[tokio::test]
    async fn a_damaged_or_foreign_file_is_refused_and_left_as_it_was() {
        let t = tempfile::tempdir().unwrap();
        let j = FileJournal::open(t.path()).unwrap();
        for bad in [
            &b"{\"format\":\"connectors-journal\",\"version\":1,\"entries\":[{"[..],
            b"PK\x03\x04zip",
        ] {
            std::fs::write(j.file(), bad).unwrap();
            let e = j.begin(entry("k", "d")).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    JournalError::Corrupt { .. } | JournalError::Foreign { .. }
                ),
                "{e}"
            );
            assert!(j.list().await.is_err());
            assert_eq!(std::fs::read(j.file()).unwrap(), bad, "never overwritten");
        }
    }

    #[test]
    fn the_directory_comes_from_the_environment() {
        let env =
            |pairs: &[(&str, &str)]| Env::from_source(pairs.iter().copied().collect::<MapEnv>());
        assert_eq!(
            FileJournal::dir_from_env(&env(&[])),
            PathBuf::from(".credentials/journal")
        );
        assert_eq!(
            FileJournal::dir_from_env(&env(&[("API_CREDENTIALS_DIR", "/s")])),
            PathBuf::from("/s/journal")
        );
        assert_eq!(
            FileJournal::dir_from_env(&env(&[
                ("API_CREDENTIALS_DIR", "/s"),
                ("API_JOURNAL_DIR", "/j")
            ])),
            PathBuf::from("/j")
        );
    }
}
