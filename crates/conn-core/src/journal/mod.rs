//! Exactly-once creates: an operation journal consulted before every keyed create.
//!
//! A create whose outcome is unknown ([`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown)),
//! a process killed between sending and recording, or two replicas running the same job can all
//! publish twice. A [`Journal`] closes that gap: the caller names the logical operation with an
//! [`OperationKey`], and [`run_once`] records `{key, platform, operation, account, request
//! digest, sending}` **durably before sending**, then the result. A later call with the key:
//!
//! | recorded | what happens |
//! |---|---|
//! | nothing | sent, result recorded |
//! | `done {id}` | the id is returned, nothing is sent |
//! | `sending` (a crash or an unknown outcome) | the platform is **reconciled** first: found → done; conclusively absent → sent; otherwise the error stays `OutcomeUnknown`, saying what was checked |
//! | `failed` (definite: the platform did not create it) | sent again |
//! | anything, for a different request | [`JournalError::Conflict`], nothing is sent |
//!
//! While one caller runs a key it **holds** it ([`Claim`]); a second caller for the same key —
//! in the same process, another process, or another host, depending on the journal — waits
//! for the first to finish and then sees its result, so two racing callers never both send. A
//! holder that dies releases its hold (the kernel drops a file lock, a lease expires), and the
//! next caller finds `sending` and reconciles.
//!
//! Reconciliation uses idempotent reads only (list recent items, query records), so tokens,
//! retries and the journal compose: the reads refresh tokens and retry as any read does.
//!
//! Journals: [`MemoryJournal`] (one process, tests), `conn_creds::FileJournal` (one machine,
//! durable, locked across processes), `conn_redis::RedisJournal` (many hosts).
//!
//! ```
//! use std::sync::Arc;
//! use conn_core::journal::{run_once, Entry, Journal, MemoryJournal, OperationKey, Reconciled, request_digest};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
//! let key = OperationKey::new("campaign-42/post-1")?;
//! let digest = request_digest(&serde_json::json!({"text": "hello"}));
//! let entry = || Entry::new(key.clone(), "demo", "create", "acct-1", digest.clone());
//!
//! let first = run_once(&journal, entry(), |_| async { Ok(Reconciled::NotDone) },
//!     |_attempt| async { Ok("item-1".to_owned()) }).await?;
//! // The same call again returns the recorded id and sends nothing.
//! let again = run_once(&journal, entry(), |_| async { Ok(Reconciled::NotDone) },
//!     |_attempt| async { panic!("not sent twice") }).await?;
//! assert_eq!((first.id.as_str(), again.id.as_str()), ("item-1", "item-1"));
//! # Ok::<(), conn_core::Error>(())
//! # }).unwrap();
//! ```

use std::any::Any;
use std::fmt;

use async_trait::async_trait;

mod entry;
mod error;
mod key;
mod memory;
mod run;

pub use entry::{admit, canonical_json, now_ms, request_digest, Admission, Entry, State};
pub use error::JournalError;
pub use key::{OperationKey, MAX_KEY_LEN};
pub use memory::MemoryJournal;
pub use run::{run_once, settle, Attempt, Completed, How, Reconciled};

/// The right to send for one key, held from [`Journal::begin`] until [`Journal::finish`] or
/// until dropped. Dropping it without finishing (an unknown outcome, a cancelled future)
/// leaves the entry `sending` and lets the next caller in, which then reconciles.
pub struct Claim {
    key: OperationKey,
    // Whatever keeps the key held (a lock file, a lease, a set membership); released on drop.
    hold: Box<dyn Any + Send + Sync>,
}

impl Claim {
    /// A claim on `key` kept by `hold` (a journal's own guard, released when dropped).
    pub fn new(key: OperationKey, hold: Box<dyn Any + Send + Sync>) -> Self {
        Self { key, hold }
    }

    /// The journal's guard, for the journal that made it (a lease's owner value to fence
    /// writes with); `None` for another journal's claim.
    pub fn hold<T: Any>(&self) -> Option<&T> {
        self.hold.downcast_ref::<T>()
    }

    /// The key held.
    pub fn key(&self) -> &OperationKey {
        &self.key
    }
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim").field("key", &self.key).finish()
    }
}

/// What [`Journal::begin`] found.
#[derive(Debug)]
pub enum Begin {
    /// Nothing usable recorded: the entry is now `sending` (durably); send.
    Fresh(Claim),
    /// A result is recorded: return it, send nothing.
    Recorded(Entry),
    /// An earlier create was interrupted (`sending`, its holder gone): reconcile first.
    InFlight(Entry, Claim),
}

/// A durable record of keyed creates.
///
/// Implementations apply [`admit`] to what they hold for the key, atomically with taking the
/// key's hold: of two callers racing one key, one gets [`Begin::Fresh`] (or `InFlight`) and the
/// other waits until the first finishes or drops its claim. A write returns only once it is
/// durable (for a file, after `fsync`).
#[async_trait]
pub trait Journal: Send + Sync + fmt::Debug {
    /// Takes the key's hold (waiting a bounded time for another holder) and admits `entry`.
    async fn begin(&self, entry: Entry) -> Result<Begin, JournalError>;

    /// Records a detail on a held key (a Douyin `video_id` before the create that uses it).
    async fn note(&self, claim: &Claim, name: &str, value: &str) -> Result<Entry, JournalError>;

    /// Records the result and releases the hold.
    async fn finish(&self, claim: Claim, state: State) -> Result<Entry, JournalError>;

    /// The entry for a key.
    async fn get(&self, key: &OperationKey) -> Result<Option<Entry>, JournalError>;

    /// Every entry, oldest first.
    async fn list(&self) -> Result<Vec<Entry>, JournalError>;
}
