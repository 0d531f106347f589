//! 旺店通 ERP 旗舰版 (WDT ultimate) open API signing.
//!
//! Sources: the platform's API pages (system parameters `sid, key, salt, method, timestamp, v`;
//! "秒级时间戳, 当前时间戳减去 2012-01-01 00:00:00(1325347200), 时间与服务器时间差120s内即合法")
//! and the public PHP SDKs, whose signing code produced the known answers in
//! `tests/vectors/wdt.json` (`tests/vectors/wdt_jst.php`, github.com/westng/wangdian-sdk-php
//! `src/Client/WdtErpClient.php`).
//!
//! A call is `POST {base}/openapi?sid=&key=&salt=&method=&timestamp=&v=1.0[&page_size=&page_no=&calc_total=]&sign=`
//! whose body is the **raw JSON array** of the method's arguments. The app secret is issued as
//! `secret:salt`; the salt travels in the query. `timestamp` is Unix seconds − 1325347200.
//! `sign = md5(secret + concat(sorted by key over every query parameter and body=<raw body>,
//! sign excluded: key + value) + secret)`, lowercase hex: the body is signed but not sent as a
//! parameter.

use conn_core::secret::ClientSecret;
use conn_core::{Error, Result};

use super::md5::{md5_signature, Md5Wrap};
use super::{RequestSigner, SignBody, SignableRequest, SigningContext};

/// 2012-01-01 00:00:00 UTC: the platform counts its timestamps from here.
pub const WDT_EPOCH: i64 = 1_325_347_200;

/// The query parameter naming the called method (`sales.TradeQuery.queryWithDetail`, …).
pub const WDT_METHOD_PARAM: &str = "method";

/// The 旺店通旗舰版 signer (`ERP_AUTH_MODE=wdt_md5`).
#[derive(Debug, Clone)]
pub struct WdtSigner {
    sid: String,
    key: String,
    secret: ClientSecret,
    salt: String,
    version: String,
}

impl WdtSigner {
    /// A signer for a seller account (`sid`), an app key and the app secret as issued
    /// (`secret:salt`, split at the first `:` as the SDKs do). Fails without a `:` or with an
    /// empty secret part.
    ///
    /// ```
    /// use conn_core::secret::ClientSecret;
    /// let s = conn_erp::WdtSigner::new("sid", "key", ClientSecret::new("sec:salt")).unwrap();
    /// assert_eq!(s.salt(), "salt");
    /// assert!(conn_erp::WdtSigner::new("sid", "key", ClientSecret::new("no-salt")).is_err());
    /// ```
    pub fn new(
        sid: impl Into<String>,
        key: impl Into<String>,
        app_secret: ClientSecret,
    ) -> Result<Self> {
        let Some((secret, salt)) = app_secret.expose_secret().split_once(':') else {
            return Err(Error::config_var(
                "ERP_APP_SECRET",
                "旺店通 issues the app secret as secret:salt; the ':' is missing",
            ));
        };
        if secret.is_empty() {
            return Err(Error::config_var(
                "ERP_APP_SECRET",
                "the part before ':' (the secret) is empty",
            ));
        }
        let sid = sid.into();
        if sid.trim().is_empty() {
            return Err(Error::config_var("ERP_WDT_SID", "must not be empty"));
        }
        Ok(Self {
            sid,
            key: key.into(),
            secret: ClientSecret::new(secret),
            salt: salt.to_owned(),
            version: "1.0".to_owned(),
        })
    }

    /// The seller account.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The app key.
    pub fn app_key(&self) -> &str {
        &self.key
    }

    /// The salt (sent in the query).
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The secret part of the app secret (what the fake verifies with).
    #[cfg_attr(not(feature = "fake"), allow(dead_code))]
    pub(crate) fn secret(&self) -> &ClientSecret {
        &self.secret
    }

    /// The platform timestamp of a context: Unix seconds − [`WDT_EPOCH`]. A clock before 2012
    /// is a configuration error, not a negative timestamp.
    pub fn timestamp(ctx: &SigningContext) -> Result<i64> {
        let t = ctx.unix_seconds().saturating_sub(WDT_EPOCH);
        if t < 0 {
            return Err(Error::config(
                "the clock is before 2012-01-01, 旺店通's epoch",
            ));
        }
        Ok(t)
    }
}

