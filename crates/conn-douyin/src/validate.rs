//! Validation before any request, against the [`Limits`] of the configuration.
//!
//! Each public entry point checks its input once: the functions here return a [`Valid`] proof,
//! and the internal functions behind an entry point take the proof instead of the raw value, so
//! they neither check again nor can be reached with unchecked input.
//!
//! Lengths count characters (Unicode scalar values), not bytes: a 55-character Chinese title is
//! 165 bytes of UTF-8 and is accepted. Every rejection is a
//! [`conn_core::Error::Validation`] naming the field and the limit.

use std::ops::Deref;

use conn_core::error::{Error, Result};

use crate::models::{Anchor, Cover, ImagePost, ImageSource, Limits, Privacy, VideoPost};

/// A value that passed one of this module's checks. Only this module constructs one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Valid<T>(T);

impl<T> Valid<T> {
    /// The checked value.
    pub(crate) fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Valid<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Which checks ran on this thread, so a unit test can assert that an entry point checks its
/// input once.
#[cfg(test)]
pub(crate) mod ran {
    use std::cell::RefCell;

    thread_local! {
        static RAN: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn record(check: &'static str) {
        RAN.with(|r| r.borrow_mut().push(check));
    }

    /// The checks recorded since the last call, oldest first.
    pub(crate) fn take() -> Vec<&'static str> {
        RAN.with(|r| std::mem::take(&mut *r.borrow_mut()))
    }
}

impl Limits {
    /// Checks a video post against these limits, as publishing does before any request.
    ///
    /// ```
    /// use conn_douyin::{Limits, VideoPost};
    /// let limits = Limits::default();
    /// assert!(limits.check_video_post(&VideoPost::new("抖".repeat(55))).is_ok());
    /// let err = limits.check_video_post(&VideoPost::new("抖".repeat(56))).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid `title`: at most 55 characters (got 56)");
    /// ```
    pub fn check_video_post(&self, post: &VideoPost) -> Result<()> {
        video_post(self, post).map(drop)
    }

    /// Checks an image post of `image_count` images against these limits, as publishing does
    /// before any request.
    ///
    /// ```
    /// use conn_douyin::{ImagePost, Limits};
    /// let err = Limits::default().check_image_post(&ImagePost::new("t"), 10).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid `images`: between 1 and 9 images (got 10)");
    /// ```
    pub fn check_image_post(&self, post: &ImagePost, image_count: usize) -> Result<()> {
        image_post(self, post, image_count).map(drop)
    }
}

/// Checks an account id.
pub(crate) fn open_id(open_id: &str) -> Result<Valid<&str>> {
    #[cfg(test)]
    ran::record("open_id");
    if open_id.trim().is_empty() {
        return Err(Error::validation("open_id", "required"));
    }
    if open_id.len() > 256 || open_id.chars().any(char::is_control) {
        return Err(Error::validation(
            "open_id",
            "at most 256 bytes without control characters",
        ));
    }
    Ok(Valid(open_id))
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
pub(crate) fn video_post<'a>(limits: &Limits, post: &'a VideoPost) -> Result<Valid<&'a VideoPost>> {
    #[cfg(test)]
    ran::record("video_post");
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
    Ok(Valid(post))
}

/// Checks an image post of `image_count` images.
pub(crate) fn image_post<'a>(
    limits: &Limits,
    post: &'a ImagePost,
    image_count: usize,
) -> Result<Valid<&'a ImagePost>> {
    #[cfg(test)]
    ran::record("image_post");
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
    )?;
    if post
        .music_id
        .as_deref()
        .is_some_and(|m| m.trim().is_empty())
    {
        return Err(Error::validation("music_id", "must not be blank when set"));
    }
    Ok(Valid(post))
}

/// Checks an image source before any request: an id must not be blank, bytes and files must
/// be non-empty and within [`Limits::max_image_bytes`] (a file must also be readable and
/// regular).
pub(crate) async fn image_source(
    limits: &Limits,
    source: ImageSource,
) -> Result<Valid<ImageSource>> {
    #[cfg(test)]
    ran::record("image_source");
    let max = limits.max_image_bytes;
    let size = match &source {
        ImageSource::ImageId(id) => {
            if id.trim().is_empty() {
                return Err(Error::validation("image_id", "required"));
            }
            return Ok(Valid(source));
        }
        ImageSource::Bytes { data, .. } => data.len() as u64,
        ImageSource::Path(p) => {
            let meta = tokio::fs::metadata(p).await.map_err(|e| {
                Error::validation("image", format!("a readable file ({}: {e})", p.display()))
            })?;
            if !meta.is_file() {
                return Err(Error::validation(
                    "image",
                    format!("a regular file ({} is not)", p.display()),
                ));
            }
            meta.len()
        }
    };
    if size == 0 {
        return Err(Error::validation("image", "must not be empty"));
    }
    if size > max {
        return Err(Error::validation(
            "image",
            format!("at most {max} bytes (got {size})"),
        ));
    }
    Ok(Valid(source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::PLATFORM_MAX_IMAGES;

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
