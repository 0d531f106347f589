//! The loopback HTTP server a fake answers on.
//!
//! [`FakeServer`] owns the server. Its one job beyond
//! `wiremock::MockServer` is how it goes away: dropping a `MockServer` blocks on an async lock
//! from inside `Drop`, and on a tokio worker whose cooperative budget a test has just spent
//! (awaiting a few hundred spawned calls, say) that lock's acquire answers "not yet, try again"
//! forever, so the test spins at full CPU and never ends. `FakeServer` drops the server on a
//! plain thread, where no budget applies, and waits for it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = conn_core::fake::FakeServer::start().await;
//! assert!(server.uri().starts_with("http://127.0.0.1:"));
//! drop(server); // returns promptly, on any runtime and budget
//! # }
//! ```

use std::fmt;
use std::ops::Deref;

use wiremock::MockServer;

/// A fake's HTTP server on 127.0.0.1; derefs to the `wiremock::MockServer` it wraps.
pub struct FakeServer(Option<MockServer>);

impl FakeServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        Self(Some(MockServer::start().await))
    }

    /// Wraps a server started some other way (`MockServer::builder()…start()`).
    pub fn new(server: MockServer) -> Self {
        Self(Some(server))
    }

    /// Mounts the answer of a [`Fault::Drop`](super::Fault::Drop): every request `take_drop`
    /// says yes to has its connection closed without a response. `take_drop` runs before the
    /// fake's own responders (priority 1) and is where a fake takes the pending fault from its
    /// [`Faults`](super::Faults) (and counts the request), so a request is dropped at most once
    /// per queued fault.
    pub async fn drop_connections_when<F>(&self, name: &str, take_drop: F)
    where
        F: Fn(&wiremock::Request) -> bool + Send + Sync + 'static,
    {
        let what = format!("{name}: connection dropped");
        wiremock::Mock::given(take_drop)
            .respond_with_err(move |_: &wiremock::Request| {
                std::io::Error::new(std::io::ErrorKind::ConnectionReset, what.clone())
            })
            .with_priority(1)
            .named(format!("{name}: dropped connections"))
            .mount(self)
            .await;
    }
}

impl Deref for FakeServer {
    type Target = MockServer;

    fn deref(&self) -> &MockServer {
        match &self.0 {
            Some(server) => server,
            // Only `drop` takes the server out, and nothing derefs after that.
            None => unreachable!("FakeServer used after drop"),
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let Some(server) = self.0.take() else { return };
        // A plain thread has no tokio context, hence no cooperative budget to run out of.
        // Joining keeps the old contract: when the fake is gone, its server is gone.
        if let Ok(handle) = std::thread::Builder::new()
            .name("fake-server-drop".into())
            .spawn(move || drop(server))
        {
            // A panic while shutting the server down has nothing left to report to.
            let _ = handle.join();
        }
    }
}

impl fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(server) => f.debug_tuple("FakeServer").field(&server.uri()).finish(),
            None => f.write_str("FakeServer(dropped)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spends the task's cooperative budget down to zero, as awaiting a few hundred join
    /// handles in a row can, so that the next tokio resource polled answers "not yet".
    async fn exhaust_budget() {
        while tokio::task::coop::has_budget_remaining() {
            tokio::task::coop::consume_budget().await;
        }
    }

    // The sequence that hung an iFinD rate-limit test for over an hour: a served request,
    // the budget spent, then the fake dropped inside the same poll.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn drops_promptly_with_the_budget_spent() {
        let server = FakeServer::start().await;
        let answer = reqwest::get(server.uri())
            .await
            .map(|r| r.status().as_u16());
        assert_eq!(answer.ok(), Some(404));
        exhaust_budget().await;
        assert!(!tokio::task::coop::has_budget_remaining());
        // A bare MockServer's drop spins forever here (checked when this was written); the test
        // runner's timeout ends the test if that comes back.
        drop(server);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn drops_promptly_on_a_current_thread_runtime() {
        let server = FakeServer::start().await;
        exhaust_budget().await;
        drop(server);
        let again = FakeServer::start().await;
        assert!(format!("{again:?}").starts_with("FakeServer(\"http://127.0.0.1:"));
    }
}
