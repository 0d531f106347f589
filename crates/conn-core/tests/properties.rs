//! Property tests of every decoder of conn-core: no panic on any input, and output bounded by
//! the input. Seeded and deterministic (`conn_core::testing::fuzz`, fixed seed); each test
//! states how many cases it ran (10,000 or more).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use conn_core::error::{decode_json, excerpt, EXCERPT_LIMIT};
use conn_core::lenient::{self, LooseI64};
use conn_core::redact::{mask_quoted, redact, MASK};
use conn_core::testing::fuzz;
use conn_core::webhook::{SignatureEncoding, SignatureScheme, SignedPayload, WebhookVerifier};
use proptest::prelude::*;

const CASES: u32 = 10_000;

/// Text that looks like the bodies decoders see: JSON fragments, form pairs, hostile numbers.
fn bodyish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\"".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just("=".to_owned()),
        Just("&".to_owned()),
        Just("\\".to_owned()),
        Just("\"access_token\"".to_owned()),
        Just("refresh_token".to_owned()),
        Just("\"error_code\"".to_owned()),
        Just("\"expires_in\"".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-9223372036854775809".to_owned()),
        Just("1e25".to_owned()),
        Just("NaN".to_owned()),
        Just("null".to_owned()),
        Just("0".to_owned()),
        Just("\"0\"".to_owned()),
        Just("抖音".to_owned()),
        "[a-z_]{1,12}".prop_map(|s| s),
        any::<String>(),
    ];
    prop::collection::vec(token, 0..40).prop_map(|v| v.concat())
}

/// Arbitrary bytes, or text that looks like a body.
fn bytesish() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600),
        bodyish().prop_map(String::into_bytes),
    ]
}

#[test]
fn redact_never_panics_and_its_output_is_bounded() {
    let ran = fuzz(CASES, bodyish(), |s| {
        let r = redact(&s);
        prop_assert!(r.len() <= s.len() + MASK.len() * (s.len() / 2 + 1));
        let m = mask_quoted(&s);
        prop_assert!(m.len() <= s.len() + MASK.len() * (s.len() / 2 + 1));
        Ok(())
    });
    assert_eq!(ran, CASES);
}

/// A JSON document with a canary under a secret key at a random depth.
fn nested_secret() -> impl Strategy<Value = (String, String)> {
    let key = prop_oneof![
        Just("access_token"),
        Just("refresh_token"),
        Just("client_token"),
        Just("client_secret"),
        Just("password"),
        Just("sign"),
        Just("signature"),
        Just("ticket"),
        Just("api_key"),
        Just("appSecret"),
    ];
    (
        key,
        "[A-Za-z0-9._-]{8,24}",
        prop::collection::vec("[a-z]{1,6}", 0..6),
        any::<bool>(),
    )
        .prop_map(|(key, value, path, as_form)| {
            let canary = format!("CANARY{value}");
            if as_form {
                let mut pairs: Vec<String> = path.iter().map(|p| format!("{p}=x")).collect();
                pairs.push(format!("{key}={canary}"));
                return (pairs.join("&"), canary);
            }
            let mut v = serde_json::json!({ key: canary.clone() });
            for p in path.iter().rev() {
                v = serde_json::json!({ p: [v, 1], "n": 0 });
            }
            (v.to_string(), canary)
        })
}

#[test]
fn a_secret_under_a_secret_key_never_survives_redaction_or_an_excerpt() {
    let ran = fuzz(
        CASES,
        (nested_secret(), 0usize..700),
        |((doc, canary), cut)| {
            prop_assert!(!redact(&doc).contains(&canary));
            prop_assert!(!excerpt(doc.as_bytes()).contains(&canary));
            // Cut anywhere, as a truncated body is.
            let cut = cut.min(doc.len());
            let part = &doc.as_bytes()[..cut];
            prop_assert!(!excerpt(part).contains(&canary));
            Ok(())
        },
    );
    assert_eq!(ran, CASES);
}

#[test]
fn excerpt_and_decode_json_are_bounded_on_any_bytes() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        #[serde(deserialize_with = "lenient::i64")]
        code: i64,
        #[serde(default, deserialize_with = "lenient::opt_seconds")]
        expires_in: Option<Duration>,
        #[serde(default)]
        data: Option<serde_json::Value>,
    }
    let ran = fuzz(CASES, bytesish(), |b| {
        let e = excerpt(&b);
        // Lossy UTF-8 may triple the bytes (a replacement char for each), masks add a little.
        prop_assert!(e.len() <= 3 * EXCERPT_LIMIT + MASK.len() * (EXCERPT_LIMIT / 2 + 1) + 3);
        if let Err(err) = decode_json::<Shape>("p", "op", &b) {
            let text = format!("{err} {err:?}");
            prop_assert!(text.len() <= 8 * 1024 + 4 * b.len(), "{}", text.len());
        }
        let _ = decode_json::<serde_json::Value>("p", "op", &b);
        Ok(())
    });
    assert_eq!(ran, CASES);
}

