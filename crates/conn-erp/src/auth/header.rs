//! Static header schemes: API key, Basic, ERPNext token, bearer, none.

use base64::Engine;
use conn_core::secret::{
    sensitive_header, sensitive_header_str, AccessToken, ApiKey, ClientSecret, Password,
};
use conn_core::{Error, Result};
use http::header::{HeaderName, AUTHORIZATION};

use super::{RequestSigner, SignableRequest, SigningContext};

/// The default API key header of the original system.
pub const DEFAULT_API_KEY_HEADER: &str = "x-api-key";

fn bad_value(what: &str) -> Error {
    Error::config(format!(
        "the ERP {what} contains characters not allowed in an HTTP header"
    ))
}

/// `X-API-Key: <key>` (header name configurable).
///
/// ```
/// use conn_erp::{ApiKeyAuth, RequestSigner, SignableRequest, SigningContext};
/// let auth = ApiKeyAuth::new("k-1".into());
/// let mut r = SignableRequest::new(http::Method::GET, "/api/orders");
/// auth.sign(&mut r, &SigningContext::new(0, "")).unwrap();
/// assert_eq!(r.headers["x-api-key"], "k-1");
/// assert!(r.headers["x-api-key"].is_sensitive());
/// ```
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    header: HeaderName,
    key: ApiKey,
}

impl ApiKeyAuth {
    /// The key in `X-API-Key`.
    pub fn new(key: ApiKey) -> Self {
        Self {
            header: HeaderName::from_static(DEFAULT_API_KEY_HEADER),
            key,
        }
    }

    /// Sends the key in another header.
    pub fn with_header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }

    /// The header name.
    pub fn header(&self) -> &HeaderName {
        &self.header
    }
}

impl RequestSigner for ApiKeyAuth {
    fn sign(&self, request: &mut SignableRequest, _: &SigningContext) -> Result<()> {
        let v = sensitive_header(self.key.as_secret()).map_err(|_| bad_value("API key"))?;
        request.headers.insert(self.header.clone(), v);
        Ok(())
    }
}

/// `Authorization: Basic base64(username:password)`.
#[derive(Debug, Clone)]
pub struct BasicAuth {
    username: String,
    password: Password,
}

impl BasicAuth {
    /// Username and password.
    pub fn new(username: impl Into<String>, password: Password) -> Self {
        Self {
            username: username.into(),
            password,
        }
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The header value, `Basic …`.
    pub(crate) fn header_value(username: &str, password: &str) -> String {
        let raw = format!("{username}:{password}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl RequestSigner for BasicAuth {
    fn sign(&self, request: &mut SignableRequest, _: &SigningContext) -> Result<()> {
        let v = sensitive_header_str(&Self::header_value(
            &self.username,
            self.password.expose_secret(),
        ))
        .map_err(|_| bad_value("username or password"))?;
        request.headers.insert(AUTHORIZATION, v);
        Ok(())
    }
}

/// ERPNext / Frappe: `Authorization: token <api_key>:<api_secret>`.
#[derive(Debug, Clone)]
pub struct TokenAuth {
    key: ApiKey,
    secret: ClientSecret,
}

impl TokenAuth {
    /// API key and API secret.
    pub fn new(key: ApiKey, secret: ClientSecret) -> Self {
        Self { key, secret }
    }
}

impl RequestSigner for TokenAuth {
    fn sign(&self, request: &mut SignableRequest, _: &SigningContext) -> Result<()> {
        let v = sensitive_header_str(&format!(
            "token {}:{}",
            self.key.expose_secret(),
            self.secret.expose_secret()
        ))
        .map_err(|_| bad_value("API key or secret"))?;
        request.headers.insert(AUTHORIZATION, v);
        Ok(())
    }
}

/// `Authorization: Bearer <key>` (Odoo API keys accept this form).
#[derive(Debug, Clone)]
pub struct BearerAuth {
    token: AccessToken,
}

impl BearerAuth {
    /// The token.
    pub fn new(token: AccessToken) -> Self {
        Self { token }
    }
}

impl RequestSigner for BearerAuth {
    fn sign(&self, request: &mut SignableRequest, _: &SigningContext) -> Result<()> {
        let v = sensitive_header_str(&format!("Bearer {}", self.token.expose_secret()))
            .map_err(|_| bad_value("bearer token"))?;
        request.headers.insert(AUTHORIZATION, v);
        Ok(())
    }
}

/// No authentication (an ERP on a trusted network).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl RequestSigner for NoAuth {
    fn sign(&self, _: &mut SignableRequest, _: &SigningContext) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn signed(s: &dyn RequestSigner) -> SignableRequest {
        let mut r = SignableRequest::new(Method::GET, "/x");
        s.sign(&mut r, &SigningContext::new(0, "n")).unwrap();
        r
    }

    #[test]
    fn headers_are_exact_and_sensitive() {
        // printf '%s' 'alice:pa55' | base64  →  YWxpY2U6cGE1NQ==
        let r = signed(&BasicAuth::new("alice", Password::new("pa55")));
        assert_eq!(r.headers[AUTHORIZATION], "Basic YWxpY2U6cGE1NQ==");
        assert!(r.headers[AUTHORIZATION].is_sensitive());
        let r = signed(&TokenAuth::new(ApiKey::new("k"), ClientSecret::new("s")));
        assert_eq!(r.headers[AUTHORIZATION], "token k:s");
        let r = signed(&BearerAuth::new(AccessToken::new("odoo-key")));
        assert_eq!(r.headers[AUTHORIZATION], "Bearer odoo-key");
        let r = signed(
            &ApiKeyAuth::new(ApiKey::new("k")).with_header(HeaderName::from_static("apikey")),
        );
        assert_eq!(r.headers["apikey"], "k");
        assert!(signed(&NoAuth).headers.is_empty());
    }

    #[test]
    fn a_key_with_a_newline_is_a_config_error() {
        let mut r = SignableRequest::new(Method::GET, "/x");
        let e = ApiKeyAuth::new(ApiKey::new("a\nb"))
            .sign(&mut r, &SigningContext::new(0, "n"))
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e}");
    }
}
