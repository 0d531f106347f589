//! Exactly-once creates through a journal: [`Journaled`] (its docs say how).

use std::sync::Arc;
use std::time::Duration;

use conn_core::error::{Error, OutcomeUnknown, Result};
use conn_core::journal::{
    now_ms, request_digest, run_once, Completed, Entry, Journal, OperationKey, Reconciled,
};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::client::Client;
use crate::envelope::{douyin_code, DouyinCode};
use crate::models::{wire_text, Anchor, Cover, ImagePost, ImageSource, VideoPost, VideoSource};
use crate::validate;
use crate::videos::VideoItem;
use crate::PLATFORM;

/// The journal operation of a keyed video create.
pub const CREATE_VIDEO_OP: &str = "create_video";
/// The journal operation of a keyed image-post create.
pub const CREATE_IMAGE_TEXT_OP: &str = "create_image_text";

/// How far reconciliation reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileWindow {
    /// Most items read before giving up as unknown (default 200).
    pub max_items: usize,
    /// Allowance for the platform's clock being behind ours (default 10 minutes): items are
    /// read down to the entry's creation time less this.
    pub clock_slack: Duration,
    /// How old an image-post create must be before its absence counts as "not done"
    /// (default 5 minutes).
    pub image_settle: Duration,
}

impl Default for ReconcileWindow {
    fn default() -> Self {
        Self {
            max_items: 200,
            clock_slack: Duration::from_secs(600),
            image_settle: Duration::from_secs(300),
        }
    }
}

/// A [`Client`] whose creates go through a [`Journal`].
///
/// Exactly-once publishing: keyed creates through a conn-core [`Journal`].
///
/// [`Client::journaled`] gives a [`Journaled`] client whose creates take an [`OperationKey`]
/// chosen by the caller ("campaign-42/video-1"). The same keyed call can then be made again
/// after a crash, a timeout or by a second replica: it publishes at most once.
///
/// ```
/// # #[cfg(not(feature = "fake"))] fn main() {}
/// # #[cfg(feature = "fake")] fn main() {
/// use std::sync::Arc;
/// use conn_core::journal::{How, Journal, MemoryJournal, OperationKey};
/// use conn_douyin::{fake::FakeDouyin, Client, VideoPost, VideoSource};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let fake = FakeDouyin::start().await;
/// let client = Client::new(fake.config())?;
/// let open_id = fake.open_id().to_owned();
/// client.set_tokens(&open_id, fake.authorize(&open_id, &["video.create.bind", "video.list.bind"])).await?;
///
/// // Durable in production: conn_creds::FileJournal or conn_redis::RedisJournal.
/// let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
/// let douyin = client.journaled(journal);
/// let key = OperationKey::new("campaign-42/video-1")?;
/// let post = VideoPost::new("九点档");
///
/// let first = douyin.publish_video(&key, &open_id, VideoSource::bytes(vec![0u8; 1024]), &post).await?;
/// let again = douyin.publish_video(&key, &open_id, VideoSource::bytes(vec![0u8; 1024]), &post).await?;
/// assert_eq!(first.id, again.id);
/// assert_eq!(again.how, How::Recorded); // nothing uploaded or sent the second time
/// assert_eq!(fake.items(Some(&open_id)).len(), 1);
/// # Ok::<(), conn_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
///
/// ## What is recorded, and when
///
/// 1. `begin`: `{key, douyin, create_video | create_image_text, open_id, digest, sending}` is
///    durable before anything is uploaded. The digest covers the post (the wire `text`,
///    cover, privacy, anchor, mentions, download, music) and the source's identity (a path, a
///    `video_id`/image id, or a byte source's file name and length; bytes are not hashed).
/// 2. After the upload, the `video_id` (or the image ids) is noted durably, **before** the
///    create is sent.
/// 3. The create's result: `done {item_id}`, or a definite failure.
///
/// ## Reconciliation, and how conclusive it is
///
/// Found `sending`, the journal reconciles through `video_list` (an idempotent read) before
/// anything else:
///
/// - **Videos**: no `video_id` noted means the create was never sent (it is noted first):
///   not done. Otherwise the account's items are read newest first and matched on
///   `video_id`. A match is conclusive (every create needs a fresh `video_id`): done. No match
///   down to the entry's creation time (less [`ReconcileWindow::clock_slack`]): not done, and
///   the resend **reuses the noted `video_id`**, which the platform accepts for one create only;
///   so even an item the platform took but does not list yet cannot be published twice: that
///   resend is refused (2190007) and reported as an unknown outcome, never as success.
///   More than [`ReconcileWindow::max_items`] items newer than the entry: unknown.
/// - **Image posts**: there is no per-create id to match, so items in the window whose title
///   is the post's exact text are counted: one is done; several is unknown (the text is not
///   unique enough to tell). None is "not done" only once the create is older than
///   [`ReconcileWindow::image_settle`] after it was sent (an accepted post may take a
///   moment to be listed);
///   before that it is unknown. This is the less conclusive of the two: choose distinctive
///   texts for keyed image posts.
///
/// An unknown reconciliation is [`conn_core::Error::OutcomeUnknown`] with `operation_key` and
/// `checked` in its context; nothing is sent until a later call (or `connectors journal
/// reconcile`) settles it.
#[derive(Debug, Clone)]
pub struct Journaled {
    client: Client,
    journal: Arc<dyn Journal>,
    window: ReconcileWindow,
}