#[test]
fn lenient_helpers_never_panic() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct All {
        #[serde(default, deserialize_with = "lenient::opt_i64")]
        a: Option<i64>,
        #[serde(default, deserialize_with = "lenient::opt_u64")]
        b: Option<u64>,
        #[serde(default, deserialize_with = "lenient::bool")]
        c: bool,
        #[serde(default, deserialize_with = "lenient::opt_string")]
        d: Option<String>,
        #[serde(default, deserialize_with = "lenient::opt_seconds")]
        e: Option<Duration>,
        #[serde(default)]
        f: LooseI64,
    }
    let scalar = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| if v.is_finite() {
            v.to_string()
        } else {
            "1e400".into()
        }),
        any::<String>().prop_map(|s| serde_json::Value::String(s).to_string()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("\"9223372036854775807\"".to_owned()),
        Just("\"1e25\"".to_owned()),
        Just("\"NaN\"".to_owned()),
        Just("\"-1\"".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
    ];
    let doc = (
        prop::sample::select(vec!["a", "b", "c", "d", "e", "f"]),
        scalar.clone(),
        scalar,
    )
        .prop_map(|(k, v, w)| format!(r#"{{"{k}":{v},"e":{w}}}"#));
    let ran = fuzz(CASES, (doc, bytesish()), |(d, raw)| {
        if let Ok(all) = serde_json::from_str::<All>(&d) {
            if let Some(e) = all.e {
                prop_assert!(e <= lenient::MAX_WIRE_DURATION);
            }
        }
        let _ = serde_json::from_slice::<All>(&raw);
        let _ = lenient::codes_all_zero(&raw, &[b"\"error_code\"", b"\"sub_error_code\""]);
        Ok(())
    });
    assert_eq!(ran, CASES);
}

#[test]
fn wire_durations_are_bounded_or_a_typed_error() {
    let max = lenient::MAX_WIRE_DURATION;
    let text = prop_oneof![
        any::<String>(),
        any::<f64>().prop_map(|f| f.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|i| i.to_string()),
        Just("1e25".to_owned()),
        Just("inf".to_owned()),
        Just("-0.0".to_owned()),
    ];
    let ran = fuzz(
        CASES,
        (text, any::<f64>(), any::<i64>(), any::<u64>()),
        |(t, f, i, u)| {
            for d in [
                lenient::parse_seconds(&t, max),
                lenient::seconds_f64(f, max),
                lenient::seconds_i64(i, max),
            ]
            .into_iter()
            .flatten()
            {
                prop_assert!(d <= max);
            }
            prop_assert!(lenient::seconds_u64(u, max) <= max);
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(u % (1 << 40));
            let _ = conn_core::token::expiry_after(now, Duration::from_secs(u));
            Ok(())
        },
    );
    assert_eq!(ran, CASES);
}

#[test]
fn webhook_verification_never_panics_on_any_headers_or_body() {
    // Douyin's configuration: SHA-1 of (secret ‖ body) and a `msg-id` replay cache.
    let douyin = WebhookVerifier::new(SignatureScheme::Sha1SecretBody {
        header: http::HeaderName::from_static("x-douyin-signature"),
    })
    .with_id_header(
        http::HeaderName::from_static("msg-id"),
        conn_core::webhook::DEFAULT_SEEN_IDS_CAPACITY,
    )
    .with_secret("s3cret-for-fuzz");
    let hmac = WebhookVerifier::new(SignatureScheme::HmacSha256 {
        header: http::HeaderName::from_static("x-hub-signature-256"),
        encoding: SignatureEncoding::Hex,
        prefix: Some("sha256=".into()),
        payload: SignedPayload::Body,
    })
    .with_secret("s3cret-for-fuzz");
    let header = prop_oneof![
        any::<String>(),
        "[0-9a-f]{0,80}",
        "sha256=[0-9a-fA-F]{0,70}",
        Just(String::new()),
    ];
    let ran = fuzz(
        CASES,
        (header.clone(), header, bytesish()),
        |(sig, id, body)| {
            for (v, name) in [
                (&douyin, "x-douyin-signature"),
                (&hmac, "x-hub-signature-256"),
            ] {
                let mut headers = http::HeaderMap::new();
                if let Ok(val) = http::HeaderValue::from_str(&sig) {
                    headers.insert(http::HeaderName::from_static(name), val);
                }
                if let Ok(val) = http::HeaderValue::from_str(&id) {
                    headers.insert(http::HeaderName::from_static("msg-id"), val);
                }
                if let Err(e) = v.verify(&headers, &body) {
                    prop_assert!(e.to_string().len() <= 4096);
                }
            }
            Ok(())
        },
    );
    assert_eq!(ran, CASES);
}
