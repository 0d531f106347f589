//! Fault *sequences* over every create of the crate (`create_video`, `create_image_text`,
//! `publish_video`, `publish_images`) against the stateful fake: "received, then 429 ×3",
//! "429 ×3, then received", "busy, then timeout after send", "cut 2xx", "too frequent ×3, then
//! success". Each asserts how many times the fake saw the create, how many posts it made, the
//! outcome kind, and that the retry-safe faults were retried.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use conn_core::error::Error;
use conn_douyin::fake::{FakeDouyin, Fault, Op};
use conn_douyin::{Client, ImagePost, ImageSource, VideoPost, VideoSource};

use common::logged_in;

/// Logged in through a patient client, then a client sharing its tokens whose attempts time
/// out after 400 ms (uploads go through the patient one).
async fn setup() -> (FakeDouyin, Client, Client, String) {
    let fake = FakeDouyin::start().await;
    let (patient, open_id, store) = logged_in(&fake).await;
    let mut cfg = fake.config();
    cfg.transport.attempt_timeout = Duration::from_millis(400);
    let client = Client::builder(cfg)
        .token_store(Arc::new(store))
        .build()
        .unwrap();
    (fake, client, patient, open_id)
}

const SLOW: Fault = Fault::Delay(Duration::from_millis(1500));

/// The four creates, each run once on a fresh upload.
#[derive(Debug, Clone, Copy)]
enum Create {
    Video,
    ImageText,
    PublishVideo,
    PublishImages,
}

const ALL: [Create; 4] = [
    Create::Video,
    Create::ImageText,
    Create::PublishVideo,
    Create::PublishImages,
];

impl Create {
    fn op(self) -> Op {
        match self {
            Create::Video | Create::PublishVideo => Op::CreateVideo,
            Create::ImageText | Create::PublishImages => Op::CreateImageText,
        }
    }

    /// Runs the create; the uploads it needs go through `patient`.
    async fn run(
        self,
        client: &Client,
        patient: &Client,
        open_id: &str,
    ) -> conn_core::Result<String> {
        match self {
            Create::Video => {
                let v = patient
                    .upload_video(open_id, VideoSource::bytes(vec![1u8; 100]), None)
                    .await
                    .unwrap();
                client
                    .create_video(open_id, &v.video_id, &VideoPost::new("视频"))
                    .await
            }
            Create::ImageText => {
                let i = patient
                    .upload_image(open_id, ImageSource::bytes(vec![1u8; 10], "a.png"))
                    .await
                    .unwrap();
                client
                    .create_image_text(open_id, &[i.image_id], &ImagePost::new("图"))
                    .await
            }
            Create::PublishVideo => client
                .publish_video(
                    open_id,
                    VideoSource::bytes(vec![2u8; 100]),
                    &VideoPost::new("发布"),
                )
                .await
                .map(|p| p.item_id),
            Create::PublishImages => client
                .publish_images(
                    open_id,
                    vec![ImageSource::bytes(vec![2u8; 10], "b.png")],
                    &ImagePost::new("图集"),
                )
                .await
                .map(|p| p.item_id),
        }
    }
}

