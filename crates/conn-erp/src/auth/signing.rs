//! What every signer works on: the request as it goes on the wire, the signing context, nonce
//! sources, the [`RequestSigner`] trait, and the [`Auth`] modes built on them.

use conn_core::clock::SharedClock;
use conn_core::{Error, Result};
use http::{HeaderMap, Method};
use rand::Rng;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use super::header::{ApiKeyAuth, BasicAuth, BearerAuth, NoAuth, TokenAuth};
use super::kingdee::KingdeeHmacSigner;
use super::md5::SortedMd5Signer;
use super::wdt::WdtSigner;

/// The body of a request being signed.
#[derive(Clone, PartialEq)]
pub enum SignBody {
    /// No body.
    Empty,
    /// A JSON body (sent as `application/json`).
    Json(Value),
    /// Form fields (sent as `application/x-www-form-urlencoded`).
    Form(Vec<(String, String)>),
}

impl fmt::Debug for SignBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Form fields may carry an access token: print the names only.
        match self {
            SignBody::Empty => f.write_str("Empty"),
            SignBody::Json(_) => f.write_str("Json(..)"),
            SignBody::Form(pairs) => f
                .debug_tuple("Form")
                .field(&pairs.iter().map(|(k, _)| k).collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// A request as it will go on the wire, handed to a [`RequestSigner`].
///
/// The method and the path are fixed (the path is the full URL path the server sees, the base
/// URL's own path included); the query, the headers and the body may be changed.
///
/// ```
/// use conn_erp::{SignableRequest, SignBody};
/// let mut r = SignableRequest::new(http::Method::GET, "/api/orders");
/// r.query.push(("page_index".into(), "1".into()));
/// assert_eq!(r.path(), "/api/orders");
/// assert_eq!(r.body, SignBody::Empty);
/// ```
#[derive(Clone)]
pub struct SignableRequest {
    method: Method,
    path: String,
    /// Query parameters, in order (values unencoded).
    pub query: Vec<(String, String)>,
    /// Headers; put secrets in sensitive values ([`conn_core::secret::sensitive_header`]).
    pub headers: HeaderMap,
    /// The body.
    pub body: SignBody,
}

impl fmt::Debug for SignableRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignableRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "query",
                &self.query.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body", &self.body)
            .finish()
    }
}

impl SignableRequest {
    /// A request without query, headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: SignBody::Empty,
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The full URL path as sent (percent-encoded as on the wire).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// The timestamp and nonce of one logical call.
///
/// Drawn once per call, so every retry of the call carries the same signature (a server that
/// rejects a reused nonce would need per-attempt signing; none of the built-in schemes does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningContext {
    unix_millis: i64,
    nonce: String,
}

impl SigningContext {
    /// A context at a Unix time in milliseconds with a nonce.
    pub fn new(unix_millis: i64, nonce: impl Into<String>) -> Self {
        Self {
            unix_millis,
            nonce: nonce.into(),
        }
    }

    /// Draws a context from a clock and a nonce source.
    pub fn draw(clock: &SharedClock, nonce: &dyn NonceSource) -> Self {
        let millis = clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self::new(millis, nonce.next_nonce())
    }

    /// Unix time in milliseconds.
    pub fn unix_millis(&self) -> i64 {
        self.unix_millis
    }

    /// Unix time in whole seconds.
    pub fn unix_seconds(&self) -> i64 {
        self.unix_millis.div_euclid(1000)
    }

    /// The nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }
}

/// A source of nonces, injectable so that tests produce stable signatures.
pub trait NonceSource: Send + Sync + fmt::Debug {
    /// A fresh nonce.
    fn next_nonce(&self) -> String;
}

/// 16 random bytes as 32 lowercase hex characters.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomNonce;

impl NonceSource for RandomNonce {
    fn next_nonce(&self) -> String {
        let bytes: [u8; 16] = rand::thread_rng().gen();
        hex::encode(bytes)
    }
}

/// The same nonce every time (tests and snapshots).
#[derive(Debug, Clone)]
pub struct FixedNonce(String);

impl FixedNonce {
    /// A source that always answers `nonce`.
    pub fn new(nonce: impl Into<String>) -> Self {
        Self(nonce.into())
    }
}

impl NonceSource for FixedNonce {
    fn next_nonce(&self) -> String {
        self.0.clone()
    }
}

/// Adds authentication to a request: static headers, or a signature computed from the request.
///
/// A custom scheme, say an ERP that wants `X-Sign: sha256(app_key + timestamp + secret)`:
///
/// ```
/// use conn_erp::{RequestSigner, SignableRequest, SigningContext};
/// use conn_core::secret::{sensitive_header_str, ClientSecret};
/// use http::HeaderValue;
/// use sha2::{Digest, Sha256};
///
/// #[derive(Debug)]
/// struct MySigner { app_key: String, secret: ClientSecret }
///
/// impl RequestSigner for MySigner {
///     fn sign(&self, req: &mut SignableRequest, ctx: &SigningContext) -> conn_core::Result<()> {
///         let ts = ctx.unix_seconds().to_string();
///         let digest = Sha256::digest(format!("{}{ts}{}", self.app_key, self.secret.expose_secret()));
///         let bad = |_| conn_core::Error::config("app key is not a valid header value");
///         req.headers.insert("x-app-key", HeaderValue::from_str(&self.app_key).map_err(bad)?);
///         req.headers.insert("x-timestamp", HeaderValue::from_str(&ts).map_err(bad)?);
///         req.headers.insert("x-sign", HeaderValue::from_str(&hex::encode(digest)).map_err(bad)?);
///         Ok(())
///     }
/// }
///
/// let signer = MySigner { app_key: "k".into(), secret: ClientSecret::new("s") };
/// let mut req = SignableRequest::new(http::Method::GET, "/api/orders");
/// signer.sign(&mut req, &SigningContext::new(1_700_000_000_000, "n")).unwrap();
/// assert_eq!(req.headers["x-timestamp"], "1700000000");
/// // Plug it in: conn_erp::Config::builder().base_url("https://erp.example.com").auth(conn_erp::Auth::custom(signer));
/// ```
pub trait RequestSigner: Send + Sync + fmt::Debug {
    /// Adds the authentication to `request`.
    fn sign(&self, request: &mut SignableRequest, ctx: &SigningContext) -> Result<()>;
}

