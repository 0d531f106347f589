//! Fault *sequences* over a keyed POST and a non-idempotent POST (and idempotent controls),
//! against a scripted raw TCP server on 127.0.0.1 that can hang, refuse or cut a body.
//!
//! Each test asserts how many times the server saw the request, the final error kind, and that
//! the retry-safe faults (429, platform "busy") were retried. The rule under test: once any
//! attempt of a create may have been received, its final failure is `OutcomeUnknown`, carrying
//! the idempotency key, the first "maybe received" cause and the last error; a create answered
//! with success but not fully read is `OutcomeUnknown` too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{fast_policy, scripted_server, Reply};
use conn_core::error::{ApiError, ApiErrorKind, OutcomeUnknown, TransportErrorKind};
use conn_core::retry::Idempotency;
use conn_core::transport::{EnvelopeDecoder, Request, ResponseParts, Transport, TransportConfig};
use conn_core::Error;
use http::HeaderName;

const R503: Reply = Reply::Bytes(
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\noops",
);
const R429: Reply = Reply::Bytes(
    b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
);
/// The platform's "busy" code in a 200 (did not take the work: retry any operation).
const BUSY: Reply = Reply::Bytes(
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\nconnection: close\r\n\r\n{\"code\":1}",
);
const OK: Reply = Reply::Bytes(
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 17\r\nconnection: close\r\n\r\n{\"code\":0,\"id\":7}",
);
/// A 2xx whose body stops before its declared length: the connection drops mid-response.
const CUT_DECLARED: Reply = Reply::Bytes(
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"code\":0,\"id\":",
);
/// A 2xx delimited by closing the connection, closed early: the body reads "complete" but is
/// cut JSON.
const CUT_CLOSE: Reply = Reply::Bytes(
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"code\":0,\"id\":",
);
const MALFORMED: Reply = Reply::Bytes(
    b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\nconnection: close\r\n\r\n<html>ok</html",
);
/// Timeout after send: the request is read, no answer comes.
const HANG: Reply = Reply::Hang;

/// `{"code": 1}` is "busy", any other non-zero code a server error.
#[derive(Debug)]
struct CodeEnvelope;

impl EnvelopeDecoder for CodeEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        let v: serde_json::Value = serde_json::from_slice(r.body).ok()?;
        let kind = match v.get("code")?.as_i64()? {
            0 => return None,
            1 => ApiErrorKind::Busy,
            _ => ApiErrorKind::ServerError,
        };
        Some(
            ApiError::new("seq", "1", "busy", kind)
                .with_status(r.status)
                .into(),
        )
    }
}

fn transport(uri: &str, f: impl FnOnce(TransportConfig) -> TransportConfig) -> Transport {
    let cfg = TransportConfig::new(uri)
        .unwrap()
        .with_retry(fast_policy())
        .with_attempt_timeout(Duration::from_millis(200));
    Transport::new("seq", f(cfg), CodeEnvelope).unwrap()
}

fn keyed() -> Request {
    Request::post(
        "create",
        "/create",
        Idempotency::new_key(HeaderName::from_static("idempotency-key")),
    )
    .json(&serde_json::json!({"title": "t"}))
    .unwrap()
    .outcome_context("title", "t")
}

fn plain() -> Request {
    Request::post("create", "/create", Idempotency::NonIdempotent)
        .json(&serde_json::json!({"title": "t"}))
        .unwrap()
        .outcome_context("title", "t")
}

async fn run(script: Vec<Reply>, req: &Request) -> (conn_core::Result<serde_json::Value>, usize) {
    run_with(script, req, |c| c).await
}

async fn run_with(
    script: Vec<Reply>,
    req: &Request,
    f: impl FnOnce(TransportConfig) -> TransportConfig,
) -> (conn_core::Result<serde_json::Value>, usize) {
    let (uri, seen) = scripted_server(script).await;
    let t = transport(&uri, f);
    let r = match t.execute(req).await {
        Ok(resp) => resp.json::<serde_json::Value>(),
        Err(e) => Err(e),
    };
    (r, seen.load(Ordering::SeqCst))
}

