//! The retry decision table, timeouts, body cap and decoding, against wiremock and raw sockets
//! on 127.0.0.1. Request counts are pinned with `.expect(n)`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{fast_policy, raw_server, transport, transport_with};
use conn_core::error::{ApiError, ApiErrorKind, TransportErrorKind};
use conn_core::retry::Idempotency;
use conn_core::transport::{EnvelopeDecoder, Request, ResponseParts, Transport, TransportConfig};
use conn_core::Error;
use http::HeaderName;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn create() -> Request {
    Request::post("create", "/create", Idempotency::NonIdempotent)
        .json(&serde_json::json!({"title": "t"}))
        .unwrap()
        .outcome_context("video_id", "v1")
}

async fn mock_status(server: &MockServer, status: u16, expect: u64) {
    Mock::given(path("/create"))
        .respond_with(ResponseTemplate::new(status).set_body_string("oops"))
        .expect(expect)
        .mount(server)
        .await;
}

#[tokio::test]
async fn server_errors_retry_idempotent_gets_until_attempts_run_out() {
    for status in [500u16, 502, 503, 504] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/read"))
            .respond_with(ResponseTemplate::new(status))
            .expect(4)
            .mount(&server)
            .await;
        let err = transport(&server.uri())
            .execute(&Request::get("read", "/read"))
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(!err.is_outcome_unknown());
    }
}

#[tokio::test]
async fn server_errors_are_never_replayed_for_a_create() {
    for status in [500u16, 502, 503, 504] {
        let server = MockServer::start().await;
        mock_status(&server, status, 1).await;
        let err = transport(&server.uri())
            .execute(&create())
            .await
            .unwrap_err();
        assert!(err.is_outcome_unknown(), "{err}");
        let Error::OutcomeUnknown(o) = &err else {
            panic!()
        };
        assert_eq!(o.context("video_id"), Some("v1"));
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn too_many_requests_retries_even_a_create_and_honours_retry_after_seconds() {
    let server = MockServer::start().await;
    Mock::given(path("/create"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/create"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": 7})))
        .expect(1)
        .mount(&server)
        .await;
    let resp = transport(&server.uri()).execute(&create()).await.unwrap();
    assert_eq!(resp.attempts, 3);
    // The server asked for no delay: the policy's own 1 ms + 2 ms were replaced by 0.
    assert_eq!(resp.backoff, Duration::ZERO);
    let v: serde_json::Value = resp.json().unwrap();
    assert_eq!(v["id"], 7);
}

