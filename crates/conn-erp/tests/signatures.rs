//! Known-answer tests: fixed inputs, expected signatures computed independently with shell
//! tools (the command is in the comment above each literal). The vendors' own SDKs' answers are
//! in tests/sdk_vectors.rs.

use conn_core::secret::{AccessToken, ApiKey, ClientSecret, Password};
use conn_erp::auth::{
    hmac_signature, kingdee_string_to_sign, md5_signature, string_to_sign, WDT_EPOCH,
};
use conn_erp::{
    BasicAuth, KingdeeHmacSigner, KingdeeIdentity, Md5Wrap, RequestSigner, SignBody,
    SignableRequest, SigningContext, SortedMd5Signer, TokenAuth, WdtSigner,
};
use http::Method;

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

// 聚水潭: secret as prefix.
// printf '%s' 'jst-secretaccess_tokentok456app_keyak123biz{"page_index":"1","page_size":"50"}charsetutf-8timestamp1700000000version2' | md5sum
const JST_SIGN: &str = "0c707e4fe9c2d22eaf6fdcf3d152ac82";

#[test]
fn jushuitan_md5_known_answer() {
    let params = pairs(&[
        ("timestamp", "1700000000"),
        ("app_key", "ak123"),
        ("version", "2"),
        ("charset", "utf-8"),
        ("access_token", "tok456"),
        ("biz", r#"{"page_index":"1","page_size":"50"}"#),
        ("sign", "stale-signature-is-ignored"),
    ]);
    assert_eq!(
        string_to_sign("jst-secret", &params, "sign", Md5Wrap::Prefix),
        r#"jst-secretaccess_tokentok456app_keyak123biz{"page_index":"1","page_size":"50"}charsetutf-8timestamp1700000000version2"#
    );
    assert_eq!(
        md5_signature("jst-secret", &params, "sign", Md5Wrap::Prefix),
        JST_SIGN
    );
}

#[test]
fn jushuitan_signer_produces_the_known_answer() {
    // The signer builds the same parameter set from a GET with a business query.
    let signer = SortedMd5Signer::jushuitan("ak123", ClientSecret::new("jst-secret"))
        .with_access_token(AccessToken::new("tok456"));
    let mut r = SignableRequest::new(Method::GET, "/open/orders/single/query");
    r.query = pairs(&[("page_size", "50"), ("page_index", "1")]);
    signer
        .sign(&mut r, &SigningContext::new(1_700_000_000_456, "unused"))
        .unwrap();
    assert_eq!(param(&r.query, "sign"), Some(JST_SIGN));
    assert_eq!(param(&r.query, "timestamp"), Some("1700000000"));
    assert_eq!(
        param(&r.query, "biz"),
        Some(r#"{"page_index":"1","page_size":"50"}"#)
    );
}

// 旺店通旗舰版: secret as prefix and suffix.
// printf '%s' 'wdt-secretappkeywk1biz{"customer":"ACME"}timestamp1700000000wdt-secret' | md5sum
const WDT_SIGN: &str = "855903f0ce71e7785e989f100bfb173a";

#[test]
fn prefix_and_suffix_md5_known_answer() {
    let params = pairs(&[
        ("biz", r#"{"customer":"ACME"}"#),
        ("timestamp", "1700000000"),
        ("appkey", "wk1"),
    ]);
    assert_eq!(
        md5_signature("wdt-secret", &params, "sign", Md5Wrap::PrefixAndSuffix),
        WDT_SIGN
    );
}

// 旺店通旗舰版: md5(secret + sorted(k+v over the query and body=<raw>) + secret).
// printf '%s' 'wsecbody[{"a":1}]keykmethodmsaltsaltsidsidtimestamp10v1.0wsec' | md5sum
const WDT_QUERY_SIGN: &str = "ea81b02054479e05b6afbeb1b2ee75d1";

#[test]
fn wangdiantong_signer_produces_the_known_answer() {
    let signer = WdtSigner::new("sid", "k", ClientSecret::new("wsec:salt")).unwrap();
    let mut r = SignableRequest::new(Method::POST, "/openapi");
    r.query = pairs(&[("method", "m")]);
    r.body = SignBody::Json(serde_json::json!([{"a": 1}]));
    signer
        .sign(
            &mut r,
            &SigningContext::new((WDT_EPOCH + 10) * 1000, "unused"),
        )
        .unwrap();
    assert_eq!(param(&r.query, "sign"), Some(WDT_QUERY_SIGN));
    assert_eq!(param(&r.query, "timestamp"), Some("10"));
    assert_eq!(param(&r.query, "body"), None);
}

// Kingdee gateway signature: base64 of the lowercase hex HMAC-SHA256 of the SDK's string.
// printf 'POST\n%%2Fk3cloud%%2Fa.common.kdsvc\n\nx-api-nonce:1700000000\nx-api-timestamp:1700000000\n' \
//   | openssl dgst -sha256 -hmac 'kd-secret' | awk '{print $2}' | tr -d '\n' | base64 -w0
const KD_SIGN: &str =
    "YjNiZTYzMjk2YWQ4NzhlODJjMzk3ZTEzNjg0NTI1YWMzYmMzOWU5NzUyODVkZDhkYWJmNDIzYzEwYzg4ZjZiZA==";

#[test]
fn kingdee_string_to_sign_and_hmac_known_answer() {
    let s = kingdee_string_to_sign("/k3cloud/a.common.kdsvc", "1700000000", 1_700_000_000);
    assert_eq!(
        s,
        "POST\n%2Fk3cloud%2Fa.common.kdsvc\n\nx-api-nonce:1700000000\nx-api-timestamp:1700000000\n"
    );
    assert_eq!(hmac_signature("kd-secret", &s), KD_SIGN);
    // The SDK's headers for these inputs are checked in tests/sdk_vectors.rs.
    let signer = KingdeeHmacSigner::new(
        "224466_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
        ClientSecret::new("app-secret"),
        KingdeeIdentity::new("acct", "user"),
    )
    .unwrap();
    let mut post = SignableRequest::new(Method::POST, "/k3cloud/a.common.kdsvc");
    signer
        .sign(&mut post, &SigningContext::new(1_700_000_000_999, "unused"))
        .unwrap();
    assert_eq!(post.headers["x-api-timestamp"], "1700000000");
    assert_eq!(
        post.headers["x-api-signheaders"],
        "x-api-timestamp,x-api-nonce"
    );
    // printf '%s' 'acct,user,2052,0' | base64
    assert_eq!(post.headers["x-kd-appdata"], "YWNjdCx1c2VyLDIwNTIsMA==");
}

#[test]
fn static_headers_known_answers() {
    // printf '%s' 'erp-user:erp-pass' | base64  →  ZXJwLXVzZXI6ZXJwLXBhc3M=
    let mut r = SignableRequest::new(Method::GET, "/api/orders");
    BasicAuth::new("erp-user", Password::new("erp-pass"))
        .sign(&mut r, &SigningContext::new(0, ""))
        .unwrap();
    assert_eq!(r.headers["authorization"], "Basic ZXJwLXVzZXI6ZXJwLXBhc3M=");
    let mut r = SignableRequest::new(Method::GET, "/api/resource/Sales Order");
    TokenAuth::new(ApiKey::new("ak"), ClientSecret::new("as"))
        .sign(&mut r, &SigningContext::new(0, ""))
        .unwrap();
    assert_eq!(r.headers["authorization"], "token ak:as");
}
