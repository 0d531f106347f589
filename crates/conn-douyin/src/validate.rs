//! Validation before any request, with the original system's rules as defaults of [`Limits`].
//!
//! Lengths count characters (Unicode scalar values), not bytes: a 55-character Chinese title is
//! 165 bytes of UTF-8 and is accepted. Every rejection is a
//! [`conn_core::Error::Validation`] naming the field and the limit.
//!
//! ```
//! use conn_douyin::{Limits, VideoPost};
//! let limits = Limits::default();
//! let ok = VideoPost::new("抖".repeat(55));
//! assert!(conn_douyin::validate::video_post(&limits, &ok).is_ok());
//! let err = conn_douyin::validate::video_post(&limits, &VideoPost::new("抖".repeat(56))).unwrap_err();
//! assert_eq!(err.to_string(), "invalid `title`: at most 55 characters (got 56)");
//! ```

use conn_core::error::{Error, Result};

use crate::config::MIB;
use crate::publish::{Anchor, Cover, ImagePost, Privacy, VideoPost};

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

/// Checks an account id.
pub fn open_id(open_id: &str) -> Result<()> {
    if open_id.trim().is_empty() {
        return Err(Error::validation("open_id", "required"));
    }
    if open_id.len() > 256 || open_id.chars().any(char::is_control) {
        return Err(Error::validation(
            "open_id",
            "at most 256 bytes without control characters",
        ));
    }
    Ok(())
}

fn chars_at_most(field: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n > max {
        return Err(Error::validation(
            field,
            format!("at most {max} characters (got {n})"),
        ));
    }
    Ok(())
}

fn privacy_label(p: Privacy) -> &'static str {
    match p {
        Privacy::Public => "public",
        Privacy::OnlyMe => "only_me",
        Privacy::Friends => "friends",
    }
}

fn common(
    limits: &Limits,
    title: &str,
    description: &str,
    privacy: Privacy,
    anchor: Option<&Anchor>,
    at_users: &[String],
) -> Result<()> {
    if title.trim().is_empty() {
        return Err(Error::validation("title", "required"));
    }
    chars_at_most("title", title.trim(), limits.title_max_chars)?;
    chars_at_most(
        "description",
        description.trim(),
        limits.description_max_chars,
    )?;
    if !limits.allowed_privacy.contains(&privacy) {
        let allowed: Vec<&str> = limits
            .allowed_privacy
            .iter()
            .map(|p| privacy_label(*p))
            .collect();
        return Err(Error::validation(
            "privacy",
            format!(
                "one of {} (got {})",
                allowed.join(", "),
                privacy_label(privacy)
            ),
        ));
    }
    match anchor {
        Some(Anchor::Poi { poi_id }) if poi_id.trim().is_empty() => {
            return Err(Error::validation("anchor.poi_id", "required"));
        }
        None | Some(Anchor::Poi { .. }) => {}
        Some(Anchor::MicroApp { app_id, title, url }) => {
            for (field, v) in [
                ("anchor.micro_app_id", app_id),
                ("anchor.micro_app_title", title),
                ("anchor.micro_app_url", url),
            ] {
                if v.trim().is_empty() {
                    return Err(Error::validation(field, "required"));
                }
            }
        }
    }
    if at_users.len() > limits.at_users_max {
        return Err(Error::validation(
            "at_users",
            format!(
                "at most {} users (got {})",
                limits.at_users_max,
                at_users.len()
            ),
        ));
    }
    if let Some(i) = at_users.iter().position(|u| u.trim().is_empty()) {
        return Err(Error::validation(
            format!("at_users[{i}]"),
            "must not be empty",
        ));
    }
    Ok(())
}

/// Checks a video post.
pub fn video_post(limits: &Limits, post: &VideoPost) -> Result<()> {
    common(
        limits,
        &post.title,
        &post.description,
        post.privacy,
        post.anchor.as_ref(),
        &post.at_users,
    )?;
    match &post.cover {
        Some(Cover::Timestamp(t)) if !t.is_finite() || *t < 0.0 => {
            return Err(Error::validation(
                "cover.timestamp",
                format!("a non-negative number of seconds (got {t})"),
            ));
        }
        Some(Cover::ImageUrl(u)) if u.trim().is_empty() => {
            return Err(Error::validation("cover.image_url", "must not be empty"));
        }
        _ => {}
    }
    Ok(())
}

/// Checks an image post of `image_count` images.
pub fn image_post(limits: &Limits, post: &ImagePost, image_count: usize) -> Result<()> {
    if image_count < limits.images_min || image_count > limits.images_max {
        return Err(Error::validation(
            "images",
            format!(
                "between {} and {} images (got {image_count})",
                limits.images_min, limits.images_max
            ),
        ));
    }
    common(
        limits,
        &post.title,
        &post.description,
        post.privacy,
        post.anchor.as_ref(),
        &post.at_users,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_rules_are_the_defaults() {
        let l = Limits::default();
        assert!(video_post(&l, &VideoPost::new("t")).is_ok());
        assert_eq!(
            video_post(&l, &VideoPost::new("  "))
                .unwrap_err()
                .to_string(),
            "invalid `title`: required"
        );
        let long_desc = VideoPost::new("t").description("字".repeat(2001));
        assert_eq!(
            video_post(&l, &long_desc).unwrap_err().to_string(),
            "invalid `description`: at most 2000 characters (got 2001)"
        );
        let friends = VideoPost::new("t").privacy(Privacy::Friends);
        assert_eq!(
            video_post(&l, &friends).unwrap_err().to_string(),
            "invalid `privacy`: one of public, only_me (got friends)"
        );
        let p = ImagePost::new("t");
        assert!(image_post(&l, &p, 9).is_ok());
        assert_eq!(
            image_post(&l, &p, 10).unwrap_err().to_string(),
            "invalid `images`: between 1 and 9 images (got 10)"
        );
        assert!(image_post(&l, &p, 0).is_err());
        let wider = Limits {
            images_max: PLATFORM_MAX_IMAGES,
            ..Limits::default()
        };
        assert!(image_post(&wider, &p, 30).is_ok());
    }

    #[test]
    fn anchors_covers_and_mentions() {
        let l = Limits::default();
        let bad = VideoPost::new("t").cover(Cover::Timestamp(f64::NAN));
        assert!(video_post(&l, &bad)
            .unwrap_err()
            .to_string()
            .contains("cover.timestamp"));
        let bad = VideoPost::new("t").anchor(Anchor::MicroApp {
            app_id: "a".into(),
            title: " ".into(),
            url: "u".into(),
        });
        assert!(video_post(&l, &bad)
            .unwrap_err()
            .to_string()
            .contains("anchor.micro_app_title"));
        let bad = VideoPost::new("t").at_users(vec!["a".into(), String::new()]);
        assert!(video_post(&l, &bad)
            .unwrap_err()
            .to_string()
            .contains("at_users[1]"));
        assert!(open_id("").is_err());
        assert!(open_id("a\nb").is_err());
    }
}
