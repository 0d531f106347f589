//! Canonical-request HMAC-SHA256 signing (Kingdee API gateway).
//!
//! The string to sign is
//!
//! ```text
//! METHOD\npath\nsorted-query\nx-api-nonce:<nonce>\nx-api-timestamp:<unix ms>\n
//! ```
//!
//! and `X-Api-Signature = base64(hex(HMAC-SHA256(secret, string)))`: the base64 of the
//! *lowercase hex text* of the MAC, not of the raw MAC bytes.
//!
//! ⚠ Details no official source pins down, configurable with these defaults:
//! - the path is the URL path exactly as sent ([`CanonicalEncoding::Raw`]); `Rfc3986` encodes
//!   it once more as a whole (`/` becomes `%2F`), as some gateway SDKs do;
//! - the query is sorted by key then value (bytewise, before encoding) and each key and value
//!   is percent-encoded per RFC 3986 (unreserved characters `A-Z a-z 0-9 - _ . ~` kept);
//!   `Raw` joins them unencoded;
//! - header names: `X-Api-ClientID` (app key), `X-Api-Nonce`, `X-Api-Timestamp`,
//!   `X-Api-Signature`, plus `X-Api-SignHeaders: x-api-nonce,x-api-timestamp` and
//!   `X-Api-Auth-Version: 2.0`. The canonical string uses the configured nonce and timestamp
//!   header names in lower case.

use base64::Engine;
use conn_core::secret::{sensitive_header_str, ClientSecret};
use conn_core::{Error, Result};
use hmac::{Hmac, Mac};
use http::header::HeaderName;
use http::HeaderValue;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

use super::{plain_header, RequestSigner, SignableRequest, SigningContext};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How the path and query enter the canonical string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonicalEncoding {
    /// As is (the path exactly as sent; query keys and values unencoded).
    Raw,
    /// Percent-encoded per RFC 3986 (unreserved characters kept).
    Rfc3986,
}

impl CanonicalEncoding {
    fn apply(self, s: &str) -> String {
        match self {
            CanonicalEncoding::Raw => s.to_owned(),
            CanonicalEncoding::Rfc3986 => utf8_percent_encode(s, RFC3986).to_string(),
        }
    }

    /// Parses `raw` or `rfc3986`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raw" => Some(Self::Raw),
            "rfc3986" | "encoded" => Some(Self::Rfc3986),
            _ => None,
        }
    }
}

/// The header names of the Kingdee scheme. ⚠ Configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KingdeeHeaderNames {
    /// App key / client id header, `x-api-clientid`.
    pub app_key: HeaderName,
    /// Nonce header, `x-api-nonce`.
    pub nonce: HeaderName,
    /// Timestamp header (Unix milliseconds), `x-api-timestamp`.
    pub timestamp: HeaderName,
    /// Signature header, `x-api-signature`.
    pub signature: HeaderName,
}

impl Default for KingdeeHeaderNames {
    fn default() -> Self {
        Self {
            app_key: HeaderName::from_static("x-api-clientid"),
            nonce: HeaderName::from_static("x-api-nonce"),
            timestamp: HeaderName::from_static("x-api-timestamp"),
            signature: HeaderName::from_static("x-api-signature"),
        }
    }
}

/// The canonical string of a request (see the module docs).
///
/// ```
/// use conn_erp::auth::{canonical_string, CanonicalEncoding};
/// let q = vec![("b".to_string(), "x y".to_string()), ("a".to_string(), "1".to_string())];
/// let s = canonical_string("get", "/k3cloud/api", &q, "x-api-nonce", "n1", "x-api-timestamp", 1700000000000,
///     CanonicalEncoding::Raw, CanonicalEncoding::Rfc3986);
/// assert_eq!(s, "GET\n/k3cloud/api\na=1&b=x%20y\nx-api-nonce:n1\nx-api-timestamp:1700000000000\n");
/// ```
#[allow(clippy::too_many_arguments)]
pub fn canonical_string(
    method: &str,
    path: &str,
    query: &[(String, String)],
    nonce_header: &str,
    nonce: &str,
    timestamp_header: &str,
    timestamp_ms: i64,
    path_encoding: CanonicalEncoding,
    query_encoding: CanonicalEncoding,
) -> String {
    let mut sorted: Vec<&(String, String)> = query.iter().collect();
    sorted.sort_by(|a, b| {
        a.0.as_bytes()
            .cmp(b.0.as_bytes())
            .then(a.1.as_bytes().cmp(b.1.as_bytes()))
    });
    let q: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", query_encoding.apply(k), query_encoding.apply(v)))
        .collect();
    format!(
        "{}\n{}\n{}\n{}:{}\n{}:{}\n",
        method.to_ascii_uppercase(),
        path_encoding.apply(path),
        q.join("&"),
        nonce_header.to_ascii_lowercase(),
        nonce,
        timestamp_header.to_ascii_lowercase(),
        timestamp_ms
    )
}

