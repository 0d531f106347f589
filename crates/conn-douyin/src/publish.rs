//! Publishing: `create_video` and `create_image_text`, and the upload-then-create flows.
//!
//! A create is **not idempotent**: once the request may have reached the platform it is never
//! replayed (a replay could publish twice). A timeout, a 5xx or a dropped connection there comes
//! back as [`conn_core::Error::OutcomeUnknown`] whose context carries `open_id` and `video_id`
//! (or `image_ids`), so the caller can check `video_list` before trying again. A connect error,
//! HTTP 429 and the platform's "busy"/"too frequent" codes are retried (the platform did not take
//! the work), and a token-expired answer is refreshed once and replayed once.
//!
//! Each public flow checks its input once ([`crate::validate`]) and hands the proofs to the
//! internal `*_checked` functions, which check nothing again. The post's wire `text` is
//! [`wire_text`].

use conn_core::error::{Error, Result};
use conn_core::lenient;
use conn_core::retry::Idempotency;
use http::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::endpoint::{CREATE_IMAGE_TEXT_PATH, CREATE_VIDEO_PATH};
use crate::envelope::data_of;
use crate::models::{
    wire_text, Anchor, Cover, ImagePost, ImageSource, ProgressFn, Published, VideoPost, VideoSource,
};
use crate::validate::{self, Valid};

#[derive(Serialize, Default)]
struct AnchorFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    poi_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    micro_app_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    micro_app_title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    micro_app_url: Option<&'a str>,
}

fn anchor_fields(a: Option<&Anchor>) -> AnchorFields<'_> {
    match a {
        None => AnchorFields::default(),
        Some(Anchor::Poi { poi_id }) => AnchorFields {
            poi_id: Some(poi_id),
            ..AnchorFields::default()
        },
        Some(Anchor::MicroApp { app_id, title, url }) => AnchorFields {
            micro_app_id: Some(app_id),
            micro_app_title: Some(title),
            micro_app_url: Some(url),
            ..AnchorFields::default()
        },
    }
}

#[derive(Serialize)]
struct CreateVideoBody<'a> {
    video_id: &'a str,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cover_tsp: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_cover_image_url: Option<&'a str>,
    #[serde(flatten)]
    anchor: AnchorFields<'a>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    at_users: &'a [String],
    private_status: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    download_type: Option<u8>,
}

#[derive(Serialize)]
struct CreateImageTextBody<'a> {
    image_list: &'a [String],
    text: String,
    #[serde(flatten)]
    anchor: AnchorFields<'a>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    at_users: &'a [String],
    private_status: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    download_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    music_id: Option<&'a str>,
}

/// `download_type` on the wire: 1 allowed, 2 not.
fn download_type(allow: Option<bool>) -> Option<u8> {
    allow.map(|a| if a { 1 } else { 2 })
}

#[derive(Deserialize)]
struct ItemData {
    #[serde(deserialize_with = "lenient::string")]
    item_id: String,
}

/// The new item's id from a create's success answer. An answer without one (cut, malformed,
/// an empty id) may still mean the post was published, so it is an unknown outcome, never a
/// plain decode error: the transport's [`Response::outcome_of`] makes it one.
///
/// [`Response::outcome_of`]: conn_core::transport::Response::outcome_of
fn item_id_of(resp: &conn_core::transport::Response) -> Result<String> {
    let d: ItemData = data_of(resp)?;
    if d.item_id.trim().is_empty() {
        return resp.outcome_of(Err(Error::from(conn_core::error::DecodeError {
            platform: crate::PLATFORM.into(),
            operation: resp.operation().to_owned().into(),
            path: "data.item_id".into(),
            excerpt: conn_core::error::excerpt(&resp.body),
            source: <serde_json::Error as serde::de::Error>::custom("empty item_id"),
        })));
    }
    Ok(d.item_id)
}

impl Client {
    /// Publishes an uploaded video (`create_video`). Validated before any request; never
    /// replayed once it may have reached the platform (see the module docs).
    pub async fn create_video(
        &self,
        open_id: &str,
        video_id: &str,
        post: &VideoPost,
    ) -> Result<String> {
        let open_id = validate::open_id(open_id)?;
        let post = validate::video_post(&self.config().limits, post)?;
        self.create_video_checked(open_id, video_id, post).await
    }

