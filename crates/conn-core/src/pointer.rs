//! JSON pointers (RFC 6901) that say where a field sits in a request or response body: the
//! content profiles' field mappings and every response [envelope](crate::envelope) use them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Where a value sits in a JSON document: an RFC 6901 pointer such as `/data/note_id`.
///
/// A bare name without a leading `/` means a top-level field (`"title"` is `/title`), so simple
/// profiles can write field names and nested ones pointers. Writing through a pointer creates the
/// intermediate objects, which is how a profile nests fields (`/article/title`). Array indices are
/// not special: every token names an object member.
///
/// ```
/// use conn_core::pointer::Pointer;
/// use serde_json::json;
/// let p = Pointer::new("/article/title");
/// let mut v = json!({});
/// p.set(&mut v, json!("你好")).unwrap();
/// assert_eq!(v, json!({"article": {"title": "你好"}}));
/// assert_eq!(Pointer::new("title").as_str(), "/title");
/// assert_eq!(p.get(&v), Some(&json!("你好")));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pointer(String);

impl Pointer {
    /// A pointer from a pointer (`/a/b`) or a bare top-level field name (`a`).
    pub fn new(s: &str) -> Self {
        if s.is_empty() || s.starts_with('/') {
            Self(s.to_owned())
        } else {
            Self(format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        }
    }

    /// The pointer text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the empty pointer (the whole document).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> impl Iterator<Item = String> + '_ {
        self.0
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
    }

    /// The value at this pointer, if present.
    pub fn get<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        doc.pointer(&self.0)
    }

    /// Writes `value` at this pointer, creating intermediate objects (a `null` on the way counts
    /// as an empty object). Fails when a value on the way is not an object, or for the root.
    pub fn set(&self, doc: &mut Value, value: Value) -> Result<(), String> {
        let tokens: Vec<String> = self.tokens().collect();
        let Some((last, parents)) = tokens.split_last() else {
            return Err("cannot write at the root pointer \"\"".to_owned());
        };
        let mut cur = doc;
        let mut walked = String::new();
        for t in parents {
            walked.push('/');
            walked.push_str(&escape(t));
            cur = object_of(cur, &walked)?
                .entry(t.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        object_of(cur, &walked)?.insert(last.clone(), value);
        Ok(())
    }
}

fn escape(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

fn object_of<'a>(v: &'a mut Value, at: &str) -> Result<&'a mut Map<String, Value>, String> {
    if v.is_null() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "`{}` holds a {}, not an object",
            if at.is_empty() { "/" } else { at },
            type_name(other)
        )),
    }
}

/// A short name of a JSON value's type, for messages (`"number"`, `"object"`).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl fmt::Debug for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pointer({:?})", self.0)
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Pointer {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl Serialize for Pointer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Pointer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self::new(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bare_names_escape_and_pointers_nest() {
        assert_eq!(Pointer::new("a/b").as_str(), "/a~1b");
        let mut v = json!({"x": null});
        Pointer::new("/x/y").set(&mut v, json!(1)).unwrap();
        Pointer::new("a/b").set(&mut v, json!(2)).unwrap();
        assert_eq!(v, json!({"x": {"y": 1}, "a/b": 2}));
        assert_eq!(Pointer::new("a/b").get(&v), Some(&json!(2)));
    }

    #[test]
    fn writing_through_a_scalar_or_at_root_fails() {
        let mut v = json!({"x": 1});
        let e = Pointer::new("/x/y").set(&mut v, json!(1)).unwrap_err();
        assert!(e.contains("`/x` holds a number"), "{e}");
        assert!(Pointer::new("").set(&mut v, json!(1)).is_err());
    }
}
