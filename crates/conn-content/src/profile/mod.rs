//! Content profiles (the built-ins and the rules are on [`Profile`]).

mod builtin;
mod limits;
mod mapping;

use std::fmt;

use conn_core::credentials::env_var_name;
use conn_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use builtin::Builtin;
pub use conn_core::envelope::{Code, Envelope};
pub use conn_core::pointer::Pointer;
pub use limits::Limits;
pub(crate) use mapping::value_text;
pub use mapping::{FieldMapping, ListField, ListShape, ResponseMapping, StatsMapping};

use crate::model::Content;

/// The default API-key header.
pub const DEFAULT_API_KEY_HEADER: &str = "X-API-Key";
/// The Xiaohongshu open-platform signing version.
pub const XHS_SIGN_VERSION: &str = "2.0";
/// The `method` signed for a publish when the endpoint names none.
pub const DEFAULT_PUBLISH_API_METHOD: &str = "content.publish";
/// The `method` signed for a stats request when the endpoint names none.
pub const DEFAULT_STATS_API_METHOD: &str = "content.stats";

/// How a profile authenticates. Secrets are not here: they come from [`crate::Credentials`].
///
/// In a profile file: `{"type": "bearer"}`, `{"type": "api_key", "header": "X-Api-Key"}`,
/// `{"type": "xhs_sign", "version": "2.0"}` or `{"type": "none"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthScheme {
    /// No authentication (an endpoint behind a gateway that adds it).
    None,
    /// `Authorization: Bearer <token>`, the token from `<P>_ACCESS_TOKEN`.
    Bearer,
    /// The key from `<P>_API_KEY` in a header (default `X-API-Key`).
    ApiKey {
        /// The header name.
        #[serde(default = "default_api_key_header")]
        header: String,
    },
    /// Xiaohongshu open-platform signing: `appId, method, version, timestamp, accessToken, sign`
    /// added to the JSON body, `sign = md5(method + "?appId=" + appId + "&timestamp=" + ts +
    /// "&version=" + version + appSecret)` (see [`crate::auth::xhs_sign`]); credentials from
    /// `<P>_APP_ID`, `<P>_APP_SECRET`, `<P>_ACCESS_TOKEN`.
    XhsSign {
        /// The `version` field (`2.0`).
        #[serde(default = "default_xhs_version")]
        version: String,
    },
}

fn default_api_key_header() -> String {
    DEFAULT_API_KEY_HEADER.to_owned()
}

fn default_xhs_version() -> String {
    XHS_SIGN_VERSION.to_owned()
}

impl AuthScheme {
    /// API key in the default header.
    pub fn api_key() -> Self {
        AuthScheme::ApiKey {
            header: default_api_key_header(),
        }
    }

    /// Xiaohongshu signing, version 2.0.
    pub fn xhs_sign() -> Self {
        AuthScheme::XhsSign {
            version: default_xhs_version(),
        }
    }

    /// The name used in `<P>_AUTH` and profile files.
    pub fn name(&self) -> &'static str {
        match self {
            AuthScheme::None => "none",
            AuthScheme::Bearer => "bearer",
            AuthScheme::ApiKey { .. } => "api_key",
            AuthScheme::XhsSign { .. } => "xhs_sign",
        }
    }
}

/// An HTTP method a profile endpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpMethod {
    /// GET (stats only: the id goes in the path or the query).
    #[serde(rename = "GET", alias = "get")]
    Get,
    /// POST with a JSON body.
    #[serde(rename = "POST", alias = "post")]
    Post,
    /// PUT with a JSON body.
    #[serde(rename = "PUT", alias = "put")]
    Put,
}

impl HttpMethod {
    /// The `http` method.
    pub fn as_http(self) -> http::Method {
        match self {
            HttpMethod::Get => http::Method::GET,
            HttpMethod::Post => http::Method::POST,
            HttpMethod::Put => http::Method::PUT,
        }
    }

    /// Parses `GET`/`POST`/`PUT` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            "PUT" => Some(HttpMethod::Put),
            _ => None,
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_http().as_str())
    }
}

/// The publish endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// HTTP method (POST or PUT).
    pub method: HttpMethod,
    /// Path, appended to the base URL.
    pub path: String,
    /// The operation name a signing scheme puts in the body (Xiaohongshu `method`); default
    /// [`DEFAULT_PUBLISH_API_METHOD`].
    #[serde(default)]
    pub api_method: Option<String>,
}