    /// [`Client::create_video`] with the account and the post checked. The `video_id` is
    /// checked here, its one place: in a publish it is the platform's upload answer.
    #[tracing::instrument(
        skip(self, open_id, post),
        fields(open_id = *open_id),
        name = "douyin.create_video"
    )]
    pub(crate) async fn create_video_checked(
        &self,
        open_id: Valid<&str>,
        video_id: &str,
        post: Valid<&VideoPost>,
    ) -> Result<String> {
        let (open_id, post) = (open_id.into_inner(), post.into_inner());
        if video_id.trim().is_empty() {
            return Err(Error::validation("video_id", "required"));
        }
        let (cover_tsp, custom_cover_image_url) = match &post.cover {
            None => (None, None),
            Some(Cover::Timestamp(t)) => (Some(*t), None),
            Some(Cover::ImageUrl(u)) => (None, Some(u.as_str())),
        };
        let body = CreateVideoBody {
            video_id,
            text: wire_text(&post.title, &post.description),
            cover_tsp,
            custom_cover_image_url,
            anchor: anchor_fields(post.anchor.as_ref()),
            at_users: &post.at_users,
            private_status: post.privacy.wire(),
            download_type: download_type(post.allow_download),
        };
        let req = self
            .api_request(
                "create_video",
                Method::POST,
                CREATE_VIDEO_PATH,
                open_id,
                Idempotency::NonIdempotent,
            )
            .json(&body)?
            .outcome_context("open_id", open_id)
            .outcome_context("video_id", video_id);
        let item_id = item_id_of(&self.execute_for(open_id, req).await?)?;
        tracing::info!(item_id = %item_id, "video published");
        Ok(item_id)
    }

    /// Publishes uploaded images (`create_image_text`). Validated before any request; never
    /// replayed once it may have reached the platform.
    pub async fn create_image_text(
        &self,
        open_id: &str,
        image_ids: &[String],
        post: &ImagePost,
    ) -> Result<String> {
        let open_id = validate::open_id(open_id)?;
        let post = validate::image_post(&self.config().limits, post, image_ids.len())?;
        self.create_image_text_checked(open_id, image_ids, post)
            .await
    }

    /// [`Client::create_image_text`] with the account and the post checked. The image ids are
    /// checked here, their one place: in a publish they are the platform's upload answers.
    #[tracing::instrument(
        skip(self, open_id, post),
        fields(open_id = *open_id),
        name = "douyin.create_image_text"
    )]
    pub(crate) async fn create_image_text_checked(
        &self,
        open_id: Valid<&str>,
        image_ids: &[String],
        post: Valid<&ImagePost>,
    ) -> Result<String> {
        let (open_id, post) = (open_id.into_inner(), post.into_inner());
        if let Some(i) = image_ids.iter().position(|id| id.trim().is_empty()) {
            return Err(Error::validation(format!("images[{i}]"), "an image id"));
        }
        let body = CreateImageTextBody {
            image_list: image_ids,
            text: wire_text(&post.title, &post.description),
            anchor: anchor_fields(post.anchor.as_ref()),
            at_users: &post.at_users,
            private_status: post.privacy.wire(),
            download_type: download_type(post.allow_download),
            music_id: post.music_id.as_deref(),
        };
        let req = self
            .api_request(
                "create_image_text",
                Method::POST,
                CREATE_IMAGE_TEXT_PATH,
                open_id,
                Idempotency::NonIdempotent,
            )
            .json(&body)?
            .outcome_context("open_id", open_id)
            .outcome_context("image_ids", image_ids.join(","));
        let item_id = item_id_of(&self.execute_for(open_id, req).await?)?;
        tracing::info!(item_id = %item_id, "image post published");
        Ok(item_id)
    }

    /// Uploads (unless given a `video_id`) and publishes a video.
    pub async fn publish_video(
        &self,
        open_id: &str,
        source: VideoSource,
        post: &VideoPost,
    ) -> Result<Published> {
        self.publish_video_inner(open_id, source, post, None).await
    }

    /// Like [`Client::publish_video`], reporting upload progress.
    pub async fn publish_video_with_progress(
        &self,
        open_id: &str,
        source: VideoSource,
        post: &VideoPost,
        progress: &ProgressFn,
    ) -> Result<Published> {
        self.publish_video_inner(open_id, source, post, Some(progress))
            .await
    }

    async fn publish_video_inner(
        &self,
        open_id: &str,
        source: VideoSource,
        post: &VideoPost,
        progress: Option<&ProgressFn>,
    ) -> Result<Published> {
        // Checked once, before uploading anything.
        let open_id = validate::open_id(open_id)?;
        let post = validate::video_post(&self.config().limits, post)?;
        let video = self.upload_video_checked(open_id, source, progress).await?;
        let item_id = self
            .create_video_checked(open_id, &video.video_id, post)
            .await?;
        Ok(Published {
            item_id,
            open_id: open_id.into_inner().to_owned(),
            video_id: Some(video.video_id),
            image_ids: Vec::new(),
        })
    }

    /// Uploads each image (sources are checked before the first upload) and publishes them as
    /// one image post.
    pub async fn publish_images(
        &self,
        open_id: &str,
        images: Vec<ImageSource>,
        post: &ImagePost,
    ) -> Result<Published> {
        let open_id = validate::open_id(open_id)?;
        let post = validate::image_post(&self.config().limits, post, images.len())?;
        let mut checked = Vec::with_capacity(images.len());
        for (i, img) in images.into_iter().enumerate() {
            checked.push(
                validate::image_source(&self.config().limits, img)
                    .await
                    .map_err(|e| match e {
                        Error::Validation(v) => Error::validation(
                            format!("images[{i}]"),
                            format!("{}: {}", v.field, v.rule),
                        ),
                        other => other,
                    })?,
            );
        }
        let mut ids = Vec::with_capacity(checked.len());
        for img in checked {
            ids.push(self.upload_image_checked(open_id, img).await?.image_id);
        }
        let item_id = self.create_image_text_checked(open_id, &ids, post).await?;
        Ok(Published {
            item_id,
            open_id: open_id.into_inner().to_owned(),
            video_id: None,
            image_ids: ids,
        })
    }
}

