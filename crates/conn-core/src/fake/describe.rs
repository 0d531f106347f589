//! One redacting view of a request a fake received, for snapshot tests.

use serde_json::{json, Map, Value};

use crate::redact::{is_secret_field, is_secret_key};

/// What replaces a secret value.
pub const SECRET: &str = "[secret]";
/// What replaces a value that changes every run.
pub const VARIES: &str = "[varies]";

/// Headers every client sends differently per run, machine or library version: left out.
const NOISE_HEADERS: [&str; 6] = [
    "host",
    "user-agent",
    "content-length",
    "accept",
    "accept-encoding",
    "connection",
];

/// How to show a request in a snapshot: `method`, `path`, `query` (pairs, in order: the order
/// a signature covers), `headers` (sorted, noise left out) and `body` (JSON, form pairs, or
/// text), with secrets masked.
///
/// A value is masked as [`SECRET`] when its key looks secret
/// ([`is_secret_field`](crate::redact::is_secret_field): tokens, secrets, signatures, keys, an
/// authorization `code`) or when it contains one of [`Describe::secrets`]; a value under
/// a [`Describe::varying`] key (an idempotency key, a nonce) is [`VARIES`]. Keys in
/// [`Describe::shown`] are shown though their names look secret: a signature pinned under a
/// fixed clock and nonce is the thing a request snapshot exists to check.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use conn_core::fake::{Describe, FakeServer};
/// let server = FakeServer::start().await;
/// reqwest::Client::new()
///     .post(format!("{}/orders?sign=ab12&access_token=tok-1", server.uri()))
///     .header("idempotency-key", "k-42")
///     .json(&serde_json::json!({"client_secret": "s", "item": "SKU-1", "note": "uses s3cr3t"}))
///     .send()
///     .await
///     .unwrap();
/// let req = &server.received_requests().await.unwrap()[0];
/// let v = Describe {
///     secrets: &["s3cr3t"],
///     varying: &["idempotency-key"],
///     shown: &["sign"],
/// }
/// .request(req);
/// assert_eq!(v["query"], serde_json::json!([["sign", "ab12"], ["access_token", "[secret]"]]));
/// assert_eq!(v["headers"]["idempotency-key"], "[varies]");
/// assert_eq!(v["body"]["client_secret"], "[secret]");
/// assert_eq!(v["body"]["note"], "[secret]");
/// assert_eq!(v["body"]["item"], "SKU-1");
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Describe<'a> {
    /// Values that are secrets wherever they appear (the fake's credentials).
    pub secrets: &'a [&'a str],
    /// Keys (headers, parameters, body fields) whose values change every run.
    pub varying: &'a [&'a str],
    /// Keys shown although their names look secret.
    pub shown: &'a [&'a str],
}

impl Describe<'_> {
    fn has(list: &[&str], key: &str) -> bool {
        list.iter().any(|k| k.eq_ignore_ascii_case(key))
    }

    /// The shown form of `value` under `key`.
    fn text(&self, key: &str, value: &str) -> String {
        if Self::has(self.varying, key) {
            VARIES.to_owned()
        } else if (is_secret_field(key, value) && !Self::has(self.shown, key))
            || self
                .secrets
                .iter()
                .any(|s| !s.is_empty() && value.contains(s))
        {
            SECRET.to_owned()
        } else {
            value.to_owned()
        }
    }

    fn pairs<'p>(&self, pairs: impl Iterator<Item = (String, String)> + 'p) -> Value {
        Value::Array(
            pairs
                .map(|(k, v)| {
                    let v = self.text(&k, &v);
                    json!([k, v])
                })
                .collect(),
        )
    }

    fn json(&self, key: Option<&str>, v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    self.json(Some(k), x);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.json(key, x)),
            Value::String(s) => *s = self.text(key.unwrap_or_default(), s),
            // Numbers and booleans under a secret key are masked too (a numeric PIN).
            other if key.is_some_and(|k| is_secret_key(k) && !Self::has(self.shown, k)) => {
                *other = Value::String(SECRET.to_owned());
            }
            _ => {}
        }
    }

    /// The request as a snapshot value.
    pub fn request(&self, req: &wiremock::Request) -> Value {
        let mut headers = Map::new();
        let mut names: Vec<&str> = req.headers.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            if NOISE_HEADERS.contains(&name) {
                continue;
            }
            let values: Vec<String> = req
                .headers
                .get_all(name)
                .iter()
                .map(|v| self.text(name, v.to_str().unwrap_or("[binary]")))
                .collect();
            headers.insert(name.to_owned(), Value::String(values.join(", ")));
        }
        let content_type = req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let body = if req.body.is_empty() {
            Value::Null
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            self.pairs(url::form_urlencoded::parse(&req.body).into_owned())
        } else {
            match serde_json::from_slice::<Value>(&req.body) {
                Ok(mut v) => {
                    self.json(None, &mut v);
                    v
                }
                Err(_) => Value::String(self.text("", &crate::error::excerpt(&req.body))),
            }
        };
        json!({
            "method": req.method.as_str(),
            "path": req.url.path(),
            "query": self.pairs(req.url.query_pairs().into_owned()),
            "headers": headers,
            "body": body,
        })
    }
}