/// The stats endpoint. The content id goes into the path where it holds `{id}`
/// (percent-encoded), otherwise into the query parameter `id_field` (GET) or the JSON body at
/// `id_field` (a field name or pointer; POST/PUT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsEndpoint {
    /// HTTP method.
    pub method: HttpMethod,
    /// Path, appended to the base URL; may hold `{id}`.
    pub path: String,
    /// Query parameter or body field carrying the id when the path has no `{id}`.
    #[serde(default = "default_id_field")]
    pub id_field: String,
    /// The operation name a signing scheme puts in the body; default
    /// [`DEFAULT_STATS_API_METHOD`].
    #[serde(default)]
    pub api_method: Option<String>,
}

fn default_id_field() -> String {
    "content_id".to_owned()
}

/// A platform profile: the built-ins are below, and [`Config`](crate::Config) describes
/// profile files and environment variables.
///
/// ```
/// use conn_content::{AuthScheme, Profile};
/// let p = Profile::custom("myblog")
///     .with_base_url("https://blog.example.com/api")
///     .with_auth(AuthScheme::api_key())
///     .with_publish_path("/posts")
///     .with_idempotency_header("Idempotency-Key");
/// p.validate().unwrap();
/// assert_eq!(p.env_var("BASE_URL"), "MYBLOG_BASE_URL");
/// ```
///
/// Platform profiles: one adapter, several platforms described as data.
///
/// A [`Profile`] says where a platform's endpoints are, how it authenticates, how [`Content`]
/// maps into the publish request, where the results sit in the responses, what its envelope
/// looks like and which limits it enforces. The built-in ones ([`Builtin`]) are starting points,
/// not documented contracts: none of these platforms documents a server-side publishing API,
/// so every default below is a convention of this crate (⚠) that a profile file or the
/// `<P>_*` variables override. Built-ins have **no base URL**.
///
/// | profile | publish | stats | title / body / images / tags | id | envelope (code, success, message) | limits |
/// |---|---|---|---|---|---|---|
/// | `xiaohongshu` | `POST /note/publish` | `POST /note/stats` (`note_id` in body) | `/title` `/desc` `/image_urls` `/topics` | `/data/note_id` | ark: `/error_code` = 0 and `/success` ≠ false, `/error_msg` (HTTP 200) | title 1–20, body 1–1000, 1–18 images, ≤10 tags |
/// | `zhihu` | `POST /articles` | `GET /articles/{id}/stats` | `/title` `/content` `/image_urls` `/topics` | `/id` | `/error/code` absent, `/error/message` | title 1–100, body ≥1, ≤20 images, ≤3 tags |
/// | `toutiao` | `POST /article/create/` | `GET /article/stats/?item_id=` | `/title` `/content` `/cover_images` `/tags` | `/data/item_id` | `/data/error_code` = 0, `/data/description` (HTTP 200) | title 5–30, body ≥1, ≤3 images, ≤5 tags |
/// | custom (generic) | `POST /content/publish` | `GET /content/{id}/stats` | `/title` `/body` `/images` `/tags` | `/data/id` | `/code` = 0, `/message` | title and body required |
///
/// The limits of the built-ins are the apps' user-facing rules as commonly stated (Xiaohongshu
/// notes: 20-character titles, 1000-character text, up to 18 images; Toutiao articles: 5–30
/// character titles, one or three covers; Zhihu articles: up to 3 topics), not API facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Name: lowercase ASCII letters, digits, `-` and `_`; it is the connector's platform name
    /// and, upper-cased with `-` as `_`, the prefix of its variables (`XIAOHONGSHU_BASE_URL`).
    pub name: String,
    /// Base URL; none of the built-ins has one.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Authentication scheme.
    pub auth: AuthScheme,
    /// Publish endpoint.
    pub publish: Endpoint,
    /// Stats endpoint.
    pub stats: StatsEndpoint,
    /// Where the content fields go in the publish body.
    pub mapping: FieldMapping,
    /// Where the id and counters sit in responses.
    pub response: ResponseMapping,
    /// The response envelope.
    pub envelope: Envelope,
    /// Limits checked before publishing.
    #[serde(default)]
    pub limits: Limits,
    /// A header carrying an idempotency key on publish, where the endpoint honours one; with it a
    /// publish is retried after timeouts and 5xx with the same key.
    #[serde(default)]
    pub idempotency_header: Option<String>,
}

impl Profile {
    /// The built-in of that name, or `None`.
    pub fn builtin(name: &str) -> Option<Self> {
        Builtin::from_name(name).map(Builtin::profile)
    }

