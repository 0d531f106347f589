//! Publishing: retry safety of creates, chunked upload of a 120 MB file, progress, validation
//! before any request, image posts, listing and data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conn_core::error::{ApiErrorKind, Error};
use conn_douyin::fake::{FakeDouyin, Fault, Op};
use conn_douyin::{
    Client, ImagePost, ImageSource, Privacy, UploadProgress, VideoPost, VideoSource,
};
use futures::TryStreamExt;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::{api_err, api_ok, fast_retry, fixed_token_client, logged_in, logged_in_with, MIB};

const CREATE: &str = "/api/douyin/v1/video/create_video/";

/// Logged in with the default timeouts (a code is single use: its exchange must not time out),
/// then a client sharing the tokens whose attempts time out after 400 ms (and the patient one).
async fn impatient(fake: &FakeDouyin) -> (Client, String, Client) {
    let (patient, open_id, store) = logged_in(fake).await;
    let mut cfg = fake.config();
    cfg.transport.attempt_timeout = Duration::from_millis(400);
    let client = Client::builder(cfg)
        .token_store(Arc::new(store))
        .build()
        .unwrap();
    (client, open_id, patient)
}

fn outcome_context(err: &Error) -> Vec<(String, String)> {
    match err {
        Error::OutcomeUnknown(o) => o.context.clone(),
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
}

#[tokio::test]
async fn create_timing_out_is_sent_once_and_reports_outcome_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .and(query_param("open_id", "open-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(api_ok(serde_json::json!({"item_id": "@late"})))
                .set_delay(Duration::from_millis(1500)),
        )
        .expect(1)
        .mount(&server)
        .await;
    conn_core::testing::mount_catch_all(&server).await;
    let client = fixed_token_client(&server.uri(), Duration::from_millis(300), fast_retry(4));
    let err = client
        .create_video("open-1", "v-123", &VideoPost::new("t"))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(err.is_timeout());
    assert!(!err.is_retryable());
    let ctx = outcome_context(&err);
    assert!(
        ctx.contains(&("video_id".into(), "v-123".into())),
        "{ctx:?}"
    );
    assert!(
        ctx.contains(&("open_id".into(), "open-1".into())),
        "{ctx:?}"
    );
    assert!(err.to_string().contains("video_id=v-123"), "{err}");
    server.verify().await;
}

#[tokio::test]
async fn create_after_5xx_is_not_replayed_but_busy_and_429_are() {
    // 502: may have been processed → sent once, outcome unknown.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let client = fixed_token_client(&server.uri(), Duration::from_secs(5), fast_retry(4));
    let err = client
        .create_video("open-1", "v-1", &VideoPost::new("t"))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    server.verify().await;

    // Busy twice, then success: the platform did not take the work, so it is retried.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(ResponseTemplate::new(200).set_body_json(api_err(2100004, "LOG-BUSY")))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(api_ok(serde_json::json!({"item_id": "@ok+/="}))),
        )
        .expect(1)
        .with_priority(3)
        .mount(&server)
        .await;
    let client = fixed_token_client(&server.uri(), Duration::from_secs(5), fast_retry(5));
    let item = client
        .create_video("open-1", "v-2", &VideoPost::new("t"))
        .await
        .unwrap();
    assert_eq!(item, "@ok+/=");
    server.verify().await;
}

#[tokio::test]
async fn busy_code_on_create_against_the_fake_is_retried_and_succeeds() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    fake.fail_next(Op::CreateVideo, Fault::Busy, 2);
    fake.fail_next(Op::CreateVideo, Fault::RateLimited, 1);
    let p = client
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![9u8; 1000]),
            &VideoPost::new("忙"),
        )
        .await
        .unwrap();
    assert_eq!(fake.requests(Op::CreateVideo), 4);
    assert_eq!(fake.items(Some(&open_id)).len(), 1);
    assert_eq!(fake.items(None)[0].item_id, p.item_id);
}

