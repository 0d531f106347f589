//! What a caller publishes and what comes back: [`Content`], [`Published`], [`ContentStats`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A post to publish: the four fields every profile maps somewhere in its request JSON.
///
/// ```
/// use conn_content::Content;
/// let c = Content::new("周末去哪儿", "杭州三日游攻略……")
///     .with_images(["https://img.example.com/1.jpg"])
///     .with_tags(["旅行", "杭州"]);
/// assert_eq!(c.images.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Title; limits count characters (`char`s), so `标题` is 2.
    pub title: String,
    /// Body text (plain text, Markdown or HTML: whatever the endpoint takes).
    pub body: String,
    /// Image URLs (or ids the endpoint knows), in order.
    #[serde(default)]
    pub images: Vec<String>,
    /// Tags / topics, without `#`.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Content {
    /// A post with a title and a body, no images or tags.
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            images: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// Sets the images.
    pub fn with_images<I, S>(mut self, images: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.images = images.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the tags.
    pub fn with_tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }
}

/// The result of a publish.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    /// The new content's id, read at the profile's id pointer (a number is turned into text).
    pub id: String,
    /// The profile it was published through.
    pub profile: String,
    /// The idempotency key sent, when the profile has an idempotency header.
    pub idempotency_key: Option<String>,
    /// The whole response body.
    pub raw: Value,
}

/// Counters of one piece of content, read at the profile's stats pointers.
///
/// A counter the profile does not map, or the response does not carry, is `None`. Counters may
/// arrive as numbers or as numeric strings; both are accepted.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContentStats {
    /// The content id asked for.
    pub content_id: String,
    /// Views / reads / impressions.
    pub views: Option<u64>,
    /// Likes / upvotes.
    pub likes: Option<u64>,
    /// Comments.
    pub comments: Option<u64>,
    /// Shares / forwards.
    pub shares: Option<u64>,
    /// Favourites / collects.
    pub favorites: Option<u64>,
    /// The whole response body, for counters the profile does not map.
    pub raw: Value,
}