    /// The built-in of that name, else a generic [`Profile::custom`].
    pub fn builtin_or_custom(name: &str) -> Self {
        Self::builtin(name).unwrap_or_else(|| Self::custom(name))
    }

    /// True for `xiaohongshu`, `zhihu` and `toutiao`.
    pub fn is_builtin(&self) -> bool {
        Builtin::from_name(&self.name).is_some()
    }

    /// The variable `<P>_<suffix>` of this profile (`XIAOHONGSHU_BASE_URL`).
    pub fn env_var(&self, suffix: &str) -> String {
        env_var_name(&self.name, suffix)
    }

    /// Sets the base URL.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the auth scheme.
    pub fn with_auth(mut self, auth: AuthScheme) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the publish path.
    pub fn with_publish_path(mut self, path: impl Into<String>) -> Self {
        self.publish.path = path.into();
        self
    }

    /// Sets the stats path (`{id}` is replaced by the percent-encoded id).
    pub fn with_stats_path(mut self, path: impl Into<String>) -> Self {
        self.stats.path = path.into();
        self
    }

    /// Sets the stats method.
    pub fn with_stats_method(mut self, method: HttpMethod) -> Self {
        self.stats.method = method;
        self
    }

    /// Sets the field mapping.
    pub fn with_mapping(mut self, mapping: FieldMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// Sets the pointer of the new content id in the publish response.
    pub fn with_id_pointer(mut self, pointer: &str) -> Self {
        self.response.id = Pointer::new(pointer);
        self
    }

    /// Sets the envelope.
    pub fn with_envelope(mut self, envelope: Envelope) -> Self {
        self.envelope = envelope;
        self
    }

    /// Sets the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the idempotency header.
    pub fn with_idempotency_header(mut self, header: impl Into<String>) -> Self {
        self.idempotency_header = Some(header.into());
        self
    }

    /// The API-key header, when the scheme is [`AuthScheme::ApiKey`].
    pub fn api_key_header(&self) -> Option<&str> {
        match &self.auth {
            AuthScheme::ApiKey { header } => Some(header),
            _ => None,
        }
    }

    /// This profile with a JSON merge patch (RFC 7396) applied: objects merge member by member,
    /// `null` removes a member, anything else replaces. `auth`, `images`, `tags` and `success`
    /// are replaced whole (they are tagged values). This is how a profile file entry overrides
    /// a built-in or the generic profile.
    pub fn patched(&self, patch: &Value) -> Result<Self> {
        let mut doc = serde_json::to_value(self).map_err(|e| {
            Error::config(format!("profile `{}` cannot be serialised: {e}", self.name))
        })?;
        merge(&mut doc, patch);
        serde_json::from_value(doc)
            .map_err(|e| Error::config(format!("profile `{}`: invalid definition: {e}", self.name)))
    }

    /// Checks the profile is usable (name, paths, header names, pointers, base URL). Errors are
    /// config errors naming the profile and, for a base URL, the variable.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Error::config(format!("profile `{}`: {msg}", self.name));
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && self.name.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !name_ok {
            return Err(Error::config(format!(
                "invalid profile name {:?}: use lowercase ASCII letters, digits, `-` and `_`, starting with a letter or digit",
                self.name
            )));
        }
        if let Some(u) = &self.base_url {
            conn_core::transport::parse_base_url(u, Some(&self.env_var("BASE_URL")))?;
        }
        for (what, path) in [("publish", &self.publish.path), ("stats", &self.stats.path)] {
            if path.trim().is_empty() {
                return Err(Error::config_var(
                    self.env_var(&format!("{}_PATH", what.to_uppercase())),
                    format!("profile `{}`: the {what} path is empty", self.name),
                ));
            }
        }
        if self.publish.method == HttpMethod::Get {
            return Err(bad(
                "publish must use POST or PUT (it carries a JSON body)".into()
            ));
        }
        if !self.stats.path.contains("{id}") && self.stats.id_field.trim().is_empty() {
            return Err(bad(
                "the stats path has no `{id}` and no id_field says where the id goes".into(),
            ));
        }
        if matches!(self.auth, AuthScheme::XhsSign { .. }) && self.stats.method == HttpMethod::Get {
            return Err(Error::config_var(
                self.env_var("STATS_METHOD"),
                format!(
                    "profile `{}`: xhs_sign signs a JSON body, so stats must use POST",
                    self.name
                ),
            ));
        }
        let header_ok = |h: &str| http::HeaderName::from_bytes(h.as_bytes()).is_ok();
        if let AuthScheme::ApiKey { header } = &self.auth {
            if !header_ok(header) {
                return Err(Error::config_var(
                    self.env_var("API_KEY_HEADER"),
                    format!("{header:?} is not a valid header name"),
                ));
            }
        }
        if let Some(h) = &self.idempotency_header {
            if !header_ok(h) {
                return Err(Error::config_var(
                    self.env_var("IDEMPOTENCY_HEADER"),
                    format!("{h:?} is not a valid header name"),
                ));
            }
        }
        let mut pointers = vec![
            ("mapping.title", &self.mapping.title),
            ("mapping.body", &self.mapping.body),
            ("response.id", &self.response.id),
        ];
        if let Some(l) = &self.mapping.images {
            pointers.push(("mapping.images", &l.pointer));
        }
        if let Some(l) = &self.mapping.tags {
            pointers.push(("mapping.tags", &l.pointer));
        }
        for (field, p) in pointers {
            if p.is_root() {
                return Err(bad(format!("`{field}` must name a field, not the root")));
            }
        }
        // A mapping whose fields collide (title at `/a`, body at `/a/b`) fails on the first
        // publish; find it now with a sample.
        let sample = Content::new("t", "b")
            .with_images(self.mapping.images.iter().map(|_| "i"))
            .with_tags(self.mapping.tags.iter().map(|_| "t"));
        let built = self.mapping.build(&self.name, &sample)?;
        self.mapping
            .read(&built)
            .map_err(|e| bad(format!("mapping fields overlap: {e}")))?;
        Ok(())
    }
}