/// The built-in auth modes, as named in `ERP_AUTH_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMode {
    /// No authentication.
    None,
    /// API key header (`X-API-Key` by default).
    ApiKey,
    /// HTTP Basic.
    Basic,
    /// ERPNext `Authorization: token key:secret`.
    Token,
    /// `Authorization: Bearer key` (Odoo API keys).
    Bearer,
    /// 聚水潭 sorted-concatenation MD5, secret as prefix.
    JstMd5,
    /// 旺店通旗舰版: system parameters in the query, MD5 over them and the raw body.
    WdtMd5,
    /// Kingdee K3Cloud WebAPI: the SDK's nine headers, two HMAC-SHA256 signatures.
    KingdeeHmac,
}

impl AuthMode {
    /// Every mode, in `ERP_AUTH_MODE` order.
    pub const ALL: [AuthMode; 8] = [
        AuthMode::ApiKey,
        AuthMode::Basic,
        AuthMode::Token,
        AuthMode::Bearer,
        AuthMode::JstMd5,
        AuthMode::WdtMd5,
        AuthMode::KingdeeHmac,
        AuthMode::None,
    ];

    /// The name used in `ERP_AUTH_MODE`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::ApiKey => "api_key",
            AuthMode::Basic => "basic",
            AuthMode::Token => "token",
            AuthMode::Bearer => "bearer",
            AuthMode::JstMd5 => "jst_md5",
            AuthMode::WdtMd5 => "wdt_md5",
            AuthMode::KingdeeHmac => "kingdee_hmac",
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMode {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        let s = match s.as_str() {
            "kingdee" => "kingdee_hmac".to_owned(),
            "wdt" | "wangdiantong" => "wdt_md5".to_owned(),
            "jst" | "jushuitan" => "jst_md5".to_owned(),
            _ => s,
        };
        AuthMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(())
    }
}

/// The configured authentication: one of the built-in schemes or a custom signer.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No authentication.
    None(NoAuth),
    /// API key header.
    ApiKey(ApiKeyAuth),
    /// HTTP Basic.
    Basic(BasicAuth),
    /// ERPNext token header.
    Token(TokenAuth),
    /// Bearer header.
    Bearer(BearerAuth),
    /// 聚水潭 sorted-concatenation MD5.
    Md5(SortedMd5Signer),
    /// 旺店通旗舰版.
    Wdt(WdtSigner),
    /// Kingdee K3Cloud WebAPI.
    Kingdee(KingdeeHmacSigner),
    /// A user-supplied signer.
    Custom(Arc<dyn RequestSigner>),
}

impl Auth {
    /// A custom signer.
    pub fn custom(signer: impl RequestSigner + 'static) -> Self {
        Auth::Custom(Arc::new(signer))
    }

    /// The built-in mode, `None` for a custom signer.
    pub fn mode(&self) -> Option<AuthMode> {
        Some(match self {
            Auth::None(_) => AuthMode::None,
            Auth::ApiKey(_) => AuthMode::ApiKey,
            Auth::Basic(_) => AuthMode::Basic,
            Auth::Token(_) => AuthMode::Token,
            Auth::Bearer(_) => AuthMode::Bearer,
            Auth::Md5(_) => AuthMode::JstMd5,
            Auth::Wdt(_) => AuthMode::WdtMd5,
            Auth::Kingdee(_) => AuthMode::KingdeeHmac,
            Auth::Custom(_) => return None,
        })
    }
}

impl RequestSigner for Auth {
    fn sign(&self, request: &mut SignableRequest, ctx: &SigningContext) -> Result<()> {
        match self {
            Auth::None(s) => s.sign(request, ctx),
            Auth::ApiKey(s) => s.sign(request, ctx),
            Auth::Basic(s) => s.sign(request, ctx),
            Auth::Token(s) => s.sign(request, ctx),
            Auth::Bearer(s) => s.sign(request, ctx),
            Auth::Md5(s) => s.sign(request, ctx),
            Auth::Wdt(s) => s.sign(request, ctx),
            Auth::Kingdee(s) => s.sign(request, ctx),
            Auth::Custom(s) => s.sign(request, ctx),
        }
    }
}

/// A header value that is not a secret, or a config error naming what it is.
pub(crate) fn plain_header(value: &str, what: &str) -> Result<http::HeaderValue> {
    http::HeaderValue::from_str(value)
        .map_err(|_| Error::config(format!("{what} is not a valid HTTP header value")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_through_their_names() {
        for m in AuthMode::ALL {
            assert_eq!(m.as_str().parse::<AuthMode>(), Ok(m));
        }
        assert_eq!(
            "KINGDEE-HMAC".parse::<AuthMode>(),
            Ok(AuthMode::KingdeeHmac)
        );
        assert!("oauth".parse::<AuthMode>().is_err());
    }

    #[test]
    fn context_seconds_truncate_toward_the_past() {
        let c = SigningContext::new(1_700_000_000_999, "n");
        assert_eq!(c.unix_seconds(), 1_700_000_000);
        assert_eq!(RandomNonce.next_nonce().len(), 32);
    }
}