fn unknown(r: &conn_core::Result<serde_json::Value>) -> &OutcomeUnknown {
    match r {
        Err(Error::OutcomeUnknown(o)) => o,
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
}

fn key_of(req: &Request) -> String {
    req.idempotency_ref().key().unwrap().to_owned()
}

fn status_of(e: &Error) -> Option<u16> {
    e.status().map(|s| s.as_u16())
}

#[tokio::test]
async fn keyed_received_then_429_three_times_is_outcome_unknown_with_key_first_and_last() {
    let req = keyed();
    let (r, seen) = run(vec![R503, R429, R429, R429], &req).await;
    assert_eq!(seen, 4, "the 503 and each 429 were retried: four attempts");
    let o = unknown(&r);
    assert_eq!(o.idempotency_key.as_deref(), Some(key_of(&req).as_str()));
    assert_eq!(o.context("idempotency_key"), Some(key_of(&req).as_str()));
    assert_eq!(o.context("title"), Some("t"));
    assert_eq!(status_of(o.first_cause()), Some(503));
    assert_eq!(o.last.as_deref().and_then(status_of), Some(429));
    let err = r.as_ref().unwrap_err();
    assert_eq!(status_of(err), Some(429), "predicates read the last error");
    assert!(err.is_outcome_unknown() && !err.is_retryable());
    // Both errors are typed: the first is the source, the last a field.
    let src = std::error::Error::source(err).unwrap();
    assert!(src.to_string().contains("503"), "{src}");
    assert!(err.to_string().contains("last attempt"), "{err}");
}

#[tokio::test]
async fn keyed_timeout_after_send_then_429_three_times_is_outcome_unknown() {
    let req = keyed();
    let (r, seen) = run(vec![HANG, R429, R429, R429], &req).await;
    assert_eq!(seen, 4);
    let o = unknown(&r);
    assert!(o.first_cause().is_timeout(), "{:?}", o.source);
    assert_eq!(o.last.as_deref().and_then(status_of), Some(429));
    assert_eq!(o.idempotency_key.as_deref(), Some(key_of(&req).as_str()));
}

#[tokio::test]
async fn plain_create_busy_then_timeout_after_send_is_outcome_unknown_after_one_retry() {
    let (r, seen) = run(vec![BUSY, HANG, OK], &plain()).await;
    assert_eq!(seen, 2, "busy was retried, the timeout was not");
    let o = unknown(&r);
    assert!(o.first_cause().is_timeout());
    assert!(o.last.is_none(), "the maybe-received attempt was the last");
    assert!(o.idempotency_key.is_none());
}

#[tokio::test]
async fn keyed_create_busy_then_timeout_then_success_succeeds() {
    let (r, seen) = run(vec![BUSY, HANG, OK], &keyed()).await;
    assert_eq!(seen, 3, "a keyed create retries a timeout after send");
    assert_eq!(r.unwrap()["id"], 7);
}

#[tokio::test]
async fn plain_create_busy_three_times_then_cut_2xx_is_outcome_unknown() {
    let (r, seen) = run(vec![BUSY, BUSY, BUSY, CUT_DECLARED], &plain()).await;
    assert_eq!(seen, 4);
    let o = unknown(&r);
    let Error::Transport(t) = o.first_cause() else {
        panic!("{:?}", o.source)
    };
    assert_eq!(t.kind, TransportErrorKind::Interrupted);
}

#[tokio::test]
async fn a_cut_2xx_to_a_plain_create_is_sent_once_and_outcome_unknown() {
    let (r, seen) = run(vec![CUT_DECLARED, OK], &plain()).await;
    assert_eq!(seen, 1);
    unknown(&r);
}

#[tokio::test]
async fn a_2xx_cut_at_connection_close_is_outcome_unknown_with_the_decode_error_as_source() {
    let (r, seen) = run(vec![CUT_CLOSE, OK], &plain()).await;
    assert_eq!(seen, 1);
    let o = unknown(&r);
    assert!(
        matches!(o.first_cause(), Error::Decode(_)),
        "{:?}",
        o.source
    );
    // The same for a keyed create: its answer said success.
    let req = keyed();
    let (r, seen) = run(vec![CUT_CLOSE, OK], &req).await;
    assert_eq!(seen, 1);
    assert_eq!(
        unknown(&r).idempotency_key.as_deref(),
        Some(key_of(&req).as_str())
    );
}

#[tokio::test]
async fn a_malformed_2xx_to_a_create_is_outcome_unknown() {
    let (r, seen) = run(vec![MALFORMED], &plain()).await;
    assert_eq!(seen, 1);
    assert!(matches!(unknown(&r).first_cause(), Error::Decode(_)));
}

#[tokio::test]
async fn a_2xx_over_the_cap_to_a_create_is_outcome_unknown() {
    let (r, seen) = run_with(vec![OK], &plain(), |c| c.with_max_body_bytes(8)).await;
    assert_eq!(seen, 1);
    assert!(matches!(
        unknown(&r).first_cause(),
        Error::BodyTooLarge { limit: 8, .. }
    ));
}

#[tokio::test]
async fn keyed_cut_2xx_then_429_three_times_is_outcome_unknown() {
    let (r, seen) = run(vec![CUT_DECLARED, R429, R429, R429], &keyed()).await;
    assert_eq!(seen, 4);
    let o = unknown(&r);
    assert!(matches!(o.first_cause(), Error::Transport(_)));
    assert_eq!(o.last.as_deref().and_then(status_of), Some(429));
}

#[tokio::test]
async fn keyed_received_then_429_until_the_time_limit_keeps_the_deadline_as_last() {
    let policy = fast_policy()
        .with_max_retries(1000)
        .with_base_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(10))
        .with_time_limit(Some(Duration::from_millis(60)));
    let (r, seen) = run_with(vec![R503, R429], &keyed(), |c| c.with_retry(policy)).await;
    assert!((2..=8).contains(&seen), "{seen}");
    let o = unknown(&r);
    assert_eq!(status_of(o.first_cause()), Some(503));
    assert!(
        matches!(o.last.as_deref(), Some(Error::DeadlineExceeded { .. })),
        "{:?}",
        o.last
    );
}