impl Client {
    /// This client with keyed, exactly-once creates recorded in `journal`.
    pub fn journaled(&self, journal: Arc<dyn Journal>) -> Journaled {
        Journaled {
            client: self.clone(),
            journal,
            window: ReconcileWindow::default(),
        }
    }
}

fn anchor_json(a: Option<&Anchor>) -> Value {
    match a {
        None => Value::Null,
        Some(Anchor::Poi { poi_id }) => json!({"poi_id": poi_id}),
        Some(Anchor::MicroApp { app_id, title, url }) => {
            json!({"micro_app_id": app_id, "micro_app_title": title, "micro_app_url": url})
        }
    }
}

fn video_post_json(post: &VideoPost) -> Value {
    json!({
        "text": wire_text(&post.title, &post.description),
        "cover": match &post.cover {
            None => Value::Null,
            Some(Cover::Timestamp(t)) => json!({"cover_tsp": t}),
            Some(Cover::ImageUrl(u)) => json!({"custom_cover_image_url": u}),
        },
        "private_status": post.privacy.wire(),
        "anchor": anchor_json(post.anchor.as_ref()),
        "at_users": post.at_users,
        "allow_download": post.allow_download,
    })
}

fn image_post_json(post: &ImagePost) -> Value {
    json!({
        "text": wire_text(&post.title, &post.description),
        "private_status": post.privacy.wire(),
        "anchor": anchor_json(post.anchor.as_ref()),
        "at_users": post.at_users,
        "allow_download": post.allow_download,
        "music_id": post.music_id,
    })
}

fn video_source_json(s: &VideoSource) -> Value {
    match s {
        VideoSource::Path(p) => json!({"path": p.display().to_string()}),
        VideoSource::Reader { len, file_name, .. } => json!({"stream": file_name, "len": len}),
        VideoSource::Bytes { data, file_name } => json!({"bytes": file_name, "len": data.len()}),
        VideoSource::VideoId(id) => json!({"video_id": id}),
    }
}

fn image_source_json(s: &ImageSource) -> Value {
    match s {
        ImageSource::Path(p) => json!({"path": p.display().to_string()}),
        ImageSource::Bytes { data, file_name } => json!({"bytes": file_name, "len": data.len()}),
        ImageSource::ImageId(id) => json!({"image_id": id}),
    }
}

/// A resend that reused the noted `video_id` was refused as a bad/used `video_id`: the earlier
/// create most likely took effect without being listed yet. Never report that as done.
fn used_video_id(video_id: &str, e: Error) -> Error {
    OutcomeUnknown::new(PLATFORM, CREATE_VIDEO_OP, e)
        .with_context(vec![
            ("video_id".into(), video_id.to_owned()),
            (
                "checked".into(),
                "the platform refused the noted video_id again (2190007): an earlier create with it may have taken effect and not be listed yet".into(),
            ),
        ])
        .into()
}

impl Journaled {
    /// Sets how far reconciliation reads back.
    pub fn reconcile_window(mut self, window: ReconcileWindow) -> Self {
        self.window = window;
        self
    }

