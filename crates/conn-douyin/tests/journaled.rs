//! Keyed creates in one process: faults of the reliability matrix applied to keyed creates
//! (0 duplicates whatever happens), reconciliation of videos and image posts, conflicts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use conn_core::journal::{How, Journal, MemoryJournal, OperationKey, State};
use conn_core::Error;
use conn_douyin::fake::{FakeDouyin, Fault, Op};
use conn_douyin::{ImagePost, ImageSource, Journaled, ReconcileWindow, VideoPost, VideoSource};

async fn setup(attempt_timeout: Duration) -> (FakeDouyin, Journaled, MemoryJournal, String) {
    let fake = FakeDouyin::start().await;
    let mut cfg = fake.config();
    cfg.transport.attempt_timeout = attempt_timeout;
    let (client, open_id, _) = common::logged_in_with(&fake, cfg).await;
    let journal = MemoryJournal::new();
    let douyin = client.journaled(Arc::new(journal.clone()) as Arc<dyn Journal>);
    (fake, douyin, journal, open_id)
}

fn key(k: &str) -> OperationKey {
    OperationKey::new(k).unwrap()
}

fn video() -> VideoSource {
    VideoSource::bytes(vec![1u8; 4096])
}

#[tokio::test]
async fn every_fault_on_a_keyed_create_ends_with_one_item() {
    // The create faults of the reliability matrix: some never did the work (busy, 503, dropped
    // connection), some did it and the answer was lost (slow past the timeout, cut body).
    let faults = [
        Fault::Busy,
        Fault::RateLimited,
        Fault::Status(503),
        Fault::Drop,
        Fault::Cut,
        Fault::Delay(Duration::from_millis(800)),
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        let (fake, douyin, _, open_id) = setup(Duration::from_millis(300)).await;
        let k = key(&format!("fault-{i}"));
        let post = VideoPost::new(format!("fault {i}"));
        fake.fail_next(Op::CreateVideo, fault.clone(), 1);
        let mut outcome = douyin.publish_video(&k, &open_id, video(), &post).await;
        // Bounded: an unknown outcome is settled by the next call.
        for _ in 0..3 {
            match &outcome {
                Err(e) if e.is_outcome_unknown() => {
                    tokio::time::sleep(Duration::from_millis(900)).await;
                    outcome = douyin.publish_video(&k, &open_id, video(), &post).await;
                }
                _ => break,
            }
        }
        let done = match outcome {
            Ok(d) => d,
            // A definite failure (a 503 is not retried for a create): the next call sends again.
            Err(e) => {
                assert!(!e.is_outcome_unknown(), "{fault:?}: {e}");
                douyin
                    .publish_video(&k, &open_id, video(), &post)
                    .await
                    .unwrap()
            }
        };
        let items = fake.items(Some(&open_id));
        assert_eq!(items.len(), 1, "{fault:?}: {items:?}");
        assert_eq!(items[0].item_id, done.id, "{fault:?}");
        // And once more: recorded, nothing sent.
        let creates = fake.requests(Op::CreateVideo);
        let again = douyin
            .publish_video(&k, &open_id, video(), &post)
            .await
            .unwrap();
        assert_eq!((again.id, again.how), (done.id, How::Recorded));
        assert_eq!(fake.requests(Op::CreateVideo), creates, "{fault:?}");
    }
}

#[tokio::test]
async fn a_lost_answer_is_found_by_video_id_not_sent_again() {
    let (fake, douyin, journal, open_id) = setup(Duration::from_millis(200)).await;
    let k = key("campaign-42/video-1");
    let post = VideoPost::new("九点档");
    fake.fail_next(Op::CreateVideo, Fault::Delay(Duration::from_millis(500)), 1);
    let err = douyin
        .publish_video(&k, &open_id, video(), &post)
        .await
        .unwrap_err();
    let Error::OutcomeUnknown(o) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(o.context("operation_key"), Some("campaign-42/video-1"));
    let e = journal.get(&k).await.unwrap().unwrap();
    assert_eq!(e.state, State::Sending);
    let video_id = e.detail("video_id").unwrap().to_owned();

    tokio::time::sleep(Duration::from_millis(600)).await;
    let (uploads, creates) = (
        fake.requests(Op::UploadVideo),
        fake.requests(Op::CreateVideo),
    );
    let done = douyin
        .publish_video(&k, &open_id, video(), &post)
        .await
        .unwrap();
    assert_eq!(done.how, How::Reconciled);
    assert_eq!(
        (
            fake.requests(Op::UploadVideo),
            fake.requests(Op::CreateVideo)
        ),
        (uploads, creates)
    );
    let items = fake.items(Some(&open_id));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].video_id.as_deref(), Some(video_id.as_str()));
    assert_eq!(done.id, items[0].item_id);
}

#[tokio::test]
async fn the_same_key_for_another_post_is_a_conflict_and_sends_nothing() {
    let (fake, douyin, _, open_id) = setup(Duration::from_secs(5)).await;
    let k = key("k-1");
    douyin
        .publish_video(&k, &open_id, video(), &VideoPost::new("a"))
        .await
        .unwrap();
    let (uploads, creates) = (
        fake.requests(Op::UploadVideo),
        fake.requests(Op::CreateVideo),
    );
    for other in [
        douyin
            .publish_video(&k, &open_id, video(), &VideoPost::new("b"))
            .await,
        douyin
            .publish_video(
                &k,
                &open_id,
                VideoSource::bytes(vec![1u8; 10]),
                &VideoPost::new("a"),
            )
            .await,
        douyin
            .publish_images(
                &k,
                &open_id,
                vec![ImageSource::bytes(vec![1u8; 64], "a.jpg")],
                &ImagePost::new("a"),
            )
            .await,
    ] {
        let e = other.unwrap_err();
        assert!(e.is_journal_conflict(), "{e}");
    }
    assert_eq!(
        (
            fake.requests(Op::UploadVideo),
            fake.requests(Op::CreateVideo)
        ),
        (uploads, creates)
    );
    assert_eq!(fake.requests(Op::UploadImage), 0);
}

