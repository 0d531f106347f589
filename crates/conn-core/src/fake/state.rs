//! The state a fake's responders share, behind one lock that survives a panic.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A fake's state, shared by its handle and its responders (cloning shares it).
///
/// A fake's state is test scaffolding: when a responder panics while holding the lock (a
/// failed assertion inside a custom mock, say), the test that caused it reports the panic, and
/// the next request must still be answered from the state as it was rather than poison every
/// later call. So [`Shared::lock`] never fails.
///
/// ```
/// use conn_core::fake::Shared;
/// let state = Shared::new(0u32);
/// let other = state.clone();
/// *other.lock() += 1;
/// let _ = std::thread::spawn({
///     let s = state.clone();
///     move || {
///         let _guard = s.lock();
///         panic!("a responder panics while holding the lock");
///     }
/// })
/// .join();
/// assert_eq!(*state.lock(), 1, "still readable after the panic");
/// ```
pub struct Shared<T>(Arc<Mutex<T>>);

impl<T> Shared<T> {
    /// Shares `state`.
    pub fn new(state: T) -> Self {
        Self(Arc::new(Mutex::new(state)))
    }

    /// Locks the state, also after a panic of another holder.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: Default> Default for Shared<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `try_lock`: formatting while this thread holds the lock must not deadlock.
        match self.0.try_lock() {
            Ok(state) => f.debug_tuple("Shared").field(&*state).finish(),
            Err(std::sync::TryLockError::Poisoned(p)) => {
                f.debug_tuple("Shared").field(&*p.into_inner()).finish()
            }
            Err(std::sync::TryLockError::WouldBlock) => f.write_str("Shared(<locked>)"),
        }
    }
}