/// `base64(hex(HMAC-SHA256(secret, canonical)))`.
///
/// ```
/// // printf '%s' 'abc' | openssl dgst -sha256 -hmac 'key'
/// //   → 9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab
/// // printf '%s' '9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab' | base64 -w0
/// let sig = conn_erp::auth::hmac_signature("key", "abc");
/// assert_eq!(sig, "OWMxOTZlMzJkYzAxNzVmODZmNGIxY2I4OTI4OWQ2NjE5ZGU2YmVlNjk5ZTRjMzc4ZTY4MzA5ZWQ5N2ExYTZhYg==");
/// ```
pub fn hmac_signature(secret: &str, canonical: &str) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; fall back to an empty
    // MAC input rather than panicking if that ever changes.
    let hex_mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(canonical.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    base64::engine::general_purpose::STANDARD.encode(hex_mac)
}

/// Kingdee gateway signer.
#[derive(Debug, Clone)]
pub struct KingdeeHmacSigner {
    app_key: String,
    secret: ClientSecret,
    headers: KingdeeHeaderNames,
    path_encoding: CanonicalEncoding,
    query_encoding: CanonicalEncoding,
}

impl KingdeeHmacSigner {
    /// App key (client id) and secret, default header names and encodings.
    pub fn new(app_key: impl Into<String>, secret: ClientSecret) -> Self {
        Self {
            app_key: app_key.into(),
            secret,
            headers: KingdeeHeaderNames::default(),
            path_encoding: CanonicalEncoding::Raw,
            query_encoding: CanonicalEncoding::Rfc3986,
        }
    }

    /// Renames the headers.
    pub fn with_headers(mut self, headers: KingdeeHeaderNames) -> Self {
        self.headers = headers;
        self
    }

    /// Sets how the path and the query enter the canonical string.
    pub fn with_encoding(mut self, path: CanonicalEncoding, query: CanonicalEncoding) -> Self {
        self.path_encoding = path;
        self.query_encoding = query;
        self
    }

    /// The header names.
    pub fn headers(&self) -> &KingdeeHeaderNames {
        &self.headers
    }

    /// Path and query encodings.
    pub fn encodings(&self) -> (CanonicalEncoding, CanonicalEncoding) {
        (self.path_encoding, self.query_encoding)
    }

    /// The app key.
    pub fn app_key(&self) -> &str {
        &self.app_key
    }
}

impl RequestSigner for KingdeeHmacSigner {
    fn sign(&self, request: &mut SignableRequest, ctx: &SigningContext) -> Result<()> {
        let canonical = canonical_string(
            request.method().as_str(),
            request.path(),
            &request.query,
            self.headers.nonce.as_str(),
            ctx.nonce(),
            self.headers.timestamp.as_str(),
            ctx.unix_millis(),
            self.path_encoding,
            self.query_encoding,
        );
        let sig = hmac_signature(self.secret.expose_secret(), &canonical);
        let h = &mut request.headers;
        h.insert(
            self.headers.app_key.clone(),
            plain_header(&self.app_key, "ERP app key")?,
        );
        h.insert(
            self.headers.nonce.clone(),
            plain_header(ctx.nonce(), "nonce")?,
        );
        h.insert(
            self.headers.timestamp.clone(),
            HeaderValue::from(ctx.unix_millis()),
        );
        h.insert(
            HeaderName::from_static("x-api-signheaders"),
            plain_header(
                &format!("{},{}", self.headers.nonce, self.headers.timestamp),
                "signed header list",
            )?,
        );
        h.insert(
            HeaderName::from_static("x-api-auth-version"),
            HeaderValue::from_static("2.0"),
        );
        // The signature is derived from the secret; mark it sensitive so it is never indexed.
        let v = sensitive_header_str(&sig)
            .map_err(|_| Error::config("signature is not a valid header value"))?;
        h.insert(self.headers.signature.clone(), v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn signs_with_the_documented_headers() {
        let s = KingdeeHmacSigner::new("client-1", ClientSecret::new("sec"));
        let mut r = SignableRequest::new(Method::GET, "/api/orders");
        r.query.push(("page_index".into(), "1".into()));
        s.sign(&mut r, &SigningContext::new(1_700_000_000_123, "abc"))
            .unwrap();
        assert_eq!(r.headers["x-api-clientid"], "client-1");
        assert_eq!(r.headers["x-api-timestamp"], "1700000000123");
        assert_eq!(r.headers["x-api-nonce"], "abc");
        let c = "GET\n/api/orders\npage_index=1\nx-api-nonce:abc\nx-api-timestamp:1700000000123\n";
        assert_eq!(
            r.headers["x-api-signature"],
            hmac_signature("sec", c).as_str()
        );
        assert_eq!(r.query.len(), 1, "the query is left as it is");
    }

    #[test]
    fn rfc3986_encodes_reserved_and_keeps_unreserved() {
        let q = vec![("k".to_string(), "a+b/c~d é".to_string())];
        let s = canonical_string(
            "POST",
            "/a b",
            &q,
            "N",
            "n",
            "T",
            1,
            CanonicalEncoding::Rfc3986,
            CanonicalEncoding::Rfc3986,
        );
        assert_eq!(s, "POST\n%2Fa%20b\nk=a%2Bb%2Fc~d%20%C3%A9\nn:n\nt:1\n");
    }
}