/// The signature over query parameters and the raw body (see the module docs).
///
/// ```
/// // From tests/vectors/wdt.json (westng/wangdian-sdk-php), case trade_query_page.
/// let q: Vec<(String, String)> = [
///     ("calc_total", "1"), ("key", "wdt_test"), ("method", "sales.TradeQuery.queryWithDetail"),
///     ("page_no", "0"), ("page_size", "50"), ("salt", "dd"), ("sid", "wdtapi3"),
///     ("timestamp", "374652800"), ("v", "1.0"),
/// ].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
/// let body = r#"[{"end_time":"2024-01-31 23:59:59","start_time":"2024-01-01 00:00:00"}]"#;
/// assert_eq!(conn_erp::auth::wdt_signature("aa1", &q, body), "69fc113c564ae22736fbfee5b94247ed");
/// ```
pub fn wdt_signature(secret: &str, query: &[(String, String)], raw_body: &str) -> String {
    let mut params: Vec<(String, String)> = query.to_vec();
    params.push(("body".to_owned(), raw_body.to_owned()));
    md5_signature(secret, &params, "sign", Md5Wrap::PrefixAndSuffix)
}

impl RequestSigner for WdtSigner {
    fn sign(&self, request: &mut SignableRequest, ctx: &SigningContext) -> Result<()> {
        if !request.query.iter().any(|(k, _)| k == WDT_METHOD_PARAM) {
            return Err(Error::validation(
                "method",
                "旺店通 calls name their method in the query (method=sales.TradeQuery.queryWithDetail)",
            ));
        }
        let raw = match &request.body {
            SignBody::Json(v @ serde_json::Value::Array(_)) => serde_json::to_string(v)
                .map_err(|e| Error::validation("body", format!("cannot be serialised: {e}")))?,
            SignBody::Empty => "[]".to_owned(),
            _ => {
                return Err(Error::validation(
                    "body",
                    "旺店通 takes a JSON array of the method's arguments",
                ))
            }
        };
        request.body = SignBody::Json(
            serde_json::from_str(&raw)
                .map_err(|e| Error::validation("body", format!("is not JSON: {e}")))?,
        );
        let q = &mut request.query;
        q.retain(|(k, _)| {
            !matches!(
                k.as_str(),
                "sid" | "key" | "salt" | "timestamp" | "v" | "sign"
            )
        });
        q.push(("sid".into(), self.sid.clone()));
        q.push(("key".into(), self.key.clone()));
        q.push(("salt".into(), self.salt.clone()));
        q.push(("timestamp".into(), Self::timestamp(ctx)?.to_string()));
        q.push(("v".into(), self.version.clone()));
        let sign = wdt_signature(self.secret.expose_secret(), q, &raw);
        q.push(("sign".into(), sign));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn signs_into_the_query_and_keeps_the_array_body() {
        let s = WdtSigner::new("sid1", "key1", ClientSecret::new("sec:salt")).unwrap();
        let mut r = SignableRequest::new(Method::POST, "/openapi");
        r.query.push(("method".into(), "system.Core.now".into()));
        r.body = SignBody::Json(serde_json::json!([{"a": 1}]));
        s.sign(&mut r, &SigningContext::new((WDT_EPOCH + 10) * 1000, "n"))
            .unwrap();
        let get = |k: &str| {
            r.query
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("timestamp"), Some("10"));
        assert_eq!(get("salt"), Some("salt"));
        assert_eq!(get("body"), None, "body is signed, not sent as a parameter");
        let unsigned: Vec<_> = r
            .query
            .iter()
            .filter(|(k, _)| k != "sign")
            .cloned()
            .collect();
        assert_eq!(
            get("sign"),
            Some(wdt_signature("sec", &unsigned, r#"[{"a":1}]"#).as_str())
        );
    }

    #[test]
    fn objects_and_missing_methods_are_refused() {
        let s = WdtSigner::new("sid1", "key1", ClientSecret::new("sec:salt")).unwrap();
        let mut r = SignableRequest::new(Method::POST, "/openapi");
        let ctx = SigningContext::new(1_700_000_000_000, "n");
        assert!(s.sign(&mut r, &ctx).is_err());
        r.query.push(("method".into(), "m".into()));
        r.body = SignBody::Json(serde_json::json!({"a": 1}));
        assert!(s.sign(&mut r, &ctx).is_err());
        let before = SigningContext::new(0, "n");
        r.body = SignBody::Empty;
        assert!(
            s.sign(&mut r, &before).is_err(),
            "a clock before 2012 is refused"
        );
    }
}
