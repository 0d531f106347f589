//! Test helpers for platform crates and users' tests (feature `testing`).
//!
//! - [`LogCapture`]: captures every tracing event and span field at TRACE level, so a test can
//!   assert that a whole flow logged no secret.
//! - [`mount_catch_all`]: a lowest-priority wiremock mock that answers any unmatched request
//!   with 599 and a body naming it, so a failing test says which request nothing expected.

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