#[tokio::test]
async fn slow_or_dropped_create_on_the_fake_is_outcome_unknown_and_sent_once() {
    let fake = FakeDouyin::start().await;
    // Uploads go through a patient client: only the creates may time out.
    let (client, open_id, patient) = impatient(&fake).await;
    let video = patient
        .upload_video(&open_id, VideoSource::bytes(vec![1u8; 100]), None)
        .await
        .unwrap();
    fake.fail_next(
        Op::CreateVideo,
        Fault::Delay(Duration::from_millis(2000)),
        1,
    );
    let err = client
        .create_video(&open_id, &video.video_id, &VideoPost::new("slow"))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    let ctx = outcome_context(&err);
    assert!(ctx.contains(&("video_id".into(), video.video_id.clone())));
    assert!(ctx.contains(&("open_id".into(), open_id.clone())));
    assert_eq!(fake.requests(Op::CreateVideo), 1);
    // The platform did publish it: that is why it must not be replayed.
    assert_eq!(fake.items(Some(&open_id)).len(), 1);

    let video = patient
        .upload_video(&open_id, VideoSource::bytes(vec![1u8; 100]), None)
        .await
        .unwrap();
    fake.fail_next(Op::CreateVideo, Fault::Drop, 1);
    let err = client
        .create_video(&open_id, &video.video_id, &VideoPost::new("dropped"))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    assert_eq!(fake.requests(Op::CreateVideo), 2);

    // Uploads are idempotent: a dropped connection or a 5xx there is retried.
    fake.fail_next(Op::UploadVideo, Fault::Drop, 1);
    fake.fail_next(Op::UploadVideo, Fault::Status(500), 1);
    patient
        .upload_video(&open_id, VideoSource::bytes(vec![1u8; 100]), None)
        .await
        .unwrap();
    assert_eq!(fake.requests(Op::UploadVideo), 5);
}

#[tokio::test]
async fn create_image_text_timing_out_is_outcome_unknown() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, _) = impatient(&fake).await;
    fake.fail_next(
        Op::CreateImageText,
        Fault::Delay(Duration::from_millis(2000)),
        1,
    );
    let err = client
        .publish_images(
            &open_id,
            vec![ImageSource::bytes(vec![1u8; 10], "a.png")],
            &ImagePost::new("图"),
        )
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    let ctx = outcome_context(&err);
    assert!(
        ctx.iter()
            .any(|(k, v)| k == "image_ids" && v.starts_with("img-fake-")),
        "{ctx:?}"
    );
    assert_eq!(fake.requests(Op::CreateImageText), 1);
}

/// Writes `mib` MiB of a position-dependent pattern to a temp file, 1 MiB at a time.
fn big_file(mib: u64) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let mut chunk = vec![0u8; MIB as usize];
    for i in 0..mib {
        for (j, b) in chunk.iter_mut().enumerate() {
            *b = ((i as usize * 31 + j) % 251) as u8;
        }
        f.write_all(&chunk).unwrap();
    }
    f.flush().unwrap();
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_upload_of_a_120_mb_file_sends_six_parts_in_order() {
    let file = big_file(120);
    let fake = FakeDouyin::start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    let seen: Arc<Mutex<Vec<UploadProgress>>> = Arc::default();
    let sink = seen.clone();
    let progress = move |p: UploadProgress| sink.lock().unwrap().push(p);
    let published = client
        .publish_video_with_progress(
            &open_id,
            VideoSource::path(file.path()),
            &VideoPost::new("一百二十兆"),
            &progress,
        )
        .await
        .unwrap();

    let uploads = fake.chunked_uploads();
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    let expected: Vec<(u32, u64)> = (1..=6).map(|n| (n, 20 * MIB)).collect();
    assert_eq!(
        upload.parts, expected,
        "6 parts of 20 MiB, numbered from 1, in order"
    );
    assert_eq!(upload.video_id, published.video_id);
    assert_eq!(fake.requests(Op::UploadVideo), 0, "no single upload");
    assert_eq!(fake.requests(Op::InitVideoPartUpload), 1);
    assert_eq!(fake.requests(Op::CompleteVideoPartUpload), 1);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 7, "once at the start, once per part");
    assert_eq!(seen[0].uploaded, 0);
    for (i, p) in seen.iter().enumerate().skip(1) {
        assert_eq!(p.uploaded, i as u64 * 20 * MIB);
        assert_eq!(p.part, Some(i as u32));
        assert_eq!(p.parts, Some(6));
        assert_eq!(p.total, Some(120 * MIB));
    }
}

