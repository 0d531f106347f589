//! Reading only the parts of a body an envelope looks at.
//!
//! An envelope reads a handful of fields (a code, a message, a flag), but an answer can be a
//! page of a hundred orders. Building the whole `serde_json::Value` tree to read three fields
//! costs as much as the caller's own decode. [`project`] walks the body once and keeps only
//! the members on the envelope's pointers: everything else is skipped by serde without being
//! allocated. The result is a `Value` with the same values at those pointers, so
//! [`Envelope::error_in`](super::Envelope::error_in) reads it exactly as it reads the whole
//! body.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::pointer::Pointer;

/// The tree of members the pointers go through; a leaf keeps its whole value.
#[derive(Debug, Default)]
pub(super) struct Needs {
    children: BTreeMap<String, Needs>,
    leaf: bool,
}

impl Needs {
    /// The members `pointers` read. The root pointer (`""`) needs the whole body.
    pub(super) fn of<'a>(pointers: impl IntoIterator<Item = &'a Pointer>) -> Self {
        let mut root = Needs::default();
        for p in pointers {
            let mut node = &mut root;
            for token in p.tokens() {
                node = node.children.entry(token).or_default();
            }
            node.leaf = true;
        }
        root
    }
}

/// `body` with only the members on `needs` kept (arrays keep the elements a pointer names,
/// with `null` before them so indices hold). With `rows > 0`, a top-level array is read as
/// rows: its first element is projected the same way, `rows` levels deep.
pub(super) fn project(body: &[u8], needs: &Needs, rows: usize) -> Option<Value> {
    // serde does not check the UTF-8 of strings it skips; a whole parse does, so check first.
    let text = std::str::from_utf8(body).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Seed { needs, rows }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(v)
}

#[derive(Clone, Copy)]
struct Seed<'n> {
    needs: &'n Needs,
    rows: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.needs.leaf {
            return Value::deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match self.needs.children.get(key.as_ref()) {
                Some(child) => {
                    let v = map.next_value_seed(Seed {
                        needs: child,
                        rows: 0,
                    })?;
                    out.insert(key.into_owned(), v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        let mut i = 0usize;
        loop {
            let seed = if self.rows > 0 && i == 0 {
                // A row array: its first element is read like the body itself.
                Some(Seed {
                    needs: self.needs,
                    rows: self.rows - 1,
                })
            } else {
                self.needs.children.get(&i.to_string()).map(|child| Seed {
                    needs: child,
                    rows: 0,
                })
            };
            let more = match seed {
                Some(seed) => match seq.next_element_seed(seed)? {
                    Some(v) => {
                        out.resize(i, Value::Null);
                        out.push(v);
                        true
                    }
                    None => false,
                },
                None => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !more {
                break;
            }
            i += 1;
        }
        Ok(Value::Array(out))
    }
}

/// An object key, borrowed from the body when it has no escapes (the keys skipped cost no
/// allocation).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ptrs(list: &[&str]) -> Vec<Pointer> {
        list.iter().map(|p| Pointer::new(p)).collect()
    }

    #[test]
    fn only_the_members_on_the_pointers_are_kept() {
        let body = json!({
            "code": 0,
            "msg": "ok",
            "data": {"orders": [{"id": 1}, {"id": 2}], "error_code": 7},
            "Result": {"ResponseStatus": {"Errors": [{"Message": "a"}, {"Message": "b"}]}},
        });
        let p = ptrs(&[
            "code",
            "/data/error_code",
            "/Result/ResponseStatus/Errors/1/Message",
        ]);
        let needs = Needs::of(&p);
        let v = project(body.to_string().as_bytes(), &needs, 0).unwrap();
        assert_eq!(
            v,
            json!({
                "code": 0,
                "data": {"error_code": 7},
                "Result": {"ResponseStatus": {"Errors": [null, {"Message": "b"}]}},
            })
        );
        for p in &p {
            assert_eq!(p.get(&v), p.get(&body), "{p}");
        }
    }

    #[test]
    fn rows_unwrap_and_leaves_keep_their_whole_value() {
        let body = br#"[[{"Result":{"IsSuccess":false,"Extra":[1,2]}}, 5], 6]"#;
        let p = ptrs(&["/Result/IsSuccess", "/Result/Extra"]);
        let v = project(body, &Needs::of(&p), 2).unwrap();
        assert_eq!(
            v,
            json!([[{"Result": {"IsSuccess": false, "Extra": [1, 2]}}]])
        );
        let flat = project(body, &Needs::of(&p), 0).unwrap();
        assert_eq!(flat, json!([]));
    }

    #[test]
    fn invalid_json_and_trailing_bytes_are_no_body() {
        let needs = Needs::of(&ptrs(&["code"]));
        assert_eq!(project(b"{\"code\":", &needs, 0), None);
        assert_eq!(project(b"{\"code\":1} x", &needs, 0), None);
        assert_eq!(project(b"not json", &needs, 0), None);
        // Later duplicates win, as in a whole parse.
        assert_eq!(
            project(br#"{"code":1,"code":2}"#, &needs, 0),
            Some(json!({"code": 2}))
        );
    }
}
