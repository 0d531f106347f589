//! Publishing: `create_video` and `create_image_text`, and the upload-then-create flows.
//!
//! A create is **not idempotent**: once the request may have reached the platform it is never
//! replayed (a replay could publish twice). A timeout, a 5xx or a dropped connection there comes
//! back as [`conn_core::Error::OutcomeUnknown`] whose context carries `open_id` and `video_id`
//! (or `image_ids`), so the caller can check `video_list` before trying again. A connect error,
//! HTTP 429 and the platform's "busy"/"too frequent" codes are retried (the platform did not take
//! the work), and a token-expired answer is refreshed once and replayed once.
//!
//! ## The wire `text`
//! Douyin has a single `text` field (title, `#topics`, `@mentions`). [`wire_text`] builds it as
//! the trimmed title, then, when the description is not blank, a newline and the trimmed
//! description. Put `#话题` and `@昵称` where you want them in either part.

use conn_core::error::{Error, Result};
use conn_core::retry::Idempotency;
use http::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::envelope::data_of;
use crate::upload::{ImageSource, ProgressFn, VideoSource};
use conn_core::lenient;

use crate::validate;

/// Path of `create_video`.
pub const CREATE_VIDEO_PATH: &str = "/api/douyin/v1/video/create_video/";
/// Path of `create_image_text`.
pub const CREATE_IMAGE_TEXT_PATH: &str = "/api/douyin/v1/video/create_image_text/";

/// Who can see a post (`private_status` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Privacy {
    /// Everyone (0).
    #[default]
    Public,
    /// Only the author (1).
    OnlyMe,
    /// Friends (2); not allowed by the default [`Limits`](crate::Limits), as in the original
    /// system.
    Friends,
}

impl Privacy {
    /// The `private_status` value.
    pub fn wire(self) -> u8 {
        match self {
            Privacy::Public => 0,
            Privacy::OnlyMe => 1,
            Privacy::Friends => 2,
        }
    }
}

/// A video's cover.
#[derive(Debug, Clone, PartialEq)]
pub enum Cover {
    /// The frame at this many seconds (`cover_tsp`).
    Timestamp(f64),
    /// A custom cover image (`custom_cover_image_url`): what the platform returned for an image
    /// you uploaded.
    ImageUrl(String),
}

/// The one anchor a post may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// A point of interest (`poi_id`).
    Poi {
        /// The POI id.
        poi_id: String,
    },
    /// A mini app (`micro_app_id`, `micro_app_title`, `micro_app_url`).
    MicroApp {
        /// The mini app id.
        app_id: String,
        /// Its title.
        title: String,
        /// Its URL.
        url: String,
    },
}

/// What a video post says.
///
/// ```
/// use conn_douyin::{Anchor, Cover, Privacy, VideoPost};
/// let post = VideoPost::new("周末去爬山")
///     .description("#户外 和 @小明 一起")
///     .cover(Cover::Timestamp(1.5))
///     .privacy(Privacy::OnlyMe)
///     .anchor(Anchor::Poi { poi_id: "6601125408577488903".into() });
/// assert_eq!(conn_douyin::publish::wire_text(&post.title, &post.description), "周末去爬山\n#户外 和 @小明 一起");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoPost {
    /// Title (required; at most 55 characters by default).
    pub title: String,
    /// Description (at most 2000 characters by default).
    pub description: String,
    /// Cover.
    pub cover: Option<Cover>,
    /// Who can see it.
    pub privacy: Privacy,
    /// POI or mini-app anchor.
    pub anchor: Option<Anchor>,
    /// Mentioned users' open_ids (`at_users`).
    pub at_users: Vec<String>,
    /// Whether others may download the video (`download_type` 1 = yes, 2 = no); platform
    /// default when `None`.
    pub allow_download: Option<bool>,
}

impl VideoPost {
    /// A post with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Sets the cover.
    pub fn cover(mut self, c: Cover) -> Self {
        self.cover = Some(c);
        self
    }

    /// Sets the privacy.
    pub fn privacy(mut self, p: Privacy) -> Self {
        self.privacy = p;
        self
    }

    /// Sets the anchor.
    pub fn anchor(mut self, a: Anchor) -> Self {
        self.anchor = Some(a);
        self
    }

    /// Sets the mentioned users.
    pub fn at_users(mut self, users: Vec<String>) -> Self {
        self.at_users = users;
        self
    }

    /// Allows or forbids downloads.
    pub fn allow_download(mut self, allow: bool) -> Self {
        self.allow_download = Some(allow);
        self
    }
}

