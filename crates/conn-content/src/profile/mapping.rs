//! How [`Content`] maps into a request body and where results sit in a response.

use std::collections::BTreeMap;

use conn_core::pointer::{type_name as kind, Pointer};
use conn_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::model::Content;

/// How a list (images, tags) is written into the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ListShape {
    /// A JSON array of strings: `["a", "b"]`. In a profile file: `"array"`.
    #[default]
    Array,
    /// One string joined with a separator: `"a,b"`. In a profile file: `{"joined": ","}`.
    Joined(String),
    /// An array of objects with the value under a key: `[{"url": "a"}]`. In a profile file:
    /// `{"objects": "url"}`.
    Objects(String),
}

impl ListShape {
    fn write(&self, items: &[String]) -> Value {
        match self {
            ListShape::Array => json!(items),
            ListShape::Joined(sep) => Value::String(items.join(sep)),
            ListShape::Objects(key) => Value::Array(
                items
                    .iter()
                    .map(|i| {
                        let mut m = Map::new();
                        m.insert(key.clone(), Value::String(i.clone()));
                        Value::Object(m)
                    })
                    .collect(),
            ),
        }
    }

    fn read(&self, v: &Value) -> Result<Vec<String>, String> {
        let strings = |items: &Vec<Value>, f: &dyn Fn(&Value) -> Option<String>| {
            items
                .iter()
                .enumerate()
                .map(|(i, item)| f(item).ok_or_else(|| format!("item {i} has the wrong shape")))
                .collect::<Result<Vec<_>, _>>()
        };
        match (self, v) {
            (ListShape::Array, Value::Array(items)) => {
                strings(items, &|x| x.as_str().map(str::to_owned))
            }
            (ListShape::Joined(sep), Value::String(s)) => Ok(if s.is_empty() {
                Vec::new()
            } else {
                s.split(sep.as_str()).map(str::to_owned).collect()
            }),
            (ListShape::Objects(key), Value::Array(items)) => strings(items, &|x| {
                x.get(key).and_then(Value::as_str).map(str::to_owned)
            }),
            (shape, other) => Err(format!(
                "expected {} but found a {}",
                match shape {
                    ListShape::Array => "an array of strings".to_owned(),
                    ListShape::Joined(sep) => format!("a string joined with {sep:?}"),
                    ListShape::Objects(k) => format!("an array of objects with {k:?}"),
                },
                kind(other)
            )),
        }
    }
}

/// Where a list goes and in which shape. In a profile file either a pointer string (an array of
/// strings there) or `{"pointer": "/images", "shape": {"objects": "url"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ListFieldRepr")]
pub struct ListField {
    /// Where the list goes.
    pub pointer: Pointer,
    /// Its shape.
    #[serde(default)]
    pub shape: ListShape,
}

impl ListField {
    /// An array of strings at `pointer`.
    pub fn array(pointer: &str) -> Self {
        Self {
            pointer: Pointer::new(pointer),
            shape: ListShape::Array,
        }
    }

    /// A list at `pointer` in `shape`.
    pub fn new(pointer: &str, shape: ListShape) -> Self {
        Self {
            pointer: Pointer::new(pointer),
            shape,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListFieldRepr {
    Pointer(Pointer),
    Full {
        pointer: Pointer,
        #[serde(default)]
        shape: ListShape,
    },
}

impl From<ListFieldRepr> for ListField {
    fn from(r: ListFieldRepr) -> Self {
        match r {
            ListFieldRepr::Pointer(pointer) => Self {
                pointer,
                shape: ListShape::Array,
            },
            ListFieldRepr::Full { pointer, shape } => Self { pointer, shape },
        }
    }
}

/// Where title, body, images and tags go in the publish request's JSON body.
///
/// ```
/// use conn_content::{Content, FieldMapping, ListField, ListShape};
/// use serde_json::json;
/// let m = FieldMapping {
///     title: "/post/title".into(),
///     body: "/post/html".into(),
///     images: Some(ListField::new("/post/images", ListShape::Objects("url".into()))),
///     tags: Some(ListField::new("/post/tags", ListShape::Joined(",".into()))),
///     fixed: [("/post/status".into(), json!("published"))].into_iter().collect(),
/// };
/// let body = m.build("demo", &Content::new("T", "B").with_images(["i1"]).with_tags(["a", "b"])).unwrap();
/// assert_eq!(body, json!({"post": {"title": "T", "html": "B", "images": [{"url": "i1"}],
///                                  "tags": "a,b", "status": "published"}}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMapping {
    /// Where the title goes.
    pub title: Pointer,
    /// Where the body goes.
    pub body: Pointer,
    /// Where the images go; `None`: the profile takes no images.
    #[serde(default)]
    pub images: Option<ListField>,
    /// Where the tags go; `None`: the profile takes no tags.
    #[serde(default)]
    pub tags: Option<ListField>,
    /// Constant values written on every publish (`{"/type": "article"}`), before the content.
    #[serde(default)]
    pub fixed: BTreeMap<Pointer, Value>,
}

impl FieldMapping {
    /// The request body for `content`. Images or tags on a profile that maps none are a
    /// validation error naming the field (they would silently be lost otherwise).
    pub fn build(&self, profile: &str, content: &Content) -> Result<Value> {
        let mut body = Value::Object(Map::new());
        let put = |body: &mut Value, p: &Pointer, v: Value, field: &str| {
            p.set(body, v).map_err(|e| {
                Error::config(format!(
                    "profile `{profile}`: mapping of `{field}` to `{p}` conflicts with another field: {e}"
                ))
            })
        };
        for (p, v) in &self.fixed {
            put(&mut body, p, v.clone(), "fixed")?;
        }
        put(
            &mut body,
            &self.title,
            Value::String(content.title.clone()),
            "title",
        )?;
        put(
            &mut body,
            &self.body,
            Value::String(content.body.clone()),
            "body",
        )?;
        for (field, list, items) in [
            ("images", &self.images, &content.images),
            ("tags", &self.tags, &content.tags),
        ] {
            match list {
                // An empty list is left out: some endpoints reject `[]` or `""`.
                Some(_) if items.is_empty() => {}
                Some(l) => put(&mut body, &l.pointer, l.shape.write(items), field)?,
                None if !items.is_empty() => {
                    return Err(Error::validation(
                        field,
                        format!("profile `{profile}` maps no {field} (got {})", items.len()),
                    ))
                }
                None => {}
            }
        }
        Ok(body)
    }

    /// Reads a request body back into [`Content`], as a server of this profile would: the title
    /// and body must be strings where the mapping says, lists in their shape, fixed values equal.
    /// The error names the pointer and what was wrong.
    pub fn read(&self, body: &Value) -> Result<Content, String> {
        let string = |p: &Pointer, field: &str| match p.get(body) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "`{p}` ({field}) must be a string, got a {}",
                kind(other)
            )),
            None => Err(format!("`{p}` ({field}) is missing")),
        };
        let list = |l: &Option<ListField>, field: &str| match l {
            None => Ok(Vec::new()),
            Some(l) => match l.pointer.get(body) {
                None => Ok(Vec::new()),
                Some(v) => l
                    .shape
                    .read(v)
                    .map_err(|e| format!("`{}` ({field}): {e}", l.pointer)),
            },
        };
        for (p, want) in &self.fixed {
            if p.get(body) != Some(want) {
                return Err(format!("`{p}` must be {want}"));
            }
        }
        Ok(Content {
            title: string(&self.title, "title")?,
            body: string(&self.body, "body")?,
            images: list(&self.images, "images")?,
            tags: list(&self.tags, "tags")?,
        })
    }
}

