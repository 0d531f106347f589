//! A profile's limits on what it publishes, checked before any request.

use conn_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::model::Content;

/// Limits checked before any request. Lengths count characters (Unicode scalar values), so
/// `"小红书"` is 3, whatever its UTF-8 byte length. A broken limit is
/// [`Error::Validation`](conn_core::Error::Validation) naming the field (`title`, `body`,
/// `images`, `tags`, `images[2]`, `tags[0]`) and the limit:
///
/// ```
/// use conn_content::{Content, Limits};
/// let limits = Limits { title_max_chars: Some(20), ..Limits::none() };
/// let err = limits.check(&Content::new("一二三四五六七八九十一二三四五六七八九十一", "正文")).unwrap_err();
/// assert_eq!(err.to_string(), "invalid `title`: at most 20 characters (got 21)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Fewest title characters (1 makes the title required).
    pub title_min_chars: usize,
    /// Most title characters.
    pub title_max_chars: Option<usize>,
    /// Fewest body characters (1 makes the body required).
    pub body_min_chars: usize,
    /// Most body characters.
    pub body_max_chars: Option<usize>,
    /// Fewest images.
    pub min_images: usize,
    /// Most images.
    pub max_images: Option<usize>,
    /// Most tags.
    pub max_tags: Option<usize>,
    /// Most characters in one tag.
    pub tag_max_chars: Option<usize>,
}

impl Default for Limits {
    /// Title and body required, nothing else limited.
    fn default() -> Self {
        Self {
            title_min_chars: 1,
            body_min_chars: 1,
            ..Self::none()
        }
    }
}

impl Limits {
    /// No limit at all (empty title and body allowed).
    pub const fn none() -> Self {
        Self {
            title_min_chars: 0,
            title_max_chars: None,
            body_min_chars: 0,
            body_max_chars: None,
            min_images: 0,
            max_images: None,
            max_tags: None,
            tag_max_chars: None,
        }
    }

    /// Checks `content` against the limits; the first broken one is returned.
    pub fn check(&self, content: &Content) -> Result<()> {
        text(
            "title",
            &content.title,
            self.title_min_chars,
            self.title_max_chars,
        )?;
        text(
            "body",
            &content.body,
            self.body_min_chars,
            self.body_max_chars,
        )?;
        count(
            "images",
            "image",
            content.images.len(),
            self.min_images,
            self.max_images,
        )?;
        for (i, img) in content.images.iter().enumerate() {
            if img.trim().is_empty() {
                return Err(Error::validation(
                    format!("images[{i}]"),
                    "must not be empty",
                ));
            }
        }
        count("tags", "tag", content.tags.len(), 0, self.max_tags)?;
        for (i, tag) in content.tags.iter().enumerate() {
            text(&format!("tags[{i}]"), tag, 1, self.tag_max_chars)?;
        }
        Ok(())
    }
}

fn text(field: &str, value: &str, min: usize, max: Option<usize>) -> Result<()> {
    let n = value.chars().count();
    if min > 0 && value.trim().is_empty() {
        return Err(Error::validation(field, "required (got an empty value)"));
    }
    if n < min {
        return Err(Error::validation(
            field,
            format!("at least {min} characters (got {n})"),
        ));
    }
    match max {
        Some(max) if n > max => Err(Error::validation(
            field,
            format!("at most {max} characters (got {n})"),
        )),
        _ => Ok(()),
    }
}

fn count(field: &str, noun: &str, n: usize, min: usize, max: Option<usize>) -> Result<()> {
    let plural = |k: usize| {
        if k == 1 {
            noun.to_owned()
        } else {
            format!("{noun}s")
        }
    };
    if n < min {
        return Err(Error::validation(
            field,
            format!("at least {min} {} (got {n})", plural(min)),
        ));
    }
    match max {
        Some(max) if n > max => Err(Error::validation(
            field,
            format!("at most {max} {} (got {n})", plural(max)),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_and_rule(e: Error) -> (String, String) {
        match e {
            Error::Validation(v) => (v.field, v.rule),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn characters_not_bytes() {
        let l = Limits {
            title_max_chars: Some(3),
            ..Limits::none()
        };
        // 3 characters, 9 bytes.
        l.check(&Content::new("小红书", "")).unwrap();
        let (f, r) = field_and_rule(l.check(&Content::new("小红书啊", "")).unwrap_err());
        assert_eq!(
            (f.as_str(), r.as_str()),
            ("title", "at most 3 characters (got 4)")
        );
    }

    #[test]
    fn counts_and_items() {
        let l = Limits {
            min_images: 1,
            max_images: Some(2),
            max_tags: Some(1),
            tag_max_chars: Some(2),
            ..Limits::default()
        };
        let c = Content::new("t", "b");
        assert_eq!(
            field_and_rule(l.check(&c).unwrap_err()),
            ("images".into(), "at least 1 image (got 0)".into())
        );
        let c = c.with_images(["a", " "]);
        assert_eq!(field_and_rule(l.check(&c).unwrap_err()).0, "images[1]");
        let c = c.with_images(["a"]).with_tags(["一二三"]);
        assert_eq!(
            field_and_rule(l.check(&c).unwrap_err()),
            ("tags[0]".into(), "at most 2 characters (got 3)".into())
        );
        let c = c.with_tags(["a", "b"]);
        assert_eq!(
            field_and_rule(l.check(&c).unwrap_err()),
            ("tags".into(), "at most 1 tag (got 2)".into())
        );
    }

    #[test]
    fn required_fields() {
        let (f, r) = field_and_rule(
            Limits::default()
                .check(&Content::new(" ", "b"))
                .unwrap_err(),
        );
        assert_eq!(
            (f.as_str(), r.as_str()),
            ("title", "required (got an empty value)")
        );
        Limits::none().check(&Content::new("", "")).unwrap();
    }
}