/// What an image post says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImagePost {
    /// Title (required; at most 55 characters by default).
    pub title: String,
    /// Description (at most 2000 characters by default).
    pub description: String,
    /// Who can see it (`private_status`; the official SDK sends it for image posts too).
    pub privacy: Privacy,
    /// POI or mini-app anchor.
    pub anchor: Option<Anchor>,
    /// Mentioned users' open_ids.
    pub at_users: Vec<String>,
    /// Whether others may download it (`download_type` 1 allowed, 2 not; unset: the
    /// platform's default).
    pub allow_download: Option<bool>,
    /// Background music (`music_id`, from the platform's music library).
    pub music_id: Option<String>,
}

impl ImagePost {
    /// Sets whether others may download it (`download_type`).
    ///
    /// ```
    /// let post = conn_douyin::ImagePost::new("t").allow_download(false).music_id("7001");
    /// assert_eq!((post.allow_download, post.music_id.as_deref()), (Some(false), Some("7001")));
    /// ```
    pub fn allow_download(mut self, allow: bool) -> Self {
        self.allow_download = Some(allow);
        self
    }

    /// Sets the background music (`music_id`).
    pub fn music_id(mut self, id: impl Into<String>) -> Self {
        self.music_id = Some(id.into());
        self
    }

    /// A post with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Sets the privacy.
    pub fn privacy(mut self, p: Privacy) -> Self {
        self.privacy = p;
        self
    }

    /// Sets the anchor.
    pub fn anchor(mut self, a: Anchor) -> Self {
        self.anchor = Some(a);
        self
    }

    /// Sets the mentioned users.
    pub fn at_users(mut self, users: Vec<String>) -> Self {
        self.at_users = users;
        self
    }
}

/// A published post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The new item's id (opaque; may contain `+ / =`).
    pub item_id: String,
    /// The account.
    pub open_id: String,
    /// The video used (video posts).
    pub video_id: Option<String>,
    /// The images used (image posts).
    pub image_ids: Vec<String>,
}

/// The wire `text`: the trimmed title, then a newline and the trimmed description when it is
/// not blank.
pub fn wire_text(title: &str, description: &str) -> String {
    let title = title.trim();
    let description = description.trim();
    if description.is_empty() {
        title.to_owned()
    } else {
        format!("{title}\n{description}")
    }
}

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
    #[tracing::instrument(skip(self, post), name = "douyin.create_video")]
    pub async fn create_video(
        &self,
        open_id: &str,
        video_id: &str,
        post: &VideoPost,
    ) -> Result<String> {
        validate::open_id(open_id)?;
        validate::video_post(&self.config().limits, post)?;
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
    #[tracing::instrument(skip(self, post), name = "douyin.create_image_text")]
    pub async fn create_image_text(
        &self,
        open_id: &str,
        image_ids: &[String],
        post: &ImagePost,
    ) -> Result<String> {
        validate::open_id(open_id)?;
        validate::image_post(&self.config().limits, post, image_ids.len())?;
        if let Some(i) = image_ids.iter().position(|id| id.trim().is_empty()) {
            return Err(Error::validation(format!("images[{i}]"), "an image id"));
        }
        if post
            .music_id
            .as_deref()
            .is_some_and(|m| m.trim().is_empty())
        {
            return Err(Error::validation("music_id", "must not be blank when set"));
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
        // Validate the post before uploading anything.
        validate::open_id(open_id)?;
        validate::video_post(&self.config().limits, post)?;
        let video = self.upload_video(open_id, source, progress).await?;
        let item_id = self.create_video(open_id, &video.video_id, post).await?;
        Ok(Published {
            item_id,
            open_id: open_id.to_owned(),
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
        validate::open_id(open_id)?;
        validate::image_post(&self.config().limits, post, images.len())?;
        for (i, img) in images.iter().enumerate() {
            self.check_image(img).await.map_err(|e| match e {
                Error::Validation(v) => {
                    Error::validation(format!("images[{i}]"), format!("{}: {}", v.field, v.rule))
                }
                other => other,
            })?;
        }
        let mut ids = Vec::with_capacity(images.len());
        for img in images {
            ids.push(self.upload_image(open_id, img).await?.image_id);
        }
        let item_id = self.create_image_text(open_id, &ids, post).await?;
        Ok(Published {
            item_id,
            open_id: open_id.to_owned(),
            video_id: None,
            image_ids: ids,
        })
    }
}