#[tokio::test]
async fn retry_after_http_date_is_honoured_and_clamped() {
    // An HTTP date an hour ahead is clamped to the policy's max delay (5 ms here).
    let server = MockServer::start().await;
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600));
    Mock::given(path("/read"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", later.as_str()))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/read"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let resp = transport(&server.uri())
        .execute(&Request::get("read", "/read"))
        .await
        .unwrap();
    assert_eq!(resp.attempts, 2);
    assert_eq!(
        resp.backoff,
        Duration::from_millis(5),
        "the hour, clamped to the cap"
    );
    // Not a timing assertion on performance: it shows the hour was clamped, not slept.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    for status in [400u16, 401, 403, 404, 409, 422] {
        let server = MockServer::start().await;
        Mock::given(path("/read"))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
        let err = transport(&server.uri())
            .execute(&Request::get("read", "/read"))
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn connect_errors_retry_any_operation() {
    // Bind then drop a listener: nothing listens on that port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = TransportConfig::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_retry(fast_policy());
    let t = Transport::new("connect-test", cfg, conn_core::transport::NoEnvelope).unwrap();
    let err = t.execute(&create()).await.unwrap_err();
    let Error::Transport(te) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(te.kind, TransportErrorKind::Connect);
    assert!(!te.request_sent);
    assert!(
        !err.is_outcome_unknown(),
        "never sent, so the outcome is known"
    );
    // 4 attempts were made (1 + 3 retries) although the operation is a create.
    let s = t.stats().snapshot();
    assert_eq!((s.attempts, s.retries, s.give_ups), (4, 3, 1));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_a_create_is_sent_once() {
    let (uri, conns) = raw_server(None).await;
    let t = transport_with(&uri, |c| c.with_attempt_timeout(Duration::from_millis(100)));
    let err = t.execute(&create()).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.is_timeout());
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 1);

    let (uri, conns) = raw_server(None).await;
    let t = transport_with(&uri, |c| c.with_attempt_timeout(Duration::from_millis(100)));
    let err = t.execute(&Request::get("read", "/read")).await.unwrap_err();
    assert!(err.is_timeout());
    assert!(!err.is_outcome_unknown());
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_connection_dropped_mid_response_is_retried_only_when_idempotent() {
    const PARTIAL: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"data\":";
    let (uri, conns) = raw_server(Some(PARTIAL)).await;
    let err = transport(&uri)
        .execute(&Request::get("read", "/read"))
        .await
        .unwrap_err();
    let Error::Transport(te) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(te.kind, TransportErrorKind::Interrupted);
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 4);

    let (uri, conns) = raw_server(Some(PARTIAL)).await;
    let err = transport(&uri).execute(&create()).await.unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_total_time_limit_stops_retrying() {
    let server = MockServer::start().await;
    Mock::given(path("/read"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let policy = fast_policy()
        .with_max_retries(1000)
        .with_base_delay(Duration::from_millis(40))
        .with_max_delay(Duration::from_millis(40))
        .with_time_limit(Some(Duration::from_millis(200)));
    let t = transport_with(&server.uri(), |c| c.with_retry(policy));
    let err = t.execute(&Request::get("read", "/read")).await.unwrap_err();
    let Error::DeadlineExceeded { last, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        last.as_ref().and_then(|e| e.status()).map(|s| s.as_u16()),
        Some(503)
    );
    let n = server.received_requests().await.unwrap().len();
    assert!(
        (2..=7).contains(&n),
        "{n} attempts within a 200 ms limit at 40 ms spacing"
    );
}

#[tokio::test]
async fn the_operation_deadline_bounds_attempts_too() {
    let server = MockServer::start().await;
    Mock::given(path("/read"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let t = transport_with(&server.uri(), |c| {
        c.with_attempt_timeout(Duration::from_secs(30))
            .with_operation_deadline(Some(Duration::from_millis(150)))
    });
    let started = std::time::Instant::now();
    let err = t.execute(&Request::get("read", "/read")).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 4096]))
        .expect(1)
        .mount(&server)
        .await;
    let t = transport_with(&server.uri(), |c| c.with_max_body_bytes(1024));
    let err = t.execute(&Request::get("big", "/big")).await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 1024, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());

    // Without a content-length (chunked), the cap still holds while streaming.
    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n400\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n0\r\n\r\n";
    let (uri, _) = raw_server(Some(CHUNKED)).await;
    let t = transport_with(&uri, |c| c.with_max_body_bytes(512));
    let err = t.execute(&Request::get("big", "/big")).await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 512, .. }),
        "{err:?}"
    );
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Item {
    id: u64,
    name: String,
}

