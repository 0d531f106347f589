//! [`Limits`]: the rules checked before any request, with the original system's rules as
//! defaults.

use conn_core::error::{Error, Result};

use super::post::Privacy;

/// One mebibyte.
pub(crate) const MIB: u64 = 1024 * 1024;

/// The platform's image limit per post according to a single source (⚠ unconfirmed); the
/// default [`Limits::images_max`] follows the original system (9).
pub const PLATFORM_MAX_IMAGES: usize = 30;

/// Validation limits. Defaults are the original system's rules; the platform publishes no
/// official title/description limit and accepts up to [`PLATFORM_MAX_IMAGES`] images (⚠).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest title, in characters (default 55). A title is always required.
    pub title_max_chars: usize,
    /// Largest description, in characters (default 2000).
    pub description_max_chars: usize,
    /// Fewest images in an image post (default 1).
    pub images_min: usize,
    /// Most images in an image post (default 9; the platform accepts 30 ⚠).
    pub images_max: usize,
    /// Privacy levels accepted (default public and only-me, as the original system).
    pub allowed_privacy: Vec<Privacy>,
    /// Largest video (default 4 GiB, the platform's limit).
    pub max_video_bytes: u64,
    /// Largest image read for upload (default 20 MiB; a local safety bound, not a platform figure).
    pub max_image_bytes: u64,
    /// Most mentioned users per post (default 100; a local bound).
    pub at_users_max: usize,
    /// Largest page size of `video_list` (default 20 ⚠).
    pub list_page_max: u32,
    /// Item ids per `video_data` request (default 20 ⚠).
    pub video_data_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            title_max_chars: 55,
            description_max_chars: 2000,
            images_min: 1,
            images_max: 9,
            allowed_privacy: vec![Privacy::Public, Privacy::OnlyMe],
            max_video_bytes: 4 * 1024 * MIB,
            max_image_bytes: 20 * MIB,
            at_users_max: 100,
            list_page_max: 20,
            video_data_batch: 20,
        }
    }
}

impl Limits {
    /// Checks that the limits are usable.
    pub fn validate(&self) -> Result<()> {
        if self.title_max_chars == 0 {
            return Err(Error::validation("limits.title_max_chars", "at least 1"));
        }
        if self.images_min == 0 || self.images_min > self.images_max {
            return Err(Error::validation(
                "limits.images_min",
                format!(
                    "between 1 and images_max ({}), got {}",
                    self.images_max, self.images_min
                ),
            ));
        }
        if self.allowed_privacy.is_empty() {
            return Err(Error::validation(
                "limits.allowed_privacy",
                "at least one level",
            ));
        }
        if self.list_page_max == 0 {
            return Err(Error::validation("limits.list_page_max", "at least 1"));
        }
        if self.video_data_batch == 0 {
            return Err(Error::validation("limits.video_data_batch", "at least 1"));
        }
        Ok(())
    }
}
