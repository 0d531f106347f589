//! How the fake checks a request's authentication: as the real server would, recomputing
//! every signature from the request as received.

use std::time::UNIX_EPOCH;

use base64::Engine;
use conn_core::secret::Secret;
use http::Method;
use serde_json::{json, Map, Value};
use wiremock::Request;

use super::responder::Responder;
use crate::auth::{
    hmac_signature, kingdee_string_to_sign, md5_signature, wdt_signature, Auth, KingdeeHmacSigner,
    WdtSigner, WDT_EPOCH,
};

/// What an authenticated request asks: its business parameters and body.
pub(super) struct Business {
    pub(super) params: Map<String, Value>,
    pub(super) body: Option<Value>,
}

/// A rejected request's answer.
pub(super) type Rejection = (u16, Value);

pub(super) fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(super) fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) fn same(a: &str, b: &str) -> bool {
    // Constant-time comparison through conn-core's Secret.
    Secret::new(a) == Secret::new(b)
}

fn pairs_to_map(pairs: Vec<(String, String)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

impl Responder {
    fn now_millis(&self) -> i64 {
        self.0
            .settings
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn in_tolerance(&self, ts_millis: i64) -> bool {
        match self.0.settings.tolerance {
            None => true,
            Some(t) => {
                let tol = i64::try_from(t.as_millis()).unwrap_or(i64::MAX);
                (self.now_millis() - ts_millis).abs() <= tol
            }
        }
    }

    /// Checks the request's authentication as the real ERP would.
    pub(super) fn verify(&self, req: &Request) -> Result<Business, Rejection> {
        let c = &self.0.settings.credentials;
        let unauthorized = |msg: &str| (401, json!({"code": 401, "message": msg}));
        let plain = || -> Result<Business, Rejection> {
            if req.method == Method::GET {
                return Ok(Business {
                    params: pairs_to_map(query_pairs(req)),
                    body: None,
                });
            }
            let body = serde_json::from_slice::<Value>(&req.body)
                .map_err(|_| (400, json!({"code": 40000, "message": "body is not JSON"})))?;
            Ok(Business {
                params: pairs_to_map(query_pairs(req)),
                body: Some(body),
            })
        };
        let auth_header = header(req, "authorization").unwrap_or("");
        match &self.0.auth {
            Auth::None(_) | Auth::Custom(_) => plain(),
            Auth::ApiKey(a) => match header(req, a.header().as_str()) {
                Some(k) if same(k, &c.api_key) => plain(),
                Some(_) => Err(unauthorized("invalid api key")),
                None => Err(unauthorized("api key missing")),
            },
            Auth::Basic(_) => {
                let raw = format!("{}:{}", c.username, c.password);
                let want = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                );
                if same(auth_header, &want) {
                    plain()
                } else {
                    Err(unauthorized("invalid username or password"))
                }
            }
            Auth::Token(_) => {
                if same(
                    auth_header,
                    &format!("token {}:{}", c.api_key, c.api_secret),
                ) {
                    plain()
                } else {
                    Err((
                        401,
                        json!({"exc_type": "AuthenticationError", "exception": "frappe.exceptions.AuthenticationError", "message": "invalid token"}),
                    ))
                }
            }
            Auth::Bearer(_) => {
                let ok = auth_header
                    .split_once(' ')
                    .is_some_and(|(s, t)| s.eq_ignore_ascii_case("bearer") && same(t, &c.api_key));
                if ok {
                    plain()
                } else {
                    Err(unauthorized("invalid bearer token"))
                }
            }
            Auth::Md5(s) => self.verify_md5(req, s),
            Auth::Wdt(s) => self.verify_wdt(req, s),
            Auth::Kingdee(k) => self.verify_kingdee(req, k),
        }
    }

    fn verify_md5(
        &self,
        req: &Request,
        s: &crate::auth::SortedMd5Signer,
    ) -> Result<Business, Rejection> {
        let c = &self.0.settings.credentials;
        // 聚水潭 answers a bad signature with code 100; the `own` profile's fake uses 40001.
        let code = if self.0.settings.profile == crate::profile::Profile::Jushuitan {
            100
        } else {
            40001
        };
        let bad = |msg: &str| (200, json!({"code": code, "msg": msg}));
        let params: Vec<(String, String)> = if req.method == Method::GET {
            query_pairs(req)
        } else {
            serde_urlencoded::from_bytes(&req.body)
                .map_err(|_| bad("expected form-encoded system parameters"))?
        };
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let n = s.names();
        if get(&n.app_key) != Some(c.app_key.as_str()) {
            return Err(bad("invalid app key"));
        }
        let ts = get(&n.timestamp)
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| bad("timestamp missing"))?;
        if !self.in_tolerance(ts.saturating_mul(1000)) {
            return Err(bad("timestamp expired"));
        }
        if s.access_token().is_some()
            && !get(&n.access_token).is_some_and(|t| same(t, &c.access_token))
        {
            return Err(bad("invalid access token"));
        }
        for (k, v) in s.extra_params() {
            if get(k) != Some(v.as_str()) {
                return Err(bad(&format!("missing system parameter {k}")));
            }
        }
        let sign = get(&n.sign).ok_or_else(|| bad("sign missing"))?;
        let want = md5_signature(&c.app_secret, &params, &n.sign, s.wrap());
        if !same(sign, &want) {
            return Err(bad("invalid sign"));
        }
        let biz: Value = get(&n.biz)
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| bad("biz is not JSON"))?
            .unwrap_or(Value::Object(Map::new()));
        if req.method == Method::GET {
            let params = match biz {
                Value::Object(m) => m,
                _ => return Err(bad("biz must be an object")),
            };
            Ok(Business { params, body: None })
        } else {
            Ok(Business {
                params: pairs_to_map(query_pairs(req)),
                body: Some(biz),
            })
        }
    }

    /// Kingdee: recomputes both signatures of the SDK's scheme from the headers as received.
    fn verify_kingdee(&self, req: &Request, k: &KingdeeHmacSigner) -> Result<Business, Rejection> {
        let bad = |msg: &str| {
            (
                200,
                json!({"Result": {"ResponseStatus": {"IsSuccess": false, "ErrorCode": 500, "MsgCode": 1,
                    "Errors": [{"FieldName": null, "Message": msg, "DIndex": 0}]}}}),
            )
        };
        if header(req, "x-api-clientid") != Some(k.client_id()) {
            return Err(bad("unknown client id"));
        }
        if header(req, "x-kd-appkey") != Some(k.app_key()) {
            return Err(bad("unknown app id"));
        }
        if header(req, "x-api-signheaders") != Some("x-api-timestamp,x-api-nonce") {
            return Err(bad("x-api-signheaders must be x-api-timestamp,x-api-nonce"));
        }
        let ts = header(req, "x-api-timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| bad("timestamp missing"))?;
        if !self.in_tolerance(ts.saturating_mul(1000)) {
            return Err(bad("timestamp expired"));
        }
        let nonce = header(req, "x-api-nonce")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad("nonce missing"))?;
        let gateway = hmac_signature(
            k.client_secret().expose_secret(),
            &kingdee_string_to_sign(req.url.path(), nonce, ts),
        );
        if !header(req, "x-api-signature").is_some_and(|s| same(s, &gateway)) {
            return Err(bad("gateway signature mismatch"));
        }
        let data = header(req, "x-kd-appdata")
            .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| bad("X-Kd-Appdata is not base64 text"))?;
        if data != k.identity().app_data() {
            return Err(bad("unknown data centre or user"));
        }
        let c = &self.0.settings.credentials;
        let kd = hmac_signature(&c.app_secret, &format!("{}{data}", k.app_key()));
        if !header(req, "x-kd-signature").is_some_and(|s| same(s, &kd)) {
            return Err(bad("app signature mismatch"));
        }
        let body =
            serde_json::from_slice::<Value>(&req.body).map_err(|_| bad("body is not JSON"))?;
        Ok(Business {
            params: pairs_to_map(query_pairs(req)),
            body: Some(body),
        })
    }

    /// 旺店通: system parameters in the query, the signature over them and the raw body.
    fn verify_wdt(&self, req: &Request, s: &WdtSigner) -> Result<Business, Rejection> {
        let bad = |msg: &str| (200, json!({"status": 100, "message": msg}));
        let query = query_pairs(req);
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("sid") != Some(s.sid()) || get("key") != Some(s.app_key()) {
            return Err(bad("卖家账号或接口账号错误"));
        }
        if get("salt") != Some(s.salt()) || get("v") != Some("1.0") {
            return Err(bad("salt or v is wrong"));
        }
        let ts = get("timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| bad("timestamp missing"))?;
        if !self.in_tolerance(ts.saturating_add(WDT_EPOCH).saturating_mul(1000)) {
            return Err(bad("timestamp expired"));
        }
        let raw = std::str::from_utf8(&req.body).map_err(|_| bad("body is not UTF-8"))?;
        let unsigned: Vec<(String, String)> =
            query.iter().filter(|(k, _)| k != "sign").cloned().collect();
        let want = wdt_signature(s.secret().expose_secret(), &unsigned, raw);
        if !get("sign").is_some_and(|g| same(g, &want)) {
            return Err(bad("签名错误"));
        }
        let body = serde_json::from_str::<Value>(raw).map_err(|_| bad("body is not JSON"))?;
        if !body.is_array() {
            return Err(bad("body must be a JSON array of arguments"));
        }
        Ok(Business {
            params: pairs_to_map(query),
            body: Some(body),
        })
    }
}
