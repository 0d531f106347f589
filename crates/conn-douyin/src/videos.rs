//! Reading an account's videos: `video_list` as a [`Stream`](futures::Stream) over cursor pages, `video_data`
//! for many item ids (batched).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! # async fn demo(client: conn_douyin::Client) -> conn_core::Result<()> {
//! let items: Vec<_> = client.video_list("open-id", 20).try_collect().await?;
//! let ids: Vec<String> = items.iter().map(|i| i.item_id.clone()).collect();
//! for item in client.video_data("open-id", &ids).await? {
//!     println!("{} plays: {}", item.item_id, item.statistics.play_count);
//! }
//! # Ok(()) }
//! ```

use conn_core::error::{ApiError, ApiErrorKind, Error, Result};
use conn_core::retry::Idempotency;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use http::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::endpoint::{VIDEO_DATA_PATH, VIDEO_LIST_PATH};
use crate::envelope::data_of;
use conn_core::lenient;

use crate::{validate, PLATFORM};

/// An item's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Statistics {
    /// Comments.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub comment_count: i64,
    /// Likes.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub digg_count: i64,
    /// Downloads.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub download_count: i64,
    /// Forwards.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub forward_count: i64,
    /// Plays.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub play_count: i64,
    /// Shares.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub share_count: i64,
}

/// One published item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct VideoItem {
    /// The item id (opaque; may contain `+ / =`).
    #[serde(deserialize_with = "lenient::string")]
    pub item_id: String,
    /// The uploaded video the item was created from (empty for image posts, or when the
    /// platform leaves it out). A create needs a fresh `video_id`, so it finds an item again.
    #[serde(default, deserialize_with = "lenient::string")]
    pub video_id: String,
    /// Title (the post's text).
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: String,
    /// Cover URL.
    #[serde(default, deserialize_with = "lenient::string")]
    pub cover: String,
    /// Creation time, Unix seconds.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub create_time: i64,
    /// Pinned.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub is_top: bool,
    /// Review finished.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub is_reviewed: bool,
    /// The platform's status code of the video.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub video_status: i64,
    /// Share URL.
    #[serde(default, deserialize_with = "lenient::string")]
    pub share_url: String,
    /// Media type (2 image post, 4 video, per the platform).
    #[serde(default, deserialize_with = "lenient::i64")]
    pub media_type: i64,
    /// Counters.
    #[serde(default)]
    pub statistics: Statistics,
}

/// One page of `video_list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct VideoPage {
    /// The cursor of the next page.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub cursor: i64,
    /// Whether more pages follow.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub has_more: bool,
    /// The items.
    #[serde(default)]
    pub list: Vec<VideoItem>,
}

#[derive(Deserialize)]
struct ListData {
    #[serde(default)]
    list: Vec<VideoItem>,
}

#[derive(Serialize)]
struct DataBody<'a> {
    item_ids: &'a [String],
}

/// Most pages a `video_list` stream reads: a bound against a server that never says "no more".
pub const MAX_PAGES: usize = 100_000;

impl Client {
    /// One page of an account's videos from `cursor` (0 for the first page).
    // DEBUG, like the transport's own span: at the production INFO level a read costs no span.
    #[tracing::instrument(level = "debug", skip(self), name = "douyin.video_list_page")]
    pub async fn video_list_page(
        &self,
        open_id: &str,
        cursor: i64,
        count: u32,
    ) -> Result<VideoPage> {
        validate::open_id(open_id)?;
        let max = self.config().limits.list_page_max;
        if count == 0 || count > max {
            return Err(Error::validation(
                "count",
                format!("between 1 and {max} (got {count})"),
            ));
        }
        let req = self
            .api_request(
                "video_list",
                Method::GET,
                VIDEO_LIST_PATH,
                open_id,
                Idempotency::Idempotent,
            )
            .query("cursor", cursor.to_string())
            .query("count", count.to_string());
        data_of(&self.execute_for(open_id, req).await?)
    }

    /// An account's videos page by page, following the cursor until `has_more` is false.
    pub fn video_list_pages(
        &self,
        open_id: impl Into<String>,
        count: u32,
    ) -> BoxStream<'static, Result<VideoPage>> {
        let client = self.clone();
        let open_id = open_id.into();
        // State: (next cursor, pages read, finished).
        stream::try_unfold((0i64, 0usize, false), move |(cursor, pages, done)| {
            let client = client.clone();
            let open_id = open_id.clone();
            async move {
                if done {
                    return Ok(None);
                }
                if pages >= MAX_PAGES {
                    return Err(stuck(format!("more than {MAX_PAGES} pages")));
                }
                let page = client.video_list_page(&open_id, cursor, count).await?;
                if page.has_more && page.cursor == cursor {
                    // The same cursor again would loop forever.
                    return Err(stuck(format!("has_more with an unchanged cursor {cursor}")));
                }
                let next = (page.cursor, pages + 1, !page.has_more);
                Ok(Some((page, next)))
            }
        })
        .boxed()
    }

    /// An account's videos, item by item, across pages of `count`.
    pub fn video_list(
        &self,
        open_id: impl Into<String>,
        count: u32,
    ) -> BoxStream<'static, Result<VideoItem>> {
        self.video_list_pages(open_id, count)
            .map_ok(|page| stream::iter(page.list.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Data of many items, in requests of at most `limits.video_data_batch` ids; the results
    /// keep the platform's order within each batch.
    #[tracing::instrument(level = "debug", skip(self, item_ids), fields(items = item_ids.len()), name = "douyin.video_data")]
    pub async fn video_data(&self, open_id: &str, item_ids: &[String]) -> Result<Vec<VideoItem>> {
        validate::open_id(open_id)?;
        if item_ids.is_empty() {
            return Err(Error::validation("item_ids", "at least one item id"));
        }
        if let Some(i) = item_ids.iter().position(|id| id.trim().is_empty()) {
            return Err(Error::validation(
                format!("item_ids[{i}]"),
                "must not be empty",
            ));
        }
        let mut out = Vec::with_capacity(item_ids.len());
        for batch in item_ids.chunks(self.config().limits.video_data_batch) {
            let req = self
                .api_request(
                    "video_data",
                    Method::POST,
                    VIDEO_DATA_PATH,
                    open_id,
                    Idempotency::Idempotent,
                )
                .json(&DataBody { item_ids: batch })?;
            let d: ListData = data_of(&self.execute_for(open_id, req).await?)?;
            out.extend(d.list);
        }
        Ok(out)
    }
}

fn stuck(what: String) -> Error {
    ApiError::new(
        PLATFORM,
        "pagination",
        format!("video_list pagination stopped: {what}"),
        ApiErrorKind::Other,
    )
    .into()
}