#[cfg(all(test, feature = "fake"))]
mod tests {
    use super::*;
    use crate::fake::{FakeDouyin, ALL_SCOPES};
    use crate::validate::ran;

    /// Each publish checks the account and the post once (and each image once), however many
    /// internal steps (upload, create) it takes.
    #[tokio::test]
    async fn a_publish_checks_its_input_once() {
        let fake = FakeDouyin::start().await;
        let client = Client::new(fake.config()).unwrap();
        let code = fake.issue_code(fake.open_id(), ALL_SCOPES);
        let open_id = client.exchange_code(&code).await.unwrap().open_id;
        ran::take();

        client
            .publish_video(
                &open_id,
                VideoSource::bytes(vec![0u8; 1024]),
                &VideoPost::new("t"),
            )
            .await
            .unwrap();
        assert_eq!(ran::take(), ["open_id", "video_post"]);

        let images = vec![
            ImageSource::bytes(vec![1u8; 64], "a.jpg"),
            ImageSource::bytes(vec![2u8; 64], "b.jpg"),
        ];
        client
            .publish_images(&open_id, images, &ImagePost::new("t"))
            .await
            .unwrap();
        assert_eq!(
            ran::take(),
            ["open_id", "image_post", "image_source", "image_source"]
        );

        let video = client
            .upload_video(&open_id, VideoSource::bytes(vec![0u8; 1024]), None)
            .await
            .unwrap();
        assert_eq!(ran::take(), ["open_id"]);
        client
            .create_video(&open_id, &video.video_id, &VideoPost::new("t"))
            .await
            .unwrap();
        assert_eq!(ran::take(), ["open_id", "video_post"]);
    }
}
