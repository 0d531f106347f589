//! Test helpers for platform crates and users' tests (feature `testing`).
//!
//! - [`LogCapture`]: captures every tracing event and span field at TRACE level, so a test can
//!   assert that a whole flow logged no secret.
//! - [`mount_catch_all`]: a lowest-priority wiremock mock that answers any unmatched request
//!   with 599 and a body naming it, so a failing test says which request nothing expected.
//! - [`error_texts`] and [`assert_error_free_of`]: every way an error can be printed (`{}`,
//!   `{:?}`, `{:#?}`, and each of those for every error of its `source()` chain), so a canary
//!   test checks them all.
//! - [`fuzz`]: a seeded, deterministic property run of a given number of cases, for the
//!   no-panic and bounded-output tests of every decoder.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// Captured log output.
#[derive(Clone, Default, Debug)]
pub struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
}

/// Keeps the capturing subscriber installed for the current thread until dropped.
#[derive(Debug)]
pub struct LogCaptureGuard {
    _guard: tracing::subscriber::DefaultGuard,
}

impl LogCapture {
    /// Installs a TRACE-level subscriber for the current thread (use a current-thread runtime so
    /// every task logs into it) and returns the capture and its guard.
    pub fn start() -> (Self, LogCaptureGuard) {
        let cap = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(cap.clone())
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (cap, LogCaptureGuard { _guard: guard })
    }

    /// Everything captured so far.
    pub fn contents(&self) -> String {
        let b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Asserts that none of `secrets` appears in the captured output.
    ///
    /// # Panics
    /// When one does (it is a test helper).
    pub fn assert_no_secrets(&self, secrets: &[&str]) {
        let logs = self.contents();
        for s in secrets {
            assert!(!s.is_empty(), "empty canary secret");
            assert!(
                !logs.contains(s),
                "a secret ({} chars) appears in the logs",
                s.len()
            );
        }
    }
}

/// Writer handle for the subscriber.
#[derive(Debug)]
pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter(self.buf.clone())
    }
}

/// Mounts a lowest-priority mock answering every unmatched request with 599 and a body naming
/// the method and path.
pub async fn mount_catch_all(server: &wiremock::MockServer) {
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            wiremock::ResponseTemplate::new(599).set_body_string(format!(
                "no mock matched {} {}",
                req.method,
                req.url.path()
            ))
        })
        .with_priority(u8::MAX)
        .named("catch-all")
        .mount(server)
        .await;
}

/// Every text an error can be printed as: `{}`, `{:?}` and `{:#?}` of the error and of each
/// error in its `source()` chain (bounded at 64 levels).
pub fn error_texts(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut depth = 0;
    while let Some(e) = cur {
        out.push(format!("{e}"));
        out.push(format!("{e:?}"));
        out.push(format!("{e:#?}"));
        depth += 1;
        if depth >= 64 {
            break;
        }
        cur = e.source();
    }
    out
}

/// Asserts that no text of `err` ([`error_texts`]) contains any of `secrets`.
///
/// # Panics
/// When one does (it is a test helper); the message names the secret's length and the form
/// it appeared in, never the secret.
pub fn assert_error_free_of(err: &(dyn std::error::Error + 'static), secrets: &[&str]) {
    let forms = ["Display", "Debug", "pretty Debug"];
    for (i, text) in error_texts(err).iter().enumerate() {
        for s in secrets {
            assert!(!s.is_empty(), "empty canary secret");
            assert!(
                !text.contains(s),
                "a secret ({} chars) appears in the {} of error #{} of the source chain",
                s.len(),
                forms[i % 3],
                i / 3
            );
        }
    }
}

/// The fixed seed of [`fuzz`]: every run draws the same cases.
pub const FUZZ_SEED: [u8; 32] = *b"connectors-fuzz-seed-v1-00000000";

/// Runs `test` on `cases` values drawn from `strategy` with a fixed seed (deterministic, no
/// failure files), and returns how many cases ran, so a test can state it. Panics (it is a
/// test helper) with the shrunk failing input when a case fails or panics.
///
/// ```
/// use conn_core::testing::fuzz;
/// use proptest::prelude::*;
/// let ran = fuzz(1_000, any::<Vec<u8>>(), |bytes| {
///     let e = conn_core::error::excerpt(&bytes);
///     prop_assert!(e.len() <= 3 * conn_core::error::EXCERPT_LIMIT + 16);
///     Ok(())
/// });
/// assert_eq!(ran, 1_000);
/// ```
pub fn fuzz<S>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
) -> u32
where
    S: proptest::strategy::Strategy,
    S::Value: std::fmt::Debug,
{
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let config = Config {
        cases,
        failure_persistence: None,
        // Shrinking is bounded so a failure is reported in bounded time.
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &FUZZ_SEED));
    let ran = std::cell::Cell::new(0u32);
    let result = runner.run(&strategy, |v| {
        ran.set(ran.get() + 1);
        test(v)
    });
    if let Err(e) = result {
        panic!("property failed: {e}");
    }
    ran.get()
}