#[tokio::test]
async fn malformed_and_truncated_json_are_decode_errors_with_path_and_excerpt() {
    let server = MockServer::start().await;
    Mock::given(path("/bad"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"id":"x","name":"n"}"#))
        .mount(&server)
        .await;
    Mock::given(path("/trunc"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"id":1,"na"#))
        .mount(&server)
        .await;
    let t = transport(&server.uri());
    let err = t
        .execute_json::<Item>(&Request::get("bad", "/bad"))
        .await
        .unwrap_err();
    let Error::Decode(d) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(d.path, "id");
    assert!(d.excerpt.contains("\"id\":\"x\""));
    assert!(!err.is_retryable());
    let err = t
        .execute_json::<Item>(&Request::get("trunc", "/trunc"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("EOF"), "{err}");
}

/// A platform whose errors come as HTTP 200 with `{"code": n}`.
#[derive(Debug)]
struct CodeEnvelope;

impl EnvelopeDecoder for CodeEnvelope {
    fn decode_error(&self, r: &ResponseParts<'_>) -> Option<Error> {
        let v: serde_json::Value = serde_json::from_slice(r.body).ok()?;
        let code = v.get("code")?.as_i64()?;
        let kind = match code {
            0 => return None,
            1 => ApiErrorKind::Busy,
            2 => ApiErrorKind::ServerError,
            _ => ApiErrorKind::InvalidRequest,
        };
        Some(
            ApiError::new("coded", code.to_string(), "platform said no", kind)
                .with_status(r.status)
                .with_log_id(v.get("logid").and_then(|l| l.as_str()).map(str::to_owned))
                .into(),
        )
    }
}

#[tokio::test]
async fn platform_busy_codes_retry_a_create_but_server_codes_do_not() {
    let server = MockServer::start().await;
    Mock::given(path("/create"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"code": 1})))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/create"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"code": 0, "id": 1})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let cfg = TransportConfig::new(&server.uri())
        .unwrap()
        .with_retry(fast_policy());
    let t = Transport::new("coded", cfg, CodeEnvelope).unwrap();
    t.execute(&create()).await.unwrap();

    let server = MockServer::start().await;
    Mock::given(path("/create"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"code": 2, "logid": "L-1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let cfg = TransportConfig::new(&server.uri())
        .unwrap()
        .with_retry(fast_policy());
    let t = Transport::new("coded", cfg, CodeEnvelope).unwrap();
    let err = t.execute(&create()).await.unwrap_err();
    assert!(err.is_outcome_unknown());
    assert_eq!(err.platform_code(), Some("2"));
    assert_eq!(err.log_id(), Some("L-1"));
}

#[tokio::test]
async fn an_idempotency_key_makes_a_post_retryable_with_the_same_key() {
    let server = MockServer::start().await;
    Mock::given(path("/create"))
        .and(header_exists("idempotency-key"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/create"))
        .respond_with(ResponseTemplate::new(201).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let req = create().idempotency(Idempotency::new_key(HeaderName::from_static(
        "idempotency-key",
    )));
    transport(&server.uri()).execute(&req).await.unwrap();
    let keys: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k == &keys[0] && k.len() == 32));
}

#[tokio::test]
async fn base_url_path_is_kept_and_query_is_encoded() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/items"))
        .and(wiremock::matchers::query_param("item_id", "a+b/c="))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let t = transport(&format!("{}/api/v1/", server.uri()));
    t.execute(&Request::get("items", "items").query("item_id", "a+b/c="))
        .await
        .unwrap();
}

#[tokio::test]
async fn counters_are_readable_per_platform() {
    let server = MockServer::start().await;
    Mock::given(path("/read"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/read"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    let cfg = TransportConfig::new(&server.uri())
        .unwrap()
        .with_retry(fast_policy());
    let t = Transport::new("stats-test", cfg, conn_core::transport::NoEnvelope).unwrap();
    t.execute(&Request::get("read", "/read")).await.unwrap();
    let s = conn_core::stats::snapshot()["stats-test"];
    assert_eq!(
        (s.calls, s.attempts, s.retries, s.successes, s.give_ups),
        (1, 2, 1, 1, 0)
    );
}

#[tokio::test]
async fn a_keyed_create_that_runs_out_of_retries_is_outcome_unknown_with_its_key() {
    let server = MockServer::start().await;
    mock_status(&server, 503, 4).await;
    let req = Request::new(
        "create",
        http::Method::POST,
        "/create",
        Idempotency::new_key(HeaderName::from_static("idempotency-key")),
    );
    assert!(
        req.headers().contains_key("idempotency-key"),
        "new() sets the key header"
    );
    let err = transport(&server.uri()).execute(&req).await.unwrap_err();
    let Error::OutcomeUnknown(o) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(o.context("idempotency_key").map(str::len), Some(32));
}

#[derive(Debug, Default)]
struct StampHook {
    seen: std::sync::Mutex<Vec<u32>>,
}

#[async_trait::async_trait]
impl conn_core::transport::AttemptHook for StampHook {
    async fn before_attempt(&self, request: &mut Request, attempt: u32) -> conn_core::Result<()> {
        self.seen.lock().unwrap().push(attempt);
        request
            .query_mut()
            .push(("attempt".into(), attempt.to_string()));
        Ok(())
    }
}

#[tokio::test]
async fn the_attempt_hook_runs_before_every_attempt_and_may_change_the_request() {
    let server = MockServer::start().await;
    Mock::given(path("/read"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/read"))
        .and(wiremock::matchers::query_param("attempt", "3"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let hook = std::sync::Arc::new(StampHook::default());
    let t = transport(&server.uri()).with_attempt_hook(hook.clone());
    let resp = t.execute(&Request::get("read", "/read")).await.unwrap();
    assert_eq!(resp.attempts, 3);
    assert_eq!(*hook.seen.lock().unwrap(), vec![1, 2, 3]);
}
