//! The transport's streaming multipart body: every attempt opens the body again from its
//! factory, and the client holds a bounded amount of it however large it is.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use conn_core::body::{StreamBody, StreamPart, CHUNK};
use conn_core::retry::{Idempotency, Jitter, RetryPolicy};
use conn_core::transport::{Body, NoEnvelope, Request, Transport, TransportConfig};
use futures::StreamExt;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn transport(uri: &str) -> Transport {
    let policy = RetryPolicy::default()
        .with_jitter(Jitter::None)
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(5))
        .with_max_retries(3);
    let cfg = TransportConfig::new(uri)
        .unwrap()
        .with_retry(policy)
        .with_attempt_timeout(Duration::from_secs(30));
    Transport::new("test", cfg, NoEnvelope).unwrap()
}

/// Live bytes of the chunks the body has produced and nobody has dropped yet, and their peak.
#[derive(Default)]
struct Live {
    now: AtomicU64,
    peak: AtomicU64,
}

/// A chunk that keeps [`Live`] up to date: counted when made, uncounted when dropped.
struct Tracked {
    data: Vec<u8>,
    live: Arc<Live>,
}

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live
            .now
            .fetch_sub(self.data.len() as u64, Ordering::SeqCst);
    }
}

fn tracked_chunk(live: &Arc<Live>, fill: u8) -> Bytes {
    let now = live.now.fetch_add(CHUNK as u64, Ordering::SeqCst) + CHUNK as u64;
    live.peak.fetch_max(now, Ordering::SeqCst);
    Bytes::from_owner(Tracked {
        data: vec![fill; CHUNK],
        live: live.clone(),
    })
}

/// `chunks` generated chunks per attempt; counts the attempts that opened the body.
fn generated(chunks: usize, live: Arc<Live>, opens: Arc<AtomicUsize>) -> StreamBody {
    StreamBody::new((chunks * CHUNK) as u64, move || {
        let attempt = opens.fetch_add(1, Ordering::SeqCst);
        let live = live.clone();
        futures::stream::iter(0..chunks)
            .map(move |_| Ok(tracked_chunk(&live, attempt as u8)))
            .boxed()
    })
}

fn upload(body: StreamBody) -> Request {
    Request::post("upload", "/upload", Idempotency::Idempotent).body(Body::StreamingMultipart(
        StreamPart {
            name: "video".into(),
            file_name: Some("v.mp4".into()),
            content_type: Some("video/mp4".into()),
            body,
        },
    ))
}

#[tokio::test]
async fn each_attempt_opens_the_body_again_and_sends_all_of_it() {
    let server = MockServer::start().await;
    // Fault sequence: 503, 502, then success.
    for status in [503u16, 502] {
        Mock::given(method("POST"))
            .and(path("/upload"))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .expect(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/upload"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let opens = Arc::new(AtomicUsize::new(0));
    let body = generated(16, Arc::default(), opens.clone());
    transport(&server.uri())
        .execute(&upload(body))
        .await
        .unwrap();
    assert_eq!(opens.load(Ordering::SeqCst), 3);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    for (i, r) in received.iter().enumerate() {
        let ct = r.headers.get("content-type").unwrap().to_str().unwrap();
        assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
        assert!(
            r.body.len() > 16 * CHUNK,
            "attempt {i} sent {} bytes",
            r.body.len()
        );
        // Each attempt's bytes came from its own opening of the body.
        let fill = i as u8;
        let run = vec![fill; CHUNK];
        assert!(
            r.body.windows(CHUNK).any(|w| w == run.as_slice()),
            "attempt {i} did not send its own chunks"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_body_is_never_held_whole() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/upload"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    // 64 MiB produced in 64 KiB chunks: at the peak, the client side holds a small fraction.
    let chunks = 1024;
    let live = Arc::new(Live::default());
    let body = generated(chunks, live.clone(), Arc::default());
    transport(&server.uri())
        .execute(&upload(body))
        .await
        .unwrap();
    let peak = live.peak.load(Ordering::SeqCst);
    assert!(
        peak <= 8 * 1024 * 1024,
        "the client held {peak} bytes of a {} byte body at once",
        chunks * CHUNK
    );
    assert_eq!(
        live.now.load(Ordering::SeqCst),
        0,
        "every chunk was released"
    );
    let received = server.received_requests().await.unwrap();
    assert!(received[0].body.len() > chunks * CHUNK);
}
