//! Bounded cache of seen message ids.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};

/// A bounded, thread-safe set of seen message ids with FIFO eviction.
///
/// Every operation is O(1) (amortized). When full, inserting evicts the oldest id, so a replay
/// older than `capacity` messages is no longer recognised: size it to the sender's retry window
/// (Douyin retries up to 3 times within seconds). A capacity of 0 is treated as 1.
///
/// Ids are kept as a 64-bit SipHash under a key drawn at random per cache, not as strings: one
/// hash and no allocation per message keeps the check cheap next to the signature itself. Two
/// different ids collide with probability about `capacity / 2^64` (a false "replayed"), and a
/// sender cannot aim for a collision without the key.
///
/// The lock is a `std::sync::Mutex` held only for the few operations of a call, never across an
/// `.await`. A poisoned lock is recovered (the data is a plain cache and stays consistent).
///
/// ```
/// use conn_core::webhook::SeenIds;
///
/// let seen = SeenIds::new(2);
/// assert!(seen.insert("a"));
/// assert!(!seen.insert("a")); // a replay
/// seen.insert("b");
/// seen.insert("c"); // evicts "a"
/// assert_eq!(seen.len(), 2);
/// assert!(seen.insert("a"));
/// ```
pub struct SeenIds {
    capacity: usize,
    hasher: RandomState,
    inner: Mutex<Inner>,
}

/// The map's keys are already uniformly random 64-bit hashes: hashing them again is waste.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; fold anything else rather than panic.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap = HashMap<u64, u64, BuildHasherDefault<IdentityHasher>>;

/// `map` holds the live id hashes with the generation of their insertion; `order` holds
/// insertions in order. `remove` only touches `map`, leaving a stale entry in `order` (its
/// generation no longer matches), which is skipped on eviction and swept by `compact`: this
/// keeps `remove` O(1) without a linked list.
#[derive(Default)]
struct Inner {
    map: IdMap,
    order: VecDeque<(u64, u64)>,
    generation: u64,
}

impl Inner {
    fn is_live(&self, id: u64, generation: u64) -> bool {
        self.map.get(&id) == Some(&generation)
    }

    fn pop_oldest(&mut self) {
        while let Some((id, generation)) = self.order.pop_front() {
            if self.is_live(id, generation) {
                self.map.remove(&id);
                return;
            }
        }
    }

    /// Drops stale entries once they could make `order` outgrow twice the capacity; amortized
    /// O(1) because at least `capacity` removals happen between two sweeps.
    fn compact(&mut self, capacity: usize) {
        while let Some(&(id, generation)) = self.order.front() {
            if self.is_live(id, generation) {
                break;
            }
            self.order.pop_front();
        }
        if self.order.len() > capacity.saturating_mul(2).max(16) {
            let map = &self.map;
            self.order.retain(|(id, g)| map.get(id) == Some(g));
        }
    }
}

impl SeenIds {
    /// An empty cache holding at most `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            hasher: RandomState::new(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// Records `id`; true if it was not already present (a new message), false for a replay.
    pub fn insert(&self, id: &str) -> bool {
        let key = self.key(id);
        let mut inner = self.lock();
        if inner.map.contains_key(&key) {
            return false;
        }
        inner.generation = inner.generation.wrapping_add(1);
        let generation = inner.generation;
        inner.map.insert(key, generation);
        inner.order.push_back((key, generation));
        while inner.map.len() > self.capacity {
            inner.pop_oldest();
        }
        inner.compact(self.capacity);
        true
    }

    /// Forgets `id` (a no-op when absent), so a later message with it is accepted again.
    pub fn remove(&self, id: &str) {
        let key = self.key(id);
        let mut inner = self.lock();
        inner.map.remove(&key);
        inner.compact(self.capacity);
    }

    /// True when `id` is recorded.
    pub fn contains(&self, id: &str) -> bool {
        let key = self.key(id);
        self.lock().map.contains_key(&key)
    }

