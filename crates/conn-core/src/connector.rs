//! The dyn-compatible connector trait the umbrella crate holds as `Box<dyn Connector>`, and the
//! raw request/response of the original system's `call_api(platform, endpoint, method, data)`.

use std::fmt;

use async_trait::async_trait;
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::retry::Idempotency;
use crate::transport::{Request, Response};

/// A platform connector.
#[async_trait]
pub trait Connector: Send + Sync + fmt::Debug {
    /// The platform name (`douyin`, `ths`, `erp`, `xiaohongshu`…).
    fn platform(&self) -> &str;

    /// Calls an endpoint with the connector's authentication, envelope handling and retries.
    async fn call(&self, request: RawRequest) -> Result<RawResponse>;

    /// Checks that the configured credentials work (cheapest authenticated call, or a token
    /// fetch).
    async fn check_credentials(&self) -> Result<()>;
}

/// A raw call: endpoint relative to the connector's base URL, method, and JSON data (sent as the
/// query for GET/DELETE, as a JSON body otherwise).
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// HTTP method.
    pub method: Method,
    /// Path relative to the base URL.
    pub endpoint: String,
    /// Data: query for GET/DELETE, JSON body otherwise.
    pub data: Option<Value>,
    /// Extra query parameters.
    pub query: Vec<(String, String)>,
    /// Idempotency; `None` means GET/HEAD/PUT/DELETE idempotent, others not.
    pub idempotency: Option<Idempotency>,
    /// The account to act for (Douyin open_id), where the platform has several.
    pub account: Option<String>,
}

impl RawRequest {
    /// A request without data.
    pub fn new(method: Method, endpoint: impl Into<String>) -> Self {
        Self {
            method,
            endpoint: endpoint.into(),
            data: None,
            query: Vec::new(),
            idempotency: None,
            account: None,
        }
    }

    /// Sets the data.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// Sets the account.
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Sets the idempotency.
    pub fn with_idempotency(mut self, i: Idempotency) -> Self {
        self.idempotency = Some(i);
        self
    }

    /// The transport request for this raw call (auth is added by the connector).
    pub fn to_request(&self) -> Result<Request> {
        let idempotency = self.idempotency.clone().unwrap_or_else(|| {
            if matches!(
                self.method,
                Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
            ) {
                Idempotency::Idempotent
            } else {
                Idempotency::NonIdempotent
            }
        });
        let mut req = Request::new(
            "call",
            self.method.clone(),
            self.endpoint.clone(),
            idempotency,
        );
        for (k, v) in &self.query {
            req = req.query(k.clone(), v.clone());
        }
        match (
            &self.data,
            self.method == Method::GET || self.method == Method::DELETE,
        ) {
            (None, _) => {}
            (Some(Value::Object(map)), true) => {
                for (k, v) in map {
                    let s = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    req = req.query(k.clone(), s);
                }
            }
            (Some(_), true) => {
                return Err(Error::validation(
                    "data",
                    "must be a JSON object for GET and DELETE (it becomes the query string)",
                ))
            }
            (Some(v), false) => req = req.json(v)?,
        }
        Ok(req)
    }
}

/// A raw response: status, headers and the body as JSON (a non-JSON body becomes a string).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Value,
}

impl From<Response> for RawResponse {
    fn from(r: Response) -> Self {
        let body = serde_json::from_slice(&r.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()));
        Self {
            status: r.status,
            headers: r.headers,
            body,
        }
    }
}