    /// The plain client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The journal.
    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.journal
    }

    /// Uploads (unless given a `video_id`) and publishes a video, at most once per `key`
    /// (see [`Journaled`]). `Completed::id` is the `item_id`; the entry's
    /// `detail("video_id")` the video used.
    pub async fn publish_video(
        &self,
        key: &OperationKey,
        open_id: &str,
        source: VideoSource,
        post: &VideoPost,
    ) -> Result<Completed> {
        let checked_open_id = validate::open_id(open_id)?;
        let checked_post = validate::video_post(&self.client.config().limits, post)?;
        let digest = request_digest(&json!({
            "open_id": open_id,
            "post": video_post_json(post),
            "source": video_source_json(&source),
        }));
        let entry = Entry::new(key.clone(), PLATFORM, CREATE_VIDEO_OP, open_id, digest);
        run_once(
            &self.journal,
            entry,
            |e| async move { self.reconcile(&e).await },
            |attempt| async move {
                let noted = attempt.entry().detail("video_id").map(str::to_owned);
                let video_id = match &noted {
                    Some(v) => v.clone(),
                    None => {
                        let v = match source {
                            VideoSource::VideoId(id) => id,
                            s => {
                                self.client
                                    .upload_video_checked(checked_open_id, s, None)
                                    .await?
                                    .video_id
                            }
                        };
                        // Durable before the create that uses it: reconciliation matches on it.
                        attempt.note("video_id", &v).await?;
                        v
                    }
                };
                match self
                    .client
                    .create_video_checked(checked_open_id, &video_id, checked_post)
                    .await
                {
                    Err(e)
                        if noted.is_some() && douyin_code(&e) == Some(DouyinCode::BadVideoId) =>
                    {
                        Err(used_video_id(&video_id, e))
                    }
                    other => other,
                }
            },
        )
        .await
    }

    /// Publishes an uploaded video at most once per `key`.
    pub async fn create_video(
        &self,
        key: &OperationKey,
        open_id: &str,
        video_id: &str,
        post: &VideoPost,
    ) -> Result<Completed> {
        self.publish_video(
            key,
            open_id,
            VideoSource::VideoId(video_id.to_owned()),
            post,
        )
        .await
    }

    /// Uploads the images (unless given ids) and publishes them as one image post, at most
    /// once per `key`. Reconciliation is less conclusive than for videos ([`Journaled`]).
    pub async fn publish_images(
        &self,
        key: &OperationKey,
        open_id: &str,
        images: Vec<ImageSource>,
        post: &ImagePost,
    ) -> Result<Completed> {
        let checked_open_id = validate::open_id(open_id)?;
        let checked_post = validate::image_post(&self.client.config().limits, post, images.len())?;
        let digest = request_digest(&json!({
            "open_id": open_id,
            "post": image_post_json(post),
            "sources": images.iter().map(image_source_json).collect::<Vec<_>>(),
        }));
        let mut entry = Entry::new(key.clone(), PLATFORM, CREATE_IMAGE_TEXT_OP, open_id, digest);
        // Reconciliation matches on it; it is the post's public text, not a secret.
        entry
            .detail
            .insert("text".into(), wire_text(&post.title, &post.description));
        run_once(
            &self.journal,
            entry,
            |e| async move { self.reconcile(&e).await },
            |attempt| async move {
                let ids: Vec<String> = match attempt.entry().detail("image_ids") {
                    Some(noted) => noted.split(',').map(str::to_owned).collect(),
                    None => {
                        let mut ids = Vec::with_capacity(images.len());
                        for img in images {
                            let img =
                                validate::image_source(&self.client.config().limits, img).await?;
                            ids.push(
                                self.client
                                    .upload_image_checked(checked_open_id, img)
                                    .await?
                                    .image_id,
                            );
                        }
                        attempt.note("image_ids", &ids.join(",")).await?;
                        ids
                    }
                };
                // When the create left, for the settle time of a later reconciliation (the
                // entry's own timestamps move with every call).
                attempt.note("sent_at_ms", &now_ms().to_string()).await?;
                self.client
                    .create_image_text_checked(checked_open_id, &ids, checked_post)
                    .await
            },
        )
        .await
    }

    /// Publishes uploaded images at most once per `key`.
    pub async fn create_image_text(
        &self,
        key: &OperationKey,
        open_id: &str,
        image_ids: &[String],
        post: &ImagePost,
    ) -> Result<Completed> {
        let sources = image_ids
            .iter()
            .cloned()
            .map(ImageSource::ImageId)
            .collect();
        self.publish_images(key, open_id, sources, post).await
    }

    /// Reconciles an interrupted keyed create (an entry found `sending`) from the account's
    /// recent items; idempotent reads only. See the module docs for how conclusive it is.
    pub async fn reconcile(&self, entry: &Entry) -> Result<Reconciled> {
        match entry.operation.as_str() {
            CREATE_VIDEO_OP => self.reconcile_video(entry).await,
            CREATE_IMAGE_TEXT_OP => self.reconcile_images(entry).await,
            other => Err(Error::validation(
                "operation",
                format!("a Douyin journal operation ({CREATE_VIDEO_OP} or {CREATE_IMAGE_TEXT_OP}), got {other:?}"),
            )),
        }
    }

    /// Items newer than the entry (less the slack), newest first; `None` when more than
    /// `max_items` are.
    async fn window_items(&self, entry: &Entry) -> Result<Option<Vec<VideoItem>>> {
        let since = entry.created_at_ms / 1000
            - i64::try_from(self.window.clock_slack.as_secs()).unwrap_or(i64::MAX / 2);
        let count = self.client.config().limits.list_page_max.clamp(1, 20);
        let mut items = self.client.video_list(entry.account.clone(), count);
        let mut out = Vec::new();
        while let Some(item) = items.try_next().await? {
            if item.create_time < since {
                return Ok(Some(out));
            }
            if out.len() >= self.window.max_items {
                return Ok(None);
            }
            out.push(item);
        }
        Ok(Some(out))
    }

    async fn reconcile_video(&self, entry: &Entry) -> Result<Reconciled> {
        let Some(video_id) = entry.detail("video_id") else {
            // The video_id is noted before the create is sent: none noted, none sent.
            return Ok(Reconciled::NotDone);
        };
        let Some(items) = self.window_items(entry).await? else {
            return Ok(Reconciled::Unknown {
                checked: format!(
                    "more than {} items of {} are newer than the create; video_id {video_id} not among them",
                    self.window.max_items, entry.account
                ),
                cause: None,
            });
        };
        Ok(match items.iter().find(|i| i.video_id == video_id) {
            Some(i) => Reconciled::Done(i.item_id.clone()),
            None => Reconciled::NotDone,
        })
    }

    async fn reconcile_images(&self, entry: &Entry) -> Result<Reconciled> {
        let Some(ids) = entry.detail("image_ids") else {
            // Image ids are noted before the create is sent: none noted, none sent.
            return Ok(Reconciled::NotDone);
        };
        let text = entry.detail("text").unwrap_or_default();
        let Some(items) = self.window_items(entry).await? else {
            return Ok(Reconciled::Unknown {
                checked: format!(
                    "more than {} items of {} are newer than the create",
                    self.window.max_items, entry.account
                ),
                cause: None,
            });
        };
        let matches: Vec<&VideoItem> = items
            .iter()
            .filter(|i| i.title == text && i.video_id.is_empty())
            .collect();
        let sent_at = entry
            .detail("sent_at_ms")
            .and_then(|t| t.parse::<i64>().ok())
            .unwrap_or(entry.created_at_ms);
        let age_ms = now_ms().saturating_sub(sent_at);
        let settle_ms = i64::try_from(self.window.image_settle.as_millis()).unwrap_or(i64::MAX);
        Ok(match matches.as_slice() {
            [one] => Reconciled::Done(one.item_id.clone()),
            [] if age_ms >= settle_ms => Reconciled::NotDone,
            [] => Reconciled::Unknown {
                checked: format!(
                    "no item with the post's text yet (images {ids}); an image post is only taken as absent {:?} after its create",
                    self.window.image_settle
                ),
                cause: None,
            },
            many => Reconciled::Unknown {
                checked: format!(
                    "{} items in the window carry the post's exact text; cannot tell which, if any, is this create",
                    many.len()
                ),
                cause: None,
            },
        })
    }
}