#[tokio::test]
async fn image_posts_reconcile_on_their_text_and_stay_unknown_while_recent() {
    let (fake, douyin, journal, open_id) = setup(Duration::from_millis(200)).await;
    let k = key("img-1");
    let post = ImagePost::new("图文 img-1 独特文案")
        .allow_download(false)
        .music_id("7001");
    let images = || vec![ImageSource::bytes(vec![1u8; 64], "a.jpg")];
    fake.fail_next(
        Op::CreateImageText,
        Fault::Delay(Duration::from_millis(400)),
        1,
    );
    let err = douyin
        .publish_images(&k, &open_id, images(), &post)
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown(), "{err}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let done = douyin
        .publish_images(&k, &open_id, images(), &post)
        .await
        .unwrap();
    assert_eq!(done.how, How::Reconciled);
    assert_eq!(fake.items(Some(&open_id)).len(), 1);
    assert_eq!(fake.requests(Op::CreateImageText), 1);

    // A create that never reached the platform (dropped before it was taken), still recent:
    // absence is not proof yet, so nothing is sent.
    let k2 = key("img-2");
    let post2 = ImagePost::new("图文 img-2");
    fake.fail_next(
        Op::CreateImageText,
        Fault::Delay(Duration::from_millis(400)),
        1,
    );
    let _ = douyin
        .publish_images(&k2, &open_id, images(), &post2)
        .await
        .unwrap_err();
    // Forget the item the slow fault created, as if the platform had never taken it.
    let mut entries = journal.list().await.unwrap();
    let e2 = entries.iter_mut().find(|e| e.key == k2).unwrap();
    e2.detail
        .insert("text".into(), "a text nobody posted".into());
    journal.replace_entries(entries);
    let err = douyin
        .publish_images(&k2, &open_id, images(), &post2)
        .await
        .unwrap_err();
    let Error::OutcomeUnknown(o) = &err else {
        panic!("{err:?}")
    };
    assert!(
        o.context("checked")
            .unwrap()
            .contains("only taken as absent"),
        "{err}"
    );
    // Past the settle time it counts as absent and is sent, reusing the uploaded images.
    let settled = douyin.clone().reconcile_window(ReconcileWindow {
        image_settle: Duration::ZERO,
        ..ReconcileWindow::default()
    });
    let uploads = fake.requests(Op::UploadImage);
    let sent = settled
        .publish_images(&k2, &open_id, images(), &post2)
        .await
        .unwrap();
    assert_eq!(sent.how, How::ReconciledThenSent);
    assert_eq!(
        fake.requests(Op::UploadImage),
        uploads,
        "the noted image ids are reused"
    );
}

#[tokio::test]
async fn a_definite_failure_is_recorded_then_sent_again() {
    let (fake, douyin, journal, open_id) = setup(Duration::from_secs(5)).await;
    let k = key("limit-1");
    let post = VideoPost::new("daily");
    fake.fail_next(
        Op::CreateVideo,
        Fault::Code(2114007, "daily publish limit".into()),
        1,
    );
    let err = douyin
        .publish_video(&k, &open_id, video(), &post)
        .await
        .unwrap_err();
    assert!(!err.is_outcome_unknown(), "{err}");
    let e = journal.get(&k).await.unwrap().unwrap();
    assert!(
        matches!(&e.state, State::Failed { code: Some(c), .. } if c == "2114007"),
        "{e:?}"
    );
    let uploads = fake.requests(Op::UploadVideo);
    let done = douyin
        .publish_video(&k, &open_id, video(), &post)
        .await
        .unwrap();
    assert_eq!(done.how, How::Sent);
    assert_eq!(
        fake.requests(Op::UploadVideo),
        uploads,
        "the unused video_id is reused"
    );
    assert_eq!(fake.items(Some(&open_id)).len(), 1);
}

#[tokio::test]
async fn list_items_carry_video_id_and_video_data_selects_by_video_ids() {
    use conn_core::connector::{Connector, RawRequest};
    use futures::TryStreamExt;

    let (fake, douyin, _, open_id) = setup(Duration::from_secs(5)).await;
    let done = douyin
        .publish_video(&key("vid-1"), &open_id, video(), &VideoPost::new("v"))
        .await
        .unwrap();
    let video_id = done.entry.detail("video_id").unwrap().to_owned();
    let items: Vec<_> = douyin
        .client()
        .video_list(open_id.clone(), 10)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items[0].video_id, video_id);
    assert_eq!(
        fake.items(Some(&open_id))[0].video_id.as_deref(),
        Some(video_id.as_str())
    );

    // The official SDK sends `video_ids` as well as `item_ids`: the fake answers both.
    let mut raw = RawRequest::new(http::Method::POST, "/api/douyin/v1/video/video_data/");
    raw.data = Some(serde_json::json!({"video_ids": [video_id]}));
    raw.account = Some(open_id.clone());
    let r = douyin.client().call(raw).await.unwrap();
    let list = &r.body["data"]["list"];
    assert_eq!(list[0]["item_id"], done.id.as_str(), "{}", r.body);
    assert_eq!(list[0]["video_id"], video_id.as_str());
}