fn assert_unknown(err: &Error, open_id: &str, what: Create) {
    let Error::OutcomeUnknown(o) = err else {
        panic!("{what:?}: expected OutcomeUnknown, got {err:?}")
    };
    assert_eq!(o.context("open_id"), Some(open_id), "{what:?}");
    let id_key = match what.op() {
        Op::CreateVideo => "video_id",
        _ => "image_ids",
    };
    assert!(o.context(id_key).is_some(), "{what:?}: {:?}", o.context);
    assert!(o.idempotency_key.is_none(), "Douyin creates carry no key");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn received_then_429_three_times_is_sent_once_and_outcome_unknown() {
    for what in ALL {
        let (fake, client, patient, open_id) = setup().await;
        fake.fail_next(what.op(), SLOW, 1);
        fake.fail_next(what.op(), Fault::Status(429), 3);
        let err = what.run(&client, &patient, &open_id).await.unwrap_err();
        assert_unknown(&err, &open_id, what);
        assert!(err.is_timeout(), "{what:?}: {err}");
        assert_eq!(
            fake.requests(what.op()),
            1,
            "{what:?}: a received create is not resent"
        );
        assert_eq!(
            fake.items(Some(&open_id)).len(),
            1,
            "{what:?}: the fake did publish"
        );
    }
}

#[tokio::test]
async fn refused_three_times_then_received_is_outcome_unknown_after_three_retries() {
    for what in ALL {
        let (fake, client, patient, open_id) = setup().await;
        fake.fail_next(what.op(), Fault::Status(429), 3);
        fake.fail_next(what.op(), SLOW, 1);
        let err = what.run(&client, &patient, &open_id).await.unwrap_err();
        assert_unknown(&err, &open_id, what);
        assert_eq!(
            fake.requests(what.op()),
            4,
            "{what:?}: each 429 was retried"
        );
        assert_eq!(fake.items(Some(&open_id)).len(), 1, "{what:?}");
    }
}

#[tokio::test]
async fn busy_then_timeout_after_send_is_outcome_unknown_after_one_retry() {
    for what in ALL {
        let (fake, client, patient, open_id) = setup().await;
        fake.fail_next(what.op(), Fault::Busy, 1);
        fake.fail_next(what.op(), SLOW, 1);
        let err = what.run(&client, &patient, &open_id).await.unwrap_err();
        assert_unknown(&err, &open_id, what);
        assert!(err.is_timeout(), "{what:?}: {err}");
        assert_eq!(
            fake.requests(what.op()),
            2,
            "{what:?}: busy retried, timeout not"
        );
        assert_eq!(fake.items(Some(&open_id)).len(), 1, "{what:?}");
    }
}

#[tokio::test]
async fn a_cut_success_answer_is_outcome_unknown_with_the_decode_error_as_source() {
    for what in ALL {
        let (fake, client, patient, open_id) = setup().await;
        fake.fail_next(what.op(), Fault::Cut, 1);
        let err = what.run(&client, &patient, &open_id).await.unwrap_err();
        assert_unknown(&err, &open_id, what);
        let Error::OutcomeUnknown(o) = &err else {
            unreachable!()
        };
        assert!(
            matches!(o.first_cause(), Error::Decode(_)),
            "{what:?}: {:?}",
            o.source
        );
        assert_eq!(fake.requests(what.op()), 1, "{what:?}");
        assert_eq!(
            fake.items(Some(&open_id)).len(),
            1,
            "{what:?}: the work was done"
        );
    }
}

#[tokio::test]
async fn busy_then_cut_success_is_outcome_unknown_after_one_retry() {
    for what in ALL {
        let (fake, client, patient, open_id) = setup().await;
        fake.fail_next(what.op(), Fault::Busy, 1);
        fake.fail_next(what.op(), Fault::Cut, 1);
        let err = what.run(&client, &patient, &open_id).await.unwrap_err();
        assert_unknown(&err, &open_id, what);
        assert_eq!(fake.requests(what.op()), 2, "{what:?}");
    }
}

#[tokio::test]
async fn too_frequent_three_times_then_success_publishes_once() {
    for what in ALL {
        let (fake, client, patient, open_id) = setup().await;
        fake.fail_next(what.op(), Fault::RateLimited, 3);
        let item = what.run(&client, &patient, &open_id).await.unwrap();
        assert_eq!(fake.requests(what.op()), 4, "{what:?}");
        let items = fake.items(Some(&open_id));
        assert_eq!(items.len(), 1, "{what:?}");
        assert_eq!(items[0].item_id, item);
    }
}

#[tokio::test]
async fn a_5xx_then_anything_is_sent_once_and_outcome_unknown() {
    for what in ALL {
        let (fake, client, patient, open_id) = setup().await;
        fake.fail_next(what.op(), Fault::Status(503), 1);
        fake.fail_next(what.op(), Fault::Busy, 3);
        let err = what.run(&client, &patient, &open_id).await.unwrap_err();
        assert_unknown(&err, &open_id, what);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{what:?}");
        assert_eq!(fake.requests(what.op()), 1, "{what:?}");
    }
}
