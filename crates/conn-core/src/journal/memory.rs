//! A journal in memory: one process, for tests and for callers that only need the
//! "two tasks racing one key" guarantee.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::entry::{admit, now_ms, Admission, Entry, State};
use super::{Begin, Claim, Journal, JournalError, OperationKey};

/// How long [`MemoryJournal::begin`] waits for another holder by default.
pub const DEFAULT_HOLD_WAIT: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
struct Inner {
    entries: BTreeMap<OperationKey, Entry>,
    held: HashSet<OperationKey>,
}

#[derive(Debug, Default)]
struct Shared {
    inner: Mutex<Inner>,
    released: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave an entry half-written (every change is
        // one insert), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A [`Journal`] in memory. Clones share the entries.
///
/// ```
/// use conn_core::journal::{Begin, Entry, Journal, MemoryJournal, OperationKey, State};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let j = MemoryJournal::new();
/// let key = OperationKey::new("k-1").unwrap();
/// let Begin::Fresh(claim) = j.begin(Entry::new(key.clone(), "p", "op", "a", "d".into())).await.unwrap()
///     else { unreachable!() };
/// j.finish(claim, State::Done { id: "item".into() }).await.unwrap();
/// assert_eq!(j.get(&key).await.unwrap().unwrap().done_id(), Some("item"));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct MemoryJournal {
    shared: Arc<Shared>,
    hold_wait: Duration,
}

impl Default for MemoryJournal {
    fn default() -> Self {
        Self::new()
    }
}

struct MemHold {
    shared: Arc<Shared>,
    key: OperationKey,
}

impl Drop for MemHold {
    fn drop(&mut self) {
        self.shared.lock().held.remove(&self.key);
        self.shared.released.notify_waiters();
    }
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self {
            shared: Arc::default(),
            hold_wait: DEFAULT_HOLD_WAIT,
        }
    }

    /// How long `begin` waits for another holder of the key before [`JournalError::Busy`].
    pub fn hold_wait(mut self, wait: Duration) -> Self {
        self.hold_wait = wait;
        self
    }

    /// Drops every hold and puts `entries` in place: what a restarted process would find
    /// after a crash (tests).
    pub fn replace_entries(&self, entries: Vec<Entry>) {
        let mut g = self.shared.lock();
        g.entries = entries.into_iter().map(|e| (e.key.clone(), e)).collect();
    }

    fn claim(&self, key: OperationKey) -> Claim {
        Claim::new(
            key.clone(),
            Box::new(MemHold {
                shared: self.shared.clone(),
                key,
            }),
        )
    }
}

#[async_trait]
impl Journal for MemoryJournal {
    async fn begin(&self, entry: Entry) -> Result<Begin, JournalError> {
        let key = entry.key.clone();
        let deadline = tokio::time::Instant::now() + self.hold_wait;
        loop {
            // Register for the wake-up before looking, so a release between the look and the
            // wait is not missed.
            let released = self.shared.released.notified();
            {
                let mut g = self.shared.lock();
                if !g.held.contains(&key) {
                    let admission = admit(g.entries.get(&key), entry)?;
                    return Ok(match admission {
                        Admission::Recorded(e) => Begin::Recorded(e),
                        Admission::Fresh(e) => {
                            g.entries.insert(key.clone(), e);
                            g.held.insert(key.clone());
                            drop(g);
                            Begin::Fresh(self.claim(key))
                        }
                        Admission::InFlight(e) => {
                            g.entries.insert(key.clone(), e.clone());
                            g.held.insert(key.clone());
                            drop(g);
                            Begin::InFlight(e, self.claim(key))
                        }
                    });
                }
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return Err(JournalError::Busy {
                    key: key.to_string(),
                    waited: self.hold_wait,
                });
            }
        }
    }

    async fn note(&self, claim: &Claim, name: &str, value: &str) -> Result<Entry, JournalError> {
        let mut g = self.shared.lock();
        let e = g
            .entries
            .get_mut(claim.key())
            .ok_or_else(|| JournalError::Missing {
                key: claim.key().to_string(),
            })?;
        e.detail.insert(name.to_owned(), value.to_owned());
        e.updated_at_ms = now_ms();
        Ok(e.clone())
    }

    async fn finish(&self, claim: Claim, state: State) -> Result<Entry, JournalError> {
        let out = {
            let mut g = self.shared.lock();
            let e = g
                .entries
                .get_mut(claim.key())
                .ok_or_else(|| JournalError::Missing {
                    key: claim.key().to_string(),
                })?;
            e.state = state;
            e.updated_at_ms = now_ms();
            e.clone()
        };
        drop(claim);
        Ok(out)
    }

    async fn get(&self, key: &OperationKey) -> Result<Option<Entry>, JournalError> {
        Ok(self.shared.lock().entries.get(key).cloned())
    }

    async fn list(&self) -> Result<Vec<Entry>, JournalError> {
        let mut all: Vec<Entry> = self.shared.lock().entries.values().cloned().collect();
        all.sort_by_key(|e| (e.created_at_ms, e.key.clone()));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(k: &str) -> Entry {
        Entry::new(OperationKey::new(k).unwrap(), "p", "op", "a", "d".into())
    }

    #[tokio::test]
    async fn a_second_caller_waits_for_the_holder_then_sees_its_result() {
        let j = MemoryJournal::new();
        let Begin::Fresh(claim) = j.begin(entry("k")).await.unwrap() else {
            panic!("first caller must be fresh")
        };
        let j2 = j.clone();
        let waiter = tokio::spawn(async move { j2.begin(entry("k")).await });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        j.finish(claim, State::Done { id: "i".into() })
            .await
            .unwrap();
        let Begin::Recorded(e) = waiter.await.unwrap().unwrap() else {
            panic!("the waiter must see the result")
        };
        assert_eq!(e.done_id(), Some("i"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_holder_that_never_finishes_makes_others_busy_not_fresh() {
        let j = MemoryJournal::new().hold_wait(Duration::from_secs(5));
        let _held = j.begin(entry("k")).await.unwrap();
        let err = j.begin(entry("k")).await.unwrap_err();
        assert!(matches!(err, JournalError::Busy { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_dropped_claim_leaves_sending_and_the_next_caller_reconciles() {
        let j = MemoryJournal::new();
        drop(j.begin(entry("k")).await.unwrap());
        let Begin::InFlight(e, _claim) = j.begin(entry("k")).await.unwrap() else {
            panic!("must be in flight")
        };
        assert_eq!((e.state, e.attempts), (State::Sending, 2));
    }

    #[tokio::test]
    async fn many_racers_one_fresh() {
        let j = MemoryJournal::new();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let j = j.clone();
            tasks.push(tokio::spawn(async move {
                match j.begin(entry("race")).await.unwrap() {
                    Begin::Fresh(c) => {
                        tokio::task::yield_now().await;
                        j.finish(c, State::Done { id: "one".into() }).await.unwrap();
                        1
                    }
                    Begin::Recorded(_) => 0,
                    Begin::InFlight(..) => panic!("nobody crashed"),
                }
            }));
        }
        let mut fresh = 0;
        for t in tasks {
            fresh += t.await.unwrap();
        }
        assert_eq!(fresh, 1);
        assert_eq!(j.list().await.unwrap().len(), 1);
    }
}
