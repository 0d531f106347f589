//! What a post says: [`VideoPost`], [`ImagePost`] and their parts, and what publishing returns.
//!
//! ## The wire `text`
//! Douyin has a single `text` field (title, `#topics`, `@mentions`). [`wire_text`] builds it as
//! the trimmed title, then, when the description is not blank, a newline and the trimmed
//! description. Put `#话题` and `@昵称` where you want them in either part.

/// Who can see a post (`private_status` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Privacy {
    /// Everyone (0).
    #[default]
    Public,
    /// Only the author (1).
    OnlyMe,
    /// Friends (2); not allowed by the default [`Limits`](super::Limits), as in the original
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
/// assert_eq!(conn_douyin::wire_text(&post.title, &post.description), "周末去爬山\n#户外 和 @小明 一起");
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
