//! Client-level benchmarks of the connectors against raw reqwest.
//!
//! Each case ([`cases::NAMES`]) is one platform's most common read, done two ways against the
//! same server: through the platform's real `Client` (tokens from an in-memory store, the
//! envelope check, the typed decode, the client's spans) and by hand with reqwest (the identical
//! request, the status, the envelope's codes and a typed serde decode). The server runs in a process of its
//! own (`bench-server`) and the client in another (`bench-client`), so instruction counts and
//! CPU time are the client's alone. `benches/client.rs` drives both under callgrind and plain.
//!
//! ```
//! let body = conn_bench::bodies::douyin_video_data();
//! assert!(body.len() > 7_000 && body.contains(r#""error_code":0"#));
//! assert!(conn_bench::cases::NAMES.contains(&"douyin.video_data"));
//! ```

pub mod bodies;
pub mod cases;
pub mod cpu;

/// What can stop a bench run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The connector refused or failed a call.
    #[error("{case}: {source}")]
    Connector {
        /// The case.
        case: &'static str,
        /// The connector's error.
        #[source]
        source: conn_core::Error,
    },
    /// The raw call failed.
    #[error("{case} (raw): {source}")]
    Http {
        /// The case.
        case: &'static str,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// The raw decode failed.
    #[error("{case} (raw): decode: {source}")]
    Decode {
        /// The case.
        case: &'static str,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// An answer was not what the server sends (a status, a code, a count).
    #[error("{case}: unexpected answer: {what}")]
    Unexpected {
        /// The case.
        case: &'static str,
        /// What was wrong.
        what: String,
    },
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
}
