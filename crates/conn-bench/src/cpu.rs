//! CPU time of this process (user + system, all threads), from `getrusage`.

use std::time::Duration;

/// User + system CPU time this process has used so far.
///
/// ```
/// let a = conn_bench::cpu::process_cpu();
/// let b = conn_bench::cpu::process_cpu();
/// assert!(b >= a);
/// ```
#[allow(unsafe_code)]
pub fn process_cpu() -> Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which points to
    // zeroed memory of that type; RUSAGE_SELF cannot fail with a valid pointer, and on failure
    // the zeroed value is read, which is a valid `rusage`.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}
