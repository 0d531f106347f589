//! Sorted-concatenation MD5 signing (聚水潭; the digest is shared with 旺店通, see `wdt`).
//!
//! The signed parameters are the system parameters (app key, timestamp in seconds, access token
//! when configured, fixed extras such as `charset`/`version`) plus the business payload in
//! compact JSON under `biz`. `sign` is dropped, the rest sorted by key (byte order),
//! concatenated as `key + value` for each, prefixed with the secret, hashed with MD5 and
//! written as lowercase hex. Known answers from a public PHP SDK (github.com/zmoyi/jushuitan,
//! `src/Api/Common/Util.php`) are in `tests/vectors/jst.json`.
//!
//! Placement: a request without a body (GET) carries every signed parameter in the query, its
//! business query parameters folded into `biz`; a request with a JSON body carries them as form
//! fields, the JSON becoming `biz`. ⚠ Real 聚水潭/旺店通 gateways take POST for every call: point
//! the resource paths at the gateway and use a custom signer if yours refuses GET.

use conn_core::secret::{AccessToken, ClientSecret};
use conn_core::{Error, Result};
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use super::{RequestSigner, SignBody, SignableRequest, SigningContext};

/// Where the secret goes around the concatenated parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Md5Wrap {
    /// `secret + params` (聚水潭).
    Prefix,
    /// `secret + params + secret` (旺店通旗舰版, over its query and `body`).
    PrefixAndSuffix,
}

/// The names of the system parameters. ⚠ Configurable: vendors and versions differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Md5ParamNames {
    /// The app key parameter (`app_key` for 聚水潭).
    pub app_key: String,
    /// The timestamp parameter (seconds), `timestamp`.
    pub timestamp: String,
    /// The signature parameter, `sign` (excluded from the signed string).
    pub sign: String,
    /// The business JSON parameter, `biz`.
    pub biz: String,
    /// The access token parameter, `access_token` (sent only when a token is configured).
    pub access_token: String,
}

impl Md5ParamNames {
    fn with_app_key(app_key: &str) -> Self {
        Self {
            app_key: app_key.to_owned(),
            timestamp: "timestamp".to_owned(),
            sign: "sign".to_owned(),
            biz: "biz".to_owned(),
            access_token: "access_token".to_owned(),
        }
    }
}

/// The string that is hashed: the secret, then `key + value` of every parameter but `sign_name`
/// sorted by key, then the secret again for [`Md5Wrap::PrefixAndSuffix`].
///
/// It contains the secret: never log it.
pub fn string_to_sign(
    secret: &str,
    params: &[(String, String)],
    sign_name: &str,
    wrap: Md5Wrap,
) -> String {
    let mut sorted: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != sign_name).collect();
    // Stable sort by key, then value, so a repeated key still gives one answer.
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
    let mut s = String::from(secret);
    for (k, v) in sorted {
        s.push_str(k);
        s.push_str(v);
    }
    if wrap == Md5Wrap::PrefixAndSuffix {
        s.push_str(secret);
    }
    s
}

/// The signature: lowercase hex MD5 of [`string_to_sign`].
///
/// ```
/// use conn_erp::auth::md5_signature;
/// use conn_erp::Md5Wrap;
/// let p = vec![("b".to_string(), "2".to_string()), ("a".to_string(), "1".to_string())];
/// // printf '%s' 'Sa1b2' | md5sum
/// assert_eq!(md5_signature("S", &p, "sign", Md5Wrap::Prefix), "db2c9fbfacbf0a00ca0ef83ddd01e6ff");
/// ```
pub fn md5_signature(
    secret: &str,
    params: &[(String, String)],
    sign_name: &str,
    wrap: Md5Wrap,
) -> String {
    hex::encode(Md5::digest(
        string_to_sign(secret, params, sign_name, wrap).as_bytes(),
    ))
}

/// Sorted-concatenation MD5 signer.
#[derive(Debug, Clone)]
pub struct SortedMd5Signer {
    wrap: Md5Wrap,
    app_key: String,
    secret: ClientSecret,
    access_token: Option<AccessToken>,
    names: Md5ParamNames,
    extra: Vec<(String, String)>,
}

impl SortedMd5Signer {
    /// 聚水潭: secret as prefix; `app_key`, `timestamp`, `charset=utf-8`, `version=2`, `biz`.
    pub fn jushuitan(app_key: impl Into<String>, secret: ClientSecret) -> Self {
        Self {
            wrap: Md5Wrap::Prefix,
            app_key: app_key.into(),
            secret,
            access_token: None,
            names: Md5ParamNames::with_app_key("app_key"),
            extra: vec![
                ("charset".to_owned(), "utf-8".to_owned()),
                ("version".to_owned(), "2".to_owned()),
            ],
        }
    }