/// Where the stats counters sit in the stats response. `None`: the profile has no such counter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsMapping {
    /// Views / reads.
    #[serde(default)]
    pub views: Option<Pointer>,
    /// Likes / upvotes.
    #[serde(default)]
    pub likes: Option<Pointer>,
    /// Comments.
    #[serde(default)]
    pub comments: Option<Pointer>,
    /// Shares.
    #[serde(default)]
    pub shares: Option<Pointer>,
    /// Favourites / collects.
    #[serde(default)]
    pub favorites: Option<Pointer>,
}

impl StatsMapping {
    /// The counters with their names, in a fixed order.
    pub fn fields(&self) -> [(&'static str, Option<&Pointer>); 5] {
        [
            ("views", self.views.as_ref()),
            ("likes", self.likes.as_ref()),
            ("comments", self.comments.as_ref()),
            ("shares", self.shares.as_ref()),
            ("favorites", self.favorites.as_ref()),
        ]
    }
}

/// Where results sit in responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMapping {
    /// Where the new content id sits in the publish response (`/data/note_id`).
    pub id: Pointer,
    /// Where the counters sit in the stats response.
    #[serde(default)]
    pub stats: StatsMapping,
}

/// The text of a scalar read from a body (an id, a code): `7` and `"7"` are both `7`.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> FieldMapping {
        FieldMapping {
            title: "title".into(),
            body: "/content/text".into(),
            images: Some(ListField::new("/imgs", ListShape::Objects("url".into()))),
            tags: Some(ListField::new("/tags", ListShape::Joined(" ".into()))),
            fixed: [(Pointer::new("/kind"), json!("note"))]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn build_and_read_round_trip() {
        let c = Content::new("标题", "正文")
            .with_images(["a", "b"])
            .with_tags(["x", "y"]);
        let body = mapping().build("p", &c).unwrap();
        assert_eq!(
            body,
            json!({"kind": "note", "title": "标题", "content": {"text": "正文"},
                   "imgs": [{"url": "a"}, {"url": "b"}], "tags": "x y"})
        );
        assert_eq!(mapping().read(&body).unwrap(), c);
    }

    #[test]
    fn read_names_the_pointer_that_is_wrong() {
        let e = mapping()
            .read(&json!({"kind": "note", "title": 1}))
            .unwrap_err();
        assert!(e.contains("`/title` (title) must be a string"), "{e}");
        let e = mapping()
            .read(&json!({"kind": "note", "title": "t", "content": {"text": "b"}, "imgs": ["a"]}))
            .unwrap_err();
        assert!(e.contains("`/imgs` (images)"), "{e}");
        let e = mapping().read(&json!({"title": "t"})).unwrap_err();
        assert!(e.contains("`/kind` must be"), "{e}");
    }

    #[test]
    fn unmapped_lists_are_rejected_not_dropped() {
        let mut m = mapping();
        m.images = None;
        let e = m
            .build("zhihu", &Content::new("t", "b").with_images(["a"]))
            .unwrap_err();
        let Error::Validation(v) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(v.field, "images");
    }

    #[test]
    fn list_field_accepts_a_bare_pointer() {
        let l: ListField = serde_json::from_value(json!("/images")).unwrap();
        assert_eq!(l, ListField::array("/images"));
        let l: ListField =
            serde_json::from_value(json!({"pointer": "/i", "shape": {"joined": ","}})).unwrap();
        assert_eq!(l.shape, ListShape::Joined(",".into()));
    }
}
