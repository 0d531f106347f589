//! Known answers produced by running the vendors' public SDKs (not our code) on inputs we chose,
//! with the clock pinned. The recorded files and the scripts that regenerate them are in
//! `tests/vectors/` (not run in CI):
//!
//! - `kingdee.json` ← PyPI `kingdee.cdp.webapi.sdk` 8.2.0, `WebApiClient.BuildHeader`
//!   (`tests/vectors/kingdee.py`);
//! - `wdt.json` ← github.com/westng/wangdian-sdk-php @ d6d4a2ff56efb4bd2e732bff68a75c7162f91efe,
//!   `src/Client/WdtErpClient.php` (`tests/vectors/wdt_jst.php`);
//! - `jst.json` ← github.com/zmoyi/jushuitan @ 4bbcfa943d0334c90259e634937c22ac272fd389,
//!   `src/Api/ApiRequest.php` + `src/Api/Common/Util.php` (`tests/vectors/wdt_jst.php`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use conn_core::secret::{AccessToken, ClientSecret};
use conn_erp::auth::{derive_client_secret, md5_signature, wdt_signature};
use conn_erp::{
    KingdeeHmacSigner, KingdeeIdentity, Md5Wrap, RequestSigner, SignBody, SignableRequest,
    SigningContext, SortedMd5Signer, WdtSigner,
};
use http::Method;
use serde_json::Value;

fn load(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (s(&p[0]).to_owned(), s(&p[1]).to_owned()))
        .collect()
}

#[test]
fn kingdee_headers_match_the_official_python_sdk() {
    let v = load(include_str!("vectors/kingdee.json"));
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for c in cases {
        let i = &c["input"];
        let name = s(&i["name"]);
        let mut id = KingdeeIdentity::new(s(&i["acct_id"]), s(&i["username"]));
        id.lcid = u32::try_from(i["lcid"].as_u64().unwrap()).unwrap();
        id.org_num = i["org_num"].to_string();
        let signer =
            KingdeeHmacSigner::new(s(&i["app_id"]), ClientSecret::new(s(&i["app_secret"])), id)
                .unwrap();
        // The path as the client sends it: the URL's path, percent-encoded on the wire.
        let url = url::Url::parse(s(&i["url"])).unwrap();
        let mut req = SignableRequest::new(Method::POST, url.path());
        let secs = i["unix_seconds"].as_i64().unwrap();
        signer
            .sign(&mut req, &SigningContext::new(secs * 1000 + 999, "unused"))
            .unwrap();
        for (h, want) in c["headers"].as_object().unwrap() {
            let got = req
                .headers
                .get(h.to_ascii_lowercase())
                .unwrap_or_else(|| panic!("{name}: no {h}"));
            assert_eq!(got.to_str().unwrap(), s(want), "{name}: {h}");
        }
        assert_eq!(
            derive_client_secret(s(&i["app_id"])).unwrap().0,
            s(&c["headers"]["X-Api-ClientID"])
        );
    }
}

#[test]
fn wdt_query_and_signature_match_the_php_sdk() {
    let v = load(include_str!("vectors/wdt.json"));
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for c in cases {
        let i = &c["input"];
        let name = s(&i["name"]);
        let sdk_query = pairs(&c["query"]);
        let raw = s(&c["body"]);
        let (secret, _) = s(&i["secret"]).split_once(':').unwrap();
        // The signature function over the SDK's own query and body bytes.
        let unsigned: Vec<_> = sdk_query
            .iter()
            .filter(|(k, _)| k != "sign")
            .cloned()
            .collect();
        let sign = &sdk_query.iter().find(|(k, _)| k == "sign").unwrap().1;
        assert_eq!(&wdt_signature(secret, &unsigned, raw), sign, "{name}");
        assert_eq!(s(&c["path"]), "/openapi");
        assert_eq!(s(&c["content_type"]), "application/json");

        // The signer, from the same method, pager and arguments, sends the same query and body.
        let signer = WdtSigner::new(
            s(&i["sid"]),
            s(&i["key"]),
            ClientSecret::new(s(&i["secret"])),
        )
        .unwrap();
        let mut req = SignableRequest::new(Method::POST, "/openapi");
        req.query.push(("method".into(), s(&i["method"]).into()));
        if let Some(p) = i["pager"].as_array() {
            req.query.push(("page_size".into(), p[0].to_string()));
            req.query.push(("page_no".into(), p[1].to_string()));
            let calc = if p[2].as_bool().unwrap() { "1" } else { "0" };
            req.query.push(("calc_total".into(), calc.into()));
        }
        req.body = SignBody::Json(i["args"].clone());
        let secs = i["unix_seconds"].as_i64().unwrap();
        signer
            .sign(&mut req, &SigningContext::new(secs * 1000, "unused"))
            .unwrap();
        let mut ours = req.query.clone();
        let mut theirs = sdk_query.clone();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{name}: query");
        let SignBody::Json(body) = &req.body else {
            panic!("{name}: body")
        };
        assert_eq!(
            serde_json::to_string(body).unwrap(),
            raw,
            "{name}: body bytes"
        );
    }
}

#[test]
fn jst_form_and_signature_match_the_php_sdk() {
    let v = load(include_str!("vectors/jst.json"));
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    let mut signer_checked = 0;
    for c in cases {
        let i = &c["input"];
        let name = s(&i["name"]);
        let form = pairs(&c["form"]);
        let sign = &form.iter().find(|(k, _)| k == "sign").unwrap().1;
        // The digest over exactly what the SDK posts (its biz bytes, \uXXXX escapes included).
        assert_eq!(
            &md5_signature(s(&i["app_secret"]), &form, "sign", Md5Wrap::Prefix),
            sign,
            "{name}"
        );

        // The signer, where serde writes the same biz bytes as PHP (sorted keys, ASCII).
        let biz = &form.iter().find(|(k, _)| k == "biz").unwrap().1;
        let parsed: Value = serde_json::from_str(biz).unwrap();
        let parsed = if parsed.as_array().is_some_and(Vec::is_empty) {
            Value::Object(Default::default())
        } else {
            parsed
        };
        if serde_json::to_string(&parsed).unwrap() != *biz {
            continue;
        }
        let signer =
            SortedMd5Signer::jushuitan(s(&i["app_key"]), ClientSecret::new(s(&i["app_secret"])))
                .with_access_token(AccessToken::new(s(&i["access_token"])));
        let mut req = SignableRequest::new(Method::POST, format!("/{}", s(&i["route"])));
        req.body = SignBody::Json(parsed);
        let secs = i["unix_seconds"].as_i64().unwrap();
        signer
            .sign(&mut req, &SigningContext::new(secs * 1000, "unused"))
            .unwrap();
        let SignBody::Form(mut ours) = req.body else {
            panic!("{name}: form")
        };
        let mut theirs = form.clone();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{name}: form fields");
        signer_checked += 1;
    }
    assert_eq!(signer_checked, 2, "orders_query_sorted_keys and empty_biz");
}
