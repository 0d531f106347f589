//! Shared helpers for conn-core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use conn_core::retry::{Jitter, RetryPolicy};
use conn_core::transport::{NoEnvelope, Transport, TransportConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A fast policy: 3 retries, 1 ms fixed-ish delays, no jitter.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_jitter(Jitter::None)
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(5))
        .with_max_retries(3)
}

pub fn transport(uri: &str) -> Transport {
    transport_with(uri, |c| c)
}

pub fn transport_with(uri: &str, f: impl FnOnce(TransportConfig) -> TransportConfig) -> Transport {
    let cfg = TransportConfig::new(uri)
        .unwrap()
        .with_retry(fast_policy())
        .with_attempt_timeout(Duration::from_millis(300));
    Transport::new("test", f(cfg), NoEnvelope).unwrap()
}

/// A raw TCP server on 127.0.0.1 that answers each connection with `reply` (bytes) and then
/// closes, or holds the connection open without answering when `reply` is None. Returns the
/// base URL and a counter of connections.
pub async fn raw_server(
    reply: Option<&'static [u8]>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        // Bounded: a test never needs more than a handful of connections.
        for _ in 0..16 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                match reply {
                    Some(r) => {
                        let _ = sock.write_all(r).await;
                        let _ = sock.shutdown().await;
                    }
                    None => {
                        // Hold the connection open, never answer (bounded).
                        tokio::time::sleep(Duration::from_secs(10)).await;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), count)
}

/// One scripted answer of [`scripted_server`].
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// Write these bytes, then close.
    Bytes(&'static [u8]),
    /// Read the request, never answer (the client's attempt times out), hold for 10 s.
    Hang,
}

/// A raw TCP server on 127.0.0.1 answering the n-th connection with `script[n]` (the last
/// entry repeats). Returns the base URL and a counter of connections (requests: every reply
/// closes its connection).
pub async fn scripted_server(
    script: Vec<Reply>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        for _ in 0..16 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let n = c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let reply = script[n.min(script.len() - 1)];
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = sock.read(&mut buf).await;
                match reply {
                    Reply::Bytes(r) => {
                        let _ = sock.write_all(r).await;
                        let _ = sock.shutdown().await;
                    }
                    Reply::Hang => tokio::time::sleep(Duration::from_secs(10)).await,
                }
            });
        }
    });
    (format!("http://{addr}"), count)
}