/// RFC 7396 merge, with the tagged members replaced whole.
fn merge(doc: &mut Value, patch: &Value) {
    const REPLACE: [&str; 4] = ["auth", "images", "tags", "success"];
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    d.remove(k);
                } else if REPLACE.contains(&k.as_str()) {
                    d.insert(k.clone(), v.clone());
                } else {
                    merge(d.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (d, p) => *d = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtins_are_valid_and_have_no_base_url() {
        for b in Builtin::ALL {
            let p = b.profile();
            p.validate().unwrap();
            assert_eq!(p.name, b.name());
            assert!(p.base_url.is_none());
            assert!(p.is_builtin());
        }
        Profile::custom("my-blog").validate().unwrap();
    }

    #[test]
    fn profiles_round_trip_through_json() {
        for b in Builtin::ALL {
            let p = b.profile().with_auth(AuthScheme::xhs_sign());
            let v = serde_json::to_value(&p).unwrap();
            let back: Profile = serde_json::from_value(v).unwrap();
            assert_eq!(back, p);
        }
    }

    #[test]
    fn patch_overrides_members_and_replaces_tagged_values() {
        let p = Profile::xiaohongshu()
            .patched(&json!({
                "auth": {"type": "api_key"},
                "publish": {"path": "/v2/notes"},
                "mapping": {"tags": {"pointer": "/tag_line", "shape": {"joined": " "}}, "images": null},
                "limits": {"max_tags": 2},
                "idempotency_header": "Idempotency-Key"
            }))
            .unwrap();
        assert_eq!(p.auth, AuthScheme::api_key());
        assert_eq!(p.publish.path, "/v2/notes");
        assert_eq!(p.publish.method, HttpMethod::Post);
        assert_eq!(p.mapping.images, None);
        assert_eq!(
            p.mapping.tags,
            Some(ListField::new("/tag_line", ListShape::Joined(" ".into())))
        );
        assert_eq!(p.limits.max_tags, Some(2));
        assert_eq!(p.limits.title_max_chars, Some(20));
        let e = Profile::zhihu()
            .patched(&json!({"publish": {"method": "DELETE"}}))
            .unwrap_err();
        assert!(e.to_string().contains("profile `zhihu`"), "{e}");
    }

    #[test]
    fn validation_names_what_is_wrong() {
        let e = Profile::custom("Bad Name").validate().unwrap_err();
        assert!(e.to_string().contains("invalid profile name"), "{e}");
        let e = Profile::xiaohongshu()
            .with_auth(AuthScheme::xhs_sign())
            .with_stats_method(HttpMethod::Get)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("XIAOHONGSHU_STATS_METHOD"), "{e}");
        let e = Profile::custom("x")
            .with_base_url("ftp://h")
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("X_BASE_URL"), "{e}");
        let mut p = Profile::custom("x");
        p.mapping.body = "/title/text".into();
        let e = p.validate().unwrap_err();
        assert!(e.to_string().contains("conflicts"), "{e}");
        let e = Profile::custom("x")
            .with_idempotency_header("bad header")
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("X_IDEMPOTENCY_HEADER"), "{e}");
    }
}
