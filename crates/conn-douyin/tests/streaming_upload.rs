//! A single (non-chunked) video upload from a file streams it: the progress callback moves
//! while the bytes go out, a retried attempt re-opens the file instead of keeping a copy in
//! memory, and what the platform receives is the whole file every time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use conn_douyin::fake::{FakeDouyin, Fault, Op, RecordedBody};
use conn_douyin::{Client, UploadProgress, VideoSource};

// Large enough that the body cannot sit in the loopback socket's buffers in one go.
const SIZE: usize = 8 * 1024 * 1024;

async fn account(fake: &FakeDouyin, client: &Client) -> String {
    let code = fake.issue_code(fake.open_id(), &["video.create.bind"]);
    client.exchange_code(&code).await.unwrap().open_id
}

fn video_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("clip.mp4");
    let mut data = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    data.resize(SIZE, 0x5a);
    std::fs::write(&path, &data).unwrap();
    path
}

fn uploads(fake: &FakeDouyin) -> Vec<u64> {
    fake.recorded()
        .into_iter()
        .filter(|r| r.op == Op::UploadVideo)
        .map(|r| match r.body {
            RecordedBody::Multipart(parts) => parts
                .iter()
                .find(|p| p.name == "video")
                .map_or(0, |p| p.size),
            other => panic!("not multipart: {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_moves_during_a_single_upload_and_a_retry_re_reads_the_file() {
    let fake = FakeDouyin::builder().record_requests(true).start().await;
    let client = Client::new(fake.config()).unwrap();
    let open_id = account(&fake, &client).await;
    let dir = tempfile::tempdir().unwrap();
    let path = video_file(dir.path());

    // Fault sequence: an HTTP 503, then Douyin's "system busy", then success.
    fake.fail_next(Op::UploadVideo, Fault::Status(503), 1);
    fake.fail_next(Op::UploadVideo, Fault::Busy, 1);
    let seen: Arc<Mutex<Vec<UploadProgress>>> = Arc::default();
    let progress = {
        let seen = seen.clone();
        move |p: UploadProgress| seen.lock().unwrap().push(p)
    };
    let up = client
        .upload_video(&open_id, VideoSource::path(&path), Some(&progress))
        .await
        .unwrap();
    assert_eq!(up.parts, 0, "a single request, not chunked");
    assert!(!up.video_id.is_empty());

    // Every attempt sent the whole file: each retry read it again from disk.
    assert_eq!(fake.requests(Op::UploadVideo), 3);
    assert_eq!(uploads(&fake), [SIZE as u64; 3]);

    let seen = seen.lock().unwrap();
    let total = SIZE as u64;
    assert!(seen
        .iter()
        .all(|p| p.total == Some(total) && p.uploaded <= total));
    assert_eq!(seen.first().map(|p| p.uploaded), Some(0));
    assert_eq!(seen.last().map(|p| p.uploaded), Some(total));
    // The bar moved between 0 and the end (64 KiB chunks: many steps), and restarted from
    // the beginning for the retried attempt.
    let between = seen
        .iter()
        .filter(|p| p.uploaded > 0 && p.uploaded < total)
        .count();
    assert!(between >= 1, "{between} intermediate progress reports");
    let restarts = seen
        .windows(2)
        .filter(|w| w[1].uploaded < w[0].uploaded)
        .count();
    assert!(restarts >= 1, "a retry restarted the count: {restarts}");
}

#[tokio::test]
async fn a_file_removed_before_the_retry_fails_instead_of_sending_a_stale_copy() {
    let fake = FakeDouyin::builder().record_requests(true).start().await;
    let client = Client::new(fake.config()).unwrap();
    let open_id = account(&fake, &client).await;
    let dir = tempfile::tempdir().unwrap();
    let path = video_file(dir.path());

    // Every attempt is refused; the file disappears once the first attempt has been read.
    fake.fail_next(Op::UploadVideo, Fault::Status(503), 10);
    let removed = Arc::new(Mutex::new(false));
    let progress = {
        let (removed, path) = (removed.clone(), path.clone());
        move |p: UploadProgress| {
            let mut r = removed.lock().unwrap();
            if p.uploaded == SIZE as u64 && !*r {
                std::fs::remove_file(&path).unwrap();
                *r = true;
            }
        }
    };
    let err = client
        .upload_video(&open_id, VideoSource::path(&path), Some(&progress))
        .await
        .unwrap_err();
    assert!(*removed.lock().unwrap());
    // Had the bytes been kept in memory, every attempt would have reached the platform and
    // the last 503 would be the error. Instead the attempt after the removal could not open
    // the file, which ends the upload with that failure.
    assert_ne!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    let sent = uploads(&fake);
    assert!(sent.iter().all(|&n| n == SIZE as u64), "{sent:?}");
    assert!(
        sent.len() < 4,
        "attempts that reached the platform: {sent:?}"
    );
}
