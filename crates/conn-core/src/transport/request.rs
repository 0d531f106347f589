//! What a connector sends: [`Request`] (operation, method, path, query, headers, body,
//! idempotency) and the per-attempt [`AttemptHook`].

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};

use crate::error::{Error, Result};
use crate::retry::{Idempotency, RetryPolicy};
use crate::secret::{sensitive_header, sensitive_header_str, Secret};

/// Runs before every attempt of every request (the first and each retry).
///
/// For work that must happen per attempt rather than per call: waiting for a client-side
/// rate-limiter slot (so retries are paced too), or signing with a fresh timestamp and nonce.
/// The hook may change the request (query, headers, body); an error stops the operation.
#[async_trait::async_trait]
pub trait AttemptHook: Send + Sync + fmt::Debug {
    /// Called with a copy of the request before attempt `attempt` (1-based) is sent.
    async fn before_attempt(&self, request: &mut Request, attempt: u32) -> Result<()>;
}

/// One part of a multipart body. The data is `Bytes`, so rebuilding the form for a retry copies
/// nothing.
#[derive(Debug, Clone)]
pub struct MultipartPart {
    /// Field name.
    pub name: String,
    /// File name.
    pub file_name: Option<String>,
    /// Content type.
    pub content_type: Option<String>,
    /// The data.
    pub data: Bytes,
}

/// A request body.
#[derive(Debug, Clone, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// JSON, already serialised.
    Json(Bytes),
    /// `application/x-www-form-urlencoded`, already encoded.
    Form(String),
    /// Raw bytes with a content type.
    Bytes {
        /// Content type.
        content_type: String,
        /// Data.
        data: Bytes,
    },
    /// `multipart/form-data`.
    Multipart(Vec<MultipartPart>),
    /// `multipart/form-data` of one file field streamed from a
    /// [`StreamBody`](crate::body::StreamBody), opened afresh for every attempt.
    StreamingMultipart(crate::body::StreamPart),
}

/// One operation's request. Cheap to clone; the transport sends the same request on every
/// attempt, so an idempotency key is generated once per logical call.
#[derive(Clone)]
pub struct Request {
    pub(super) operation: Cow<'static, str>,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: HeaderMap,
    pub(super) body: Body,
    pub(super) idempotency: Idempotency,
    pub(super) retry: Option<RetryPolicy>,
    pub(super) attempt_timeout: Option<Duration>,
    pub(super) context: Vec<(String, String)>,
    pub(super) secret_response: bool,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query values may be ids; header values may be secrets (HeaderValue's Debug already
        // hides sensitive ones, but we print names only to be sure).
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "query",
                &self.query.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("idempotency", &self.idempotency)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A request with an explicit method and idempotency.
    pub fn new(
        operation: impl Into<Cow<'static, str>>,
        method: Method,
        path: impl Into<String>,
        idempotency: Idempotency,
    ) -> Self {
        Self {
            operation: operation.into(),
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::Empty,
            idempotency: Idempotency::NonIdempotent,
            retry: None,
            attempt_timeout: None,
            context: Vec::new(),
            secret_response: false,
        }
        .idempotency(idempotency)
    }

    /// A GET (idempotent).
    pub fn get(operation: impl Into<Cow<'static, str>>, path: impl Into<String>) -> Self {
        Self::new(operation, Method::GET, path, Idempotency::Idempotent)
    }

    /// A POST; the caller says whether it is idempotent.
    pub fn post(
        operation: impl Into<Cow<'static, str>>,
        path: impl Into<String>,
        idempotency: Idempotency,
    ) -> Self {
        Self::new(operation, Method::POST, path, idempotency)
    }

    /// Sets the idempotency; a [`Idempotency::Key`] also sets its header.
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        if let Idempotency::Key { header, key } = &idempotency {
            if let Ok(v) = HeaderValue::from_str(key) {
                self.headers.insert(header.clone(), v);
            }
        }
        self.idempotency = idempotency;
        self
    }

    /// Adds a query parameter (percent-encoded on the wire).
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a plain header. Use [`Request::secret_header`] for anything secret.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Adds a header carrying a secret, marked sensitive.
    pub fn secret_header(mut self, name: HeaderName, secret: &Secret) -> Result<Self> {
        let v = sensitive_header(secret)
            .map_err(|_| Error::validation(name.as_str(), "secret is not a valid header value"))?;
        self.headers.insert(name, v);
        Ok(self)
    }

    /// `Authorization: Bearer <token>`, marked sensitive.
    pub fn bearer(mut self, token: &Secret) -> Result<Self> {
        let v = sensitive_header_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| Error::validation("authorization", "token is not a valid header value"))?;
        self.headers.insert(http::header::AUTHORIZATION, v);
        Ok(self)
    }

    /// A JSON body.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::validation("body", format!("cannot be serialised as JSON: {e}")))?;
        self.body = Body::Json(Bytes::from(bytes));
        Ok(self)
    }

    /// A form body.
    pub fn form<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let s = serde_urlencoded::to_string(body)
            .map_err(|e| Error::validation("body", format!("cannot be form-encoded: {e}")))?;
        self.body = Body::Form(s);
        Ok(self)
    }

    /// Any body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Overrides the retry policy for this operation.
    pub fn retry_policy(mut self, p: RetryPolicy) -> Self {
        self.retry = Some(p);
        self
    }

    /// Overrides the per-attempt timeout for this operation (uploads need longer).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }

    /// Marks the answer as holding secrets (a token endpoint): no error of this request keeps
    /// any part of the response body, neither an HTTP error's excerpt nor a decode error's.
    pub fn secret_response(mut self) -> Self {
        self.secret_response = true;
        self
    }

    /// True when [`Request::secret_response`] was set.
    pub fn is_secret_response(&self) -> bool {
        self.secret_response
    }

    /// True for a create ([`Idempotency::is_create`]): a non-idempotent or keyed request.
    pub fn is_create(&self) -> bool {
        self.idempotency.is_create()
    }

    /// Adds what a caller needs to check the outcome if it becomes unknown (`video_id`, …).
    pub fn outcome_context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.context.push((key.into(), value.into()));
        self
    }

    /// Query parameters, for in-place changes (request signers).
    pub fn query_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.query
    }

    /// Headers, for in-place changes (request signers). Keep secrets marked sensitive.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Replaces the body in place.
    pub fn set_body(&mut self, body: Body) {
        self.body = body;
    }

    /// The operation name.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Query parameters.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// Headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body_ref(&self) -> &Body {
        &self.body
    }

    /// The idempotency.
    pub fn idempotency_ref(&self) -> &Idempotency {
        &self.idempotency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_debug_shows_header_names_only() {
        let r = Request::get("op", "/p")
            .secret_header(
                HeaderName::from_static("access-token"),
                &Secret::new("act.SECRET"),
            )
            .unwrap()
            .query("open_id", "o1");
        let d = format!("{r:?}");
        assert!(d.contains("access-token") && !d.contains("SECRET") && !d.contains("o1"));
        assert!(r.headers()["access-token"].is_sensitive());
    }
}