    /// Sends (and signs) an access token parameter (聚水潭 requires one).
    pub fn with_access_token(mut self, token: AccessToken) -> Self {
        self.access_token = Some(token);
        self
    }

    /// Renames the system parameters.
    pub fn with_names(mut self, names: Md5ParamNames) -> Self {
        self.names = names;
        self
    }

    /// Replaces the fixed extra parameters (signed and sent on every call).
    pub fn with_extra_params(mut self, extra: Vec<(String, String)>) -> Self {
        self.extra = extra;
        self
    }

    /// The wrap variant.
    pub fn wrap(&self) -> Md5Wrap {
        self.wrap
    }

    /// The parameter names.
    pub fn names(&self) -> &Md5ParamNames {
        &self.names
    }

    /// The fixed extra parameters.
    pub fn extra_params(&self) -> &[(String, String)] {
        &self.extra
    }

    /// The app key.
    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    #[cfg_attr(not(feature = "fake"), allow(dead_code))]
    pub(crate) fn access_token(&self) -> Option<&AccessToken> {
        self.access_token.as_ref()
    }
}

impl RequestSigner for SortedMd5Signer {
    fn sign(&self, request: &mut SignableRequest, ctx: &SigningContext) -> Result<()> {
        let body = std::mem::replace(&mut request.body, SignBody::Empty);
        let (biz, to_form) = match body {
            SignBody::Json(v) => (v, true),
            SignBody::Form(pairs) => (pairs_to_object(pairs), true),
            SignBody::Empty => (pairs_to_object(std::mem::take(&mut request.query)), false),
        };
        let biz = serde_json::to_string(&biz)
            .map_err(|e| Error::validation("body", format!("cannot be serialised as JSON: {e}")))?;
        let mut params = self.extra.clone();
        params.push((self.names.app_key.clone(), self.app_key.clone()));
        params.push((self.names.timestamp.clone(), ctx.unix_seconds().to_string()));
        if let Some(t) = &self.access_token {
            params.push((
                self.names.access_token.clone(),
                t.expose_secret().to_owned(),
            ));
        }
        params.push((self.names.biz.clone(), biz));
        let sign = md5_signature(
            self.secret.expose_secret(),
            &params,
            &self.names.sign,
            self.wrap,
        );
        params.push((self.names.sign.clone(), sign));
        if to_form {
            request.body = SignBody::Form(params);
        } else {
            request.query = params;
        }
        Ok(())
    }
}

fn pairs_to_object(pairs: Vec<(String, String)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k, Value::String(v));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn get_folds_the_query_into_biz_and_signs_the_query() {
        let s = SortedMd5Signer::jushuitan("ak", ClientSecret::new("sec"));
        let mut r = SignableRequest::new(Method::GET, "/api/orders");
        r.query.push(("page_index".into(), "1".into()));
        s.sign(&mut r, &SigningContext::new(1_700_000_000_500, "n"))
            .unwrap();
        let get = |k: &str| r.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("biz").as_deref(), Some(r#"{"page_index":"1"}"#));
        assert_eq!(get("timestamp").as_deref(), Some("1700000000"));
        assert_eq!(get("page_index"), None);
        let expected = md5_signature("sec", &r.query, "sign", Md5Wrap::Prefix);
        assert_eq!(get("sign"), Some(expected));
    }

    #[test]
    fn json_body_becomes_form_with_compact_biz() {
        let s = SortedMd5Signer::jushuitan("ak", ClientSecret::new("sec"));
        let mut r = SignableRequest::new(Method::POST, "/api/orders");
        r.body = SignBody::Json(serde_json::json!({"customer": "C 1", "items": [1, 2]}));
        s.sign(&mut r, &SigningContext::new(1_000, "n")).unwrap();
        let SignBody::Form(f) = &r.body else {
            panic!("{:?}", r.body)
        };
        assert!(f.contains(&("biz".into(), r#"{"customer":"C 1","items":[1,2]}"#.into())));
        assert!(f.contains(&("app_key".into(), "ak".into())));
        assert!(r.query.is_empty());
    }

    #[test]
    fn sign_is_excluded_and_wrap_is_applied() {
        let p = vec![
            ("sign".to_string(), "old".to_string()),
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
        ];
        assert_eq!(string_to_sign("S", &p, "sign", Md5Wrap::Prefix), "Sa1b2");
        assert_eq!(
            string_to_sign("S", &p, "sign", Md5Wrap::PrefixAndSuffix),
            "Sa1b2S"
        );
    }
}