#[tokio::test]
async fn streams_of_unknown_length_go_chunked_beyond_one_part() {
    let fake = FakeDouyin::start().await;
    let mut cfg = fake.config();
    cfg.upload.single_upload_max = 5 * MIB;
    cfg.upload.part_size = 5 * MIB;
    let (client, open_id, _) = logged_in_with(&fake, cfg).await;
    let data = vec![5u8; (12 * MIB) as usize];
    let v = client
        .upload_video(
            &open_id,
            VideoSource::reader(std::io::Cursor::new(data), None),
            None,
        )
        .await
        .unwrap();
    assert_eq!(v.parts, 3);
    assert_eq!(
        fake.chunked_uploads()[0].parts,
        vec![(1, 5 * MIB), (2, 5 * MIB), (3, 2 * MIB)]
    );
    // A short stream goes in one request.
    let v = client
        .upload_video(
            &open_id,
            VideoSource::reader(std::io::Cursor::new(vec![1u8; 1000]), None),
            None,
        )
        .await
        .unwrap();
    assert_eq!(v.parts, 0);
    assert_eq!(fake.requests(Op::UploadVideo), 1);
    // A declared length the stream does not have is refused.
    let err = client
        .upload_video(
            &open_id,
            VideoSource::reader(std::io::Cursor::new(vec![1u8; 10]), Some(20)),
            None,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("declared length"), "{err}");
    // A part answered with 503 (not stored) is sent again with the same number.
    assert_eq!(fake.requests(Op::UploadVideoPart), 3);
    fake.fail_next(Op::UploadVideoPart, Fault::Status(503), 1);
    client
        .upload_video(
            &open_id,
            VideoSource::bytes(vec![1u8; (6 * MIB) as usize]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(fake.requests(Op::UploadVideoPart), 3 + 3);
    let last = fake.chunked_uploads().pop().unwrap();
    assert_eq!(last.parts, vec![(1, 5 * MIB), (2, MIB)]);
    assert!(last.video_id.is_some());
}

#[tokio::test]
async fn validation_happens_before_any_request() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    fake.clear_recorded();
    let long_title = "标".repeat(56);
    let err = client
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![1u8; 10]),
            &VideoPost::new(long_title),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `title`: at most 55 characters (got 56)"
    );
    let err = client
        .publish_video(
            &open_id,
            VideoSource::path("/nonexistent/clip.mp4"),
            &VideoPost::new("t"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Validation(ref v) if v.field == "video"),
        "{err}"
    );
    let err = client
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![1u8; 10]),
            &VideoPost::new("t").privacy(Privacy::Friends),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("privacy"), "{err}");
    let ten: Vec<ImageSource> = (0..10)
        .map(|i| ImageSource::bytes(vec![i; 4], "x.jpg"))
        .collect();
    let err = client
        .publish_images(&open_id, ten, &ImagePost::new("t"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `images`: between 1 and 9 images (got 10)"
    );
    let err = client
        .publish_images(
            &open_id,
            vec![
                ImageSource::bytes(vec![1u8; 4], "a.jpg"),
                ImageSource::bytes(Vec::<u8>::new(), "b.jpg"),
            ],
            &ImagePost::new("t"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("images[1]"), "{err}");
    let err = client.video_list_page(&open_id, 0, 0).await.unwrap_err();
    assert!(err.to_string().contains("count"), "{err}");
    assert!(
        fake.recorded().is_empty(),
        "no request was sent: {:?}",
        fake.recorded()
    );
    // A 55-character Chinese title (165 bytes) is fine.
    client
        .publish_video(
            &open_id,
            VideoSource::bytes(vec![1u8; 10]),
            &VideoPost::new("标".repeat(55)),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn image_posts_list_and_data() {
    let fake = FakeDouyin::builder().numbers_as_strings(true).start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("photo.png");
    std::fs::write(&img, [7u8; 300]).unwrap();
    let p = client
        .publish_images(
            &open_id,
            vec![
                ImageSource::path(&img),
                ImageSource::bytes(vec![1u8; 20], "b.jpg"),
            ],
            &ImagePost::new("图文").description("#旅行"),
        )
        .await
        .unwrap();
    assert_eq!(p.image_ids.len(), 2);
    let item = &fake.items(Some(&open_id))[0];
    assert_eq!(item.media_type, 2);
    assert_eq!(item.text, "图文\n#旅行");
    for i in 0..24 {
        client
            .publish_video(
                &open_id,
                VideoSource::bytes(vec![1u8; 10]),
                &VideoPost::new(format!("v{i}")),
            )
            .await
            .unwrap();
    }
    let items: Vec<_> = client
        .video_list(open_id.clone(), 10)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 25);
    assert_eq!(fake.requests(Op::VideoList), 3);
    assert_eq!(items[0].title, "v23", "newest first");
    assert_eq!(items[24].item_id, p.item_id);
    assert!(items
        .iter()
        .all(|i| i.is_reviewed && i.statistics.play_count > 0));

    let ids: Vec<String> = items.iter().map(|i| i.item_id.clone()).collect();
    let stats = conn_douyin::Statistics {
        play_count: 12345,
        digg_count: 6,
        ..Default::default()
    };
    assert!(fake.set_statistics(&ids[3], stats.clone()));
    let data = client.video_data(&open_id, &ids).await.unwrap();
    assert_eq!(fake.requests(Op::VideoData), 2, "25 ids in batches of 20");
    assert_eq!(data.len(), 25);
    assert_eq!(data[3].statistics, stats);
}

#[tokio::test]
async fn platform_codes_on_publish_are_typed() {
    let fake = FakeDouyin::builder().daily_publish_limit(1).start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    let v = client
        .upload_video(&open_id, VideoSource::bytes(vec![1u8; 10]), None)
        .await
        .unwrap();
    client
        .create_video(&open_id, &v.video_id, &VideoPost::new("one"))
        .await
        .unwrap();
    // The same video_id twice: typed, names the field.
    let err = client
        .create_video(&open_id, &v.video_id, &VideoPost::new("again"))
        .await
        .unwrap_err();
    assert_eq!(err.platform_code(), Some("2190007"));
    assert!(err.to_string().contains("video_id"), "{err}");
    let v = client
        .upload_video(&open_id, VideoSource::bytes(vec![1u8; 10]), None)
        .await
        .unwrap();
    let err = client
        .create_video(&open_id, &v.video_id, &VideoPost::new("two"))
        .await
        .unwrap_err();
    assert_eq!(err.platform_code(), Some("2114007"));
    assert_eq!(err.api_kind(), Some(ApiErrorKind::QuotaExceeded));
    assert!(!err.is_retryable());
    assert_eq!(fake.requests(Op::CreateVideo), 3);
}

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_keeps_sizes_not_upload_bytes() {
    let fake = FakeDouyin::start().await;
    let (client, open_id, _) = logged_in(&fake).await;
    let size = 256 * MIB;
    let before = vm_rss_kib();
    let reader = tokio::io::AsyncReadExt::take(tokio::io::repeat(0x5a), size);
    let v = client
        .upload_video(&open_id, VideoSource::reader(reader, Some(size)), None)
        .await
        .unwrap();
    assert_eq!(v.parts, 13);
    let after = vm_rss_kib();
    let total: u64 = fake.chunked_uploads()[0].parts.iter().map(|(_, s)| s).sum();
    assert_eq!(total, size);
    if before > 0 {
        // Keeping the bodies (in the fake or in wiremock) would add 256 MiB.
        let grown_mib = after.saturating_sub(before) / 1024;
        eprintln!("resident memory: {before} KiB before, {after} KiB after a 256 MiB upload");
        assert!(grown_mib < 96, "resident memory grew by {grown_mib} MiB");
    }
}