    /// Number of ids recorded.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when no id is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most ids kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// A seen-id cache that verifiers in several processes can share (a Redis one in conn-redis);
/// [`SeenIds`] is the in-process implementation. Used by [`WebhookVerifier::verify_shared`].
///
/// [`WebhookVerifier::verify_shared`]: super::WebhookVerifier::verify_shared
#[async_trait::async_trait]
pub trait ReplayCache: Send + Sync + fmt::Debug {
    /// Records `id`: `Ok(true)` the first time, `Ok(false)` for a replay. An error means the
    /// cache could not decide; the message must then be neither accepted nor recorded.
    async fn first_seen(&self, id: &str) -> crate::Result<bool>;
    /// Forgets `id`, so the sender's retry of a message whose handling failed is accepted.
    async fn forget(&self, id: &str) -> crate::Result<()>;
}

#[async_trait::async_trait]
impl ReplayCache for SeenIds {
    async fn first_seen(&self, id: &str) -> crate::Result<bool> {
        Ok(self.insert(id))
    }
    async fn forget(&self, id: &str) -> crate::Result<()> {
        self.remove(id);
        Ok(())
    }
}

impl fmt::Debug for SeenIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeenIds")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn insert_reports_new_and_replayed() {
        let seen = SeenIds::new(10);
        assert!(seen.is_empty());
        assert!(seen.insert("a"));
        assert!(!seen.insert("a"));
        assert!(seen.contains("a"));
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn bounded_with_oldest_evicted_first() {
        let seen = SeenIds::new(3);
        for i in 0..10 {
            assert!(seen.insert(&format!("id-{i}")));
        }
        assert_eq!(seen.len(), 3);
        for i in 0..7 {
            assert!(
                !seen.contains(&format!("id-{i}")),
                "id-{i} should be evicted"
            );
        }
        for i in 7..10 {
            assert!(seen.contains(&format!("id-{i}")));
        }
        // The oldest kept one is the next to go.
        assert!(seen.insert("new"));
        assert!(!seen.contains("id-7"));
        assert!(seen.contains("id-8"));
    }

    #[test]
    fn remove_then_reinsert_is_not_evicted_by_its_stale_entry() {
        let seen = SeenIds::new(3);
        seen.insert("a");
        seen.insert("b");
        seen.remove("a");
        assert_eq!(seen.len(), 1);
        assert!(seen.insert("a")); // newest now
        seen.insert("c");
        seen.insert("d"); // evicts "b" (the stale first "a" is skipped)
        assert!(!seen.contains("b"));
        assert!(seen.contains("a"));
        assert!(seen.contains("c"));
        assert!(seen.contains("d"));
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn stale_entries_do_not_grow_without_bound() {
        let seen = SeenIds::new(3);
        seen.insert("keep-1");
        seen.insert("keep-2");
        for i in 0..10_000 {
            let id = format!("x-{i}");
            assert!(seen.insert(&id));
            seen.remove(&id);
        }
        assert_eq!(seen.len(), 2);
        assert!(seen.lock().order.len() <= 16 + 1);
        assert!(seen.contains("keep-1") && seen.contains("keep-2"));
    }

    #[test]
    fn zero_capacity_still_catches_an_immediate_replay() {
        let seen = SeenIds::new(0);
        assert_eq!(seen.capacity(), 1);
        assert!(seen.insert("a"));
        assert!(!seen.insert("a"));
    }

    #[test]
    fn concurrent_inserts_of_one_id_accept_exactly_one() {
        let seen = Arc::new(SeenIds::new(100));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || seen.insert("same"))
            })
            .collect();
        let accepted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|new| *new)
            .count();
        assert_eq!(accepted, 1);
    }

    #[test]
    fn debug_shows_size_not_ids() {
        let seen = SeenIds::new(5);
        seen.insert("secret-ish-id");
        let d = format!("{seen:?}");
        assert_eq!(d, "SeenIds { capacity: 5, len: 1 }");
    }
}