#[tokio::test]
async fn controls_idempotent_reads_and_never_received_creates_keep_the_last_error() {
    // A GET has no outcome to lose: 503 then 429s ends as the 429.
    let (r, seen) = run(vec![R503, R429, R429, R429], &Request::get("read", "/read")).await;
    assert_eq!(seen, 4);
    let err = r.unwrap_err();
    assert!(!err.is_outcome_unknown());
    assert_eq!(status_of(&err), Some(429));
    // A create refused every time was never taken: a plain 429, retried to the end.
    let (r, seen) = run(vec![R429], &plain()).await;
    assert_eq!(seen, 4);
    let err = r.unwrap_err();
    assert!(!err.is_outcome_unknown(), "{err}");
    assert_eq!(status_of(&err), Some(429));
    // A GET whose answer is cut is a decode error (retrying is the caller's choice).
    let (r, _) = run(vec![CUT_CLOSE], &Request::get("read", "/read")).await;
    assert!(matches!(r, Err(Error::Decode(_))), "{r:?}");
}

/// A 429 asking for a delay: the transport waits what it asks (clamped to the policy's cap).
#[tokio::test]
async fn retry_after_sets_the_delay_before_the_next_attempt() {
    const ASK: Reply = Reply::Bytes(
        b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
    let (uri, seen) = scripted_server(vec![ASK, OK]).await;
    let policy = fast_policy().with_max_delay(Duration::from_secs(10));
    let t = transport(&uri, |c| c.with_retry(policy));
    let resp = t.execute(&plain()).await.unwrap();
    assert_eq!((resp.attempts, seen.load(Ordering::SeqCst)), (2, 2));
    assert_eq!(
        resp.backoff,
        Duration::from_secs(1),
        "the server's delay, not the policy's 1 ms"
    );
    // Clamped to the cap: Retry-After 1 s with a 5 ms cap waits 5 ms.
    let (uri, _) = scripted_server(vec![ASK, OK]).await;
    let resp = transport(&uri, |c| c).execute(&plain()).await.unwrap();
    assert_eq!(resp.backoff, Duration::from_millis(5));
}

#[tokio::test]
async fn the_count_of_attempts_matches_the_retry_stats() {
    let (uri, seen) = scripted_server(vec![R503, R429, R429, R429]).await;
    // Its own platform name: counters are per platform and process-wide.
    let cfg = TransportConfig::new(&uri)
        .unwrap()
        .with_retry(fast_policy())
        .with_attempt_timeout(Duration::from_millis(200));
    let t = Transport::new("seq-stats", cfg, CodeEnvelope).unwrap();
    let before = t.stats().snapshot();
    let _ = t.execute(&keyed()).await.unwrap_err();
    let after = t.stats().snapshot();
    assert_eq!(after.attempts - before.attempts, 4);
    assert_eq!(after.retries - before.retries, 3);
    assert_eq!(seen.load(Ordering::SeqCst), 4);
}
